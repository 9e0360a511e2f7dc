"""Geometric constraints for pseudo-labels: LiDAR points into voxels, ground height, free space by ray
casting, and camera projection of points."""

from __future__ import annotations

import numpy as np

from perception.geometry.camera import project_points, world_to_camera
from perception.occupancy.grid import VoxelGrid


def estimate_ground_z(points: np.ndarray, radius: float = 20.0) -> float:
    """Ground height (LiDAR frame) as the 5th percentile z of the points within `radius` m (`[N, >=3]`)."""
    near = points[np.hypot(points[:, 0], points[:, 1]) < radius]
    if len(near) < 10:
        raise ValueError(f"only {len(near)} LiDAR points within {radius} m: cannot estimate the ground")
    return float(np.percentile(near[:, 2], 5))


def free_space(points: np.ndarray, grid: VoxelGrid, step: float = 0.25, margin: float = 0.4) -> np.ndarray:
    """Voxels crossed by the LiDAR rays before their hits (origin at the LiDAR) → bool `[X, Y, Z]`."""
    free = np.zeros(grid.size, dtype=bool)
    dist = np.linalg.norm(points[:, :3], axis=1)
    dirs = points[:, :3] / np.maximum(dist, 1e-6)[:, None]
    for t in np.arange(step, dist.max(initial=0.0), step):
        active = dist - margin > t
        if not active.any():
            break
        idx, inside = grid.point_indices(dirs[active] * t)
        idx = idx[inside]
        free[idx[:, 0], idx[:, 1], idx[:, 2]] = True
    return free


def project_to_camera(points: np.ndarray, K: np.ndarray, cam2ego: np.ndarray, size: tuple[int, int]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixels `[N, 2]` (u, v) of points `[N, 3]` in an undistorted camera, and a visibility mask `[N]`."""
    R = cam2ego[:3, :3].T
    t = -R @ cam2ego[:3, 3]
    z = world_to_camera(points, R, t)[:, 2]
    uv = np.floor(project_points(points, K, np.zeros(5), R, t)).astype(np.int64)
    h, w = size
    ok = (z > 0.5) & (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    return uv, ok
