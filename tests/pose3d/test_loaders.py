"""Loaders on hand-written and corrupt files: conversions, errors that name the file, restricted unpickling."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from perception.geometry.camera import Camera
from pose3d.multiview.datasets.custom import CustomRigDataset
from pose3d.multiview.datasets.panoptic import PanopticDataset, read_body3d_scene
from pose3d.multiview.datasets.safe_pickle import load_plain_pickle
from pose3d.multiview.pseudo_labels import (
    PseudoRecord,
    convert_selfpose3d_pickle,
    pseudo_label_image,
    read_pseudo_labels,
    write_pseudo_labels,
)


def _body(joints19: np.ndarray, bid: int = 0) -> dict:
    return {"id": bid, "joints19": joints19.reshape(-1).tolist()}


def test_body3d_scene_conversion_by_hand(tmp_path: Path) -> None:
    j = np.zeros((19, 4))
    j[:, 3] = 1.0
    j[2, :3] = [10.0, -90.0, 20.0]  # root, cm, y up (negative y is up in Panoptic)
    j[5, 3] = 0.05  # hidden wrist
    hidden_root = j.copy()
    hidden_root[2, 3] = 0.0
    path = tmp_path / "body3DScene_00000000.json"
    path.write_text(json.dumps({"version": 0.7, "bodies": [_body(j), _body(hidden_root, 1)]}))
    joints, vis = read_body3d_scene(path)
    assert joints.shape == (1, 15, 3)  # the body with a hidden root is dropped
    np.testing.assert_allclose(joints[0, 2], [100.0, 200.0, 900.0])  # (x, z, -y) * 10
    assert vis[0, 5] == 0 and vis[0].sum() == 14


def test_corrupt_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "body3DScene_00000001.json"
    bad.write_text('{"bodies": [{"id": 0, "joints19": [1, 2, 3]}]}')
    with pytest.raises(ValueError, match="body3DScene_00000001.json: body 0 has no numeric 'joints19'"):
        read_body3d_scene(bad)
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="body3DScene_00000001.json: not valid JSON"):
        read_body3d_scene(bad)
    seq = tmp_path / "seq"
    (seq / "hdPose3d_stage1_coco19").mkdir(parents=True)
    (seq / "calibration_seq.json").write_text(json.dumps({"cameras": []}))
    with pytest.raises(ValueError, match=r"calibration_seq.json: camera \(panel 0, node 3\) not in the calibration"):
        PanopticDataset(tmp_path, ["seq"])
    with pytest.raises(FileNotFoundError, match="nope: sequence folder not found"):
        PanopticDataset(tmp_path, ["nope"])


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler(tmp_path: Path) -> None:
    good = tmp_path / "good.pkl"
    good.write_bytes(pickle.dumps({"0_300": [{"pred": np.ones((17, 3))}], "n": [1, 2.5, "x"]}))
    data = load_plain_pickle(good)
    assert data["0_300"][0]["pred"].shape == (17, 3)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(ValueError, match=r"evil.pkl: refuses to load posix.system|evil.pkl: refuses to load os.system"):
        load_plain_pickle(evil)
    trunc = tmp_path / "trunc.pkl"
    trunc.write_bytes(good.read_bytes()[:20])
    with pytest.raises(ValueError, match="trunc.pkl: .*truncated"):
        load_plain_pickle(trunc)


def _record(key: str, camera: str, people: int = 2) -> PseudoRecord:
    rng = np.random.default_rng(len(key))
    return PseudoRecord(
        key,
        f"img/{key}.jpg",
        camera,
        640,
        480,
        rng.uniform(0, 400, (people, 15, 2)),
        np.ones((people, 15)),
        np.tile([0, 0, 10, 10.0], (people, 1)),
        np.full(people, 0.9),
    )


def test_pseudo_label_file_round_trip_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    recs = [_record("a/cam0/0001", "cam0"), _record("a/cam1/0001", "cam1", 0)]
    write_pseudo_labels(path, recs)
    back = read_pseudo_labels(path)
    assert back[0].joints_2d.shape == (2, 15, 2) and back[1].joints_2d.shape == (0, 15, 2)
    np.testing.assert_allclose(back[0].joints_2d, np.round(recs[0].joints_2d, 2))
    doc = json.loads(path.read_text())
    doc["version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="p.json: pernav-pseudo2d version 99 is not supported"):
        read_pseudo_labels(path)
    doc["version"] = 1
    doc["records"][0]["joints_2d_vis"] = [[1.0] * 14] * 2
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"p.json: record 0: field 'joints_2d_vis' has shape \(2, 14\)"):
        read_pseudo_labels(path)


def test_selfpose3d_pickle_conversion(tmp_path: Path) -> None:
    entry = {
        "key": "k",
        "image": "x.jpg",
        "camera": {"R": np.eye(3)},
        "joints_2d": [np.ones((15, 3))],
        "joints_2d_vis": [np.ones((15, 3))],
        "bboxes": [np.array([0, 0, 5, 5, 0.9])],
        "scores": [0.9],
    }
    path = tmp_path / "group_train_cam5_pseudo_hrnet_soft_9videos.pkl"
    path.write_bytes(pickle.dumps({"db": [entry]}))
    (rec,) = convert_selfpose3d_pickle(path)
    assert rec.joints_2d.shape == (1, 15, 2) and rec.bboxes.tolist() == [[0, 0, 5, 5]]


def test_custom_rig_groups_views_and_rescales(tmp_path: Path) -> None:
    cams = [
        Camera(np.diag([500.0, 500, 1]), np.zeros(5), np.eye(3), [0, 0, 3000.0], 1280, 960, f"cam{i}") for i in range(2)
    ]
    (tmp_path / "calib.json").write_text(json.dumps({"cameras": [c.to_dict() for c in cams]}))
    recs = [_record("t/cam0/0001", "cam0"), _record("t/cam1/0001", "cam1"), _record("t/cam0/0002", "cam0")]
    write_pseudo_labels(tmp_path / "p.json", recs)
    ds = CustomRigDataset(tmp_path / "calib.json", tmp_path / "p.json", image_root=tmp_path, min_views=2)
    assert [f.key for f in ds] == ["t/0001"]
    # records refer to 640x480 images, the calibration to 1280x960: poses are scaled by 2
    np.testing.assert_allclose(ds[0].views[1].joints_2d, np.round(recs[1].joints_2d, 2) * 2)
    write_pseudo_labels(tmp_path / "q.json", [_record("x", "cam9")])
    with pytest.raises(ValueError, match="names camera 'cam9'"):
        CustomRigDataset(tmp_path / "calib.json", tmp_path / "q.json")


def test_estimator_interface_maps_coco_to_panoptic() -> None:
    def fake(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.zeros((1, 17, 2))
        k[0, 5], k[0, 6], k[0, 11], k[0, 12] = [10, 10], [30, 10], [12, 50], [28, 50]
        s = np.full((1, 17), 0.9)
        s[0, 12] = 0.1  # right hip too uncertain: the mid-hip comes from the left hip alone
        return k, s

    rec = pseudo_label_image(fake, np.zeros((100, 200, 3), np.uint8), "k", "img.jpg", "cam0")
    np.testing.assert_allclose(rec.joints_2d[0, 0], [20, 10])  # neck = mid-shoulders
    np.testing.assert_allclose(rec.joints_2d[0, 2], [12, 50])  # mid-hip = the seen hip
    assert rec.joints_2d_vis[0, 12] == 0 and (rec.width, rec.height) == (200, 100)
