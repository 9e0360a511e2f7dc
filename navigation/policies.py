"""Every robot policy behind one interface, so evaluation and benchmarks treat learned and classic alike.

``reset(n)`` before a batch of ``n`` envs; ``act(obs, first)`` with the vector-env observation dict
(leading ``[N]``) and ``first`` ``[N]`` bool (True where an episode starts) → actions for ``env.step``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from navigation.baselines import (
    DWAPolicy,
    OrcaRobotPolicy,
    PlanningDWAPolicy,
    SamplingMPCPolicy,
    SocialForceRobotPolicy,
)
from navigation.baselines.common import CommandTracker, RobotLimits, robot_limits
from navigation.checkpoint import load_checkpoint
from navigation.config import EnvConfig, config_from_dict
from navigation.envs import make_env
from navigation.networks import ActorCritic, build_policy
from navigation.observation import to_tensors, with_command

#: classic policies by name
CLASSIC = {"orca": OrcaRobotPolicy, "social_force": SocialForceRobotPolicy, "dwa": DWAPolicy,
           "dwa_plan": PlanningDWAPolicy, "mpc": SamplingMPCPolicy}


class RobotPolicy(Protocol):
    name: str

    def reset(self, n: int) -> None: ...

    def act(self, obs: dict[str, np.ndarray], first: np.ndarray) -> np.ndarray: ...


class LearnedPolicy:
    """An :class:`ActorCritic` acting greedily (argmax / Gaussian mean, as HEIGHT's test) or by sampling."""

    def __init__(self, net: ActorCritic, name: str, limits: RobotLimits, deterministic: bool = True) -> None:
        self.net, self.name, self.limits, self.deterministic = net.eval(), name, limits, deterministic

    def reset(self, n: int) -> None:
        self.state = self.net.initial_state(n)
        self.command = CommandTracker(self.limits, n)

    def act(self, obs: dict[str, np.ndarray], first: np.ndarray) -> np.ndarray:
        masks = torch.as_tensor(~first, dtype=torch.float32)
        self.command.reset(first)
        obs_t = to_tensors(with_command(obs, self.command.cmd))
        action, _, _, self.state = self.net.act(obs_t, self.state, masks, self.deterministic)
        self.command.apply(action.numpy())
        return action.numpy()


def load_learned(path: str | Path, env_cfg: EnvConfig, name: str | None = None) -> LearnedPolicy:
    """A trained policy from a checkpoint, built for ``env_cfg``'s spaces (padding sizes may differ)."""
    ckpt = load_checkpoint(path)
    cfg = config_from_dict(ckpt["config"])
    env = make_env(env_cfg)
    limits = robot_limits(env_cfg.env_id, env_cfg.overrides)
    net = build_policy(cfg.network, env.observation_space, env.action_space, limits)
    env.close()
    try:
        net.load_state_dict(ckpt["policy"])
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not fit {env_cfg.env_id} ({exc})") from exc
    return LearnedPolicy(net, name or Path(path).stem, limits)


def make_policy(spec: str, env_cfg: EnvConfig) -> RobotPolicy:
    """A classic policy by name (``CLASSIC``), or ``NAME=path/to/checkpoint.pt`` (or a bare path)."""
    if spec in CLASSIC:
        return CLASSIC[spec](robot_limits(env_cfg.env_id, env_cfg.overrides))
    name, _, path = spec.rpartition("=")
    if not Path(path).is_file():
        raise ValueError(f"policy {spec!r}: neither one of {sorted(CLASSIC)} nor an existing checkpoint file")
    return load_learned(path, env_cfg, name or None)
