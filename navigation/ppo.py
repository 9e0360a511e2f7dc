"""PPO update for the recurrent dict-observation policy, on TorchRL's machinery.

What TorchRL supplies: generalized advantage estimation (``torchrl.objectives.value.functional.
generalized_advantage_estimate``) and the clipped surrogate + critic + entropy losses (``ClipPPOLoss``).
What is written here, and why: TorchRL's collectors and ``GRUModule`` keep one recurrent state per step
inside the tensordict and re-run the GRU step by step from stored states; HEIGHT instead replays whole
30-step sequences from the state at the rollout's start with episode-reset masks (so the gradient flows
through time, as in HEIGHT's ``_forward_gru``). The policy is therefore wrapped as one ``TensorDictModule``
mapping a ``[E, T]`` sequence tensordict to logits and values in a single pass, and the rollout is
collected by :mod:`navigation.rollout` (gymnasium vector env, SAME_STEP autoreset). Actor and critic share
the trunk: the actor module also writes ``value_pred`` and the "critic" handed to ``ClipPPOLoss`` only
renames it, so each minibatch runs the network once.
"""

from __future__ import annotations

import torch
from tensordict import TensorDict
from tensordict.nn import ProbabilisticTensorDictModule, ProbabilisticTensorDictSequential, TensorDictModule
from torch import nn
from torch.distributions import Categorical
from torchrl.modules.distributions import IndependentNormal
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value.functional import generalized_advantage_estimate

from navigation.config import PPOConfig
from navigation.networks.policy import ActorCritic
from navigation.observation import KEYS
from navigation.rollout import Rollout


class _SequenceModule(nn.Module):
    """``(state [E, T, S], masks [E, T], *obs [E, T, ...]) -> (*dist params, value [E, T, 1])``; only
    ``state[:, 0]`` is read (the state at the sequence start)."""

    def __init__(self, net: nn.Module, discrete: bool) -> None:
        super().__init__()
        self.net, self.discrete = net, discrete

    def forward(self, state: torch.Tensor, masks: torch.Tensor, *obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        params, value, _ = self.net(dict(zip(KEYS, obs, strict=True)), state[:, 0], masks)
        dist = (params["logits"],) if self.discrete else (params["loc"], params["scale"])
        return (*dist, value[..., None])


def gae(rollout: Rollout, gamma: float, lmbda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """TorchRL GAE on a rollout → advantage, value target, both ``[E, T]``."""
    adv, target = generalized_advantage_estimate(
        gamma, lmbda,
        state_value=rollout.values[..., None],
        next_state_value=rollout.next_values[..., None],
        reward=rollout.rewards[..., None],
        done=rollout.dones[..., None],
        terminated=rollout.terminated[..., None],
        time_dim=-2,
    )
    return adv[..., 0], target[..., 0]


_LOGGED = ("loss_objective", "loss_critic", "loss_entropy", "entropy", "clip_fraction", "kl_approx")


def _masked_mean(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of a per-step loss ``[E, T(, 1)]`` over valid steps (already-reduced scalars pass through)."""
    if x.numel() != valid.numel():
        return x.mean()
    return (x.reshape(valid.shape) * valid).sum() / valid.sum().clamp(min=1)


class PPO:
    """Clipped PPO on sequences of whole env rollouts (minibatches split over envs, as HEIGHT).

    ``net`` is the module called for the loss (the policy itself, or its ``DistributedDataParallel``
    wrapper); ``policy`` is the bare :class:`ActorCritic` (parameters, distribution type).
    """

    def __init__(self, net: nn.Module, policy: ActorCritic, cfg: PPOConfig, total_updates: int) -> None:
        self.policy, self.cfg = policy, cfg
        dist_keys = ["logits"] if policy.discrete else ["loc", "scale"]
        module = TensorDictModule(
            _SequenceModule(net, policy.discrete),
            in_keys=["state", "masks"] + [("obs", k) for k in KEYS],
            out_keys=[*dist_keys, "value_pred"],
        )
        actor = ProbabilisticTensorDictSequential(
            module,
            ProbabilisticTensorDictModule(
                in_keys=dist_keys, out_keys=["action"], return_log_prob=True,
                distribution_class=Categorical if policy.discrete else IndependentNormal,
            ),
        )
        critic = TensorDictModule(nn.Identity(), in_keys=["value_pred"], out_keys=["state_value"])
        self.loss = ClipPPOLoss(
            actor, critic, clip_epsilon=cfg.clip, entropy_coeff=cfg.entropy_coef, critic_coeff=cfg.value_coef,
            loss_critic_type="l2", normalize_advantage=False, functional=False, reduction="none",
        )
        self.loss.set_keys(sample_log_prob="log_prob")
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        decay = (lambda u: max(0.0, 1.0 - u / total_updates)) if cfg.linear_lr_decay else (lambda u: 1.0)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, decay)

    def update(self, rollout: Rollout) -> dict[str, float]:
        """``epochs × num_minibatches`` gradient steps on one rollout; returns mean losses and diagnostics."""
        cfg = self.cfg
        adv, target = gae(rollout, cfg.gamma, cfg.gae_lambda)
        real = rollout.valid.bool()
        adv = torch.where(real, (adv - adv[real].mean()) / (adv[real].std() + 1e-5), 0.0)
        e, t = rollout.rewards.shape
        td = TensorDict(
            {
                "obs": TensorDict(rollout.obs, batch_size=[e, t]),
                "state": rollout.state0[:, None].expand(e, t, -1),
                "masks": rollout.masks,
                "action": rollout.actions,
                "log_prob": rollout.log_probs,
                "advantage": adv[..., None],
                "value_target": target[..., None],
                "valid": rollout.valid,
            },
            batch_size=[e, t],
        )
        sums: dict[str, float] = {}
        n = 0
        for _ in range(cfg.epochs):
            for idx in torch.randperm(e).chunk(cfg.num_minibatches):
                mb = td[idx]
                out = self.loss(mb)
                valid = mb["valid"]
                out = {k: _masked_mean(v, valid) for k, v in out.items() if k in _LOGGED}
                total = out["loss_objective"] + out["loss_critic"] + out["loss_entropy"]
                self.optimizer.zero_grad()
                total.backward()
                grad_norm = nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
                self.optimizer.step()
                for key in _LOGGED:
                    sums[key] = sums.get(key, 0.0) + float(out[key].detach())
                sums["grad_norm"] = sums.get("grad_norm", 0.0) + float(grad_norm)
                n += 1
        self.scheduler.step()
        stats = {k: v / n for k, v in sums.items()}
        stats["value_target_mean"] = float(target.mean())
        return stats
