"""One episode of a policy rendered by the simulator (``render_mode="rgb_array"``) and written as an mp4."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np

from navigation.config import EnvConfig
from navigation.envs import make_env
from navigation.policies import RobotPolicy
from sim.atomic import atomic_path


def record_episode(policy: RobotPolicy, env_cfg: EnvConfig, seed: int, out: Path, every: int = 1,
                   max_frames: int = 600) -> str:
    """Run one episode (env seed ``seed``), write every ``every``-th frame to ``out`` (mp4, atomic).

    Returns the episode outcome.
    """
    env = make_env(env_cfg, render_mode="rgb_array")
    obs, _ = env.reset(seed=seed)
    policy.reset(1)
    frames = [env.render()]
    first, outcome, step = np.ones(1, dtype=bool), "running", 0
    while True:
        action = policy.act({k: v[None] for k, v in obs.items()}, first)[0]
        obs, _, term, trunc, info = env.step(action)
        first[:] = False
        step += 1
        if step % every == 0 and len(frames) < max_frames:
            frames.append(env.render())
        if term or trunc:
            outcome = info["outcome"]
            break
    frames.append(env.render())
    env.close()
    fps = max(1, int(round(env.metadata.get("render_fps", 10) / every)))
    with atomic_path(out, suffix=".mp4") as tmp:
        iio.imwrite(tmp, np.stack(frames), extension=".mp4", fps=fps, codec="libx264")
    return outcome
