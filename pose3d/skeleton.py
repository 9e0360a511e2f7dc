"""Skeletons: CMU Panoptic (first 15 of coco19), COCO-17, Shelf/Campus-14, and conversions."""

from __future__ import annotations

import numpy as np

#: The first 15 joints of Panoptic's ``joints19`` (what SelfPose3d and VoxelPose keep), in order.
PANOPTIC15 = (
    "neck",
    "nose",
    "mid_hip",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "l_hip",
    "l_knee",
    "l_ankle",
    "r_shoulder",
    "r_elbow",
    "r_wrist",
    "r_hip",
    "r_knee",
    "r_ankle",
)
#: Index of the root joint (mid-hip, Panoptic "BodyCenter").
ROOT = 2
#: Left/right permutation for horizontal flips.
PANOPTIC15_FLIP = (0, 1, 2, 9, 10, 11, 12, 13, 14, 3, 4, 5, 6, 7, 8)
#: Bones drawn in pictures (pairs of Panoptic-15 indices).
PANOPTIC15_LIMBS = (
    (0, 1),
    (0, 2),
    (0, 3),
    (3, 4),
    (4, 5),
    (0, 9),
    (9, 10),
    (10, 11),
    (2, 6),
    (6, 7),
    (7, 8),
    (2, 12),
    (12, 13),
    (13, 14),
)

COCO17 = (
    "nose",
    "l_eye",
    "r_eye",
    "l_ear",
    "r_ear",
    "l_shoulder",
    "r_shoulder",
    "l_elbow",
    "r_elbow",
    "l_wrist",
    "r_wrist",
    "l_hip",
    "r_hip",
    "l_knee",
    "r_knee",
    "l_ankle",
    "r_ankle",
)

#: Shelf / Campus ``actorsGT.mat`` joint order.
SHELF14 = (
    "r_ankle",
    "r_knee",
    "r_hip",
    "l_hip",
    "l_knee",
    "l_ankle",
    "r_wrist",
    "r_elbow",
    "r_shoulder",
    "l_shoulder",
    "l_elbow",
    "l_wrist",
    "bottom_head",
    "top_head",
)
#: Limbs scored by PCP on Shelf/Campus (the torso limb, hip centre to bottom head, is added by the metric).
SHELF14_PCP_LIMBS = ((0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (9, 10), (10, 11), (12, 13))

_P = {name: i for i, name in enumerate(PANOPTIC15)}
_C = {name: i for i, name in enumerate(COCO17)}


def coco17_to_panoptic15(joints: np.ndarray, vis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 keypoints -> Panoptic-15 as SelfPose3d's pseudo-label step does it.

    Neck = midpoint of the shoulders, mid-hip = midpoint of the hips; when only one side is seen that
    side is used. Eyes and ears are dropped.

    Args:
        joints: [..., 17, D] keypoints (D = 2 or 3).
        vis: [..., 17] visibility or confidence (> 0 means seen).
    Returns:
        ([..., 15, D] joints, [..., 15] visibility) with unseen joints at zero.
    """
    joints = np.asarray(joints, dtype=np.float64)
    vis = np.asarray(vis, dtype=np.float64)
    if joints.shape[-2] != 17 or vis.shape[-1] != 17:
        raise ValueError(f"expected 17 COCO keypoints, got joints {joints.shape} and vis {vis.shape}")
    out = np.zeros((*joints.shape[:-2], 15, joints.shape[-1]))
    out_vis = np.zeros((*joints.shape[:-2], 15))
    for name, j in _P.items():
        if name in _C:
            out[..., j, :] = joints[..., _C[name], :]
            out_vis[..., j] = vis[..., _C[name]]
    for name, (a, b) in (("neck", ("l_shoulder", "r_shoulder")), ("mid_hip", ("l_hip", "r_hip"))):
        va, vb = vis[..., _C[a]] > 0, vis[..., _C[b]] > 0
        seen = np.maximum(va.astype(float) + vb.astype(float), 1.0)
        wa, wb = (va / seen)[..., None], (vb / seen)[..., None]
        out[..., _P[name], :] = wa * joints[..., _C[a], :] + wb * joints[..., _C[b], :]
        out_vis[..., _P[name]] = np.where(va | vb, np.maximum(vis[..., _C[a]] * va, vis[..., _C[b]] * vb), 0.0)
    out[out_vis <= 0] = 0.0
    return out, out_vis


def panoptic15_to_shelf14(joints: np.ndarray) -> np.ndarray:
    """Panoptic-15 3D joints [..., 15, 3] -> Shelf/Campus-14 [..., 14, 3], as VoxelPose's ``coco2shelf3D``.

    Limbs map one to one. The head comes from the shoulders and the nose (the neck joint is not used:
    a detector's "neck" is the shoulder midpoint, Panoptic's sits higher): with ``neck`` the shoulder
    midpoint, the bottom of the head is halfway from ``neck`` to the nose, and the top of the head is
    ``neck + (nose - neck) * (0.75, 0.75, 1.5)``.
    """
    joints = np.asarray(joints, dtype=np.float64)
    out = np.zeros((*joints.shape[:-2], 14, 3))
    for i, name in enumerate(SHELF14[:12]):
        out[..., i, :] = joints[..., _P[name], :]
    neck = (joints[..., _P["l_shoulder"], :] + joints[..., _P["r_shoulder"], :]) / 2
    to_nose = joints[..., _P["nose"], :] - neck
    out[..., 12, :] = neck + 0.5 * to_nose
    out[..., 13, :] = neck + np.array([0.75, 0.75, 1.5]) * to_nose
    return out
