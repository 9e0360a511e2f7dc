"""The dataset-independent multi-view frame record every loader produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perception.geometry.camera import Camera


@dataclass
class ViewSample:
    """One camera's view of a frame.

    Attributes:
        camera: calibration in the *original* image's pixels (``width`` x ``height``).
        width, height: original image size the calibration and 2D poses refer to.
        image_path: the image file (any resolution; it is resized to the model input), or None.
        joints_2d: [P, J, 2] 2D poses (pseudo labels or detections) in original pixels.
        joints_2d_vis: [P, J] per-joint confidence (0 = missing).
        scores: [P] per-person confidence.
    """

    camera: Camera
    width: int
    height: int
    image_path: Path | None = None
    joints_2d: np.ndarray = field(default_factory=lambda: np.zeros((0, 15, 2)))
    joints_2d_vis: np.ndarray = field(default_factory=lambda: np.zeros((0, 15)))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class FrameSample:
    """All views of one time instant, with optional 3D ground truth.

    Attributes:
        key: unique id, e.g. ``"<seq>/<frame:08d>"``.
        views: one :class:`ViewSample` per camera (same camera order for every frame of a dataset).
        joints_3d: [G, J, 3] ground-truth joints in mm (G = 0 when there is none).
        joints_3d_vis: [G, J] visibility.
    """

    key: str
    views: list[ViewSample]
    joints_3d: np.ndarray = field(default_factory=lambda: np.zeros((0, 15, 3)))
    joints_3d_vis: np.ndarray = field(default_factory=lambda: np.zeros((0, 15)))
