"""Invalid-action masking for the 9 velocity increments: rule out the increments after which the robot could not
brake to a stop before touching the static geometry its lidar sees, or a human who keeps walking as now.

Every increment has a *stop path*: the incremented command for one step, then braking by the largest Δv per
step with ω held, to v = 0, with the env's unicycle update (θ first, then the move along the new θ). Two
clearances are measured along it, in the robot frame:

* static: the distance from the robot's edge to every lidar hit point;
* humans (optional): at every step ``k`` of the stop path, the distance from the robot's edge to each detected
  human's edge, the human moved on at its observed velocity for ``k + 1`` steps (constant-velocity prediction).

An increment is admissible when its static clearance exceeds ``margin``; among those, the ones whose human
clearance exceeds ``human_margin`` are kept. Statics come first because they are certain (the scan sees them
and they do not move) while the human prediction is a guess; so the human term only chooses among statically
admissible increments. When nothing passes a test, the increments with the largest clearance of that test
stay, so the distribution is never empty.

The mask is a function of the observation alone (``robot_command``, ``point_clouds``, ``spatial_edges``,
``human_mask``), so acting, PPO's re-evaluation of stored rollouts, evaluation and a ROS node all see the same
masked distribution. It has no weights: checkpoints with and without it load into each other. Huang & Ontañón
(2022, "A closer look at invalid action masking in policy gradient algorithms") show masking the logits keeps
PPO's gradient valid. It is a safety layer in the spirit of shielding (Alshiekh et al., AAAI 2018), not part
of HEIGHT's network.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from navigation.baselines.common import RobotLimits, lidar_directions, lidar_hits
from sim.crowd.spaces import DISCRETE_ACTION_DELTAS

_CHUNK = 1024  # scans per batched distance computation


def _keep(allowed: torch.Tensor, clearance: torch.Tensor, margin: float) -> torch.Tensor:
    """Among ``allowed [..., 9]`` the increments with ``clearance > margin``, or if none, the allowed ones of the
    largest clearance."""
    clearance = clearance.masked_fill(~allowed, -math.inf)
    ok = clearance > margin
    best = allowed & (clearance >= clearance.amax(-1, keepdim=True) - 1e-6)
    return torch.where(ok.any(-1, keepdim=True), ok, best)


class StopPathMask(nn.Module):
    """Raw observation tensors ``[..., *space shape]`` → admissible increments ``[..., 9]`` (bool).

    Args:
        limits: the robot's kinematics (unicycle with the 9 discrete increments only).
        lidar_rays: rays per scan (ray ``k`` at robot-frame angle ``-π + k·2π/rays``).
        margin: clearance (m) the stop path must keep from static geometry, beyond the robot radius.
        human_margin: clearance (m) it must keep from constant-velocity humans, beyond both radii; ``None``
            leaves humans to the policy.
    """

    deltas: torch.Tensor  # [9, 2] (Δv, Δω) of the increments
    rays: torch.Tensor  # [R, 2] ray directions

    def __init__(self, limits: RobotLimits, lidar_rays: int, margin: float, human_margin: float | None = None) -> None:
        super().__init__()
        if limits.holonomic or limits.continuous:
            raise ValueError("network.stop_mask: only the unicycle robot with the 9 discrete increments is supported")
        self.lim, self.margin, self.human_margin = limits, margin, human_margin
        deltas = torch.as_tensor(DISCRETE_ACTION_DELTAS, dtype=torch.float32)
        self.brake = float(deltas[:, 0].abs().max())  # m/s per step
        self.steps = math.ceil(limits.v_max / self.brake - 1e-9) + 1  # the incremented step, then braking to 0
        speeds = (limits.v_max - self.brake * torch.arange(self.steps)).clamp(min=0.0)
        self.reach = float(speeds.sum()) * limits.dt  # longest stop path (m), from full speed
        self.register_buffer("deltas", deltas, persistent=False)
        rays = torch.as_tensor(lidar_directions(lidar_rays), dtype=torch.float32)
        self.register_buffer("rays", rays, persistent=False)  # [R, 2]

    def stop_paths(self, cmd: torch.Tensor) -> torch.Tensor:
        """Commands ``[..., 2]`` (v, ω) → robot-frame positions after each step of each stop path ``[..., 9, K, 2]``."""
        lim = self.lim
        cand = cmd[..., None, :] + self.deltas  # [..., 9, 2]
        v0 = cand[..., 0].clamp(-lim.v_max, lim.v_max)
        w = cand[..., 1].clamp(-lim.w_max, lim.w_max)
        k = torch.arange(self.steps, dtype=cmd.dtype, device=cmd.device)  # step index 0 … K−1
        v = v0.sign()[..., None] * (v0.abs()[..., None] - self.brake * k).clamp(min=0.0)  # [..., 9, K]
        theta = w[..., None] * (k + 1) * lim.dt
        return torch.stack([(v * theta.cos()).cumsum(-1), (v * theta.sin()).cumsum(-1)], -1) * lim.dt

    def static_clearance(self, path: torch.Tensor, ranges: torch.Tensor) -> torch.Tensor:
        """Stop paths ``[..., 9, K, 2]`` and lidar ranges ``[..., R]`` → edge-to-hit clearance ``[..., 9]`` (m),
        exact up to ``margin``: scans with no hit within reach of any stop path get ``+inf`` (all admissible)."""
        lead = ranges.shape[:-1]
        path, ranges = path.reshape(-1, 9 * self.steps, 2), ranges.reshape(-1, ranges.shape[-1])
        hits = lidar_hits(ranges, self.lim.lidar_range)  # [S, R]
        # a hit farther than reach + radius + margin from the robot cannot fail any stop path; measuring only
        # the scans with a nearer hit (a minority while driving) saves most of the 9K × R distances
        nearest = ranges.masked_fill(~hits, math.inf).amin(-1)  # [S]
        near = (nearest <= self.reach + self.lim.radius + self.margin).nonzero()[:, 0]
        out = torch.full((path.shape[0], 9), math.inf, dtype=path.dtype, device=path.device)
        for rows in near.split(_CHUNK):  # bounded memory: [chunk, 9K, R] distances at a time
            points = ranges[rows, :, None] * self.rays  # [n, R, 2]
            d = torch.cdist(path[rows], points).masked_fill(~hits[rows, None, :], math.inf)  # [n, 9K, R]
            out[rows] = d.amin(-1).reshape(-1, 9, self.steps).amin(-1) - self.lim.radius
        return out.reshape(*lead, 9)

    def human_clearance(self, path: torch.Tensor, edges: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Stop paths ``[..., 9, K, 2]``, ``spatial_edges [..., H, 4]`` (robot-frame Δx, Δy, vx, vy) and
        ``human_mask [..., H]`` → edge-to-edge clearance to constant-velocity humans ``[..., 9]`` (m; inf when
        none is detected)."""
        t = (torch.arange(self.steps, dtype=path.dtype, device=path.device) + 1) * self.lim.dt  # [K]
        humans = edges[..., None, :2] + edges[..., None, 2:] * t[:, None]  # [..., H, K, 2]
        d = (path[..., :, None, :, :] - humans[..., None, :, :, :]).norm(dim=-1)  # [..., 9, H, K]
        d = d.masked_fill(~present[..., None, :, None], math.inf)
        return d.amin(-1).amin(-1) - self.lim.radius - self.lim.human_radius

    @torch.no_grad()
    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        cmd = obs["robot_command"][..., 0, :].float()  # [..., 2]
        path = self.stop_paths(cmd)
        static = self.static_clearance(path, obs["point_clouds"][..., 0, :].float())
        allowed = _keep(torch.ones_like(static, dtype=torch.bool), static, self.margin)
        if self.human_margin is None:
            return allowed
        humans = self.human_clearance(path, obs["spatial_edges"].float(), obs["human_mask"].bool())
        return _keep(allowed, humans, self.human_margin)
