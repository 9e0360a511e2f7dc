"""Observation dict (``sim/crowd/spaces.py`` layout) → the tensors the policy networks read.

Every network sees the same encoded observation, all in the robot frame so a policy never depends on where
the arena sits in the world:

* ``robot``       ``[..., 7]``  goal offset in the robot frame ``(gx_r, gy_r)``, goal distance, robot velocity
                  in the robot frame ``(vx_r, vy_r)``, and the command being executed ``(v, ω)`` (or ``(vx, vy)``
                  holonomic).
* ``humans``      ``[..., N, 4]`` rows of ``spatial_edges``; padding rows set to 0 (never the 15 fill value).
* ``human_mask``  ``[..., N]`` bool, True for valid rows.
* ``obstacles``   ``[..., O, 8]`` obstacle corners in the robot frame, padding rows 0.
* ``obstacle_mask`` ``[..., O]`` bool, True for valid rows.
* ``lidar``       ``[..., R]`` ranges clipped to ``lidar_clip`` and divided by it (0 … 1).

``...`` is any leading batch shape (``[B]`` while acting, ``[B, T]`` while learning).

The command is not in the env's observation (HEIGHT's has the velocity ``(vx, vy)`` but not ω): the acting
side adds it as ``robot_command`` with :func:`with_command`, replaying the robot's own actions through
``navigation.baselines.common.CommandTracker``, as a real robot knows what it publishes on ``cmd_vel``.
Without it the 9 velocity *increments* are ambiguous: the right increment depends on the current ω.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

#: observation keys the encoder reads
KEYS = ("robot_node", "temporal_edges", "spatial_edges", "human_mask", "obstacle_vertices", "obstacle_mask",
        "point_clouds", "robot_command")
#: width of the encoded ``robot`` features
ROBOT_FEATURES = 7


def with_command(obs: Mapping[str, np.ndarray], command: np.ndarray) -> dict[str, np.ndarray]:
    """Vector-env observation dict (leading ``[N]``) plus ``robot_command`` ``[N, 1, 2]`` from ``command``
    ``[N, 2]``."""
    return {**obs, "robot_command": np.asarray(command, dtype=np.float32)[:, None]}


def to_tensors(obs: Mapping[str, np.ndarray], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """numpy observation dict (single env or vector env) → float32 / int tensors, missing keys named."""
    missing = [k for k in KEYS if k not in obs]
    if missing:
        raise KeyError(f"observation lacks keys {missing}; got {sorted(obs)} (expected sim/crowd/spaces.py, and "
                       "robot_command from navigation.observation.with_command)")
    return {k: torch.as_tensor(np.asarray(obs[k]), device=device) for k in KEYS}


def encode(obs: Mapping[str, torch.Tensor], lidar_clip: float) -> dict[str, torch.Tensor]:
    """Raw observation tensors ``[..., *space shape]`` → encoded features (module docstring)."""
    robot_node = obs["robot_node"][..., 0, :].float()  # [..., 5] px py gx gy θ
    vel = obs["temporal_edges"][..., 0, :].float()  # [..., 2]
    theta = robot_node[..., 4]
    cos, sin = torch.cos(theta), torch.sin(theta)
    goal = robot_node[..., 2:4] - robot_node[..., 0:2]
    goal_r = torch.stack([cos * goal[..., 0] + sin * goal[..., 1], -sin * goal[..., 0] + cos * goal[..., 1]], -1)
    vel_r = torch.stack([cos * vel[..., 0] + sin * vel[..., 1], -sin * vel[..., 0] + cos * vel[..., 1]], -1)
    command = obs["robot_command"][..., 0, :].float()
    robot = torch.cat([goal_r, goal.norm(dim=-1, keepdim=True), vel_r, command], dim=-1)

    human_mask = obs["human_mask"].bool()
    obstacle_mask = obs["obstacle_mask"].bool()
    humans = torch.where(human_mask[..., None], obs["spatial_edges"].float(), 0.0)
    obstacles = torch.where(obstacle_mask[..., None], obs["obstacle_vertices"].float(), 0.0)
    lidar = obs["point_clouds"][..., 0, :].float().clamp(0.0, lidar_clip) / lidar_clip
    return {
        "robot": robot,
        "humans": humans,
        "human_mask": human_mask,
        "obstacles": obstacles,
        "obstacle_mask": obstacle_mask,
        "lidar": lidar,
    }
