"""Invalid-action masking for the 9 velocity increments: rule out the increments after which the robot could not
brake to a stop before touching the static geometry its own lidar sees.

An increment is *admissible* when its stop path keeps more than ``margin`` between the robot's edge and every
lidar hit point. The stop path executes the incremented command for one step, then brakes by the largest
Δv per step with ω held, to v = 0, with the env's unicycle update (θ first, then the move along the new θ).
It is one way to stop, so an admissible increment is safe from static geometry the scan shows; humans are not in
the scan and are left to the policy. When no increment is admissible (the robot is already too close) only the
ones with the largest clearance stay, so the distribution is never empty.

The mask is a function of the observation alone (``robot_command`` and ``point_clouds``), so acting, PPO's
re-evaluation of stored rollouts, evaluation and the ROS node all see the same masked distribution. It has no
weights: checkpoints with and without it load into each other. Huang & Ontañón (2022, "A closer look at invalid
action masking in policy gradient algorithms") show masking the logits keeps PPO's gradient valid.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from navigation.baselines.common import RobotLimits
from sim.crowd.spaces import DISCRETE_ACTION_DELTAS


class StopPathMask(nn.Module):
    """Raw observation tensors ``[..., *space shape]`` → admissible increments ``[..., 9]`` (bool).

    Args:
        limits: the robot's kinematics (unicycle with the 9 discrete increments only).
        lidar_rays: rays per scan (ray ``k`` at robot-frame angle ``-π + k·2π/rays``).
        margin: clearance (m) the stop path must keep beyond the robot radius.
    """

    def __init__(self, limits: RobotLimits, lidar_rays: int, margin: float) -> None:
        super().__init__()
        if limits.holonomic or limits.continuous:
            raise ValueError("network.stop_mask: only the unicycle robot with the 9 discrete increments is supported")
        self.lim, self.margin = limits, margin
        deltas = torch.as_tensor(DISCRETE_ACTION_DELTAS, dtype=torch.float32)
        self.brake = float(deltas[:, 0].abs().max())  # m/s per step
        self.steps = math.ceil(limits.v_max / self.brake - 1e-9) + 1  # the incremented step, then braking to 0
        angles = -math.pi + torch.arange(lidar_rays) * (2 * math.pi / lidar_rays)
        self.register_buffer("deltas", deltas, persistent=False)
        self.register_buffer("rays", torch.stack([angles.cos(), angles.sin()], -1), persistent=False)  # [R, 2]

    @torch.no_grad()
    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        lim = self.lim
        cmd = obs["robot_command"][..., 0, :].float()  # [..., 2]
        ranges = obs["point_clouds"][..., 0, :].float()  # [..., R]
        lead = cmd.shape[:-1]
        cand = cmd[..., None, :] + self.deltas  # [..., 9, 2]
        v0 = cand[..., 0].clamp(-lim.v_max, lim.v_max)
        w = cand[..., 1].clamp(-lim.w_max, lim.w_max)
        k = torch.arange(self.steps, dtype=cmd.dtype, device=cmd.device)  # step index 0 … K−1
        v = v0.sign()[..., None] * (v0.abs()[..., None] - self.brake * k).clamp(min=0.0)  # [..., 9, K]
        theta = w[..., None] * (k + 1) * lim.dt
        path = torch.stack([(v * theta.cos()).cumsum(-1), (v * theta.sin()).cumsum(-1)], -1) * lim.dt  # [..., 9, K, 2]
        hits = ranges < lim.lidar_range - 1e-3  # [..., R]
        points = ranges[..., None] * self.rays  # [..., R, 2]
        d = torch.cdist(path.reshape(-1, 9 * self.steps, 2), points.reshape(-1, points.shape[-2], 2))  # [S, 9K, R]
        d = d.masked_fill(~hits.reshape(-1, 1, hits.shape[-1]), math.inf)
        clearance = d.amin(-1).reshape(*lead, 9, self.steps).amin(-1) - lim.radius  # [..., 9]
        ok = clearance > self.margin
        best = clearance >= clearance.amax(-1, keepdim=True) - 1e-6
        return torch.where(ok.any(-1, keepdim=True), ok, best)
