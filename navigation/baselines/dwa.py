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
from sim.crowd.spaces import DELTA_V, DELTA_W, DISCRETE_ACTION_DELTAS


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
    """DWA over the env's reachable commands.

    With discrete actions, ``action_values`` ``[N, 9]`` holds after each :meth:`act` the score of the best
    candidate each action starts, −inf if none does (the clearance where no candidate at all is admissible):
    DAgger's soft labels and ``pernav nav regret`` read it.
    """

    name = "dwa"
    action_values: np.ndarray

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
        if p.global_plan:
            self._rebuild_fields(obs, sc, first)
        step, traj, speed = self._candidates()
        t = np.arange(1, traj.shape[2] + 1) * lim.dt  # [K]
        hum = sc.human_pos[:, None] + sc.human_vel[:, None] * t[None, :, None, None]  # [N, K, H, 2] constant velocity
        d_h = np.linalg.norm(traj[:, :, :, None] - hum[:, None], axis=-1)  # [N, C, K, H]
        d_h = np.where(sc.human_mask[:, None, None], d_h, np.inf).min(axis=(2, 3)) - lim.radius - lim.human_radius
        clearance = np.minimum(self._static_clearance(obs, sc, traj), d_h)  # [N, C]
        if p.global_plan:
            here = obs["robot_node"][:, 0:1, 0:2].astype(np.float64)  # [N, 1, 2] world
            progress = self.field(here) - self.field(_to_world(obs, traj[:, :, -1]))
        else:
            end_to_goal = np.linalg.norm(traj[:, :, -1] - sc.goal[:, None], axis=-1)
            progress = np.linalg.norm(sc.goal, axis=-1)[:, None] - end_to_goal
        score = (p.goal_weight * progress + p.clearance_weight * np.minimum(clearance, p.clearance_cap)
                 + p.speed_weight * speed)
        decel = float(np.max(np.abs(DELTA_V))) / lim.dt
        score = np.where(clearance > speed ** 2 / (2 * decel), score, -np.inf)
        value = np.where(np.isfinite(score).any(1, keepdims=True), score, clearance)  # clearance if none admissible
        best = value.argmax(1)
        if not lim.continuous:
            self.action_values = self._per_action(step, value)
        return self.tracker.action(step[np.arange(len(best)), best])

    def _per_action(self, step: np.ndarray, value: np.ndarray) -> np.ndarray:
        """The best candidate value ``[N, C]`` among those whose first command ``[N, C, 2]`` each discrete action
        produces → ``[N, 9]`` (−inf for an action no candidate starts with). Actions that clip to the same
        command share their value."""
        reach = self.tracker.clip(self.tracker.cmd[:, None] + DISCRETE_ACTION_DELTAS[None])  # [N, 9, 2]
        starts = np.abs(reach[:, :, None] - step[:, None]).max(-1) < 1e-9  # [N, 9, C]
        return np.where(starts, value[:, None], -np.inf).max(-1)

    def _candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This step's candidate commands ``[N, C, 2]``, their robot-frame paths over the horizon ``[N, C, K, 2]``
        (positions after steps 1..K) and the speed each path ends at ``[N, C]``.

        DWA: every command reachable this step, held for the whole horizon (an arc)."""
        lim = self.lim
        cand = self.tracker.clip(self.tracker.cmd[:, None] + self.deltas[None])  # [N, C, 2]
        k = int(round(self.p.horizon / lim.dt))
        t = np.arange(1, k + 1) * lim.dt  # [K]
        v, w = cand[..., 0:1], cand[..., 1:2]  # [N, C, 1]
        theta = w * t
        safe_w = np.where(np.abs(w) > 1e-6, w, 1.0)
        x = np.where(np.abs(w) > 1e-6, v / safe_w * np.sin(theta), v * t)
        y = np.where(np.abs(w) > 1e-6, v / safe_w * (1 - np.cos(theta)), 0.0)
        return cand, np.stack([x, y], axis=-1), cand[..., 0]

    def _static_clearance(self, obs: dict[str, np.ndarray], sc: Scene, traj: np.ndarray) -> np.ndarray:
        """Closest approach of robot-frame paths ``[N, C, K, 2]`` to the lidar hit points, minus the robot radius
        → ``[N, C]``."""
        d = np.linalg.norm(traj[:, :, :, None] - sc.lidar_points[:, None, None], axis=-1)  # [N, C, K, R]
        return np.where(sc.lidar_hit[:, None, None], d, np.inf).min(axis=(2, 3)) - self.lim.radius

    def _rebuild_fields(self, obs: dict[str, np.ndarray], sc: Scene, first: np.ndarray) -> None:
        """Solve the navigation fields of envs starting an episode (world frame, from the observed polygons)."""
        if not first.any():
            return
        goals = obs["robot_node"][:, 0, 2:4].astype(np.float64)
        corners = _to_world(obs, sc.polygons)  # [N, O, 4, 2]
        for i in np.flatnonzero(first):
            self.field.rebuild(i, corners[i][sc.polygon_mask[i]], goals[i])


def _to_world(obs: dict[str, np.ndarray], points: np.ndarray) -> np.ndarray:
    """Robot-frame points ``[N, ..., 2]`` → world frame, with each env's robot pose from ``obs``."""
    rn = obs["robot_node"][:, 0].astype(np.float64)
    c, s = np.cos(rn[:, 4]), np.sin(rn[:, 4])
    flat = points.reshape(len(rn), -1, 2)
    x = c[:, None] * flat[..., 0] - s[:, None] * flat[..., 1] + rn[:, 0:1]
    y = s[:, None] * flat[..., 0] + c[:, None] * flat[..., 1] + rn[:, 1:2]
    return np.stack([x, y], axis=-1).reshape(points.shape)


class PlanningDWAPolicy(DWAPolicy):
    """DWA scoring progress along the global navigation function (``dwa_plan``)."""

    name = "dwa_plan"

    def __init__(self, limits: RobotLimits, params: DWAParams | None = None) -> None:
        super().__init__(limits, replace(params or DWAParams(), global_plan=True))
