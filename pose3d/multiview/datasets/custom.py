"""Your own camera rig: calibration plus per-image 2D pseudo poses is all self-supervised training needs.

This answers SelfPose3d issue #6 ("how to apply this framework to a new dataset") with two files:

1. ``calibration.json``: ``{"cameras": [{"name", "K" 3x3, "dist" [k1, k2, p1, p2, k3], "R" 3x3, "t" [3],
   "width", "height"}]}`` with ``x_cam = R @ X + t`` in millimetres, world z pointing up
   (:meth:`perception.geometry.camera.Camera.to_dict` writes exactly this).
2. a ``pernav-pseudo2d`` file (:mod:`pose3d.multiview.pseudo_labels`) with one record per image; the
   records of one time instant have the same key once the camera name is removed from it
   (``"0042"`` or ``"take1/cam2/0042"`` both work), and ``camera`` names a calibration entry.

Then set the capture space (``space_center``, ``space_size``) and the synthetic-root range in the
config to cover where people walk. Example::

    ds = CustomRigDataset("rig/calibration.json", "rig/pseudo_2d.json", image_root="rig")
    sample = ds[0]  # FrameSample with one ViewSample per calibrated camera
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from perception.geometry.camera import Camera
from pose3d.multiview.datasets.sample import FrameSample, ViewSample
from pose3d.multiview.pseudo_labels import PseudoRecord, attach_pseudo, read_pseudo_labels


def read_rig_calibration(path: str | Path) -> list[Camera]:
    """``{"cameras": [Camera.to_dict(), ...]}`` -> cameras (names must be unique)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
        cams = [Camera.from_dict(c) for c in doc["cameras"]]
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: calibration file not found") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: bad rig calibration ({type(exc).__name__}: {exc})") from None
    names = [c.name for c in cams]
    if len(set(names)) != len(names) or "" in names:
        raise ValueError(f"{path}: camera names must be unique and non-empty, got {names}")
    return cams


def instant_of(rec: PseudoRecord) -> str:
    """The time-instant id of a record: its key without the camera-name segment."""
    return "/".join(part for part in rec.key.split("/") if part != rec.camera)


class CustomRigDataset(Sequence[FrameSample]):
    """Frames of a calibrated rig built from pseudo-pose records (no 3D ground truth needed).

    Args:
        calibration: rig calibration JSON (see module docstring).
        pseudo_2d: ``pernav-pseudo2d`` file.
        image_root: folder the records' ``image`` paths are relative to (None: no images, detections mode).
        min_views: drop instants seen by fewer cameras.
    """

    def __init__(
        self, calibration: str | Path, pseudo_2d: str | Path, image_root: str | Path | None = None, min_views: int = 2
    ) -> None:
        cams = read_rig_calibration(calibration)
        by_name = {c.name: c for c in cams}
        groups: dict[str, dict[str, PseudoRecord]] = {}
        for rec in read_pseudo_labels(pseudo_2d):
            if rec.camera not in by_name:
                raise ValueError(
                    f"{pseudo_2d}: record {rec.key!r} names camera {rec.camera!r}, "
                    f"not in {calibration} ({sorted(by_name)})"
                )
            groups.setdefault(instant_of(rec), {})[rec.camera] = rec
        self.frames: list[FrameSample] = []
        for key in sorted(groups):
            recs = groups[key]
            if len(recs) < min_views:
                continue
            views = []
            for cam in cams:
                view = ViewSample(cam, cam.width, cam.height)
                if cam.name in recs:
                    attach_pseudo(view, recs[cam.name])
                    if image_root is not None:
                        view.image_path = Path(image_root) / recs[cam.name].image
                views.append(view)
            self.frames.append(FrameSample(key, views))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> FrameSample:  # type: ignore[override]
        return self.frames[i]
