"""Building the simulator through the gymnasium API and reading finished episodes out of vector-env infos.

Vector envs use gymnasium's ``SAME_STEP`` autoreset: the step that ends an episode already returns the
next episode's first observation, and the ended episode's ``info`` sits under ``final_info``. Every step
the policy takes is then a real transition (no ignored action after a reset), which keeps PPO's rollout
storage and the recurrent masks simple.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv

import sim.crowd  # noqa: F401  (registers the pernav/* ids)
from navigation.config import EnvConfig

#: keys of an episode record, as the simulator's ``info["metrics"]`` gives them
METRIC_KEYS = ("outcome", "return", "length", "time", "path_length", "intrusion_ratio", "min_distance")


def make_env(env_cfg: EnvConfig, **extra: Any) -> gym.Env:
    """One environment (``gymnasium.make``) with the config's overrides; unknown ids are named."""
    if env_cfg.env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("pernav/"))
        raise ValueError(f"env.env_id={env_cfg.env_id!r} is not registered; known: {known}")
    return gym.make(env_cfg.env_id, **{**env_cfg.overrides, **extra})


def make_vector_env(env_cfg: EnvConfig, num_envs: int) -> VectorEnv:
    """``num_envs`` copies in a gymnasium Sync/Async vector env with SAME_STEP autoreset."""
    make_env(env_cfg).close()  # fail here, in this process, on a bad id or override
    fns = [lambda: make_env(env_cfg) for _ in range(num_envs)]
    cls = AsyncVectorEnv if env_cfg.vector == "async" else SyncVectorEnv
    return cls(fns, autoreset_mode=AutoresetMode.SAME_STEP)


def finished_episodes(info: dict[str, Any], done: np.ndarray) -> list[tuple[int, dict[str, Any]]]:
    """``(env index, metrics)`` of the episodes that ended this vector step (``done`` ``[N]``)."""
    if not done.any():
        return []
    final = info["final_info"]["metrics"]
    out = []
    for i in np.flatnonzero(done):
        out.append((int(i), {k: (str(final[k][i]) if k == "outcome" else float(final[k][i])) for k in METRIC_KEYS}))
    return out
