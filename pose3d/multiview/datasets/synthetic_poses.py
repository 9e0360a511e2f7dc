"""VoxelPose's Shelf/Campus training data: pool 3D poses placed at random in another rig's capture space.

VoxelPose trains its Shelf and Campus models without their images: 3D poses from Panoptic's training
sequences are rotated about the vertical, moved to random places in the target space and projected
into the target cameras; the input heatmaps are drawn from those projections, so at test time the
same model reads heatmaps drawn from the 2D detections. Here the pool is any Panoptic-format folder.

The neck and mid-hip follow the detector's convention (midpoints of the shoulders and of the hips,
see :func:`~pose3d.skeleton.coco17_to_panoptic15`), in 3D and in 2D, so the model learns the joints
that the detection heatmaps show.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from perception.geometry.camera import Camera
from pose3d.multiview.datasets.sample import FrameSample, ViewSample
from pose3d.skeleton import PANOPTIC15, ROOT

_NECK, _LSHO, _RSHO = PANOPTIC15.index("neck"), PANOPTIC15.index("l_shoulder"), PANOPTIC15.index("r_shoulder")
_LHIP, _RHIP = PANOPTIC15.index("l_hip"), PANOPTIC15.index("r_hip")


def detector_convention(joints: np.ndarray) -> np.ndarray:
    """[..., 15, D] Panoptic-15 joints with the neck and mid-hip replaced by shoulder and hip midpoints."""
    out = np.array(joints, dtype=np.float64)
    out[..., _NECK, :] = (out[..., _LSHO, :] + out[..., _RSHO, :]) / 2
    out[..., ROOT, :] = (out[..., _LHIP, :] + out[..., _RHIP, :]) / 2
    return out


def pose_pool(frames: Sequence[FrameSample]) -> np.ndarray:
    """Every fully visible ground-truth person of ``frames``: [N, 15, 3] mm, root moved to x = y = 0."""
    poses = [p for f in frames for p, v in zip(f.joints_3d, f.joints_3d_vis, strict=True) if (v > 0).all()]
    if not poses:
        raise ValueError("pose pool: the frames hold no fully visible 3D person")
    pool = detector_convention(np.stack(poses))
    pool[..., :2] -= pool[:, ROOT : ROOT + 1, :2]
    return pool


class SyntheticPoseDataset(Sequence[FrameSample]):
    """``num_frames`` frames of 1..``max_people`` pool poses placed in a rig's capture space.

    Args:
        cameras: the target rig (calibrated in its images' pixels; ``width``/``height`` set).
        pool: [N, 15, 3] poses from :func:`pose_pool`.
        space_center, space_size: capture space (mm); roots are drawn in its central ``1 - 2 * margin``,
            or in ``area`` when given.
        area: ((x min, x max), (y min, y max)) floor region of the roots (mm), e.g. where the target
            room's people stand (VoxelPose's Shelf: 3.0 x 3.2 m); None: the central part of the space.
        near_prob: probability that a person (after the first) is placed next to one already placed,
            offset by N(500, 50) mm along x and along y with random signs (VoxelPose: 0.3), so the
            training frames hold people as close as the test rooms' do.
        min_distance: roots of one frame are at least this far apart (mm).
        noise_px: std of the pixel noise added to the 2D poses.
        min_views: a person is kept only when its root projects into at least this many images.
        min_score: 2D joints get detector-like confidences uniform in [min_score, 1] (heatmap peaks).
        miss_rate: probability that a person is missing from a view (an undetected person).
    A joint projecting outside an image is missing (visibility 0) in that view.
    """

    def __init__(
        self,
        cameras: Sequence[Camera],
        pool: np.ndarray,
        num_frames: int,
        max_people: int,
        space_center: Sequence[float],
        space_size: Sequence[float],
        seed: int = 0,
        margin: float = 0.15,
        area: Sequence[Sequence[float]] | None = None,
        near_prob: float = 0.0,
        min_distance: float = 700.0,
        noise_px: float = 2.0,
        min_views: int = 2,
        min_score: float = 0.5,
        miss_rate: float = 0.05,
    ) -> None:
        if any(c.width <= 0 or c.height <= 0 for c in cameras):
            raise ValueError("synthetic poses: every camera needs its image width and height")
        if max_people < 1 or num_frames < 1:
            raise ValueError(f"synthetic poses: need frames >= 1 and people >= 1, got {num_frames}, {max_people}")
        rng = np.random.default_rng(seed)
        center, size = np.asarray(space_center, float), np.asarray(space_size, float)
        lo, hi = center[:2] - size[:2] * (0.5 - margin), center[:2] + size[:2] * (0.5 - margin)
        if area is not None:
            region = np.asarray(area, float)
            if region.shape != (2, 2) or (region[:, 1] <= region[:, 0]).any():
                raise ValueError(f"synthetic poses: area must be ((x min, x max), (y min, y max)), got {area}")
            lo, hi = region[:, 0], region[:, 1]
        if not 0.0 <= near_prob <= 1.0:
            raise ValueError(f"synthetic poses: near_prob must be in [0, 1], got {near_prob}")
        self.frames: list[FrameSample] = []
        for f in range(num_frames):
            people: list[np.ndarray] = []
            count = int(rng.integers(1, max_people + 1))
            for _ in range(100 * count):  # rejection sampling of separated, visible people
                if len(people) == count:
                    break
                yaw = rng.uniform(-np.pi, np.pi)
                rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1.0]])
                pose = pool[rng.integers(len(pool))] @ rot.T
                if near_prob > 0 and people and rng.random() < near_prob:
                    anchor = people[int(rng.integers(len(people)))][ROOT, :2]
                    xy = anchor + rng.normal(500.0, 50.0, 2) * rng.choice([-1.0, 1.0], 2)
                else:
                    xy = rng.uniform(lo, hi)
                pose[:, :2] += xy
                if any(np.linalg.norm(pose[ROOT, :2] - p[ROOT, :2]) < min_distance for p in people):
                    continue
                if sum(_inside(c, pose[ROOT : ROOT + 1])[0] for c in cameras) < min_views:
                    continue
                people.append(pose)
            joints_3d = np.stack(people) if people else np.zeros((0, 15, 3))
            views = []
            for c in cameras:
                uv = c.project(joints_3d) + rng.normal(0, noise_px, (*joints_3d.shape[:2], 2))
                vis = np.stack([_inside(c, p) for p in joints_3d]).astype(float) if people else np.zeros((0, 15))
                vis *= rng.uniform(min_score, 1.0, vis.shape) * (rng.random((len(vis), 1)) >= miss_rate)
                views.append(ViewSample(c, c.width, c.height, None, uv * (vis > 0)[..., None], vis, vis.mean(-1)))
            self.frames.append(FrameSample(f"synthetic/{f:06d}", views, joints_3d, np.ones(joints_3d.shape[:2])))

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> FrameSample:  # type: ignore[override]
        return self.frames[i]


def _inside(camera: Camera, points: np.ndarray) -> np.ndarray:
    """[P, 3] world points -> [P] bool: in front of the camera and inside its image."""
    depth = camera.to_camera(points)[:, 2]
    uv = camera.project(points)
    return (depth > 1.0) & (uv[:, 0] >= 0) & (uv[:, 0] < camera.width) & (uv[:, 1] >= 0) & (uv[:, 1] < camera.height)
