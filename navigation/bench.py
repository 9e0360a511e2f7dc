"""``pernav nav bench``: HEIGHT with ``kernels.set_attention`` against the same network built on
``nn.MultiheadAttention``, in the same run.

Contenders: ``kernels`` (backend picked by ``kernels.choose_backend``), ``kernels/reference`` (the dense masked
reference backend forced) and ``torch_mha``. Measured, contenders interleaved (A B C A B C ...), medians
reported with the ratios torch_mha / kernels:
policy latency per step (``act``) at batch 1 and 256, and training throughput (env steps per second of
rollout collection plus the PPO update). Peak memory: each contender runs one batch-256 forward/backward in a
fresh spawned process and reports its peak RSS above the RSS it had after imports.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import platform
import resource
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from navigation.baselines.common import robot_limits
from navigation.config import TrainConfig
from navigation.envs import make_vector_env
from navigation.networks import ActorCritic, build_policy
from navigation.observation import to_tensors, with_command
from navigation.ppo import PPO
from navigation.rollout import RolloutCollector

#: contender → (attention_impl, attention_backend)
IMPLS = {"kernels": ("kernels", ""), "kernels/reference": ("kernels", "reference"), "torch_mha": ("torch_mha", "")}


def _policy(cfg: TrainConfig, contender: str, spaces: tuple[gym.Space, gym.Space]) -> ActorCritic:
    torch.manual_seed(0)
    impl, backend = IMPLS[contender]
    return build_policy(dataclasses.replace(cfg.network, attention_impl=impl, attention_backend=backend), *spaces,
                        robot_limits(cfg.env.env_id, cfg.env.overrides))


def _observations(cfg: TrainConfig, batch: int) -> dict[str, torch.Tensor]:
    """A batch of real observations (``batch`` scenes stepped a few times)."""
    envs = make_vector_env(cfg.env, batch)
    obs, _ = envs.reset(seed=123)
    for _ in range(5):
        obs, *_ = envs.step(np.full(batch, 4))
    envs.close()
    return to_tensors(with_command(obs, np.zeros((batch, 2))))


def _latency(policy: ActorCritic, obs: dict[str, torch.Tensor], reps: int) -> list[float]:
    n = obs["human_mask"].shape[0]
    state, masks = policy.initial_state(n), torch.ones(n)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        policy.act(obs, state, masks)
        times.append(time.perf_counter() - t0)
    return times


def _peak_memory_child(cfg_dict: dict[str, Any], contender: str, queue: Any) -> None:
    from navigation.config import config_from_dict

    cfg = config_from_dict(cfg_dict)
    torch.set_num_threads(cfg.torch_threads)
    obs = _observations(cfg, 256)
    env = gym.make(cfg.env.env_id, **cfg.env.overrides)
    policy = _policy(cfg, contender, (env.observation_space, env.action_space))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seq = {k: v[:, None].expand(-1, cfg.ppo.num_steps, *v.shape[1:]) for k, v in obs.items()}
    params, value, _ = policy(seq, policy.initial_state(256), torch.ones(256, cfg.ppo.num_steps))
    (params["logits"].sum() + value.sum()).backward()
    queue.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0)  # KiB → MiB


def peak_memory_mib(cfg: TrainConfig, contender: str) -> float:
    """Peak RSS growth (MiB) of one batch-256 × num_steps forward/backward, in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_peak_memory_child, args=(dataclasses.asdict(cfg), contender, queue))
    proc.start()
    value = queue.get(timeout=300)
    proc.join()
    return float(value)


def run_bench(cfg: TrainConfig, reps: int = 30, train_updates: int = 3, memory: bool = True) -> dict[str, Any]:
    """All measurements as a dict (also printed by the CLI)."""
    torch.set_num_threads(cfg.torch_threads)
    env = gym.make(cfg.env.env_id, **cfg.env.overrides)
    spaces = (env.observation_space, env.action_space)
    policies = {contender: _policy(cfg, contender, spaces) for contender in IMPLS}
    out: dict[str, Any] = {"latency_ms": {}, "train_steps_per_s": {}, "peak_mib": {}}
    for batch in (1, 256):
        obs = _observations(cfg, batch)
        samples: dict[str, list[float]] = {i: [] for i in IMPLS}
        for contender in IMPLS:  # warm-up
            _latency(policies[contender], obs, 3)
        for _ in range(reps):
            for contender in IMPLS:
                samples[contender] += _latency(policies[contender], obs, 1)
        out["latency_ms"][batch] = {i: 1e3 * statistics.median(s) for i, s in samples.items()}
    # training throughput: rollout + PPO update, each contender with its own envs, interleaved per update
    runs = {}
    for contender in IMPLS:
        envs = make_vector_env(cfg.env, cfg.ppo.num_envs)
        policy = _policy(cfg, contender, spaces)
        collector = RolloutCollector(envs, policy, cfg.ppo.num_steps, robot_limits(cfg.env.env_id, cfg.env.overrides))
        collector.restart(cfg.seed)
        runs[contender] = (collector, PPO(policy, policy, cfg.ppo, max(train_updates, 1)))
    sps: dict[str, list[float]] = {i: [] for i in IMPLS}
    for u in range(train_updates + 1):
        for contender in IMPLS:
            collector, ppo = runs[contender]
            t0 = time.perf_counter()
            rollout, _ = collector.collect()
            ppo.update(rollout)
            if u > 0:  # the first update is warm-up
                sps[contender].append(cfg.ppo.num_envs * cfg.ppo.num_steps / (time.perf_counter() - t0))
    out["train_steps_per_s"] = {i: statistics.median(s) for i, s in sps.items()}
    for collector, _ in runs.values():
        collector.envs.close()
    if memory:
        out["peak_mib"] = {contender: peak_memory_mib(cfg, contender) for contender in IMPLS}
    out["machine"] = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                      f"{torch.__version__}, {torch.get_num_threads()} threads, {cfg.ppo.num_envs} envs × "
                      f"{cfg.ppo.num_steps} steps per update, network {cfg.network.name}")
    return out


def format_bench(res: dict[str, Any]) -> str:
    """Markdown table of :func:`run_bench` results with torch_mha / kernels ratios."""
    lines = [f"machine: {res['machine']}", "",
             "| measure | kernels (auto backend) | kernels/reference | torch_mha (nn.MultiheadAttention) | "
             "torch_mha / kernels | torch_mha / kernels/reference |", "|---|---|---|---|---|---|"]

    def row(title: str, v: dict[str, float], fmt: str) -> str:
        a, r, m = v["kernels"], v["kernels/reference"], v["torch_mha"]
        return (f"| {title} | {fmt.format(a)} | {fmt.format(r)} | {fmt.format(m)} | {m / max(a, 1e-12):.2f} | "
                f"{m / max(r, 1e-12):.2f} |")

    for batch, v in res["latency_ms"].items():
        lines.append(row(f"act latency, batch {batch} (ms, median)", v, "{:.3f}"))
    lines.append(row("training env steps/s incl. PPO update (median)", res["train_steps_per_s"], "{:.0f}"))
    if res["peak_mib"]:
        lines.append(row("peak RSS growth, batch 256 × T fwd+bwd (MiB)", res["peak_mib"], "{:.0f}"))
    return "\n".join(lines)

