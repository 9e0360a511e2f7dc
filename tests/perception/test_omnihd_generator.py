"""The synthetic OmniHD-Scenes generator: layout, determinism, physical consistency."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from perception.occupancy import grid
from perception.occupancy.data import tables
from sim.synthetic.omnihd import GeneratorConfig, format, write_dataset


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_format_constants_match_the_loader() -> None:
    assert format.CAMERAS == tables.CAMERAS and format.RADARS == tables.RADARS
    assert format.DOUBLE_RES_CAMERAS == tables.DOUBLE_RES_CAMERAS and format.LIDAR == tables.LIDAR
    assert format.CLASS_NAMES == grid.CLASS_NAMES and format.IGNORE == grid.IGNORE
    assert format.OCC_RANGE == grid.OMNIHD_GRID.point_range and format.OCC_SIZE == grid.OMNIHD_GRID.size


def test_layout_matches_the_devkit(omnihd_root: Path) -> None:
    version = omnihd_root / "v1.0-trainval"
    for name in format.TABLES:
        assert (version / f"{name}.json").is_file(), name
    split = json.loads((version / "scene_split.json").read_text())
    assert len(split["train"]) == 1 and len(split["val"]) == 1 and not set(split["train"]) & set(split["val"])
    sync = json.loads((version / "sample_data.json").read_text())
    rec = sync[1]
    assert rec["prev"] == sync[0]["token"]
    lidar = omnihd_root / rec["lidar"][format.LIDAR]
    assert np.fromfile(lidar, np.float32).size % 5 == 0
    occ = Path(str(lidar).replace("lidar/lidar_top_compensation", "occ_gt").replace(".bin", ".npz"))
    sparse = np.load(occ)["occ_gt"]
    assert sparse.shape[1] == 4 and sparse.shape[0] > 1000
    for radar in format.RADARS:
        pts = np.fromfile(omnihd_root / rec["radars"][radar], np.float32).reshape(-1, 8)
        assert len(pts) > 50 and np.all(pts[:, 7] == 1)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    cfg = GeneratorConfig(clips=1, val_clips=0, frames=1, image_height=16, image_width=24, agents=4, seed=7)
    a = _digest(write_dataset(tmp_path / "a", cfg, progress=False))
    b = _digest(write_dataset(tmp_path / "b", cfg, progress=False))
    assert a == b and len(a) > 15
    c = _digest(write_dataset(tmp_path / "c", GeneratorConfig(**{**cfg.__dict__, "seed": 8}), progress=False))
    assert c != a


def test_lidar_points_lie_on_labelled_voxels(omnihd_root: Path) -> None:
    """Sensors and labels come from one world: most LiDAR returns fall in (or next to) occupied voxels."""
    sync = json.loads((omnihd_root / "v1.0-trainval" / "sample_data.json").read_text())[0]
    pts = np.fromfile(omnihd_root / sync["lidar"][format.LIDAR], np.float32).reshape(-1, 5)
    occ_path = omnihd_root / sync["lidar"][format.LIDAR].replace("lidar/lidar_top_compensation", "occ_gt")
    sparse = np.load(str(occ_path).replace(".bin", ".npz"))["occ_gt"].astype(int)
    dense = np.zeros(format.OCC_SIZE, np.uint8)
    dense[sparse[:, 0], sparse[:, 1], sparse[:, 2]] = sparse[:, 3]
    idx, inside = grid.OMNIHD_GRID.point_indices(pts[:, :3] - np.array([0, 0, 0.05]))
    idx = idx[inside]
    hits = [dense[max(i - 1, 0): i + 2, max(j - 1, 0): j + 2, max(k - 1, 0): k + 2].any() for i, j, k in idx]
    assert np.mean(hits) > 0.95
