"""ORCA-as-robot rollouts: episode metrics over several seeds plus a video of the first episode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.crowd.config import CrowdSimConfig
from sim.crowd.orca_robot import orca_robot_actions
from sim.crowd.render import FrameRenderer, save_video
from sim.crowd.rewards import OUTCOMES
from sim.crowd.vector_env import CrowdNavVectorEnv


@dataclass
class RolloutSummary:
    """HEIGHT's evaluation numbers over ``episodes`` finished episodes."""

    episodes: int
    success: float
    collision: float
    timeout: float
    nav_time: float
    """mean time of successful episodes (s)"""
    path_length: float
    """mean path length of successful episodes (m)"""
    intrusion_ratio: float
    min_distance: float
    """mean over episodes of the closest robot–human surface distance (m)"""
    outcomes: dict[str, int]

    def line(self) -> str:
        return (f"episodes={self.episodes} success={self.success:.2f} collision={self.collision:.2f} "
                f"timeout={self.timeout:.2f} nav_time={self.nav_time:.2f}s path_length={self.path_length:.2f}m "
                f"intrusion={self.intrusion_ratio:.3f} min_dist={self.min_distance:.3f}m")


def run_orca_rollouts(cfg: CrowdSimConfig, episodes: int, seed: int, video: Path | None,
                      progress: bool = True) -> RolloutSummary:
    """Run ``episodes`` episodes (one per scene, seeds ``seed …``) with the ORCA robot; film scene 0."""
    cfg = cfg.override(holonomic=True, continuous_actions=True)
    env = CrowdNavVectorEnv(episodes, config=cfg)
    obs, _ = env.reset(seed=seed)
    renderer = FrameRenderer(cfg) if video is not None else None
    frames = []
    finished = np.zeros(episodes, dtype=bool)
    ep: dict[str, np.ndarray] = {k: np.zeros(episodes) for k in ("t", "path_length", "intrusion_ratio",
                                                                  "min_distance")}
    outcome = np.empty(episodes, dtype=object)
    bar = tqdm(total=episodes, desc="orca rollouts", unit="ep", disable=not progress)
    while not finished.all():
        if renderer is not None and not finished[0]:  # scene 0 before this step (its final state below)
            frames.append(renderer.draw(env.batch, 0, {k: v[0] for k, v in obs.items()}))
        obs, _, term, trunc, info = env.step(orca_robot_actions(env.batch))
        if renderer is not None and (term[0] or trunc[0]) and not finished[0]:
            frames.append(renderer.draw(env.batch, 0, {k: v[0] for k, v in obs.items()}))
        new = (term | trunc) & ~finished
        for k in ep:
            ep[k][new] = info["episode"][k][new] if new.any() else 0.0
        outcome[new] = info["outcome"][new]
        finished |= new
        bar.update(int(new.sum()))
    bar.close()
    if renderer is not None:
        save_video(frames, video, fps=1.0 / cfg.dt)
    ok = outcome == "success"
    coll = np.array([str(o).startswith("collision") for o in outcome])
    return RolloutSummary(
        episodes=episodes,
        success=float(ok.mean()),
        collision=float(coll.mean()),
        timeout=float((outcome == "timeout").mean()),
        nav_time=float(ep["t"][ok].mean()) if ok.any() else float("nan"),
        path_length=float(ep["path_length"][ok].mean()) if ok.any() else float("nan"),
        intrusion_ratio=float(ep["intrusion_ratio"].mean()),
        min_distance=float(ep["min_distance"].mean()),
        outcomes={o: int((outcome == o).sum()) for o in OUTCOMES[1:]},
    )
