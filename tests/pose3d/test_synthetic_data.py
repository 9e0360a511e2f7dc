"""Synthetic Panoptic/Shelf writers: determinism, and agreement with the loaders' camera model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from pose3d.multiview.datasets.panoptic import PanopticDataset
from pose3d.multiview.datasets.shelf_campus import ShelfCampusDataset
from sim.synthetic.panoptic.shelf import ShelfSynthConfig, write_shelf_sequence
from sim.synthetic.panoptic.writer import PanopticSynthConfig, write_panoptic_dataset

TINY = PanopticSynthConfig(num_frames=3, image_width=96, image_height=64)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    write_panoptic_dataset(tmp_path / "a", ["s"], TINY, seed=3, progress=False)
    write_panoptic_dataset(tmp_path / "b", ["s"], TINY, seed=3, progress=False)
    write_panoptic_dataset(tmp_path / "c", ["s"], TINY, seed=4, progress=False)
    a, b, c = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert len(a) == 1 + 3 + 3 * 5 + 1  # calibration, 3 GT files, 15 images, pseudo poses
    assert a == b
    assert a != c


def test_loader_projection_matches_writer_labels(tmp_path: Path) -> None:
    clean = PanopticSynthConfig(
        num_frames=4,
        write_images=False,
        pseudo_noise_px=0.0,
        pseudo_drop_joint=0.0,
        pseudo_swap=0.0,
        pseudo_miss=0.0,
        pseudo_false_positive=0.0,
        num_cameras=6,
    )
    write_panoptic_dataset(tmp_path, ["s"], clean, seed=0, progress=False)
    cams = [(0, 3), (0, 6), (0, 12), (0, 13), (0, 23), (0, 1)]
    ds = PanopticDataset(tmp_path, ["s"], cams, interval=1, pseudo_dir=tmp_path / "pseudo_2d")
    assert len(ds) == 4
    checked = 0
    for frame in ds:
        assert 2 <= len(frame.joints_3d) <= 4
        # people stand on the floor of a z-up world: ankles low, necks high
        assert (frame.joints_3d[:, 8, 2] < 300).all() and (frame.joints_3d[:, 0, 2] > 1200).all()
        for view in frame.views:
            proj = view.camera.project(frame.joints_3d)  # [G, 15, 2]
            for pose, vis in zip(view.joints_2d, view.joints_2d_vis, strict=True):
                err = np.linalg.norm(proj - pose[None], axis=-1)
                best = err.mean(-1).argmin()
                np.testing.assert_allclose(pose[vis > 0], proj[best][vis > 0], atol=0.02)
                checked += 1
    assert checked > 20


def test_pseudo_poses_are_corrupted_like_a_detector(tmp_path: Path) -> None:
    cfg = PanopticSynthConfig(num_frames=30, write_images=False, pseudo_false_positive=0.5, pseudo_swap=0.3)
    write_panoptic_dataset(tmp_path, ["s"], cfg, seed=1, progress=False)
    ds = PanopticDataset(tmp_path, ["s"], interval=1, pseudo_dir=tmp_path / "pseudo_2d")
    far, missing, total = 0, 0, 0
    for frame in ds:
        for view in frame.views:
            proj = view.camera.project(frame.joints_3d)
            for pose, vis in zip(view.joints_2d, view.joints_2d_vis, strict=True):
                total += 1
                missing += int((vis == 0).any())
                err = np.linalg.norm(proj - pose[None], axis=-1)[:, vis > 0].mean(-1).min()
                far += int(err > 40)  # false positives and swapped limbs
    assert total > 200
    assert 0.05 < far / total < 0.6
    assert missing > 0


def test_shelf_writer_round_trip(tmp_path: Path) -> None:
    write_shelf_sequence(
        tmp_path, ShelfSynthConfig(num_frames=3, image_scale=0.1, det_miss=0, det_false_positive=0), progress=False
    )
    ds = ShelfCampusDataset(tmp_path, "shelf", frames=[300, 301, 302])
    assert len(ds) == 3 and len(ds.actors[0]) == 3
    assert all(a is not None and a.shape == (14, 3) for a in ds.actors[0])
    view = ds[0].views[2]
    assert view.image_path.is_file()
    # detections (COCO -> Panoptic-15) land on the projected true limbs: right ankle = Shelf joint 0
    r_ankles = view.camera.project(np.stack([a[0] for a in ds.actors[0]]))
    det = view.joints_2d[:, 14]
    assert np.linalg.norm(det[:, None] - r_ankles[None], axis=-1).min(1).max() < 15
