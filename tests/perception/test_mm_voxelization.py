"""Radar pillars: mmcv.ops.Voxelization (when mmcv has its ops) against the pure-torch path on the same points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes, collate
from perception.occupancy.grid import OMNIHD_GRID
from perception.occupancy.mm.model import MetaOccModel
from perception.occupancy.mm.preprocessor import OccDataPreprocessor, mmcv_ops_available
from perception.occupancy.model.config import ModelConfig

RADAR = ModelConfig(variant="radar", channels=16, heads=2, memory=0)


def _batch(root: Path) -> dict:
    ds = OmniHDScenes(OmniHDConfig(root=str(root), pad_to=16, history=0), "train")
    return collate([ds[0], ds[len(ds) - 1]])


def test_torch_path_without_cap_and_clear_errors() -> None:
    grid = OMNIHD_GRID.scaled(RADAR.downsample)
    assert OccDataPreprocessor(grid, "torch").voxelize is None
    with pytest.raises(ValueError, match="max_points_per_voxel=4 needs mmcv"):
        OccDataPreprocessor(grid, "torch", max_points_per_voxel=4)
    with pytest.raises(ValueError, match="voxelization must be one of"):
        OccDataPreprocessor(grid, "open3d")
    if not mmcv_ops_available()[0]:
        with pytest.raises(ValueError, match="build it with tools/build_mmcv.sh"):
            OccDataPreprocessor(grid, "mmcv")


def test_mmcv_voxelization_equals_torch_path(omnihd_root: Path) -> None:
    pytest.importorskip("mmcv.ops", reason="mmcv without ops (build it with tools/build_mmcv.sh)")
    batch = _batch(omnihd_root)
    torch.manual_seed(0)
    on_torch = MetaOccModel(RADAR, voxelization="torch").eval()
    grid = OMNIHD_GRID.scaled(RADAR.downsample)
    most = 0  # the most points any voxel holds: a hard cap at this keeps every point
    for f in batch["frames"]:
        for b, n in enumerate(f["radar_lengths"]):
            idx, inside = grid.point_indices(f["radar"][b, : int(n)].numpy())
            most = max(most, int(np.unique(idx[inside], axis=0, return_counts=True)[1].max()))
    results = {}
    for name, cap in (("dynamic", -1), ("hard", most)):
        on_mmcv = MetaOccModel(RADAR, voxelization="mmcv", max_points_per_voxel=cap).eval()
        on_mmcv.load_state_dict(on_torch.state_dict())
        assert on_mmcv.data_preprocessor.backend == "mmcv"
        data = on_mmcv.data_preprocessor(batch)
        frame, raw = data["frames"][-1], batch["frames"][-1]
        # out-of-range points are gone, every kept point is one of the inputs
        assert int(frame["radar_lengths"].sum()) < int(raw["radar_lengths"].sum())
        kept = frame["radar"][0, : int(frame["radar_lengths"][0])]
        assert torch.isin(kept[:, 0], raw["radar"][0, : int(raw["radar_lengths"][0]), 0]).all()
        with torch.no_grad():
            results[name] = on_mmcv(**data, mode="tensor")
    with torch.no_grad():
        reference = on_torch(**on_torch.data_preprocessor(batch), mode="tensor")
    torch.testing.assert_close(results["dynamic"], reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(results["hard"], reference, rtol=1e-5, atol=1e-5)


def test_mmcv_hard_voxelization_caps_points_per_voxel(omnihd_root: Path) -> None:
    pytest.importorskip("mmcv.ops", reason="mmcv without ops (build it with tools/build_mmcv.sh)")
    batch = _batch(omnihd_root)
    grid = OMNIHD_GRID.scaled(RADAR.downsample)
    capped = OccDataPreprocessor(grid, "mmcv", max_points_per_voxel=1)(batch)["frames"][-1]
    full = OccDataPreprocessor(grid, "mmcv")(batch)["frames"][-1]
    for b in range(2):
        pts = full["radar"][b, : int(full["radar_lengths"][b])]
        idx, inside = grid.point_indices(pts.numpy())
        occupied = len({tuple(i) for i in idx[inside]})
        assert int(capped["radar_lengths"][b]) == occupied < len(pts)
