"""Dynamic window approach (Fox et al. 1997) for the unicycle robot.

Candidates are the commands reachable this step (the 9 increments around the current command, or a grid
of the same window for continuous actions). Each is rolled out at constant (v, ω) over ``horizon`` seconds;
humans move at their observed velocity; static geometry is the lidar hit points. A candidate whose arc
comes closer than the robot radius to anything is discarded; the rest are scored by progress to the goal,
clearance and speed. A candidate is admissible only if it can still stop before its closest point
(clearance > v² / 2a, with a the deceleration one increment per step allows). If none is admissible, the one
with the largest clearance is taken.

:class:`PlanningDWAPolicy` (``dwa_plan``) scores progress along a global navigation function (geodesic distance
to the goal around the observed static obstacles, :mod:`navigation.baselines.navigation_function`) instead of
the straight-line distance, so obstacles between the robot and its goal are no longer local minima.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from navigation.baselines.common import CommandTracker, RobotLimits, Scene, decode
from navigation.baselines.navigation_function import NavigationField
from sim.crowd.spaces import DELTA_V, DELTA_W


@dataclass(frozen=True)
class DWAParams:
    horizon: float = 2.0
    """rollout length (s)"""
    goal_weight: float = 1.0
    clearance_weight: float = 0.4
    speed_weight: float = 0.1
    clearance_cap: float = 1.0
    """clearance beyond this (m) scores no better"""
    global_plan: bool = False
    """progress along the geodesic distance to the goal instead of the straight line"""


class DWAPolicy:
    """DWA over the env's reachable commands."""

    name = "dwa"

    def __init__(self, limits: RobotLimits, params: DWAParams | None = None) -> None:
        if limits.holonomic:
            raise ValueError("DWA: only the unicycle robot is supported (env override holonomic=True given)")
        self.lim, self.p = limits, params or DWAParams()
        dv, dw = np.array(DELTA_V), np.array(DELTA_W)
        if limits.continuous:  # same window, finer grid
            dv, dw = np.linspace(dv.min(), dv.max(), 5), np.linspace(dw.min(), dw.max(), 5)
        self.deltas = np.stack(np.meshgrid(dv, dw, indexing="ij"), axis=-1).reshape(-1, 2)

    def reset(self, n: int) -> None:
        self.tracker = CommandTracker(self.lim, n)
        if self.p.global_plan:
            self.field = NavigationField(n, self.lim.arena_half_size, self.lim.radius)

    def act(self, obs: dict[str, np.ndarray], first: np.ndarray) -> np.ndarray:
        """obs with leading ``[N]``, first ``[N]`` bool (episode starts) → actions ``[N]`` or ``[N, 2]``."""
        self.tracker.reset(first)
        lim, p = self.lim, self.p
        sc = decode(obs, lim.lidar_range)
        cand = self.tracker.clip(self.tracker.cmd[:, None] + self.deltas[None])  # [N, C, 2]
        k = int(round(p.horizon / lim.dt))
        t = np.arange(1, k + 1) * lim.dt  # [K]
        v, w = cand[..., 0:1], cand[..., 1:2]  # [N, C, 1]
        theta = w * t
        safe_w = np.where(np.abs(w) > 1e-6, w, 1.0)
        x = np.where(np.abs(w) > 1e-6, v / safe_w * np.sin(theta), v * t)
        y = np.where(np.abs(w) > 1e-6, v / safe_w * (1 - np.cos(theta)), 0.0)
        traj = np.stack([x, y], axis=-1)  # [N, C, K, 2]
        # clearance to lidar points (static) and to humans moving at constant velocity
        d_static = np.linalg.norm(traj[:, :, :, None] - sc.lidar_points[:, None, None], axis=-1)  # [N,C,K,R]
        d_static = np.where(sc.lidar_hit[:, None, None], d_static, np.inf).min(axis=(2, 3)) - lim.radius
        hum = sc.human_pos[:, None] + sc.human_vel[:, None] * t[None, :, None, None]  # [N, K, H, 2]
        d_h = np.linalg.norm(traj[:, :, :, None] - hum[:, None], axis=-1)  # [N, C, K, H]
        d_h = np.where(sc.human_mask[:, None, None], d_h, np.inf).min(axis=(2, 3)) - lim.radius - lim.human_radius
        clearance = np.minimum(d_static, d_h)  # [N, C]
        if p.global_plan:
            progress = self._geodesic_progress(obs, sc, first, traj[:, :, -1])
        else:
            end_to_goal = np.linalg.norm(traj[:, :, -1] - sc.goal[:, None], axis=-1)
            progress = np.linalg.norm(sc.goal, axis=-1)[:, None] - end_to_goal
        score = (p.goal_weight * progress + p.clearance_weight * np.minimum(clearance, p.clearance_cap)
                 + p.speed_weight * v[..., 0])
        decel = float(np.max(np.abs(DELTA_V))) / lim.dt
        score = np.where(clearance > v[..., 0] ** 2 / (2 * decel), score, -np.inf)
        best = np.where(np.isfinite(score).any(1), score.argmax(1), clearance.argmax(1))
        return self.tracker.action(cand[np.arange(len(best)), best])

    def _geodesic_progress(self, obs: dict[str, np.ndarray], sc: Scene, first: np.ndarray,
                           ends: np.ndarray) -> np.ndarray:
        """Decrease of the navigation function from the robot to each candidate's end point ``[N, C, 2]``
        (robot frame) → ``[N, C]``; fields of envs starting an episode are rebuilt first."""
        rn = obs["robot_node"][:, 0].astype(np.float64)
        pos, theta = rn[:, 0:2], rn[:, 4]
        rot = np.stack([np.stack([np.cos(theta), -np.sin(theta)], -1),
                        np.stack([np.sin(theta), np.cos(theta)], -1)], -2)  # [N, 2, 2] robot → world
        for i in np.flatnonzero(first):
            corners = sc.polygons[i][sc.polygon_mask[i]] @ rot[i].T + pos[i]  # [O, 4, 2] world
            self.field.rebuild(i, corners, rn[i, 2:4])
        ends_world = np.einsum("nij,ncj->nci", rot, ends) + pos[:, None]
        here = self.field(pos[:, None])  # [N, 1]
        return here - self.field(ends_world)


class PlanningDWAPolicy(DWAPolicy):
    """DWA scoring progress along the global navigation function (``dwa_plan``)."""

    name = "dwa_plan"

    def __init__(self, limits: RobotLimits, params: DWAParams | None = None) -> None:
        super().__init__(limits, replace(params or DWAParams(), global_plan=True))
