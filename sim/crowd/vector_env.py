"""``CrowdNavVectorEnv``: N scenes stepped together in numpy, gymnasium ``VectorEnv`` API, next-step autoreset."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.infos import batched_reset_info, batched_step_info
from sim.crowd.replay import load_replay
from sim.crowd.spaces import action_space, observation_space


class CrowdNavVectorEnv(VectorEnv):
    """``num_envs`` crowd-navigation scenes in one :class:`CrowdBatch`.

    Same observations, rewards and episodes as ``num_envs`` copies of ``CrowdNavEnv`` seeded
    ``seed, seed + 1, …`` (a scene's episode depends only on its own seed). Autoreset is
    ``NEXT_STEP``: the step after an episode ends resets that scene, ignores its action and returns
    reward 0. ``infos``: the single env's infos (``sim.crowd.infos``) batched exactly as gymnasium's
    Sync/AsyncVectorEnv batch them (arrays with ``_key`` masks; ``metrics`` and ``episode`` with the masks
    ``_metrics`` / ``_episode`` for scenes whose episode ended this step).
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
                                                          cfg.lidar_range, cfg.robot_node)
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
        return self._obs, batched_reset_info(self.num_envs)

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
        infos = batched_step_info(info, done, self._needs_reset)
        truncated = done & (infos["outcome"] == "timeout")
        terminated = done & ~truncated
        self._needs_reset = done
        self._obs = self.batch.observe()
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
