"""``CrowdNavEnv``: one crowd-navigation scene as a gymnasium environment."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch, StepInfo
from sim.crowd.replay import load_replay
from sim.crowd.rewards import OUTCOMES
from sim.crowd.spaces import action_space, observation_space


def episode_metrics(info: StepInfo, i: int) -> dict[str, Any]:
    """HEIGHT's evaluation metrics of scene ``i`` (valid when its episode just ended)."""
    return {
        "outcome": OUTCOMES[int(info.outcome[i])],
        "return": float(info.episode_return[i]),
        "length": int(info.episode_length[i]),
        "time": float(info.episode_time[i]),
        "path_length": float(info.path_length[i]),
        "intrusion_ratio": float(info.intrusion_ratio[i]),
        "min_distance": float(info.min_distance[i]),
    }


class CrowdNavEnv(gym.Env):
    """HEIGHT-style crowd navigation (see ``spaces.py`` for observations and actions).

    ``info`` of every step: ``outcome`` (running, success, collision_human, collision_obstacle,
    collision_wall, timeout), ``is_success`` and ``min_human_distance`` (m, surface to surface); when the
    episode ends also ``metrics`` (time, path length, intrusion ratio, minimum distance, return, length).
    Timeouts are truncations; success and collisions terminate.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 10}

    def __init__(self, config: CrowdSimConfig | None = None, render_mode: str | None = None, **overrides: Any):
        cfg = (config or CrowdSimConfig()).override(**overrides) if overrides else (config or CrowdSimConfig())
        cfg.validate()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r}: expected one of {self.metadata['render_modes']}")
        self.cfg = cfg
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": int(round(1.0 / cfg.dt))}
        self.batch = CrowdBatch(cfg, 1, load_replay(cfg) if cfg.scenario == "replay" else None)
        self.observation_space = observation_space(cfg.max_humans, cfg.max_obstacles, cfg.lidar_rays, cfg.lidar_range)
        self.action_space = action_space(cfg.continuous_actions, cfg.holonomic, cfg.v_max, cfg.w_max)
        self._last_obs: dict[str, np.ndarray] | None = None
        self._renderer = None

    def _obs(self) -> dict[str, np.ndarray]:
        obs = {k: v[0] for k, v in self.batch.observe().items()}
        self._last_obs = obs
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is None and self.batch.layouts[0] is None:
            seed = int(self.np_random.integers(2**63 - 1))
        self.batch.reset_scenes([0], [seed])
        obs = self._obs()
        if self.render_mode == "human":
            self.render()
        return obs, {"outcome": "running", "is_success": False}

    def step(self, action):
        if self.batch.layouts[0] is None:
            raise RuntimeError("CrowdNavEnv.step() called before reset()")
        reward, info = self.batch.step(np.asarray(action)[None])
        obs = self._obs()
        outcome = OUTCOMES[int(info.outcome[0])]
        out: dict[str, Any] = {
            "outcome": outcome,
            "is_success": outcome == "success",
            "min_human_distance": float(info.min_human_distance[0]),
        }
        if info.done[0]:
            out["metrics"] = episode_metrics(info, 0)
        terminated = bool(info.done[0] and outcome != "timeout")
        truncated = outcome == "timeout"
        if self.render_mode == "human":
            self.render()
        return obs, float(reward[0]), terminated, truncated, out

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("CrowdNavEnv.render() without a render_mode; pass render_mode='rgb_array'")
            return None
        from sim.crowd.render import FrameRenderer

        if self._renderer is None:
            self._renderer = FrameRenderer(self.cfg, interactive=self.render_mode == "human")
        frame = self._renderer.draw(self.batch, 0, self._last_obs)
        return frame if self.render_mode == "rgb_array" else None

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
