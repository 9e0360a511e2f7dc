"""Shelf/Campus protocol pieces: the Shelf-14 conversion against the generator's true joints, the
synthetic-pose training data (VoxelPose's Shelf/Campus protocol), and the residual pose net."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from perception.geometry.camera import Camera
from pose3d.metrics import pcp_shelf14
from pose3d.multiview.cli import main
from pose3d.multiview.config import DataConfig, ModelConfig
from pose3d.multiview.datasets.build import build_dataset
from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.datasets.synthetic_poses import SyntheticPoseDataset, detector_convention, pose_pool
from pose3d.multiview.io import load_checkpoint
from pose3d.multiview.networks import V2VNet
from pose3d.skeleton import panoptic15_to_shelf14
from sim.synthetic.panoptic.body import body_joints
from sim.synthetic.panoptic.shelf import SHELF14_FROM_BODY, ShelfSynthConfig, write_shelf_sequence
from sim.synthetic.panoptic.writer import PanopticSynthConfig, write_panoptic_dataset


def _bodies(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            body_joints(
                rng.uniform(0.88, 1.08),
                rng.uniform(-np.pi, np.pi),
                rng.uniform(-2000, 2000, 2),
                tuple(rng.uniform(-0.5, 0.5, 4)),
                tuple(rng.uniform(-0.5, 1.5, 4)),
                lean=rng.uniform(0, 0.1),
            )
            for _ in range(n)
        ]
    )


def test_shelf14_conversion_of_true_joints_scores_full_pcp() -> None:
    """What a perfect detections-mode model outputs (neck and mid-hip as a detector defines them)
    converts to the Shelf ground truth: limbs exactly, the head within 3 cm, PCP 100."""
    bodies = _bodies(40)
    pred = panoptic15_to_shelf14(detector_convention(bodies[:, :15]))
    gt = bodies[:, list(SHELF14_FROM_BODY)]
    err = np.linalg.norm(pred - gt, axis=-1)  # [N, 14]
    np.testing.assert_allclose(err[:, :12], 0, atol=1e-9)
    assert err[:, 12:].max() < 30.0
    out = pcp_shelf14([p[None] for p in pred], [[g] for g in gt])
    assert out["average_pcp"] == 100.0


def test_shelf14_head_follows_voxelpose_by_hand() -> None:
    joints = np.zeros((15, 3))
    joints[3] = [0, 200, 1400]  # l_shoulder
    joints[9] = [0, -200, 1400]  # r_shoulder
    joints[1] = [100, 0, 1600]  # nose
    joints[0] = [999, 999, 999]  # the neck joint is not used
    s14 = panoptic15_to_shelf14(joints)
    np.testing.assert_allclose(s14[12], [50, 0, 1500])  # halfway from the shoulder midpoint to the nose
    np.testing.assert_allclose(s14[13], [75, 0, 1700])  # + (0.75, 0.75, 1.5) x (nose - shoulder midpoint)


def _rig() -> list[Camera]:
    cams = []
    for ang in np.linspace(0, 2 * np.pi, 4, endpoint=False):
        centre = np.array([6000 * np.cos(ang), 6000 * np.sin(ang), 2000.0])
        z = -centre / np.linalg.norm(centre)
        z[2] = -0.15
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        K = np.array([[800.0, 0, 400], [0, 800, 300], [0, 0, 1]])
        cams.append(Camera(K, np.zeros(5), R, -R @ centre, 800, 600, str(len(cams))))
    return cams


def test_synthetic_poses_project_into_the_rig() -> None:
    pool = pose_pool([_frame_of(_bodies(6, 1)[:, :15])])
    assert pool.shape == (6, 15, 3) and np.abs(pool[:, 2, :2]).max() < 1e-9  # roots at x = y = 0
    cams = _rig()
    space = {"space_center": [0, 0, 800], "space_size": [8000, 8000, 2000], "noise_px": 0.0, "miss_rate": 0.0}
    ds = SyntheticPoseDataset(cams, pool, 12, 3, seed=0, **space)
    counts = [len(f.joints_3d) for f in ds]
    assert len(ds) == 12 and min(counts) >= 1 and max(counts) <= 3 and len(set(counts)) > 1
    for frame in ds:
        roots = frame.joints_3d[:, 2, :2]
        gaps = np.linalg.norm(roots[:, None] - roots[None], axis=-1) + 1e9 * np.eye(len(roots))
        assert gaps.min() >= 700 and np.abs(roots).max() <= 4000 * 0.7
        for view in frame.views:
            seen = view.joints_2d_vis > 0
            assert (view.joints_2d_vis[seen] >= 0.5).all() and (view.joints_2d_vis <= 1).all()
            proj = view.camera.project(frame.joints_3d)
            np.testing.assert_allclose(view.joints_2d[seen], proj[seen], atol=1e-6)
            off = proj[~seen]
            assert ((off[:, 0] < 0) | (off[:, 0] >= 800) | (off[:, 1] < 0) | (off[:, 1] >= 600)).all()
    # a different seed places people elsewhere; the same seed is reproducible
    again = SyntheticPoseDataset(cams, pool, 12, 3, seed=0, **space)
    other = SyntheticPoseDataset(cams, pool, 12, 3, seed=1, **space)
    np.testing.assert_array_equal(again[3].joints_3d, ds[3].joints_3d)
    assert not np.array_equal(other[0].joints_3d[:1], ds[0].joints_3d[:1])


def _frame_of(people: np.ndarray) -> FrameSample:
    """A frame with 3D ground truth only."""
    return FrameSample("x/0", [], people, np.ones(people.shape[:2]))


def test_detector_convention_and_bad_inputs() -> None:
    j = _bodies(1)[0, :15]
    d = detector_convention(j)
    np.testing.assert_allclose(d[0], (j[3] + j[9]) / 2)
    np.testing.assert_allclose(d[2], (j[6] + j[12]) / 2)
    np.testing.assert_array_equal(d[3:], j[3:])
    with pytest.raises(ValueError, match="no fully visible"):
        pose_pool([])
    no_size = Camera(np.eye(3), np.zeros(5), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="width and height"):
        SyntheticPoseDataset([no_size], np.zeros((1, 15, 3)), 1, 1, [0, 0, 0], [1, 1, 1])


def test_shelf_synthetic_kind_builds_trains_and_evaluates(tmp_path: Path) -> None:
    """The Shelf preset's path: synthetic-pose training data from generated files, two supervised
    iterations per stage through `pernav pose train`, then PCP on the Shelf detections."""
    shelf, pan = tmp_path / "shelf", tmp_path / "pan"
    write_shelf_sequence(shelf, ShelfSynthConfig(num_frames=2, image_scale=0.05), progress=False)
    write_panoptic_dataset(pan, ["p"], PanopticSynthConfig(num_frames=2, write_images=False), seed=1, progress=False)
    cfg = DataConfig(kind="shelf_synthetic", root=str(shelf), sequences=["p"], interval=1, synthetic_frames=3)
    with pytest.raises(ValueError, match="pose_source"):
        build_dataset(cfg)
    cfg.pose_source = str(pan)
    ds = build_dataset(cfg, ModelConfig(space_center=[450.0, -320.0, 800.0]))
    assert len(ds) == 3 and len(ds[0].views) == 5 and ds[0].views[0].width == 1032
    preset = Path(__file__).parents[2] / "configs" / "pose" / "shelf_synthetic_supervised.yaml"
    out = tmp_path / "run"
    tiny = ["model.image_size=[64,64]", "model.root_cube=[16,16,4]", "model.pose_cube=[8,8,8]", "model.v2v_width=4"]
    common = [f"data.root={shelf}", f"data.pose_source={pan}", "data.sequences=[p]", "data.synthetic_frames=2"]
    val = [f"val_data.root={shelf}", "val_data.frames=[300,301]", "model.proposal_threshold=-100.0"]
    assert main(["train", "--quiet", "--config", str(preset), "--set", *common, *val, *tiny, f"out_dir={out}"]) == 0
    assert load_checkpoint(out / "model.pt")["config"]["model"]["pose_residual"] is True
    metrics = out / "metrics.json"
    assert main(["eval", "--quiet", "--checkpoint", str(out / "model.pt"), "--out", str(metrics)]) == 0
    assert "actor_pcp" in json.loads(metrics.read_text())


def test_residual_v2v_starts_as_identity() -> None:
    net = V2VNet(3, 3, 4, residual=True).eval()
    x = torch.rand(2, 3, 8, 8, 4)
    torch.testing.assert_close(net(x), x)
    with pytest.raises(ValueError, match="residual"):
        V2VNet(3, 2, 4, residual=True)


def test_synthetic_poses_area_and_near_placement() -> None:
    """VoxelPose's Shelf placement: roots inside the given floor area, or (near_prob) next to a person
    already placed, N(500, 50) mm away along x and along y."""
    pool = pose_pool([_frame_of(_bodies(6, 1)[:, :15])])
    cams = _rig()
    common = {"space_center": [0, 0, 800], "space_size": [8000, 8000, 2000], "min_distance": 300.0}
    area = [[-300.0, 300.0], [-200.0, 200.0]]
    ds = SyntheticPoseDataset(cams, pool, 20, 3, seed=0, area=area, **common)
    roots = np.concatenate([f.joints_3d[:, 2, :2] for f in ds])
    assert (np.abs(roots[:, 0]) <= 300).all() and (np.abs(roots[:, 1]) <= 200).all()
    near = SyntheticPoseDataset(cams, pool, 20, 3, seed=0, area=area, near_prob=1.0, **common)
    seen_near = 0
    for frame in near:
        r = frame.joints_3d[:, 2, :2]
        assert (np.abs(r[0, 0]) <= 300) and (np.abs(r[0, 1]) <= 200)  # the first person: in the area
        for k in range(1, len(r)):  # the others: next to an earlier one
            offsets = np.abs(r[k] - r[:k])
            assert (np.abs(offsets - 500) < 250).all(-1).any()
            seen_near += 1
    assert seen_near > 5
    with pytest.raises(ValueError, match="area"):
        SyntheticPoseDataset(cams, pool, 1, 1, seed=0, area=[[1.0, 0.0], [0.0, 1.0]], **common)
    with pytest.raises(ValueError, match="near_prob"):
        SyntheticPoseDataset(cams, pool, 1, 1, seed=0, near_prob=2.0, **common)
