"""``pernav nav imitate CONFIG``: DAgger warm start (Ross et al. 2011) of a learned policy from a classic expert.

Why this exists: HEIGHT trains with PPO from scratch for 10^7–10^8 env steps on a GPU workstation. On this
2-core machine PPO from scratch reached 0.00 success after 864k env steps (about an hour). So the network first
learns from a classic planner (DWA by default) on the states it visits itself, and PPO (``pernav nav train``
with ``init_from``) fine-tunes it on the env's reward. The expert reads only the public observation, like the
policy.

Each iteration collects ``ppo.num_steps`` steps of every env with :class:`ExpertMixer` as the behaviour (the
expert's action with probability β, else a sample from the learner; β decays linearly to 0), labels every step
with the expert's action, keeps the newest ``imitation.buffer`` rollouts (DAgger's aggregated data set,
bounded), and takes ``imitation.epochs`` passes of gradient steps on whole env sequences replayed through
the GRU from their stored start state: negative log-likelihood of the labels for the actor, squared error to
GAE targets for the critic (so PPO starts from a fitted critic). Single process; checkpoints are in the
training format (``pernav nav eval`` and ``init_from`` read them). A resumed run starts from the checkpoint's
weights with re-seeded envs and an empty buffer, so it continues the run but does not replay it bit for bit.
A new run may start from another run's weights (``init_from``), e.g. to continue with a stronger expert.
"""

from __future__ import annotations

import math
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from navigation.baselines import DWAPolicy
from navigation.baselines.common import robot_limits
from navigation.checkpoint import load_checkpoint, save_checkpoint
from navigation.config import TrainConfig, config_to_dict
from navigation.envs import make_vector_env
from navigation.networks import ActorCritic, build_policy
from navigation.policies import RobotPolicy, make_policy
from navigation.ppo import gae
from navigation.rollout import Rollout, RolloutCollector
from navigation.train import CHECKPOINT, segment_seed


