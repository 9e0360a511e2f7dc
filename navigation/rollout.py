"""Collecting fixed-length rollouts from a gymnasium vector env (NEXT_STEP autoreset) with a recurrent policy.

Storage is ``[E, T, ...]`` (envs, steps) so a minibatch of whole env sequences can be replayed through the
GRU from the state it had at the rollout's first step. With NEXT_STEP autoreset the observation after the
step that ends an episode is that episode's final observation, so a timeout (``truncated``) is bootstrapped
from its value, which the next step computes anyway; that next step only resets the env (its action is
ignored, reward 0) and is marked ``valid = 0`` so it never enters the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium.vector import VectorEnv

from navigation.baselines.common import CommandTracker, RobotLimits
from navigation.envs import finished_episodes
from navigation.networks.policy import ActorCritic
from navigation.observation import KEYS, to_tensors, with_command


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
    labels: torch.Tensor | None = None
    """the behaviour's label for each step (an expert's action, for imitation); None without a behaviour"""


#: ``(obs (numpy, [E] leading), first [E] bool, learner actions [E(, d)]) -> (executed actions, labels)``
Behaviour = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class RolloutCollector:
    """Steps ``envs`` with ``policy`` for ``num_steps`` per call, carrying observations and GRU state across calls.

    With a ``behaviour`` (DAgger, :mod:`navigation.imitation`), the executed action and a label per step come
    from it; the policy's sampled action is only its proposal, and ``log_probs`` are then not those of the
    executed actions (imitation does not read them).
    """

    def __init__(self, envs: VectorEnv, policy: ActorCritic, num_steps: int, limits: RobotLimits,
                 behaviour: Behaviour | None = None, deterministic: bool = False) -> None:
        self.envs, self.policy, self.num_steps, self.behaviour = envs, policy, num_steps, behaviour
        self.deterministic = deterministic  # the policy proposes its most likely action instead of a sample
        self.n = envs.num_envs
        self.command = CommandTracker(limits, self.n)
        self.obs_np: dict[str, np.ndarray] | None = None

    def restart(self, seed: int) -> None:
        """Reset every env (env ``i`` seeded ``seed + i``) and the recurrent state."""
        self.obs_np, _ = self.envs.reset(seed=seed)  # gymnasium vector envs seed env i with seed + i
        self.state = self.policy.initial_state(self.n)
        self.masks = torch.zeros(self.n)
        self.resetting = torch.zeros(self.n, dtype=torch.bool)  # this step only resets the env

    def _observe(self) -> dict[str, torch.Tensor]:
        """The current observation as tensors, with the command (zeroed where an episode starts)."""
        self.command.reset((self.masks == 0).numpy())
        return to_tensors(with_command(self.obs_np, self.command.cmd))

    def collect(self) -> tuple[Rollout, list[dict[str, Any]]]:
        """``num_steps`` steps of every env → the rollout and the metrics of episodes that ended in it."""
        if self.obs_np is None:
            raise RuntimeError("RolloutCollector.collect() before restart()")
        keys = ("actions", "log_probs", "values", "rewards", "dones", "terminated", "valid", "masks")
        steps: dict[str, list[torch.Tensor]] = {k: [] for k in keys + ("labels",)}
        obs_steps: list[dict[str, torch.Tensor]] = []
        state0 = self.state.clone()
        episodes: list[dict[str, Any]] = []
        for _ in range(self.num_steps):
            obs_t = self._observe()
            action, log_prob, value, self.state = self.policy.act(obs_t, self.state, self.masks, self.deterministic)
            obs_steps.append(obs_t)
            executed = action.numpy()
            if self.behaviour is not None:
                executed, label = self.behaviour(self.obs_np, (self.masks == 0).numpy(), executed)
                action = torch.as_tensor(executed)
                steps["labels"].append(torch.as_tensor(label))
            self.command.apply(executed)
            obs, reward, term, trunc, info = self.envs.step(executed)
            term_t, done_t = torch.as_tensor(term), torch.as_tensor(term | trunc)
            episodes += [m for _, m in finished_episodes(info, term | trunc)]
            for key, val in (("actions", action), ("log_probs", log_prob), ("values", value),
                             ("rewards", torch.as_tensor(reward, dtype=torch.float32)),
                             ("dones", done_t | self.resetting), ("terminated", term_t | self.resetting),
                             ("valid", (~self.resetting).float()), ("masks", self.masks)):
                steps[key].append(val)
            self.obs_np = obs
            self.masks = torch.where(self.resetting, 0.0, 1.0)  # the obs after a reset step starts an episode
            self.resetting = done_t
        _, _, bootstrap, _ = self.policy.act(self._observe(), self.state, self.masks)
        label_steps = steps.pop("labels")
        labels = torch.stack(label_steps, dim=1) if label_steps else None
        stacked = {k: torch.stack(v, dim=1) for k, v in steps.items()}
        next_values = torch.cat([stacked["values"][:, 1:], bootstrap[:, None]], dim=1)
        next_values = torch.where(stacked["terminated"], 0.0, next_values)
        obs_t = {k: torch.stack([o[k] for o in obs_steps], dim=1) for k in KEYS}
        return Rollout(obs=obs_t, next_values=next_values, state0=state0, labels=labels, **stacked), episodes
