"""``pernav nav train CONFIG``: PPO training of a navigation policy, one or several processes.

Resumable by construction: the run is cut into *segments* of ``checkpoint_every`` updates. Every segment
starts from re-seeded envs (seed derived from run seed, rank and update index), a re-seeded torch RNG and a
zero GRU state, and ends with an atomic checkpoint (policy, optimizer, LR schedule, counters). A run resumed
from any checkpoint therefore replays exactly the updates an uninterrupted run performs. Several processes
(``torchrun --nproc_per_node=N -m navigation.cli train ...``) each step their own envs and average gradients
through ``DistributedDataParallel`` (gloo on CPU).
"""

from __future__ import annotations

import gc
import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from navigation.baselines.common import robot_limits
from navigation.checkpoint import load_checkpoint, save_checkpoint
from navigation.config import TrainConfig, config_from_dict, config_to_dict
from navigation.envs import make_vector_env
from navigation.networks import build_policy
from navigation.ppo import PPO
from navigation.rollout import RolloutCollector

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainResult:
    """What a finished run reports."""

    updates: int
    env_steps: int
    wall_s: float
    episodes: int
    success_rate: float
    """over the last 100 training episodes (all ranks)"""
    checkpoint: Path


def segment_seed(seed: int, rank: int, update: int) -> int:
    """Seed of the envs and torch RNG for the segment starting at ``update`` on ``rank``."""
    return int(np.random.SeedSequence([seed, rank, update]).generate_state(1)[0])


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises gloo when launched by torchrun with more than one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def _all_gather_episodes(episodes: list[dict[str, Any]], world: int) -> list[dict[str, Any]]:
    if world == 1:
        return episodes
    gathered: list[list[dict[str, Any]]] = [[] for _ in range(world)]
    dist.all_gather_object(gathered, episodes)
    return [e for part in gathered for e in part]


