"""`OccDataPreprocessor`: moves a collated batch to the model's device and, when mmcv is built with its ops,
passes the radar points through `mmcv.ops.Voxelization` on the model's feature grid (as mmdet3d's voxel
layers do), keeping the points that fall in a voxel, at most `max_points_per_voxel` per voxel.

Without mmcv's ops the points pass through unchanged and MetaOcc's pure-torch pillar encoder
(`perception.occupancy.model.radar_branch.PillarEncoder`) does the range check itself. With no per-voxel
cap both paths give the same network output on the same points (tests/perception/test_mm_voxelization.py):
the encoder's scatter-max and point counts do not depend on point order.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
from mmengine.model import BaseDataPreprocessor

from perception.occupancy.grid import VoxelGrid

log = logging.getLogger(__name__)
VOXELIZATIONS = ("auto", "mmcv", "torch")


def mmcv_ops_available() -> tuple[bool, str]:
    """Whether `mmcv.ops.Voxelization` can run here, and why not if it cannot."""
    try:
        from mmcv.ops import Voxelization  # noqa: F401
    except ImportError as exc:
        return False, f"mmcv with ops is not importable ({exc})"
    return True, "mmcv.ops.Voxelization is available"


class OccDataPreprocessor(BaseDataPreprocessor):
    """`voxelization`: `auto` (mmcv when it has ops, else torch), `mmcv` (error without the ops) or `torch`.
    `max_points_per_voxel`: -1 keeps every point (mmcv's dynamic voxelisation); > 0 caps each voxel
    (hard voxelisation, first points kept), which only mmcv implements."""

    def __init__(self, grid: VoxelGrid, voxelization: str = "auto", max_points_per_voxel: int = -1) -> None:
        super().__init__()
        if voxelization not in VOXELIZATIONS:
            raise ValueError(f"voxelization must be one of {VOXELIZATIONS}, got {voxelization!r}")
        if max_points_per_voxel == 0 or max_points_per_voxel < -1:
            raise ValueError(f"max_points_per_voxel must be -1 (no cap) or > 0, got {max_points_per_voxel}")
        available, why = mmcv_ops_available()
        if voxelization == "mmcv" and not available:
            raise ValueError(f"voxelization='mmcv' but {why}; build it with tools/build_mmcv.sh")
        self.backend = "mmcv" if voxelization == "mmcv" or (voxelization == "auto" and available) else "torch"
        if self.backend == "torch" and max_points_per_voxel > 0:
            raise ValueError(f"max_points_per_voxel={max_points_per_voxel} needs mmcv's hard voxelisation, but "
                             f"the radar points take the torch path ({why if not available else 'asked for'})")
        log.info("radar pillars: %s path (%s)", self.backend, why)
        self.voxelize: torch.nn.Module | None = None
        if self.backend == "mmcv":
            from mmcv.ops import Voxelization

            # room for every voxel of the grid, so no voxel is dropped (mmcv allocates [max_voxels, cap, F])
            self.voxelize = Voxelization(voxel_size=list(grid.voxel_size), point_cloud_range=list(grid.point_range),
                                         max_num_points=max_points_per_voxel, max_voxels=math.prod(grid.size))

    def forward(self, data: dict, training: bool = False) -> dict:
        """Collated batch (see `perception.occupancy.data.omnihd.collate`) → the same batch on the device,
        with each frame's `radar [B, P, F]` / `radar_lengths [B]` voxel-filtered on the mmcv path."""
        data = self.cast_data(data)
        if self.voxelize is None:
            return data
        return dict(data, frames=[self.filter_radar(f) for f in data["frames"]])

    def filter_radar(self, frame: dict[str, Any]) -> dict[str, Any]:
        """One frame's padded radar points → the points Voxelization keeps, re-padded `[B, P', F]`."""
        assert self.voxelize is not None
        radar, lengths = frame["radar"], frame["radar_lengths"]
        kept = [self._kept_points(radar[b, : int(n)]) for b, n in enumerate(lengths)]
        new_lengths = torch.tensor([len(k) for k in kept], device=lengths.device, dtype=lengths.dtype)
        out = radar.new_zeros(len(kept), max(int(new_lengths.max()), 1), radar.shape[-1])
        for b, k in enumerate(kept):
            out[b, : len(k)] = k
        return dict(frame, radar=out, radar_lengths=new_lengths)

    def _kept_points(self, points: torch.Tensor) -> torch.Tensor:
        """`[N, F]` → `[N', F]`: in-range points (dynamic) or the first points of each voxel (hard)."""
        assert self.voxelize is not None
        points = points.contiguous()
        if len(points) == 0:
            return points
        if self.voxelize.max_num_points == -1:
            coors = self.voxelize(points)  # [N, 3] (z, y, x), -1 outside the range
            return points[coors[:, 0] >= 0]
        voxels, _, counts = self.voxelize(points)  # [M, max_points, F], [M, 3], [M]
        keep = torch.arange(voxels.shape[1], device=voxels.device)[None] < counts[:, None]
        return voxels[keep]
