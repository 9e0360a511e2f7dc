"""Fixed-seed evaluation of robot policies: episode ``j`` always uses env seed ``seed + j``.

Episodes run in waves of ``num_envs`` through a gymnasium vector env; a wave ends when all of its episodes
have; steps of finished envs are ignored. Metrics (HEIGHT's ``evaluation.py``): success / collision (human,
obstacle, wall) / timeout rates; navigation time and path length over successful episodes; intrusion ratio
(share of steps closer than the discomfort distance) and per-episode minimum human distance over all episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from navigation.config import EnvConfig
from navigation.envs import finished_episodes, make_vector_env
from navigation.policies import RobotPolicy

OUTCOMES = ("success", "collision_human", "collision_obstacle", "collision_wall", "timeout")


@dataclass
class Trajectory:
    """World-frame geometry of one episode for pictures."""

    robot: list[tuple[float, float]] = field(default_factory=list)
    humans: list[np.ndarray] = field(default_factory=list)
    """per step ``[H_visible, 2]``"""
    goal: tuple[float, float] = (0.0, 0.0)
    obstacles: np.ndarray | None = None
    """``[O, 4, 2]`` at the first step"""


def _world(obs: dict[str, np.ndarray], i: int, rel: np.ndarray) -> np.ndarray:
    """Robot-frame points ``[..., 2]`` of env ``i`` → world frame."""
    px, py, _, _, th = obs["robot_node"][i, 0].astype(np.float64)
    c, s = np.cos(th), np.sin(th)
    return np.stack([px + c * rel[..., 0] - s * rel[..., 1], py + s * rel[..., 0] + c * rel[..., 1]], axis=-1)


def _record(traj: Trajectory, obs: dict[str, np.ndarray], i: int, first: bool) -> None:
    rn = obs["robot_node"][i, 0]
    traj.robot.append((float(rn[0]), float(rn[1])))
    mask = obs["human_mask"][i].astype(bool)
    traj.humans.append(_world(obs, i, obs["spatial_edges"][i, mask, :2].astype(np.float64)))
    if first:
        traj.goal = (float(rn[2]), float(rn[3]))
        om = obs["obstacle_mask"][i].astype(bool)
        traj.obstacles = _world(obs, i, obs["obstacle_vertices"][i, om].astype(np.float64).reshape(-1, 4, 2))


def run_episodes(
    policy: RobotPolicy, env_cfg: EnvConfig, episodes: int, seed: int = 0, num_envs: int = 16,
    trajectories: int = 0, progress: bool = True,
) -> tuple[list[dict[str, Any]], list[Trajectory]]:
    """``episodes`` episodes (seeds ``seed … seed + episodes − 1``) → per-episode metrics (with ``seed``) and
    the trajectories of the first ``trajectories`` episodes."""
    if episodes < 1 or num_envs < 1:
        raise ValueError(f"episodes={episodes}, num_envs={num_envs}: both must be at least 1")
    records: list[dict[str, Any]] = []
    trajs: list[Trajectory] = []
    bar = tqdm(total=episodes, desc=f"eval {policy.name}", unit="ep", disable=not progress)
    for start in range(0, episodes, num_envs):
        k = min(num_envs, episodes - start)
        envs = make_vector_env(env_cfg, k)
        obs, _ = envs.reset(seed=seed + start)
        policy.reset(k)
        first = np.ones(k, dtype=bool)
        done = np.zeros(k, dtype=bool)
        wave: dict[int, dict[str, Any]] = {}
        tr = {i: Trajectory() for i in range(k) if start + i < trajectories}
        while not done.all():
            for i, t in tr.items():
                if not done[i]:
                    _record(t, obs, i, first[i])
            actions = policy.act(obs, first)
            obs, _, term, trunc, info = envs.step(actions)
            ended = (term | trunc) & ~done
            for i, rec in finished_episodes(info, ended):
                wave[i] = {"seed": seed + start + i, **rec}
            done |= ended
            first = np.zeros(k, dtype=bool)
            bar.update(int(ended.sum()))
        envs.close()
        records += [wave[i] for i in range(k)]
        trajs += [tr[i] for i in sorted(tr)]
    bar.close()
    return records, trajs


def summarize(records: list[dict[str, Any]]) -> dict[str, float]:
    """Rates and means over episode records (see module docstring)."""
    n = len(records)
    out: dict[str, float] = {"episodes": float(n)}
    for o in OUTCOMES:
        out[o] = sum(r["outcome"] == o for r in records) / n
    out["collision"] = out["collision_human"] + out["collision_obstacle"] + out["collision_wall"]
    ok = [r for r in records if r["outcome"] == "success"]
    out["nav_time"] = float(np.mean([r["time"] for r in ok])) if ok else float("nan")
    out["path_length"] = float(np.mean([r["path_length"] for r in ok])) if ok else float("nan")
    out["intrusion_ratio"] = float(np.mean([r["intrusion_ratio"] for r in records]))
    out["min_distance"] = float(np.mean([r["min_distance"] for r in records]))
    out["return"] = float(np.mean([r["return"] for r in records]))
    return out