def _check_replicas(policy: torch.nn.Module, world: int) -> float:
    """Largest parameter difference between rank 0 and any other rank (0.0 single-process)."""
    if world == 1:
        return 0.0
    flat = torch.cat([p.detach().flatten() for p in policy.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    diff = (flat - ref).abs().max()
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    return float(diff)


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Run (or resume) PPO training as configured; returns a summary. Checkpoint in ``cfg.out_dir``.

    ``stop_after``: leave after this many updates of this invocation (at a checkpoint boundary, so the run
    can be continued with ``resume=True``); for time-boxed jobs on a shared machine.
    """
    cfg.validate()
    rank, world = _distributed()
    torch.set_num_threads(cfg.torch_threads)
    out = Path(cfg.out_dir)
    ckpt_path = out / CHECKPOINT
    start, env_steps, wall0 = 0, 0, 0.0
    saved: dict[str, Any] | None = None
    if resume:
        saved = load_checkpoint(ckpt_path)
        if saved["config"] != config_to_dict(cfg):
            cfg = config_from_dict(saved["config"])
            if rank == 0:
                print(f"resume: using the config stored in {ckpt_path}")
        start, env_steps, wall0 = saved["update"], saved["env_steps"], saved["wall_s"]
    elif ckpt_path.exists():
        raise FileExistsError(f"{ckpt_path} exists: pass --resume to continue it or choose another out_dir")

    envs = make_vector_env(cfg.env, cfg.ppo.num_envs)
    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every run
    limits = robot_limits(cfg.env.env_id, cfg.env.overrides)
    policy = build_policy(cfg.network, envs.single_observation_space, envs.single_action_space, limits)
    if saved is not None:
        policy.load_state_dict(saved["policy"])
    elif cfg.init_from:
        policy.load_state_dict(load_checkpoint(cfg.init_from)["policy"])
    net: torch.nn.Module = DistributedDataParallel(policy) if world > 1 else policy
    ppo = PPO(net, policy, cfg.ppo, cfg.total_updates)
    if saved is not None:
        ppo.optimizer.load_state_dict(saved["optimizer"])
        ppo.scheduler.load_state_dict(saved["scheduler"])
    collector = RolloutCollector(envs, policy, cfg.ppo.num_steps, limits)

    writer = None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "config.yaml", "w") as f:
            yaml.safe_dump(config_to_dict(cfg), f, sort_keys=False)
        writer = SummaryWriter(str(out / "tb"), purge_step=env_steps if resume else None)
    recent: deque[dict[str, Any]] = deque(maxlen=100)
    episodes_seen = 0
    bar = tqdm(range(start, cfg.total_updates), initial=start, total=cfg.total_updates, desc="ppo",
               disable=not progress or rank != 0, unit="upd")
    t_run = time.perf_counter()
    end = cfg.total_updates
    if stop_after is not None:
        if stop_after < 1 or stop_after % cfg.checkpoint_every:
            raise ValueError(f"stop_after={stop_after}: must be a positive multiple of checkpoint_every")
        end = min(end, start + stop_after)
    for update in bar:
        if update == end:
            break
        if update % cfg.checkpoint_every == 0 or update == start:  # segment start (see module docstring)
            seed = segment_seed(cfg.seed, rank, update)
            torch.manual_seed(seed)
            collector.restart(seed % 2**31)
        t0 = time.perf_counter()
        rollout, episodes = collector.collect()
        stats = ppo.update(rollout)
        episodes = _all_gather_episodes(episodes, world)
        recent.extend(episodes)
        episodes_seen += len(episodes)
        env_steps += cfg.ppo.num_envs * cfg.ppo.num_steps * world
        sps = cfg.ppo.num_envs * cfg.ppo.num_steps * world / (time.perf_counter() - t0)
        success = float(np.mean([e["outcome"] == "success" for e in recent])) if recent else 0.0
        if writer is not None and (update + 1) % cfg.log_every == 0:
            for k, v in stats.items():
                writer.add_scalar(f"losses/{k}", v, env_steps)
            writer.add_scalar("charts/steps_per_second", sps, env_steps)
            writer.add_scalar("charts/learning_rate", ppo.optimizer.param_groups[0]["lr"], env_steps)
            writer.add_scalar("charts/success_rate", success, env_steps)
            if episodes:
                writer.add_scalar("charts/episode_return", float(np.mean([e["return"] for e in episodes])), env_steps)
                writer.add_scalar("charts/episode_length", float(np.mean([e["length"] for e in episodes])), env_steps)
        bar.set_postfix(success=f"{success:.2f}", sps=f"{sps:.0f}", refresh=False)
        if (update + 1) % cfg.checkpoint_every == 0 or update + 1 == cfg.total_updates:
            if rank == 0:
                payload = {
                    "config": config_to_dict(cfg),
                    "update": update + 1,
                    "env_steps": env_steps,
                    "wall_s": wall0 + time.perf_counter() - t_run,
                    "policy": policy.state_dict(),
                    "optimizer": ppo.optimizer.state_dict(),
                    "scheduler": ppo.scheduler.state_dict(),
                    "train_success_rate": success,
                }
                save_checkpoint(ckpt_path, payload)
                if cfg.keep_every and (update + 1) % cfg.keep_every == 0:
                    save_checkpoint(out / f"checkpoint_{update + 1:06d}.pt", payload)
            if world > 1:
                dist.barrier()
    bar.close()
    envs.close()
    if writer is not None:
        writer.close()
    spread = _check_replicas(policy, world)
    if world > 1:
        if rank == 0:
            print(f"replicas: max parameter difference across {world} ranks = {spread:.3g}")
        del net, ppo  # the torchrun shutdown caveat (DEPENDENCIES.md): free DDP before tearing down gloo
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
        if spread != 0.0:
            raise RuntimeError(f"DDP replicas diverged: max parameter difference {spread}")
    return TrainResult(
        updates=min(end, cfg.total_updates), env_steps=env_steps, wall_s=wall0 + time.perf_counter() - t_run,
        episodes=episodes_seen, success_rate=success if recent else float("nan"), checkpoint=ckpt_path,
    )
