"""``CrowdNavEnv``: one crowd-navigation scene as a gymnasium environment."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.infos import reset_info, step_info
from sim.crowd.replay import load_replay
from sim.crowd.spaces import action_space, observation_space


class CrowdNavEnv(gym.Env):
    """HEIGHT-style crowd navigation (see ``spaces.py`` for observations and actions).

    ``info``: see ``sim.crowd.infos`` (``outcome``, ``is_success``, ``min_human_distance`` every step; HEIGHT's
    ``metrics`` and the ``episode`` statistics when an episode ends). Timeouts are truncations; success and
    collisions terminate.
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
        self.observation_space = observation_space(cfg.max_humans, cfg.max_obstacles, cfg.lidar_rays, cfg.lidar_range,
                                                 cfg.robot_node)
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
        return obs, reset_info()

    def step(self, action):
        if self.batch.layouts[0] is None:
            raise RuntimeError("CrowdNavEnv.step() called before reset()")
        reward, info = self.batch.step(np.asarray(action)[None])
        obs = self._obs()
        out = step_info(info, 0)
        truncated = out["outcome"] == "timeout"
        terminated = bool(info.done[0]) and not truncated
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
