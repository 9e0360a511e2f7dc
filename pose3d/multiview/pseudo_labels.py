"""2D pseudo poses: SelfPose3d's record as a safe, versioned file, and off-the-shelf 2D estimators.

File format ``pernav-pseudo2d`` version 1 (JSON, written atomically)::

    {"format": "pernav-pseudo2d", "version": 1, "joints": "panoptic15",
     "records": [{"key": str, "image": str (path relative to the dataset root), "camera": str,
                  "width": int, "height": int,          # image size the pixels refer to
                  "joints_2d": [P][15][2] pixels, "joints_2d_vis": [P][15] confidence (0 = missing),
                  "bboxes": [P][4] (x1, y1, x2, y2), "scores": [P]}]}

This is SelfPose3d's pseudo-label pickle entry (key, image, camera, joints_2d, joints_2d_vis, bboxes,
scores) without code execution on load. :func:`convert_selfpose3d_pickle` reads the original pickles
through the restricted unpickler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pose3d.multiview.datasets.safe_pickle import load_plain_pickle
from pose3d.multiview.datasets.sample import ViewSample
from pose3d.multiview.io import atomic_write_json
from pose3d.skeleton import COCO17, coco17_to_panoptic15

FORMAT, VERSION, NUM_JOINTS = "pernav-pseudo2d", 1, 15


@dataclass
class PseudoRecord:
    """2D poses of all people seen in one image (shapes as in the module docstring)."""

    key: str
    image: str
    camera: str
    width: int
    height: int
    joints_2d: np.ndarray  # [P, 15, 2]
    joints_2d_vis: np.ndarray  # [P, 15]
    bboxes: np.ndarray  # [P, 4]
    scores: np.ndarray  # [P]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "image": self.image,
            "camera": self.camera,
            "width": self.width,
            "height": self.height,
            "joints_2d": np.round(self.joints_2d, 2).tolist(),
            "joints_2d_vis": np.round(self.joints_2d_vis, 4).tolist(),
            "bboxes": np.round(self.bboxes, 2).tolist(),
            "scores": np.round(self.scores, 4).tolist(),
        }


def _array(rec: dict, name: str, shape: tuple[int | None, ...], where: str) -> np.ndarray:
    try:
        a = np.asarray(rec[name], dtype=np.float64)
    except KeyError:
        raise ValueError(f"{where}: missing field {name!r}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{where}: field {name!r} is not a numeric array") from None
    n = shape[0] if shape[0] is not None else (a.shape[0] if a.ndim else 0)
    want = (n, *shape[1:])
    if a.size == 0:
        a = a.reshape(want)
    if a.shape != want or not np.all(np.isfinite(a)):
        raise ValueError(f"{where}: field {name!r} has shape {a.shape}, expected {want} of finite numbers")
    return a


def parse_record(rec: Any, where: str) -> PseudoRecord:
    """Validate one JSON record; errors name ``where`` (file and record index) and the field."""
    if not isinstance(rec, dict):
        raise ValueError(f"{where}: record is {type(rec).__name__}, expected an object")
    for name in ("key", "image", "camera"):
        if not isinstance(rec.get(name), str):
            raise ValueError(f"{where}: field {name!r} must be a string")
    j = _array(rec, "joints_2d", (None, NUM_JOINTS, 2), where)
    p = len(j)
    return PseudoRecord(
        rec["key"],
        rec["image"],
        rec["camera"],
        int(rec.get("width", 0)),
        int(rec.get("height", 0)),
        j,
        _array(rec, "joints_2d_vis", (p, NUM_JOINTS), where),
        _array(rec, "bboxes", (p, 4), where),
        _array(rec, "scores", (p,), where),
    )


def read_pseudo_labels(path: str | Path) -> list[PseudoRecord]:
    """Read and validate a ``pernav-pseudo2d`` file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: pseudo-label file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(
            f"{path}: not a {FORMAT} file (format field is {doc.get('format') if isinstance(doc, dict) else None!r})"
        )
    if doc.get("version") != VERSION:
        raise ValueError(f"{path}: {FORMAT} version {doc.get('version')!r} is not supported (expected {VERSION})")
    if doc.get("joints") != "panoptic15":
        raise ValueError(f"{path}: joints {doc.get('joints')!r} unsupported (expected 'panoptic15')")
    return [parse_record(r, f"{path}: record {i}") for i, r in enumerate(doc.get("records", []))]


def write_pseudo_labels(path: str | Path, records: Iterable[PseudoRecord]) -> None:
    """Write records atomically in the ``pernav-pseudo2d`` v1 format."""
    atomic_write_json(
        path, {"format": FORMAT, "version": VERSION, "joints": "panoptic15", "records": [r.to_json() for r in records]}
    )


