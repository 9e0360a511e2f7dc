"""Rigid transforms as 4x4 homogeneous matrices (numpy, float64)."""

from __future__ import annotations

import numpy as np


def as_pose(matrix: object, source: str = "pose") -> np.ndarray:
    """A 4x4 pose from a nested list / flat list of 16 / array; ValueError naming `source` otherwise."""
    arr = np.asarray(matrix, dtype=np.float64)
    if arr.size != 16:
        raise ValueError(f"{source}: expected a 4x4 matrix (16 numbers), got shape {arr.shape}")
    arr = arr.reshape(4, 4)
    if not np.all(np.isfinite(arr)) or not np.allclose(arr[3], [0, 0, 0, 1]):
        raise ValueError(f"{source}: not a homogeneous transform (last row {arr[3].tolist()})")
    if not np.allclose(arr[:3, :3] @ arr[:3, :3].T, np.eye(3), atol=1e-3):
        raise ValueError(f"{source}: rotation block is not orthonormal")
    return arr


def invert_pose(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid transform `[4, 4]`."""
    out = np.eye(4)
    out[:3, :3] = T[:3, :3].T
    out[:3, 3] = -T[:3, :3].T @ T[:3, 3]
    return out


def transform_points(points: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Apply `T [4, 4]` to points `[N, 3]` → `[N, 3]`."""
    return points @ T[:3, :3].T + T[:3, 3]


def relative_pose(src_to_global: np.ndarray, dst_to_global: np.ndarray) -> np.ndarray:
    """Transform `[4, 4]` taking coordinates in frame `src` to frame `dst` (both given as frame→global)."""
    return invert_pose(dst_to_global) @ src_to_global
