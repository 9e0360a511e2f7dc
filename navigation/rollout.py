"""Collecting fixed-length rollouts from a gymnasium vector env (NEXT_STEP autoreset) with a recurrent policy.

Storage is ``[E, T, ...]`` (envs, steps) so a minibatch of whole env sequences can be replayed through the
GRU from the state it had at the rollout's first step. With NEXT_STEP autoreset the observation after the
step that ends an episode is that episode's final observation, so a timeout (``truncated``) is bootstrapped
from its value, which the next step computes anyway; that next step only resets the env (its action is
ignored, reward 0) and is marked ``valid = 0`` so it never enters the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    """the GAE chain stops after step t (episode ended, or step t was a reset step)"""
    terminated: torch.Tensor
    valid: torch.Tensor
    """1 for real decisions, 0 for autoreset steps (excluded from the loss)"""
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
        obs, _ = self.envs.reset(seed=seed)  # gymnasium vector envs seed env i with seed + i
        self.obs = to_tensors(obs)
        self.state = self.policy.initial_state(self.n)
        self.masks = torch.zeros(self.n)
        self.resetting = torch.zeros(self.n, dtype=torch.bool)  # this step only resets the env

    def collect(self) -> tuple[Rollout, list[dict[str, Any]]]:
        """``num_steps`` steps of every env → the rollout and the metrics of episodes that ended in it."""
        if self.obs is None:
            raise RuntimeError("RolloutCollector.collect() before restart()")
        keys = ("actions", "log_probs", "values", "rewards", "dones", "terminated", "valid", "masks")
        steps: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
        obs_steps: list[dict[str, torch.Tensor]] = []
        state0 = self.state.clone()
        episodes: list[dict[str, Any]] = []
        for _ in range(self.num_steps):
            action, log_prob, value, self.state = self.policy.act(self.obs, self.state, self.masks)
            obs_steps.append(self.obs)
            obs, reward, term, trunc, info = self.envs.step(action.numpy())
            term_t, done_t = torch.as_tensor(term), torch.as_tensor(term | trunc)
            episodes += [m for _, m in finished_episodes(info, term | trunc)]
            for key, val in (("actions", action), ("log_probs", log_prob), ("values", value),
                             ("rewards", torch.as_tensor(reward, dtype=torch.float32)),
                             ("dones", done_t | self.resetting), ("terminated", term_t | self.resetting),
                             ("valid", (~self.resetting).float()), ("masks", self.masks)):
                steps[key].append(val)
            self.obs = to_tensors(obs)
            self.masks = torch.where(self.resetting, 0.0, 1.0)  # the obs after a reset step starts an episode
            self.resetting = done_t
        _, _, bootstrap, _ = self.policy.act(self.obs, self.state, self.masks)
        stacked = {k: torch.stack(v, dim=1) for k, v in steps.items()}
        next_values = torch.cat([stacked["values"][:, 1:], bootstrap[:, None]], dim=1)
        next_values = torch.where(stacked["terminated"], 0.0, next_values)
        obs_t = {k: torch.stack([o[k] for o in obs_steps], dim=1) for k in KEYS}
        return Rollout(obs=obs_t, next_values=next_values, state0=state0, **stacked), episodes