def convert_selfpose3d_pickle(path: str | Path) -> list[PseudoRecord]:
    """Read SelfPose3d's ``group_train_cam5_pseudo_*.pkl`` (dict with ``db`` or a list of entries).

    Entries carry ``key, image, camera, joints_2d [P, 15, 2|3], joints_2d_vis, bboxes, scores`` and
    optionally ``width``/``height`` (default 1920x1080).
    """
    data = load_plain_pickle(path)
    db = data.get("db", data) if isinstance(data, dict) else data
    if not isinstance(db, list):
        raise ValueError(f"{path}: expected a list of entries (or a dict with 'db'), got {type(db).__name__}")
    out = []
    for i, e in enumerate(db):
        where = f"{path}: entry {i}"
        if not isinstance(e, dict):
            raise ValueError(f"{where}: entry is {type(e).__name__}, expected a dict")
        joints = [np.asarray(j, float)[:NUM_JOINTS, :2] for j in e.get("joints_2d", [])]
        vis = [np.asarray(v, float).reshape(NUM_JOINTS, -1)[:, 0] for v in e.get("joints_2d_vis", [])]
        cam = e.get("camera", "")
        rec = {
            "key": str(e.get("key", i)),
            "image": str(e.get("image", "")),
            "camera": cam if isinstance(cam, str) else str(e.get("camera_name", i)),
            "width": int(e.get("width", 1920)),
            "height": int(e.get("height", 1080)),
            "joints_2d": np.asarray(joints).reshape(-1, NUM_JOINTS, 2),
            "joints_2d_vis": np.asarray(vis).reshape(-1, NUM_JOINTS),
            "bboxes": np.asarray([np.asarray(b, float).reshape(-1)[:4] for b in e.get("bboxes", [])]).reshape(-1, 4)
            if e.get("bboxes") is not None
            else None,
            "scores": np.asarray(e.get("scores", np.ones(len(joints))), float).reshape(-1),
        }
        if rec["bboxes"] is None or len(rec["bboxes"]) != len(joints):
            rec["bboxes"] = np.asarray([_box(j, v) for j, v in zip(joints, vis, strict=True)]).reshape(-1, 4)
        out.append(parse_record(rec, where))
    return out


def _box(joints: np.ndarray, vis: np.ndarray) -> np.ndarray:
    seen = joints[vis > 0]
    return np.concatenate([seen.min(0), seen.max(0)]) if len(seen) else np.zeros(4)


#: An off-the-shelf 2D estimator: RGB image [H, W, 3] uint8 -> (COCO-17 keypoints [P, 17, 2], scores [P, 17]).
Estimator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def rtmlib_estimator(det_onnx: str | Path, pose_onnx: str | Path, device: str = "cpu") -> Estimator:
    """An rtmlib YOLOX + RTMPose pipeline from *local* ONNX files (nothing is downloaded).

    Needs ``pip install rtmlib onnxruntime``. Any callable with the :data:`Estimator` signature
    (an mmpose or a custom model) can be used instead.
    """
    for p in (det_onnx, pose_onnx):
        if not Path(p).is_file():
            raise FileNotFoundError(f"{p}: ONNX model not found (rtmlib models must be given as local files)")
    from rtmlib import YOLOX, RTMPose  # optional dependency, imported on use

    det = YOLOX(str(det_onnx), backend="onnxruntime", device=device)
    pose = RTMPose(str(pose_onnx), backend="onnxruntime", device=device)

    def run(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        boxes = det(image[..., ::-1])  # rtmlib takes BGR
        if len(boxes) == 0:
            return np.zeros((0, 17, 2)), np.zeros((0, 17))
        kpts, scores = pose(image[..., ::-1], bboxes=boxes)
        return np.asarray(kpts, float), np.asarray(scores, float)

    return run


def pseudo_label_image(
    estimator: Estimator, image: np.ndarray, key: str, image_name: str, camera: str, min_score: float = 0.3
) -> PseudoRecord:
    """Run ``estimator`` on one image and turn COCO-17 keypoints into a Panoptic-15 record.

    Keypoints scoring below ``min_score`` are marked missing; the person score is the mean keypoint score.
    """
    kpts, scores = estimator(image)
    kpts, scores = np.asarray(kpts, float).reshape(-1, len(COCO17), 2), np.asarray(scores, float).reshape(-1, 17)
    vis17 = np.where(scores >= min_score, scores, 0.0)
    joints, vis = coco17_to_panoptic15(kpts, vis17)
    boxes = np.asarray([_box(j, v) for j, v in zip(joints, vis, strict=True)]).reshape(-1, 4)
    return PseudoRecord(
        key,
        image_name,
        camera,
        image.shape[1],
        image.shape[0],
        joints,
        vis,
        boxes,
        scores.mean(-1) if len(scores) else np.zeros(0),
    )


def attach_pseudo(view: ViewSample, rec: PseudoRecord) -> None:
    """Put a record's poses on ``view``, rescaled when the record refers to another image size."""
    sx = view.width / rec.width if rec.width else 1.0
    sy = view.height / rec.height if rec.height else 1.0
    view.joints_2d = rec.joints_2d * np.array([sx, sy])
    view.joints_2d_vis = rec.joints_2d_vis
    view.scores = rec.scores
