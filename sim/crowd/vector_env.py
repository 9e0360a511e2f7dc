"""``CrowdNavVectorEnv``: N scenes stepped together in numpy, gymnasium ``VectorEnv`` API, next-step autoreset."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.replay import load_replay
from sim.crowd.rewards import OUTCOMES
from sim.crowd.spaces import action_space, observation_space


class CrowdNavVectorEnv(VectorEnv):
    """``num_envs`` crowd-navigation scenes in one :class:`CrowdBatch`.

    Same observations, rewards and episodes as ``num_envs`` copies of ``CrowdNavEnv`` seeded
    ``seed, seed + 1, …`` (a scene's episode depends only on its own seed). Autoreset is
    ``NEXT_STEP``: the step after an episode ends resets that scene, ignores its action and returns
    reward 0. ``infos``: ``outcome`` (``[N]`` str), ``min_human_distance`` and, for scenes whose episode
    ended this step, ``episode`` = {``r`` return, ``l`` length, ``t`` time (s), ``path_length``,
    ``intrusion_ratio``, ``min_distance``, ``is_success``} with the mask ``_episode``.
    """

    metadata = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP, "render_fps": 10}

    def __init__(self, num_envs: int = 1, config: CrowdSimConfig | None = None, render_mode: str | None = None,
                 max_episode_steps: int | None = None, **overrides: Any) -> None:
        cfg = config or CrowdSimConfig()
        if overrides:
            cfg = cfg.override(**overrides)
        cfg.validate()
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode={render_mode!r}: CrowdNavVectorEnv renders 'rgb_array' only")
        self.cfg, self.num_envs, self.render_mode = cfg, int(num_envs), render_mode
        self.batch = CrowdBatch(cfg, self.num_envs, load_replay(cfg) if cfg.scenario == "replay" else None)
        self.single_observation_space = observation_space(cfg.max_humans, cfg.max_obstacles, cfg.lidar_rays,
                                                          cfg.lidar_range)
        self.single_action_space = action_space(cfg.continuous_actions, cfg.holonomic, cfg.v_max, cfg.w_max)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)
        self._renderer = None
        self._obs: dict[str, np.ndarray] | None = None

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        # gymnasium's VectorEnv seeds its own generator from an int only; a list seeds each scene below
        super().reset(seed=seed if seed is None or isinstance(seed, int) else None)
        if seed is None:
            seeds: list[int | None] = [int(s) for s in self.np_random.integers(2**63 - 1, size=self.num_envs)]
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            if len(seed) != self.num_envs:
                raise ValueError(f"seed: got {len(seed)} seeds for {self.num_envs} environments")
            seeds = list(seed)
        self.batch.reset_scenes(np.arange(self.num_envs), seeds)
        self._needs_reset[:] = False
        self._obs = self.batch.observe()
        return self._obs, {"outcome": np.array(["running"] * self.num_envs)}

    def step(self, actions):
        if self._obs is None:
            raise RuntimeError("CrowdNavVectorEnv.step() called before reset()")
        redo = np.flatnonzero(self._needs_reset)
        reward, info = self.batch.step(actions, frozen=self._needs_reset)
        done = info.done.copy()
        if redo.size:  # next-step autoreset: these scenes restart instead of stepping
            self.batch.reset_scenes(redo)
            reward[redo] = 0.0
            done[redo] = False
            info.outcome[redo] = 0
        outcome = np.array(OUTCOMES)[info.outcome]
        terminated = done & (outcome != "timeout")
        truncated = done & (outcome == "timeout")
        self._needs_reset = done
        self._obs = self.batch.observe()
        infos: dict[str, Any] = {"outcome": outcome, "min_human_distance": info.min_human_distance}
        if done.any():
            infos["episode"] = {
                "r": np.where(done, info.episode_return, 0.0),
                "l": np.where(done, info.episode_length, 0),
                "t": np.where(done, info.episode_time, 0.0),
                "path_length": np.where(done, info.path_length, 0.0),
                "intrusion_ratio": np.where(done, info.intrusion_ratio, 0.0),
                "min_distance": np.where(done, info.min_distance, 0.0),
                "is_success": done & (outcome == "success"),
            }
            infos["_episode"] = done
        return self._obs, reward.astype(np.float64), terminated, truncated, infos

    def render(self) -> np.ndarray | None:
        """Frame of scene 0 (``rgb_array``)."""
        if self.render_mode is None:
            gym.logger.warn("CrowdNavVectorEnv.render() without render_mode='rgb_array'")
            return None
        from sim.crowd.render import FrameRenderer

        if self._renderer is None:
            self._renderer = FrameRenderer(self.cfg)
        obs0 = None if self._obs is None else {k: v[0] for k, v in self._obs.items()}
        return self._renderer.draw(self.batch, 0, obs0)
