"""Camera model: hand-computed projections, distortion round trip, Panoptic conversion, autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from perception.geometry.camera import (
    Camera,
    camera_from_panoptic,
    camera_to_panoptic,
    panoptic_world_to_mm,
    project_points,
    undistort_points,
)

K = np.array([[100.0, 0.0, 50.0], [0.0, 200.0, 40.0], [0.0, 0.0, 1.0]])
NO_DIST = np.zeros(5)


def test_pinhole_by_hand() -> None:
    uv = project_points(np.array([1.0, 2.0, 10.0]), K, NO_DIST, np.eye(3), np.zeros(3))
    # x/z = 0.1, y/z = 0.2 -> u = 100 * 0.1 + 50, v = 200 * 0.2 + 40
    np.testing.assert_allclose(uv, [60.0, 80.0])


def test_rotation_translation_by_hand() -> None:
    Rz = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 deg about z
    uv = project_points(np.array([[1.0, 0.0, 3.0]]), K, NO_DIST, Rz, np.array([0.0, 0.0, 2.0]))
    # camera point (0, 1, 5): u = 50, v = 200 * 0.2 + 40
    np.testing.assert_allclose(uv, [[50.0, 80.0]])


def test_distortion_by_hand() -> None:
    dist = np.array([0.1, 0.0, 0.01, 0.0, 0.0])
    uv = project_points(np.array([1.0, 2.0, 10.0]), K, dist, np.eye(3), np.zeros(3))
    # r2 = 0.05, radial = 1.005; xd = 0.1005 + 2*0.01*0.1*0.2 = 0.1009; yd = 0.201 + 0.01*(0.05+0.08) = 0.2023
    np.testing.assert_allclose(uv, [100 * 0.1009 + 50, 200 * 0.2023 + 40], rtol=1e-12)


def test_undistort_inverts_distortion() -> None:
    rng = np.random.default_rng(0)
    dist = np.array([-0.25, 0.1, 0.001, -0.002, -0.02])
    pts = np.concatenate([rng.uniform(-3, 3, (50, 2)), rng.uniform(4, 8, (50, 1))], axis=1)
    ideal = project_points(pts, K, NO_DIST, np.eye(3), np.zeros(3))
    distorted = project_points(pts, K, dist, np.eye(3), np.zeros(3))
    assert np.abs(distorted - ideal).max() > 1.0  # the lens really moves points
    np.testing.assert_allclose(undistort_points(distorted, K, dist), ideal, atol=1e-6)


def test_numpy_and_torch_agree_and_gradients_flow() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(4, 3)) + [0, 0, 6]
    dist = np.array([0.05, -0.01, 0.001, 0.002, 0.001])
    cam = Camera(K, dist, np.eye(3), np.array([0.1, -0.2, 0.3]))
    ref = cam.project(pts)
    p = torch.tensor(pts, requires_grad=True)
    d = torch.tensor(dist, requires_grad=True)
    out = project_points(p, torch.tensor(K), d, torch.eye(3, dtype=torch.float64), torch.tensor(cam.t))
    np.testing.assert_allclose(out.detach().numpy(), ref)
    assert torch.autograd.gradcheck(lambda a, b: project_points(a, K, b, np.eye(3), cam.t), (p, d))


def _panoptic_entry() -> dict:
    ang = 0.3
    R = np.array([[np.cos(ang), 0, -np.sin(ang)], [0, 1, 0], [np.sin(ang), 0, np.cos(ang)]])
    return {
        "name": "00_03",
        "panel": 0,
        "node": 3,
        "resolution": [1920, 1080],
        "K": [[1400.0, 0.0, 960.0], [0.0, 1400.0, 540.0], [0.0, 0.0, 1.0]],
        "distCoef": [-0.2, 0.05, 0.0005, -0.0003, 0.0],
        "R": R.tolist(),
        "t": [[10.0], [-20.0], [300.0]],
    }


def test_panoptic_conversion_matches_raw_calibration() -> None:
    entry = _panoptic_entry()
    cam = camera_from_panoptic(entry)
    p_cm = np.array([[12.0, -150.0, 40.0], [-30.0, -90.0, -20.0]])  # y-up Panoptic points in cm
    raw = project_points(p_cm, entry["K"], entry["distCoef"], entry["R"], entry["t"])
    np.testing.assert_allclose(cam.project(panoptic_world_to_mm(p_cm)), raw, atol=1e-9)
    # (x, y, z) -> 10 * (x, z, -y): Panoptic's "up" is -y, so y = -150 cm is 1500 mm above the floor
    np.testing.assert_allclose(panoptic_world_to_mm(p_cm)[0], [120.0, 400.0, 1500.0])
    raw_center_cm = -np.array(entry["R"]).T @ np.array([10.0, -20.0, 300.0])
    np.testing.assert_allclose(cam.center, panoptic_world_to_mm(raw_center_cm))
    back = camera_from_panoptic(camera_to_panoptic(cam, 0, 3))
    np.testing.assert_allclose(back.R, cam.R)
    np.testing.assert_allclose(back.t, cam.t)


def test_voxelpose_dict_round_trip() -> None:
    cam = camera_from_panoptic(_panoptic_entry())
    again = Camera.from_voxelpose(cam.to_voxelpose())
    pts = np.array([[100.0, 200.0, 900.0]])
    np.testing.assert_allclose(again.project(pts), cam.project(pts))


def test_bad_inputs_are_named() -> None:
    entry = _panoptic_entry()
    entry["distCoef"] = [0.1, 0.2]
    with pytest.raises(ValueError, match="calib.json: camera '00_03' distCoef has 2 values"):
        camera_from_panoptic(entry, source="calib.json")
    with pytest.raises(ValueError, match="R is not a rotation"):
        Camera(K, NO_DIST, 2 * np.eye(3), np.zeros(3), name="x")
    with pytest.raises(ValueError, match=r"points must have shape \[..., 3\]"):
        project_points(np.zeros((2, 2)), K, NO_DIST, np.eye(3), np.zeros(3))


def test_batched_cameras_match_one_by_one() -> None:
    rng = np.random.default_rng(3)
    cams = [camera_from_panoptic(_panoptic_entry()), Camera(K, np.array([0.1, 0, 0, 0, 0]), np.eye(3), [0, 0, 5.0])]
    pts = torch.tensor(rng.normal(size=(2, 7, 3)) * 100 + [0, 0, 500])
    Ks = torch.tensor(np.stack([c.K for c in cams]))
    ds = torch.tensor(np.stack([c.dist for c in cams]))
    Rs = torch.tensor(np.stack([c.R for c in cams]))
    ts = torch.tensor(np.stack([c.t for c in cams]))
    out = project_points(pts, Ks, ds, Rs, ts)
    for i, c in enumerate(cams):
        np.testing.assert_allclose(out[i].numpy(), c.project(pts[i].numpy()), rtol=1e-10)


def test_points_behind_or_beside_the_camera_keep_finite_gradients() -> None:
    pts = torch.tensor([[0.0, 0.0, -5.0], [1e6, 0.0, 1e-9], [1.0, 2.0, 10.0]], requires_grad=True)
    dist = torch.tensor([-0.3, 0.1, 0.001, 0.001, -0.05])
    uv = project_points(pts, torch.tensor(K, dtype=torch.float32), dist, torch.eye(3), torch.zeros(3))
    assert torch.isfinite(uv).all()
    uv.sum().backward()
    assert torch.isfinite(pts.grad).all()
