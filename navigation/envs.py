"""Building the simulator through the gymnasium API and reading finished episodes out of vector-env infos.

All vector envs use gymnasium's default ``NEXT_STEP`` autoreset: the step after an episode ends resets that
env, ignores its action and returns reward 0 (``navigation.rollout`` masks those steps out of the loss).
``vector``: ``native`` (the simulator's batched ``CrowdNavVectorEnv``, via ``gymnasium.make_vec``'s
``vector_entry_point``, ~3-5x faster here), ``sync`` or ``async`` (gymnasium's wrappers around single envs).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv

import sim.crowd  # noqa: F401  (registers the pernav/* ids)
from navigation.config import EnvConfig

#: keys of an episode record
METRIC_KEYS = ("outcome", "return", "length", "time", "path_length", "intrusion_ratio", "min_distance")
_MODES = {"native": "vector_entry_point", "sync": "sync", "async": "async"}
#: the native vector env's ``info["episode"]`` names → ours
_NATIVE = {"return": "r", "length": "l", "time": "t", "path_length": "path_length",
           "intrusion_ratio": "intrusion_ratio", "min_distance": "min_distance"}


def _check_id(env_id: str) -> None:
    if env_id not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("pernav/"))
        raise ValueError(f"env.env_id={env_id!r} is not registered; known: {known}")


def make_env(env_cfg: EnvConfig, **extra: Any) -> gym.Env:
    """One environment (``gymnasium.make``) with the config's overrides."""
    _check_id(env_cfg.env_id)
    return gym.make(env_cfg.env_id, **{**env_cfg.overrides, **extra})


def make_vector_env(env_cfg: EnvConfig, num_envs: int) -> VectorEnv:
    """``num_envs`` scenes as a gymnasium vector env (``env_cfg.vector`` picks the implementation)."""
    _check_id(env_cfg.env_id)
    if env_cfg.vector not in _MODES:
        raise ValueError(f"env.vector={env_cfg.vector!r}: expected one of {sorted(_MODES)}")
    try:
        return gym.make_vec(env_cfg.env_id, num_envs=num_envs, vectorization_mode=_MODES[env_cfg.vector],
                            **env_cfg.overrides)
    except TypeError as exc:
        raise ValueError(f"env.overrides={env_cfg.overrides}: {exc}") from exc


def finished_episodes(info: dict[str, Any], done: np.ndarray) -> list[tuple[int, dict[str, Any]]]:
    """``(env index, metrics)`` of the episodes that ended this vector step (``done`` ``[N]``)."""
    out: list[tuple[int, dict[str, Any]]] = []
    for i in np.flatnonzero(done):
        if "episode" in info:  # native CrowdNavVectorEnv
            ep = info["episode"]
            rec = {k: float(ep[v][i]) for k, v in _NATIVE.items()}
            rec["outcome"] = str(info["outcome"][i])
        else:  # gymnasium Sync/AsyncVectorEnv around CrowdNavEnv
            m = info["metrics"]
            rec = {k: (str(m[k][i]) if k == "outcome" else float(m[k][i])) for k in METRIC_KEYS}
        out.append((int(i), rec))
    return out
