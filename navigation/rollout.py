"""Collecting fixed-length rollouts from a gymnasium vector env with a recurrent policy.

Storage is ``[E, T, ...]`` (envs, steps) so a minibatch of whole env sequences can be replayed through the
GRU from the state it had at the rollout's first step. Timeouts (``truncated``) are bootstrapped: the value
of the episode's final observation (``info["final_obs"]``) is computed with the state the policy had then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium.vector import VectorEnv

from navigation.envs import finished_episodes
from navigation.networks.policy import ActorCritic
from navigation.observation import KEYS, to_tensors


@dataclass
class Rollout:
    """One rollout; every tensor is ``[E, T, ...]`` except ``state0`` ``[E, S]``."""

    obs: dict[str, torch.Tensor]
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    next_values: torch.Tensor
    """value of the observation after step t (0 where the episode terminated)"""
    rewards: torch.Tensor
    dones: torch.Tensor
    """episode ended at step t (terminated or truncated)"""
    terminated: torch.Tensor
    masks: torch.Tensor
    """0 where step t is the first of an episode (the GRU state is reset before it)"""
    state0: torch.Tensor


class RolloutCollector:
    """Steps ``envs`` with ``policy`` for ``num_steps`` per call, carrying observations and GRU state across calls."""

    def __init__(self, envs: VectorEnv, policy: ActorCritic, num_steps: int) -> None:
        self.envs, self.policy, self.num_steps = envs, policy, num_steps
        self.n = envs.num_envs
        self.obs: dict[str, torch.Tensor] | None = None

    def restart(self, seed: int) -> None:
        """Reset every env (env ``i`` seeded ``seed + i``) and the recurrent state."""
        obs, _ = self.envs.reset(seed=[seed + i for i in range(self.n)])
        self.obs = to_tensors(obs)
        self.state = self.policy.initial_state(self.n)
        self.masks = torch.zeros(self.n)

    def collect(self) -> tuple[Rollout, list[dict[str, Any]]]:
        """``num_steps`` steps of every env → the rollout and the metrics of episodes that ended in it."""
        if self.obs is None:
            raise RuntimeError("RolloutCollector.collect() before restart()")
        steps: dict[str, list[torch.Tensor]] = {k: [] for k in ("actions", "log_probs", "values", "rewards",
                                                                "dones", "terminated", "masks")}
        obs_steps: list[dict[str, torch.Tensor]] = []
        truncated_values: list[tuple[int, int, torch.Tensor]] = []
        state0 = self.state.clone()
        episodes: list[dict[str, Any]] = []
        for t in range(self.num_steps):
            action, log_prob, value, self.state = self.policy.act(self.obs, self.state, self.masks)
            obs_steps.append(self.obs)
            steps["masks"].append(self.masks)
            obs, reward, term, trunc, info = self.envs.step(action.numpy())
            done = term | trunc
            for i in np.flatnonzero(trunc & ~term):
                final = to_tensors({k: info["final_obs"][i][k][None] for k in KEYS})
                _, _, v, _ = self.policy.act(final, self.state[i : i + 1], torch.ones(1))
                truncated_values.append((int(i), t, v[0]))
            episodes += [m for _, m in finished_episodes(info, done)]
            for key, val in (("actions", action), ("log_probs", log_prob), ("values", value),
                             ("rewards", torch.as_tensor(reward, dtype=torch.float32)),
                             ("dones", torch.as_tensor(done)), ("terminated", torch.as_tensor(term))):
                steps[key].append(val)
            self.obs = to_tensors(obs)
            self.masks = (~torch.as_tensor(done)).float()
        _, _, bootstrap, _ = self.policy.act(self.obs, self.state, self.masks)
        stacked = {k: torch.stack(v, dim=1) for k, v in steps.items()}
        next_values = torch.cat([stacked["values"][:, 1:], bootstrap[:, None]], dim=1)
        for i, t, v in truncated_values:
            next_values[i, t] = v
        next_values = torch.where(stacked["terminated"], 0.0, next_values)
        obs_t = {k: torch.stack([o[k] for o in obs_steps], dim=1) for k in KEYS}
        return Rollout(obs=obs_t, next_values=next_values, state0=state0, **stacked), episodes
