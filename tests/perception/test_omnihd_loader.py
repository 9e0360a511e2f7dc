"""The OmniHD-Scenes loader: samples, geometry, radar compensation, and errors on corrupt files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from perception.geometry.camera import project_points
from perception.occupancy.data.images import undistort
from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes, collate
from perception.occupancy.labels import load_occ3d, load_occ_gt, sparse_to_dense
from perception.radar.compensation import compensate_sweep


@pytest.fixture()
def corruptible(omnihd_root: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(omnihd_root, dst)
    return dst


def test_sample_contents(omnihd_root: Path) -> None:
    ds = OmniHDScenes(OmniHDConfig(root=str(omnihd_root), pad_to=16, history=1), "train")
    assert len(ds) == 3 and ds.history_indices(0) == [0, 0] and ds.history_indices(2) == [1, 2]
    item = ds[2]
    cur, prev = item["frames"][1], item["frames"][0]
    assert cur["images"].shape == (6, 3, 32, 48)  # 24x40 views (front/back halved) padded to 16
    assert torch.allclose(cur["prev2cur"], torch.eye(4), atol=1e-6)
    # the previous ego sits behind the current one (the ego drives forward along +x)
    assert prev["prev2cur"][0, 3] < -1.0
    occ = item["occ"]
    assert occ.shape == (240, 160, 16) and set(occ.unique().tolist()) >= {0, 8, 255}
    batch = collate([ds[1], ds[2]])
    assert batch["frames"][1]["radar"].shape[0] == 2 and batch["frames"][1]["radar_lengths"].min() > 100


def test_static_radar_returns_compensate_to_zero(omnihd_root: Path) -> None:
    """Ground returns are static: after ego-velocity compensation their velocity must vanish."""
    ds = OmniHDScenes(OmniHDConfig(root=str(omnihd_root), history=0), "train")
    radar = ds[1]["frames"][0]["radar"].numpy()
    near_ground = radar[:, 2] < -1.6  # the LiDAR is 1.9 m above the road; objects stand higher
    speed = np.hypot(radar[near_ground, 3], radar[near_ground, 4])
    assert near_ground.sum() > 20 and np.median(speed) < 0.3
    assert np.abs(radar[:, :2]).max() < 72  # cropped to the baseline radar range


def test_compensation_formula_by_hand() -> None:
    # radar looking along ego +y (rotated 90 deg); the ego drives at 10 m/s along +x: in the radar frame
    # the sensor moves along -y, so a static target straight ahead (radar +x) has raw v_r = 0
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    s2l = np.eye(4)
    s2l[:3, :3] = R
    raw = np.array([[10.0, 0.0, 0.0, -2.0, 5.0, 0.0, 12.0, 1.0],   # target ahead, closing at 2 m/s
                    [0.0, 10.0, 0.0, 10.0, 5.0, 0.0, 12.0, 1.0]])  # static target on radar +y
    out = compensate_sweep(raw, np.array([10.0, 0.0, 0.0]), R, s2l, 0.05, 2)
    np.testing.assert_allclose(out[0, 8], -2.0, atol=1e-5)  # no ego component along this ray
    np.testing.assert_allclose(out[1, 8], 0.0, atol=1e-5)  # v_r = +10 cancels the -10 of the sensor
    np.testing.assert_allclose(out[0, :3], [0.0, 10.0, 0.0], atol=1e-5)  # rotated into the LiDAR frame
    np.testing.assert_allclose(out[0, 3:5], [0.0, -2.0], atol=1e-5)
    np.testing.assert_allclose(out[:, [5, 6, 7, 9]], [[5, 12, 0.05, 2]] * 2, atol=1e-6)


def test_undistort_matches_the_camera_model() -> None:
    K = np.array([[40.0, 0, 31.5], [0, 40.0, 23.5], [0, 0, 1]])
    dist = np.array([-0.2, 0.05, 0.001, -0.002, 0.0])
    v, u = np.mgrid[0:48, 0:64].astype(np.float64)
    coded = torch.from_numpy(np.stack([u, v, np.zeros_like(u)])).float()  # each pixel stores its (u, v)
    out = undistort(coded, K, dist)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    expect = project_points(rays, K, dist, np.eye(3), np.zeros(3))
    inner = (expect[..., 0] > 1) & (expect[..., 0] < 62) & (expect[..., 1] > 1) & (expect[..., 1] < 46)
    np.testing.assert_allclose(out[0].numpy()[inner], expect[..., 0][inner], atol=1e-3)
    np.testing.assert_allclose(out[1].numpy()[inner], expect[..., 1][inner], atol=1e-3)
    assert np.abs(expect[..., 0] - u)[inner].max() > 1.0  # the distortion is not negligible


def _first_sync(root: Path) -> dict:
    return json.loads((root / "v1.0-trainval" / "sample_data.json").read_text())[0]


def test_truncated_radar_file_names_the_file(corruptible: Path) -> None:
    path = corruptible / _first_sync(corruptible)["radars"]["radar_back"]
    path.write_bytes(np.zeros(7, np.float32).tobytes())
    ds = OmniHDScenes(OmniHDConfig(root=str(corruptible), history=0), "train")
    with pytest.raises(ValueError, match=rf"{path.name}.*multiple of 8"):
        ds[0]


def test_corrupt_image_and_labels_name_the_file(corruptible: Path) -> None:
    sync = _first_sync(corruptible)
    img = corruptible / sync["cameras"]["camera_left_back"]
    img.write_bytes(b"not a jpeg")
    ds = OmniHDScenes(OmniHDConfig(root=str(corruptible), history=0), "train")
    with pytest.raises(ValueError, match=rf"{img.name}.*not a readable image"):
        ds[0]
    occ = corruptible / sync["lidar"]["lidar_top_compensation"].replace("lidar/lidar_top_compensation", "occ_gt")
    occ = occ.with_suffix(".npz")
    np.savez(occ, occ_gt=np.array([[1, 2, 3]]))
    with pytest.raises(ValueError, match=r"shape \(1, 3\), expected \(N, 4\)"):
        load_occ_gt(occ)
    np.savez(occ, occ_gt=np.array([[240, 0, 0, 1]]))
    with pytest.raises(ValueError, match="outside the"):
        load_occ_gt(occ)
    np.savez(occ, labels=np.zeros((2, 4)))
    with pytest.raises(ValueError, match="missing array 'occ_gt'"):
        load_occ_gt(occ)
    occ.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_occ_gt(occ)


def test_broken_tables_name_the_table(corruptible: Path, omnihd_root: Path) -> None:
    table = corruptible / "v1.0-trainval" / "sample_data.json"
    records = json.loads(table.read_text())
    del records[0]["ego_pose"]
    table.write_text(json.dumps(records))
    with pytest.raises(ValueError, match=r"sample_data.json record 0: missing field\(s\) \['ego_pose'\]"):
        OmniHDScenes(OmniHDConfig(root=str(corruptible)), "train")
    table.write_text("{")
    with pytest.raises(ValueError, match="sample_data.json: invalid JSON"):
        OmniHDScenes(OmniHDConfig(root=str(corruptible)), "train")
    shutil.copy(omnihd_root / "v1.0-trainval" / "sample_data.json", table)
    (corruptible / "v1.0-trainval" / "ego_pose.json").unlink()
    with pytest.raises(FileNotFoundError, match="ego_pose.json: table not found"):
        OmniHDScenes(OmniHDConfig(root=str(corruptible)), "train")
    shutil.copy(omnihd_root / "v1.0-trainval" / "ego_pose.json", corruptible / "v1.0-trainval" / "ego_pose.json")
    with pytest.raises(ValueError, match="no split 'nope'"):
        OmniHDScenes(OmniHDConfig(root=str(corruptible)), "nope")


def test_sparse_dense_and_occ3d(tmp_path: Path) -> None:
    dense = sparse_to_dense(np.array([[0, 1, 2, 5], [3, 3, 3, 255]]), (4, 4, 4))
    assert dense[0, 1, 2] == 5 and dense[3, 3, 3] == 255 and dense.sum() == 260
    sem = np.full((4, 4, 2), 17, np.uint8)
    sem[0, 0, 0] = 3
    mask = np.ones((4, 4, 2), np.uint8)
    mask[1, 1, 1] = 0
    np.savez(tmp_path / "labels.npz", semantics=sem, mask_lidar=mask, mask_camera=mask)
    out = load_occ3d(tmp_path / "labels.npz")
    assert out[0, 0, 0] == 3 and out[1, 1, 1] == 255 and out[2, 2, 0] == 0
    np.savez(tmp_path / "bad.npz", semantics=sem)
    with pytest.raises(ValueError, match="missing arrays"):
        load_occ3d(tmp_path / "bad.npz")
