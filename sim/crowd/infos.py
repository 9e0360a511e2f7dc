"""The ``info`` dicts of the environments, one layout for the single env and the native vector env.

Every step: ``outcome`` (running, success, collision_human, collision_obstacle, collision_wall, timeout),
``is_success`` and ``min_human_distance`` (m, surface to surface). The step that ends an episode adds

* ``metrics``: HEIGHT's evaluation record — ``outcome``, ``return``, ``length`` (steps), ``time`` (s),
  ``path_length`` (m), ``intrusion_ratio`` (share of steps closer than the discomfort distance),
  ``min_distance`` (closest robot–human surface distance of the episode, m);
* ``episode``: gymnasium's ``RecordEpisodeStatistics`` keys ``r`` (return), ``l`` (length), ``t`` (duration,
  s), plus ``path_length``, ``intrusion_ratio`` and ``min_distance``. ``t`` is *simulated* time, not wall
  time, so infos are deterministic (the env already records the statistics: do not wrap it in
  ``RecordEpisodeStatistics``, which refuses an existing ``episode`` key).

``CrowdNavEnv`` returns these as Python scalars; gymnasium's Sync/AsyncVectorEnv batch them into arrays
with ``_key`` masks (``VectorEnv._add_info``). ``CrowdNavVectorEnv`` builds exactly that batched layout
itself (:func:`batched_step_info`), so code reading finished episodes works with every vector env.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.crowd.engine import StepInfo
from sim.crowd.rewards import OUTCOMES

#: ``metrics`` / ``episode`` key → (StepInfo field, Python type)
METRICS = {"return": ("episode_return", float), "length": ("episode_length", int), "time": ("episode_time", float),
           "path_length": ("path_length", float), "intrusion_ratio": ("intrusion_ratio", float),
           "min_distance": ("min_distance", float)}
EPISODE = {"r": ("episode_return", float), "l": ("episode_length", int), "t": ("episode_time", float),
           "path_length": ("path_length", float), "intrusion_ratio": ("intrusion_ratio", float),
           "min_distance": ("min_distance", float)}


def reset_info() -> dict[str, Any]:
    """``info`` of ``CrowdNavEnv.reset``."""
    return {"outcome": OUTCOMES[0], "is_success": False}


def step_info(info: StepInfo, i: int) -> dict[str, Any]:
    """``info`` of ``CrowdNavEnv.step`` for scene ``i`` of a batch step."""
    outcome = OUTCOMES[int(info.outcome[i])]
    out: dict[str, Any] = {"outcome": outcome, "is_success": outcome == "success",
                           "min_human_distance": float(info.min_human_distance[i])}
    if info.done[i]:
        out["metrics"] = {"outcome": outcome, **{k: t(getattr(info, f)[i]) for k, (f, t) in METRICS.items()}}
        out["episode"] = {k: t(getattr(info, f)[i]) for k, (f, t) in EPISODE.items()}
    return out


def _masked(values: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    """``values`` with each ``key`` followed by its ``_key`` mask, as ``VectorEnv._add_info`` lays them out."""
    out: dict[str, np.ndarray] = {}
    for k, v in values.items():
        out[k], out[f"_{k}"] = v, mask.copy()
    return out


def batched_reset_info(n: int) -> dict[str, Any]:
    """``info`` of ``CrowdNavVectorEnv.reset`` (``n`` scenes), laid out as a Sync/AsyncVectorEnv's."""
    single = reset_info()
    return _masked({"outcome": np.full(n, single["outcome"], dtype=object),
                    "is_success": np.full(n, single["is_success"])}, np.ones(n, dtype=bool))


def batched_step_info(info: StepInfo, done: np.ndarray, restarted: np.ndarray) -> dict[str, Any]:
    """``info`` of ``CrowdNavVectorEnv.step`` in the Sync/AsyncVectorEnv layout.

    ``done [N]``: episodes that ended this step; ``restarted [N]``: scenes that were reset instead of stepped
    (next-step autoreset), which report :func:`reset_info` as a single env's reset does.
    """
    n = done.shape[0]
    outcome = np.array(OUTCOMES, dtype=object)[info.outcome]
    outcome[restarted] = OUTCOMES[0]
    stepped = ~restarted
    out = _masked({"outcome": outcome, "is_success": outcome == "success"}, np.ones(n, dtype=bool))
    if stepped.any():
        out.update(_masked({"min_human_distance": np.where(stepped, info.min_human_distance, 0.0)}, stepped))
    if done.any():
        cols = {k: np.where(done, getattr(info, f), t(0)).astype(np.dtype(t)) for k, (f, t) in METRICS.items()}
        out.update(_masked({"metrics": _masked({"outcome": np.where(done, outcome, None), **cols}, done)}, done))
        cols = {k: np.where(done, getattr(info, f), t(0)).astype(np.dtype(t)) for k, (f, t) in EPISODE.items()}
        out.update(_masked({"episode": _masked(cols, done)}, done))
    return out
