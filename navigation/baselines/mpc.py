"""Sampling model-predictive control (``mpc``): DWA's scoring over plans that span the whole horizon.

With HEIGHT's actions the command changes by at most (0.05 m/s, 0.1 rad/s) per 0.1 s step, so a one-step
window (DWA) only ever compares arcs that differ by one increment: it cannot see that braking, swerving or
backing away over the next seconds would avoid a human who does not yield. Here every candidate is a
*target* command on a grid over the whole command range (plus "keep the current one"); its path is rolled out
as the env would execute it, moving the command one increment per step towards the target, and the first of
those increments is the action. Scoring and admissibility are DWA's (:class:`~navigation.baselines.dwa.DWAPolicy`):
progress along the geodesic navigation function, clearance to humans moving at their observed velocity and
to the observed obstacles (looked up in the navigation field's clearance grid), speed; a plan must be able to
stop before its closest point. With continuous actions the command jumps to the target at once.

Like the other baselines it reads only the public observation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navigation.baselines.common import RobotLimits, Scene
from navigation.baselines.dwa import DWAParams, DWAPolicy, _to_world
from sim.crowd.spaces import DELTA_V, DELTA_W


@dataclass(frozen=True)
class MPCParams(DWAParams):
    horizon: float = 3.0
    global_plan: bool = True
    v_samples: int = 9
    """target speeds, evenly over [-v_max, v_max]"""
    w_samples: int = 9
    """target turn rates, evenly over [-ω_max, ω_max]"""


class SamplingMPCPolicy(DWAPolicy):
    """DWA's scoring over target-command plans rolled out with the env's increment limits."""

    name = "mpc"

    def __init__(self, limits: RobotLimits, params: MPCParams | None = None) -> None:
        p = params or MPCParams()
        if not p.global_plan:
            raise ValueError("mpc: global_plan=False is not supported (static clearance comes from the plan's grid)")
        super().__init__(limits, p)
        v = np.linspace(-limits.v_max, limits.v_max, p.v_samples)
        w = np.linspace(-limits.w_max, limits.w_max, p.w_samples)
        self.targets = np.stack(np.meshgrid(v, w, indexing="ij"), axis=-1).reshape(-1, 2)  # [C-1, 2]
        self.max_step = np.array([np.max(np.abs(DELTA_V)), np.max(np.abs(DELTA_W))])  # the env's increments

    def _candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Plans towards each target command: first command ``[N, C, 2]``, robot-frame path ``[N, C, K, 2]``,
        final speed ``[N, C]``."""
        lim = self.lim
        n = len(self.tracker.cmd)
        cmd = np.repeat(self.tracker.cmd[:, None], len(self.targets) + 1, axis=1)  # [N, C, 2]
        target = np.concatenate([np.broadcast_to(self.targets, (n,) + self.targets.shape), cmd[:, :1]], axis=1)
        theta = np.zeros(cmd.shape[:2])
        xy = np.zeros(cmd.shape)
        path, first = [], None
        for _ in range(int(round(self.p.horizon / lim.dt))):
            if lim.continuous:
                cmd = self.tracker.clip(target)
            else:  # a whole increment towards the target, or none when less than half of one is left
                gap = target - cmd
                cmd = self.tracker.clip(cmd + np.where(np.abs(gap) >= self.max_step / 2,
                                                       np.sign(gap) * self.max_step, 0.0))
            first = cmd if first is None else first
            theta = theta + cmd[..., 1] * lim.dt  # the env turns first, then moves
            xy = xy + (cmd[..., 0] * lim.dt)[..., None] * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
            path.append(xy)
        return first, np.stack(path, axis=2), cmd[..., 0]

    def _static_clearance(self, obs: dict[str, np.ndarray], sc: Scene, traj: np.ndarray) -> np.ndarray:
        return self.field.clearance_at(_to_world(obs, traj)).min(axis=2) - self.lim.radius
