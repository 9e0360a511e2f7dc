"""``pernav sim bench``: env-steps/s of the batched env against a per-env ``pyrvo`` loop, and of one env.

Both contenders run the default scenario with the same lidar, observation and reward code; they differ
only in how humans are stepped (numpy ORCA over all scenes vs RVO2 C++ per scene) and in batching.
Rounds are interleaved (A B A B …), the median of each is reported with their ratio and peak memory. The
single env is timed as users get it: ``gymnasium.make("pernav/CrowdNav-v0")`` with its wrappers.
"""

from __future__ import annotations

import json
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sim.atomic import atomic_path, write_bytes_atomic
from sim.crowd.config import CrowdSimConfig
from sim.crowd.pyrvo_batch import PyrvoCrowdBatch
from sim.crowd.vector_env import CrowdNavVectorEnv


@dataclass
class BenchRow:
    num_envs: int
    batched_steps_per_s: float
    pyrvo_loop_steps_per_s: float
    ratio: float
    batched_peak_mib: float
    pyrvo_loop_peak_mib: float


def _batched(cfg: CrowdSimConfig, n: int, seed: int) -> Callable[[int], None]:
    env = CrowdNavVectorEnv(n, config=cfg)
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)

    def run(steps: int) -> None:
        for _ in range(steps):
            env.step(rng.integers(9, size=n))

    return run


def _pyrvo_loop(cfg: CrowdSimConfig, n: int, seed: int) -> Callable[[int], None]:
    scenes = [PyrvoCrowdBatch(cfg) for _ in range(n)]
    for i, s in enumerate(scenes):
        s.reset_scenes([0], [seed + i])
    rng = np.random.default_rng(seed)

    def run(steps: int) -> None:
        for _ in range(steps):
            for s, a in zip(scenes, rng.integers(9, size=n), strict=True):
                _, info = s.step(np.array([a]))
                s.observe()
                if info.done[0]:
                    s.reset_scenes([0])

    return run


def _single_env(seed: int) -> Callable[[int], None]:
    import gymnasium as gym

    import sim.crowd  # noqa: F401  (registers the ids)

    env = gym.make("pernav/CrowdNav-v0")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)

    def run(steps: int) -> None:
        for a in rng.integers(9, size=steps):
            _, _, terminated, truncated, _ = env.step(int(a))
            if terminated or truncated:
                env.reset()

    return run


def time_single_env(rounds: int, steps: int, seed: int = 0) -> float:
    """Median steps/s of one ``gymnasium.make`` env (random actions, resets included)."""
    run = _single_env(seed)
    run(2)  # warm-up
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run(steps)
        rates.append(steps / (time.perf_counter() - t0))
    return float(np.median(rates))


def _peak_mib(make: Callable[[], Callable[[int], None]], steps: int) -> float:
    tracemalloc.start()
    try:
        make()(steps)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run_bench(sizes: list[int], rounds: int, env_steps_per_round: int, seed: int = 0,
              log: Callable[[str], None] = print) -> list[BenchRow]:
    """Interleaved timing of both contenders for each ``N`` in ``sizes``."""
    cfg = CrowdSimConfig()
    rows = []
    for n in sizes:
        steps = max(2, env_steps_per_round // n)
        a, b = _batched(cfg, n, seed), _pyrvo_loop(cfg, n, seed)
        a(2)
        b(2)  # warm-up
        ta, tb = [], []
        for _ in range(rounds):
            for fn, out in ((a, ta), (b, tb)):
                t0 = time.perf_counter()
                fn(steps)
                out.append(n * steps / (time.perf_counter() - t0))
        ma, mb = float(np.median(ta)), float(np.median(tb))
        pa = _peak_mib(lambda n=n: _batched(cfg, n, seed), steps)
        pb = _peak_mib(lambda n=n: _pyrvo_loop(cfg, n, seed), steps)
        rows.append(BenchRow(n, ma, mb, ma / mb, pa, pb))
        log(f"N={n:4d}  batched {ma:9.0f} env-steps/s   pyrvo loop {mb:8.0f} env-steps/s   "
            f"ratio {ma / mb:5.2f}x   peak MiB {pa:6.1f} / {pb:6.1f}")
    return rows


def machine_line() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, load average {load:.2f}")


def save_results(rows: list[BenchRow], single_env_steps_per_s: float, out_dir: Path) -> tuple[Path, Path]:
    """Write ``bench.json`` and a ``bench.png`` plot (atomically) into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "bench.json"
    write_bytes_atomic(js, json.dumps({"machine": machine_line(), "rows": [asdict(r) for r in rows],
                                       "single_env_steps_per_s": single_env_steps_per_s}, indent=2).encode())
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ns = [r.num_envs for r in rows]
    ax.plot(ns, [r.batched_steps_per_s for r in rows], "o-", label="batched (CrowdNavVectorEnv)")
    ax.plot(ns, [r.pyrvo_loop_steps_per_s for r in rows], "s--", label="per-env loop, pyrvo humans")
    ax.axhline(single_env_steps_per_s, color="gray", ls=":", label="one gymnasium.make env")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("scenes N")
    ax.set_ylabel("env-steps / s")
    ax.set_title("default scenario, lidar + obs + reward")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png = out_dir / "bench.png"
    with atomic_path(png, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return js, png