class ExpertMixer:
    """DAgger's behaviour: executes the expert's action with probability ``beta`` (per env and step), else the
    learner's; the label is always the expert's action, or with ``label_temperature > 0`` a distribution over
    actions, ``softmax(values / τ)`` of the expert's per-action values (``[E, 9]``; DWA-family experts, discrete
    actions), so the learner is also told which actions are nearly as good and which the expert rules out.

    Classic policies track the command they modify (``CommandTracker``); after each step the tracker is set to
    the command the *executed* action produced, so the expert labels the state the env is really in.
    """

    def __init__(self, expert: RobotPolicy, n: int, seed: int, label_temperature: float = 0.0) -> None:
        expert.reset(n)
        tracker = getattr(expert, "tracker", None)
        if tracker is None:
            raise ValueError(f"expert {expert.name!r}: has no command tracker (only classic policies can teach)")
        self.expert, self.tracker = expert, tracker
        self.discrete = not tracker.lim.continuous  # the env's action space, as the expert's tracker knows it
        if label_temperature > 0 and not (self.discrete and isinstance(expert, DWAPolicy)):
            raise ValueError(f"label_temperature={label_temperature}: needs discrete actions and an expert that "
                             f"scores each action (dwa, dwa_plan, mpc), got {expert.name!r}")
        self.label_temperature = label_temperature
        self.rng = np.random.default_rng(seed)
        self.beta = 1.0

    def __call__(self, obs: dict[str, np.ndarray], first: np.ndarray,
                 learner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """obs ``[E, ...]``, first ``[E]`` bool, learner actions ``[E]`` → (executed ``[E]``, labels ``[E]`` or
        ``[E, 9]``)."""
        previous = np.where(first[:, None], 0.0, self.tracker.cmd)
        chosen = np.asarray(self.expert.act(obs, first))  # moves the tracker to the expert's choice …
        use_expert = self.rng.random(len(first)) < self.beta
        if self.discrete:
            executed = np.where(use_expert, chosen, learner).astype(np.int64)
        else:
            executed = np.where(use_expert[:, None], chosen, learner).astype(np.float32)
        self.tracker.cmd = previous
        self.tracker.apply(executed)  # … so put it where the executed action really leads
        if self.label_temperature > 0:
            values = self.expert.action_values  # [E, 9], −inf for actions no plan starts with
            logits = (values - values.max(axis=1, keepdims=True)) / self.label_temperature
            soft = np.exp(logits)
            return executed, (soft / soft.sum(axis=1, keepdims=True)).astype(np.float32)
        return executed, chosen


def beta_at(iteration: int, beta_start: float, beta_iterations: int) -> float:
    """Linearly decaying expert probability: ``beta_start`` at iteration 0, 0 from ``beta_iterations`` on."""
    return beta_start * max(0.0, 1.0 - iteration / beta_iterations)


def _sequences(rollout: Rollout, gamma: float, lmbda: float) -> dict[str, Any]:
    """What training keeps of a rollout: obs / masks / labels / valid / value targets ``[E, T, ...]``, and
    the GRU state ``[E, S]`` at its start."""
    _, target = gae(rollout, gamma, lmbda)
    assert rollout.labels is not None
    return {"obs": rollout.obs, "state0": rollout.state0, "masks": rollout.masks, "labels": rollout.labels,
            "valid": rollout.valid, "target": target}


def imitation_loss(policy: ActorCritic, batch: dict[str, Any], value_coef: float, near_human_weight: float = 0.0,
                   near_human_dist: float = 1.5) -> dict[str, torch.Tensor]:
    """Label NLL + ``value_coef`` × squared error to the value targets, over valid steps of ``[B, T]`` sequences.

    Labels are actions ``[B, T]`` or distributions over them ``[B, T, n]`` (soft labels; the NLL is then the
    cross-entropy). The NLL of a step with a visible human closer than ``near_human_dist`` counts
    ``1 + near_human_weight`` times. Also returns the share of valid steps where the learner's most likely action
    is the label, or one of the soft label's most likely (discrete).
    """
    params, value, _ = policy(batch["obs"], batch["state0"], batch["masks"])
    valid = batch["valid"]
    count = valid.sum().clamp(min=1)
    weight = valid
    if near_human_weight > 0:
        obs = batch["obs"]
        dist = torch.linalg.vector_norm(obs["spatial_edges"][..., 0:2].float(), dim=-1)  # [B, T, H]
        near = ((dist < near_human_dist) & (obs["human_mask"] > 0)).any(-1)  # [B, T]
        weight = valid * (1.0 + near_human_weight * near.to(valid.dtype))
    labels = batch["labels"]
    soft = policy.discrete and labels.dim() == params["logits"].dim()
    if soft:  # 0 · log p is 0 even where p underflows
        log_prob = (labels * params["logits"].log_softmax(-1).clamp(min=-1e4)).sum(-1)
    else:
        log_prob = policy.distribution(params).log_prob(labels)
    nll = -(log_prob * weight).sum() / weight.sum().clamp(min=1)
    critic = (((value - batch["target"]) ** 2) * valid).sum() / count
    out = {"nll": nll, "value_loss": critic, "total": nll + value_coef * critic}
    if policy.discrete:
        best = params["logits"].argmax(-1)
        agree = (labels.gather(-1, best[..., None])[..., 0] >= labels.max(-1).values if soft else best == labels)
        agree = agree.float()
        out["agreement"] = ((agree * valid).sum() / count).detach()
    return out


def _concat(buffer: deque[dict[str, Any]]) -> dict[str, Any]:
    first = buffer[0]
    out: dict[str, Any] = {k: torch.cat([b[k] for b in buffer]) for k in first if k != "obs"}
    out["obs"] = {k: torch.cat([b["obs"][k] for b in buffer]) for k in first["obs"]}
    return out


def _select(data: dict[str, Any], idx: torch.Tensor) -> dict[str, Any]:
    out = {k: v[idx] for k, v in data.items() if k != "obs"}
    out["obs"] = {k: v[idx] for k, v in data["obs"].items()}
    return out


def imitate(cfg: TrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Run (or resume) DAgger as configured (``cfg.imitation``, env counts from ``cfg.ppo``); returns a summary.

    The checkpoint is ``<out_dir>/checkpoint.pt`` in the training format, with ``stage: "imitation"``.
    """
    cfg.validate()
    im, ppo = cfg.imitation, cfg.ppo
    torch.set_num_threads(cfg.torch_threads)
    out = Path(cfg.out_dir)
    ckpt_path = out / CHECKPOINT
    envs = make_vector_env(cfg.env, ppo.num_envs)
    torch.manual_seed(cfg.seed)
    limits = robot_limits(cfg.env.env_id, cfg.env.overrides)
    policy = build_policy(cfg.network, envs.single_observation_space, envs.single_action_space, limits)
    optimizer = torch.optim.Adam(policy.parameters(), lr=im.lr, eps=ppo.adam_eps)
    start, env_steps, wall0 = 0, 0, 0.0
    if resume:
        saved = load_checkpoint(ckpt_path)
        if saved.get("stage") != "imitation":
            raise ValueError(f"{ckpt_path}: not an imitation checkpoint (stage={saved.get('stage')!r})")
        policy.load_state_dict(saved["policy"])
        optimizer.load_state_dict(saved["optimizer"])
        for group in optimizer.param_groups:  # the config's learning rate wins over the one saved
            group["lr"] = im.lr
        start, env_steps, wall0 = saved["update"], saved["env_steps"], saved["wall_s"]
    elif ckpt_path.exists():
        raise FileExistsError(f"{ckpt_path} exists: pass --resume to continue it or choose another out_dir")
    elif cfg.init_from:  # e.g. a DAgger run on a weaker expert, continued with a stronger one
        policy.load_state_dict(load_checkpoint(cfg.init_from)["policy"])
    seed = segment_seed(cfg.seed, 0, start)
    torch.manual_seed(seed)
    mixer = ExpertMixer(make_policy(im.expert, cfg.env), ppo.num_envs, seed, im.label_temperature)
    collector = RolloutCollector(envs, policy, ppo.num_steps, limits, behaviour=mixer)
    collector.restart(seed % 2**31)
    out.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(out / "tb"), purge_step=env_steps if resume else None)
    buffer: deque[dict[str, Any]] = deque(maxlen=im.buffer)
    recent: deque[dict[str, Any]] = deque(maxlen=100)
    bar = tqdm(range(start, im.iterations), initial=start, total=im.iterations, desc=f"dagger<{im.expert}",
               unit="it", disable=not progress)
    t_run = time.perf_counter()
    for it in bar:
        mixer.beta = beta_at(it, im.beta_start, im.beta_iterations)
        policy.eval()
        rollout, episodes = collector.collect()
        env_steps += ppo.num_envs * ppo.num_steps
        if mixer.beta == 0.0:  # only the learner acted: these episodes measure it
            recent.extend(episodes)
        buffer.append(_sequences(rollout, ppo.gamma, ppo.gae_lambda))
        data = _concat(buffer)
        policy.train()
        n_seq = len(data["state0"])
        sums: dict[str, float] = {}
        steps = 0
        for idx in torch.cat([torch.randperm(n_seq) for _ in range(im.epochs)]).split(im.batch_sequences):
            losses = imitation_loss(policy, _select(data, idx), im.value_coef, im.near_human_weight,
                                    im.near_human_dist)
            optimizer.zero_grad()
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), im.max_grad_norm)
            optimizer.step()
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            steps += 1
        stats = {k: v / steps for k, v in sums.items()}
        success = float(np.mean([e["outcome"] == "success" for e in recent])) if recent else math.nan
        if (it + 1) % cfg.log_every == 0:
            for k, v in stats.items():
                writer.add_scalar(f"imitation/{k}", v, env_steps)
            writer.add_scalar("imitation/beta", mixer.beta, env_steps)
            if recent:
                writer.add_scalar("charts/success_rate", success, env_steps)
        bar.set_postfix(beta=f"{mixer.beta:.2f}", agree=f"{stats.get('agreement', math.nan):.2f}",
                        success=f"{success:.2f}", refresh=False)
        if (it + 1) % cfg.checkpoint_every == 0 or it + 1 == im.iterations:
            save_checkpoint(ckpt_path, {
                "config": config_to_dict(cfg), "stage": "imitation", "update": it + 1, "env_steps": env_steps,
                "wall_s": wall0 + time.perf_counter() - t_run, "policy": policy.state_dict(),
                "optimizer": optimizer.state_dict(), "train_success_rate": success,
            })
    bar.close()
    envs.close()
    writer.close()
    return {"iterations": im.iterations, "env_steps": env_steps, "wall_s": wall0 + time.perf_counter() - t_run,
            "learner_success_rate": success if recent else math.nan, "checkpoint": ckpt_path}
