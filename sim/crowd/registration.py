"""Scenario presets and their gymnasium ids (registered when ``sim.crowd`` is imported)."""

from __future__ import annotations

import math

import gymnasium as gym

from sim.crowd.config import CrowdSimConfig

_BASE = CrowdSimConfig()

#: gymnasium id → complete configuration
PRESETS: dict[str, CrowdSimConfig] = {
    # HEIGHT's default: 7±2 ORCA humans + 1±1 standing, 10±2 random boxes, walls at ±4.5 m
    "pernav/CrowdNav-v0": _BASE,
    "pernav/CrowdNavCircleCrossing-v0": _BASE.override(scenario="circle_crossing", obstacle_num=0,
                                                      obstacle_num_range=0),
    "pernav/CrowdNavHallway-v0": _BASE.override(scenario="hallway", arena_half_size=6.0, human_num=4,
                                               human_num_range=1, static_human_num=0, static_human_range=0),
    "pernav/CrowdNavLounge-v0": _BASE.override(scenario="lounge", arena_half_size=5.5, human_num=5),
    "pernav/CrowdNavCorridor-v0": _BASE.override(scenario="corridor", arena_half_size=6.0, human_num=3,
                                                human_num_range=1, static_human_num=0, static_human_range=0),
    "pernav/CrowdNavFewerHumans-v0": _BASE.override(human_num=3, human_num_range=1),
    "pernav/CrowdNavMoreHumans-v0": _BASE.override(human_num=11, max_humans=15),
    "pernav/CrowdNavFewerObstacles-v0": _BASE.override(obstacle_num=5),
    "pernav/CrowdNavMoreObstacles-v0": _BASE.override(obstacle_num=14, max_obstacles=16, obstacle_gap=0.5,
                                                     obstacle_size_mean=0.8),
    "pernav/CrowdNavSocialForce-v0": _BASE.override(human_policy="social_force"),
    # replays an ETH/UCY file: gym.make("pernav/CrowdNavReplay-v0", replay_file="biwi_eth.txt")
    "pernav/CrowdNavReplay-v0": _BASE.override(scenario="replay", arena_half_size=12.0, obstacle_num=0,
                                              obstacle_num_range=0, goal_distance_min=8.0, goal_distance_max=10.0,
                                              max_humans=20, human_num=0, human_num_range=0, static_human_num=0,
                                              static_human_range=0),
}


def register_all() -> None:
    """Register every preset (idempotent)."""
    for env_id, cfg in PRESETS.items():
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point="sim.crowd.env:CrowdNavEnv",
            vector_entry_point="sim.crowd.vector_env:CrowdNavVectorEnv",
            max_episode_steps=int(math.ceil(cfg.time_limit / cfg.dt - 1e-9)),
            kwargs={"config": cfg},
        )
