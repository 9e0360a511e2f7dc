"""Global navigation function: geodesic distance to the goal around the static obstacles.

A local planner that scores progress by straight-line distance stops in front of an obstacle whose far side
is the goal (DWA's timeouts in the default scenario are such local minima). Scoring by the geodesic distance
instead removes them. The static obstacles and the arena walls are all in the observation
(``obstacle_vertices``), so the field is built from it once per episode, in the world frame, on a grid:
cells inside an obstacle inflated by the robot radius, or beyond a wall, are blocked, and the distance from
the goal is solved by fast marching (scikit-fmm), which has none of the 8-neighbour metrication error of grid
Dijkstra.

The same grid also stores each cell's clearance: its distance to the nearest obstacle edge or wall (0 inside an
obstacle or beyond a wall). Planners that roll out many candidate paths look static clearance up there instead
of measuring every path point against every lidar hit.
"""

from __future__ import annotations

import numpy as np
import skfmm
from matplotlib.path import Path
from scipy.ndimage import map_coordinates

BLOCKED = 1e3
"""field value (m) inside blocked cells: far worse than any reachable distance"""


class NavigationField:
    """Per-environment geodesic distance-to-goal grids over the square arena ``[-half, half]²``.

    Args:
        n: number of environments.
        half: arena half size (m).
        inflate: robot radius (m); blocked cells are within it of an obstacle or a wall.
        resolution: grid spacing (m).
    """

    def __init__(self, n: int, half: float, inflate: float, resolution: float = 0.1) -> None:
        self.half, self.inflate, self.res = half, inflate, resolution
        self.size = int(np.ceil(2 * half / resolution)) + 1
        axis = -half + np.arange(self.size) * resolution
        self.gx, self.gy = np.meshgrid(axis, axis, indexing="ij")  # [S, S]
        self.field = np.full((n, self.size, self.size), BLOCKED)
        self.clearance = np.zeros((n, self.size, self.size))

    def rebuild(self, i: int, polygons: np.ndarray, goal: np.ndarray) -> None:
        """Solve env ``i``'s field and clearance for world-frame obstacle corners ``[O, 4, 2]`` and goal ``[2]``."""
        pts = np.stack([self.gx.ravel(), self.gy.ravel()], axis=-1)
        clear = self.half - np.abs(pts).max(axis=1)  # to the walls
        for poly in polygons:
            inside = Path(poly).contains_points(pts, radius=0.0)
            clear = np.minimum(clear, np.where(inside, 0.0, _segments_distance(pts, poly)))
        self.clearance[i] = np.maximum(clear, 0.0).reshape(self.size, self.size)
        blocked = self.clearance[i] < self.inflate
        euclid = np.hypot(self.gx - goal[0], self.gy - goal[1])
        goal_cell = euclid <= self.res  # zero contour one cell around the goal, always reachable
        blocked &= ~goal_cell
        dist = skfmm.distance(np.ma.MaskedArray(euclid - self.res, blocked), dx=self.res) + self.res
        self.field[i] = np.ma.filled(dist, BLOCKED)
        self.field[i][goal_cell] = euclid[goal_cell]
        unreachable = np.ma.getmaskarray(dist) & ~blocked
        self.field[i][unreachable] = BLOCKED  # cells fast marching could not reach (enclosed pockets)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        """Geodesic distance at world points ``[N, ..., 2]`` (bilinear; ``BLOCKED`` outside the grid) → ``[N, ...]``."""
        return self._sample(self.field, points, BLOCKED)

    def clearance_at(self, points: np.ndarray) -> np.ndarray:
        """Distance to the nearest obstacle or wall at world points ``[N, ..., 2]`` (bilinear; 0 outside the
        grid) → ``[N, ...]``."""
        return self._sample(self.clearance, points, 0.0)

    def _sample(self, grids: np.ndarray, points: np.ndarray, outside: float) -> np.ndarray:
        n = points.shape[0]
        flat = points.reshape(n, -1, 2)
        out = np.empty(flat.shape[:2])
        for i in range(n):
            coords = (flat[i] + self.half).T / self.res  # [2, P] fractional indices
            out[i] = map_coordinates(grids[i], coords, order=1, mode="constant", cval=outside)
        return out.reshape(points.shape[:-1])


def _segments_distance(pts: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Distance of points ``[P, 2]`` to the edges of a closed polygon ``[V, 2]`` → ``[P]``."""
    a, b = poly, np.roll(poly, -1, axis=0)  # [V, 2]
    ab = b - a
    t = np.clip(((pts[:, None] - a[None]) * ab[None]).sum(-1) / np.maximum((ab ** 2).sum(-1), 1e-12), 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]  # [P, V, 2]
    return np.linalg.norm(pts[:, None] - closest, axis=-1).min(axis=1)
