"""Shelf and Campus in VoxelPose's layout, with 2D detections read through a restricted unpickler.

Layout: ``calibration_{shelf|campus}.json`` (``{"0": {R, T (camera centre, mm), fx, fy, cx, cy, k, p}}``),
``actorsGT.mat`` (``actor3D``: per actor, per frame a 14 x 3 pose in metres or an empty cell),
``pred_{shelf|campus}_maskrcnn_hrnet_coco.pkl`` (``{"<cam>_<frame>": [{"pred": 17 x (x, y, score)}]}``)
and images ``Camera<k>/img_<frame:06d>.png`` (Shelf) or ``Camera<k>/campus4-c<k>-<frame:05d>.png`` (Campus).
The detections (COCO-17) become Panoptic-15 2D poses, the model's joint set; ground truth stays in
Shelf-14 order for PCP.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.io

from perception.geometry.camera import Camera
from pose3d.multiview.datasets.safe_pickle import load_plain_pickle
from pose3d.multiview.datasets.sample import FrameSample, ViewSample
from pose3d.skeleton import coco17_to_panoptic15

SETTINGS = {
    "shelf": {
        "cameras": 5,
        "size": (1032, 776),
        "frames": tuple(range(300, 601)),
        "image": "Camera{cam}/img_{frame:06d}.png",
    },
    "campus": {
        "cameras": 3,
        "size": (360, 288),
        "frames": tuple(range(350, 471)) + tuple(range(650, 751)),
        "image": "Camera{cam}/campus4-c{cam}-{frame:05d}.png",
    },
}


def read_voxelpose_calibration(path: Path, width: int, height: int) -> list[Camera]:
    """``calibration_<name>.json`` -> cameras ordered by their integer id."""
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: calibration file not found") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not doc:
        raise ValueError(f"{path}: expected an object of cameras keyed by id")
    try:
        ids = sorted(doc, key=int)
    except ValueError:
        raise ValueError(f"{path}: camera ids must be integers, got {sorted(doc)}") from None
    return [Camera.from_voxelpose(doc[i], name=str(i), width=width, height=height) for i in ids]


def read_actors_gt(path: Path) -> list[list[np.ndarray | None]]:
    """``actorsGT.mat`` -> per actor, per frame a [14, 3] pose in mm (None when absent)."""
    try:
        mat = scipy.io.loadmat(str(path))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: ground-truth file not found") from None
    except (ValueError, TypeError, OSError) as exc:
        raise ValueError(f"{path}: not a readable MATLAB file ({exc})") from None
    if "actor3D" not in mat:
        raise ValueError(f"{path}: no 'actor3D' variable")
    cells = mat["actor3D"]
    while isinstance(cells, np.ndarray) and cells.dtype == object and cells.size == 1:
        cells = cells.item()
    if not (isinstance(cells, np.ndarray) and cells.dtype == object):
        raise ValueError(f"{path}: 'actor3D' is not a cell array of actors")
    if all(isinstance(c, np.ndarray) and c.dtype == object for c in cells.flat):
        per_actor = [np.asarray(c).reshape(-1) for c in cells.flat]
    else:  # a 2D cell array [actors, frames]
        per_actor = [row for row in cells.reshape(cells.shape[0], -1)]
    actors = []
    for a, frames in enumerate(per_actor):
        poses: list[np.ndarray | None] = []
        for f, pose in enumerate(frames):
            pose = np.asarray(pose, dtype=np.float64)
            if pose.size == 0:
                poses.append(None)
            elif pose.shape != (14, 3):
                raise ValueError(f"{path}: actor {a} frame {f} has shape {pose.shape}, expected (14, 3)")
            else:
                poses.append(pose * 1000.0)
        actors.append(poses)
    return actors


def read_detections(path: Path) -> dict[str, list[np.ndarray]]:
    """The 2D detection pickle -> ``{"<cam>_<frame>": [[17, 3] (x, y, score)]}``."""
    data = load_plain_pickle(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a dict keyed by '<cam>_<frame>', got {type(data).__name__}")
    out = {}
    for key, people in data.items():
        poses = []
        for i, p in enumerate(people):
            pred = np.asarray(p["pred"] if isinstance(p, dict) else p, dtype=np.float64)
            if pred.shape != (17, 3):
                raise ValueError(f"{path}: {key} person {i} has shape {pred.shape}, expected (17, 3)")
            poses.append(pred)
        out[str(key)] = poses
    return out


class ShelfCampusDataset(Sequence[FrameSample]):
    """Shelf or Campus frames with detections as 2D poses and Shelf-14 ground truth per actor.

    Args:
        root: dataset folder. name: ``"shelf"`` or ``"campus"``.
        frames: frame indices to use (VoxelPose's test ranges by default).
        detections: the 2D detection pickle (default ``pred_<name>_maskrcnn_hrnet_coco.pkl``).
    Attributes:
        actors: per frame, per actor a [14, 3] pose (mm) or None; what :func:`pcp_shelf14` wants.
    """

    def __init__(
        self,
        root: str | Path,
        name: str = "shelf",
        frames: Sequence[int] | None = None,
        detections: str | Path | None = None,
    ) -> None:
        if name not in SETTINGS:
            raise ValueError(f"dataset name must be one of {sorted(SETTINGS)}, got {name!r}")
        cfg = SETTINGS[name]
        self.root = Path(root)
        width, height = cfg["size"]
        cams = read_voxelpose_calibration(self.root / f"calibration_{name}.json", width, height)
        gt = read_actors_gt(self.root / "actorsGT.mat")
        dets = read_detections(Path(detections) if detections else self.root / f"pred_{name}_maskrcnn_hrnet_coco.pkl")
        self.frames: list[FrameSample] = []
        self.actors: list[list[np.ndarray | None]] = []
        for f in frames if frames is not None else cfg["frames"]:
            views = []
            for c, cam in enumerate(cams):
                key = f"{cam.name}_{f}"
                if key not in dets:
                    raise ValueError(f"{self.root}: detections lack entry {key!r}")
                coco = np.asarray(dets[key]).reshape(-1, 17, 3)
                joints, vis = coco17_to_panoptic15(coco[..., :2], coco[..., 2])
                views.append(
                    ViewSample(
                        cam,
                        width,
                        height,
                        self.root / cfg["image"].format(cam=c, frame=f),
                        joints,
                        vis,
                        coco[..., 2].mean(-1),
                    )
                )
            actors = [a[f] if f < len(a) else None for a in gt]
            self.actors.append(actors)
            self.frames.append(FrameSample(f"{name}/{f:06d}", views, np.zeros((0, 15, 3)), np.zeros((0, 15))))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> FrameSample:  # type: ignore[override]
        return self.frames[i]
