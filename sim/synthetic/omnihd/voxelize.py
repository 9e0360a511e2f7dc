"""Occupancy ground truth by voxelising the world in the LiDAR frame of a keyframe."""

from __future__ import annotations

import numpy as np

from sim.synthetic.omnihd.format import IGNORE, OCC_RANGE, OCC_SIZE
from sim.synthetic.omnihd.world import ground_class

SAMPLE_SPACING = 0.3


def _box_samples(box: np.ndarray) -> np.ndarray:
    """Points `[P, 3]` filling one oriented box `[7]` on a grid finer than the voxels (global frame)."""
    axes = [np.linspace(-s / 2, s / 2, max(2, int(np.ceil(s / SAMPLE_SPACING)) + 1)) for s in box[3:6]]
    local = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    c, s = np.cos(box[6]), np.sin(box[6])
    rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return local @ rot.T + box[:3]


def voxelize(ego2global: np.ndarray, boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Dense labels `[240, 160, 16]` uint8 for the keyframe with pose `ego2global [4, 4]`.

    Ground surface voxels take the ground class (road / sidewalk / plaza), voxels below the ground are
    `IGNORE` (never observable), boxes `[M, 7]` overwrite with their `classes [M]`, the rest is free (0).
    """
    lo, hi = np.array(OCC_RANGE[:3]), np.array(OCC_RANGE[3:])
    size = np.array(OCC_SIZE)
    vox = (hi - lo) / size
    occ = np.zeros(OCC_SIZE, dtype=np.uint8)
    ground_z = -ego2global[2, 3]  # the ego frame is level, the ground is global z = 0
    iz_ground = int(np.floor((ground_z - lo[2]) / vox[2]))
    ix, iy = np.meshgrid(np.arange(size[0]), np.arange(size[1]), indexing="ij")
    centers = np.stack([lo[0] + (ix + 0.5) * vox[0], lo[1] + (iy + 0.5) * vox[1], np.zeros(ix.shape)], -1)
    glob = centers.reshape(-1, 3) @ ego2global[:3, :3].T + ego2global[:3, 3]
    if 0 <= iz_ground < size[2]:
        occ[:, :, iz_ground] = ground_class(glob[:, :2]).reshape(size[0], size[1])
    occ[:, :, : max(iz_ground, 0)] = IGNORE
    g2e = np.linalg.inv(ego2global)
    reach = np.linalg.norm(hi[:2] - lo[:2]) / 2 + 10
    near = np.linalg.norm(boxes[:, :2] - ego2global[:2, 3], axis=1) < reach
    for box, cls in zip(boxes[near], classes[near], strict=True):
        pts = _box_samples(box) @ g2e[:3, :3].T + g2e[:3, 3]
        idx = np.floor((pts - lo) / vox).astype(np.int64)
        ok = np.all((idx >= 0) & (idx < size), axis=1)
        idx = idx[ok]
        occ[idx[:, 0], idx[:, 1], idx[:, 2]] = cls
    return occ


def dense_to_sparse(occ: np.ndarray) -> np.ndarray:
    """Dense labels `[X, Y, Z]` → sparse `[N, 4]` uint8 rows (ix, iy, iz, class) of the non-free voxels."""
    ijk = np.argwhere(occ != 0)
    return np.concatenate([ijk, occ[tuple(ijk.T)][:, None]], axis=1).astype(np.uint8)
