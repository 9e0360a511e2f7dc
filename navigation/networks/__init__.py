"""Policy networks: HEIGHT (heterogeneous graph), homogeneous-graph and DS-RNN-style baselines."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
from torch import nn

from navigation.baselines.common import RobotLimits
from navigation.config import NetworkConfig
from navigation.networks.dsrnn import DSRNNTrunk
from navigation.networks.height import HeightTrunk
from navigation.networks.homogeneous import HomogeneousTrunk
from navigation.networks.policy import ActorCritic
from navigation.networks.stop_mask import StopPathMask

#: network name -> trunk builder ``(cfg, lidar_rays, max_humans, max_obstacles) -> nn.Module``
TRUNKS: dict[str, Callable[[NetworkConfig, int, int, int], nn.Module]] = {
    "height": lambda cfg, rays, n, o: HeightTrunk(cfg, rays),
    "homogeneous": lambda cfg, rays, n, o: HomogeneousTrunk(cfg, rays),
    "dsrnn": lambda cfg, rays, n, o: DSRNNTrunk(cfg, rays, n, o),
}


def build_policy(cfg: NetworkConfig, observation_space: gym.spaces.Dict, action_space: gym.Space,
                 limits: RobotLimits | None = None) -> ActorCritic:
    """The actor-critic named by ``cfg.name`` for an env's (single, not vector) observation/action spaces;
    ``cfg.stop_mask`` needs the robot's ``limits``."""
    if cfg.name not in TRUNKS:
        raise ValueError(f"network.name={cfg.name!r}: expected one of {sorted(TRUNKS)}")
    try:
        rays = observation_space["point_clouds"].shape[-1]
        max_humans = observation_space["spatial_edges"].shape[0]
        max_obstacles = observation_space["obstacle_vertices"].shape[0]
    except KeyError as exc:
        raise ValueError(f"observation space lacks {exc} (expected the sim/crowd/spaces.py layout)") from exc
    trunk = TRUNKS[cfg.name](cfg, rays, max_humans, max_obstacles)
    mask = None
    if cfg.stop_mask:
        if limits is None:
            raise ValueError("network.stop_mask=true: build_policy needs the robot limits (navigation.baselines."
                             "common.robot_limits)")
        mask = StopPathMask(limits, rays, cfg.stop_mask_margin,
                            cfg.stop_mask_human_margin if cfg.stop_mask_humans else None)
    return ActorCritic(trunk, action_space, cfg.head_size, cfg.lidar_clip, mask)


__all__ = ["TRUNKS", "ActorCritic", "build_policy"]
