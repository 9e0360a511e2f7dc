"""Recurrent actor-critic around a trunk: HEIGHT's heads (MLP 128 → 256 → 256, tanh) and distributions.

Discrete actions: Categorical over the env's ``Discrete(n)`` (HEIGHT: 9 velocity increments). Continuous:
diagonal Gaussian with a state-independent log standard deviation (as HEIGHT's ``DiagGaussian``).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from torch import nn
from torch.distributions import Categorical, Distribution
from torchrl.modules.distributions import IndependentNormal

from navigation.networks.layers import mlp
from navigation.networks.stop_mask import StopPathMask
from navigation.observation import encode


class ActorCritic(nn.Module):
    """``forward(obs [B, T, ...], state [B, S], masks [B, T]) -> (dist params, value [B, T], state [B, S])``.

    ``obs`` is the raw observation dict as tensors (see ``navigation.observation.to_tensors``); ``masks`` is 0
    at the first step of an episode. Dist params: ``{"logits": [B, T, n]}`` or ``{"loc", "scale": [B, T, d]}``.
    With ``stop_mask`` the logits of inadmissible increments are set to the lowest float, so they are never
    sampled nor chosen.
    """

    def __init__(self, trunk: nn.Module, action_space: gym.Space, head_size: int, lidar_clip: float,
                 stop_mask: StopPathMask | None = None) -> None:
        super().__init__()
        self.trunk, self.lidar_clip, self.stop_mask = trunk, lidar_clip, stop_mask
        self.state_size: int = trunk.state_size
        feat = trunk.feature_size
        self.actor = mlp([feat, head_size, head_size], activation=nn.Tanh)
        self.critic = nn.Sequential(mlp([feat, head_size, head_size], activation=nn.Tanh), nn.Linear(head_size, 1))
        if isinstance(action_space, gym.spaces.Discrete):
            self.discrete = True
            self.action_out = nn.Linear(head_size, int(action_space.n))
        elif isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
            self.discrete = False
            self.action_out = nn.Linear(head_size, action_space.shape[0])
            self.log_std = nn.Parameter(torch.zeros(action_space.shape[0]))
        else:
            raise ValueError(f"action space {action_space}: expected Discrete(n) or a 1-D Box")
        if stop_mask is not None and not self.discrete:
            raise ValueError("network.stop_mask needs the 9 discrete increments, not continuous actions")
        nn.init.orthogonal_(self.action_out.weight, gain=0.01)
        nn.init.zeros_(self.action_out.bias)

    def initial_state(self, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
        """Zero recurrent state ``[batch, state_size]``."""
        return torch.zeros(batch, self.state_size, device=device)

    def forward(
        self, obs: dict[str, torch.Tensor], state: torch.Tensor, masks: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        features, state = self.trunk(encode(obs, self.lidar_clip), state, masks)
        x = self.actor(features)
        if self.discrete:
            logits = self.action_out(x)
            if self.stop_mask is not None:
                logits = logits.masked_fill(~self.stop_mask(obs), torch.finfo(logits.dtype).min)
            params = {"logits": logits}
        else:
            loc = self.action_out(x)
            params = {"loc": loc, "scale": self.log_std.exp().expand_as(loc)}
        return params, self.critic(features)[..., 0], state

    def distribution(self, params: dict[str, torch.Tensor]) -> Distribution:
        """The action distribution for params from :meth:`forward`."""
        return Categorical(logits=params["logits"]) if self.discrete else IndependentNormal(**params)

    @torch.no_grad()
    def act(
        self, obs: dict[str, torch.Tensor], state: torch.Tensor, masks: torch.Tensor, deterministic: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step for ``B`` envs: obs ``[B, ...]``, state ``[B, S]``, masks ``[B]`` →
        action ``[B]`` (or ``[B, d]``), log-prob ``[B]``, value ``[B]``, new state ``[B, S]``."""
        params, value, state = self({k: v[:, None] for k, v in obs.items()}, state, masks[:, None])
        params = {k: v[:, 0] for k, v in params.items()}
        dist = self.distribution(params)
        if deterministic:
            action = params["logits"].argmax(-1) if self.discrete else params["loc"]
        else:
            action = dist.sample()
        return action, dist.log_prob(action), value[:, 0], state
