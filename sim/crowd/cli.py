"""``pernav sim``: bench, rollout, render, check, make-replay."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import gymnasium as gym

from sim.atomic import atomic_path
from sim.crowd.registration import PRESETS


def _bench(args: argparse.Namespace) -> int:
    from sim.crowd.bench import machine_line, run_bench, save_results, time_single_env
    from sim.crowd.pyrvo_batch import import_pyrvo

    try:
        import_pyrvo()
    except ImportError as exc:
        print(f"pernav sim bench: {exc}", file=sys.stderr)
        return 2
    print(f"pernav sim bench — {machine_line()}")
    print(f"default scenario, {args.rounds} interleaved rounds of ~{args.steps_per_round} env-steps, medians")
    rows = run_bench(args.sizes, args.rounds, args.steps_per_round, args.seed)
    single = time_single_env(args.rounds, args.steps_per_round, args.seed)
    print(f"one gymnasium.make('pernav/CrowdNav-v0') env: {single:.0f} steps/s")
    js, png = save_results(rows, single, Path(args.out))
    big = max(rows, key=lambda r: r.num_envs)
    print(f"targets: N={big.num_envs} batched {big.batched_steps_per_s:.0f} env-steps/s (target ≥ 10000), "
          f"{big.ratio:.2f}x the pyrvo loop (target ≥ 5x); single env {single:.0f} steps/s (target ≥ 2000)")
    print(f"wrote {js} and {png}")
    return 0


def _rollout(args: argparse.Namespace) -> int:
    from sim.crowd.rollout import run_orca_rollouts

    cfg = PRESETS[args.env]
    video = Path(args.video) if args.video else None
    summary = run_orca_rollouts(cfg, args.episodes, args.seed, video)
    print(f"ORCA robot on {args.env} (holonomic, privileged): {summary.line()}")
    if video is not None:
        print(f"wrote {video}")
    return 0


def _render(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import sim.crowd  # noqa: F401  (registers the ids)

    ids = [i for i in PRESETS if i != "pernav/CrowdNavReplay-v0"]
    cols = 3
    rows = math.ceil(len(ids) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows))
    for ax, env_id in zip(axes.ravel(), ids, strict=False):
        env = gym.make(env_id, render_mode="rgb_array")
        env.reset(seed=args.seed)
        for _ in range(args.steps):
            env.step(4)  # keep the current command: humans move, the robot stands
        ax.imshow(env.render())
        ax.set_title(env_id.split("/")[1], fontsize=8)
        env.close()
    for ax in axes.ravel():
        ax.axis("off")
    fig.tight_layout()
    out = Path(args.out)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    print(f"wrote {out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from gymnasium.utils.env_checker import check_env

    import sim.crowd  # noqa: F401

    bad = 0
    for env_id in args.ids or list(PRESETS):
        kwargs = {}
        if env_id == "pernav/CrowdNavReplay-v0":
            if not args.replay_file:
                print(f"skip {env_id}: needs --replay-file")
                continue
            kwargs["replay_file"] = args.replay_file
        try:
            env = gym.make(env_id, **kwargs)
            check_env(env.unwrapped, skip_render_check=True)
            print(f"ok   {env_id}")
        except Exception as exc:  # report every id, then fail
            bad += 1
            print(f"FAIL {env_id}: {exc}")
    return 1 if bad else 0


def _make_replay(args: argparse.Namespace) -> int:
    from sim.crowd.replay import write_synthetic_eth_ucy

    path = write_synthetic_eth_ucy(args.out, args.peds, args.duration, args.seed)
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pernav sim", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="batched env vs per-env pyrvo loop, and one env (env-steps/s)")
    b.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 64, 256], help="numbers of scenes N")
    b.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per contender")
    b.add_argument("--steps-per-round", type=int, default=1024, help="env-steps per round (N × steps)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--out", default="outputs/sim", help="folder for bench.json and bench.png")
    b.set_defaults(fn=_bench)
    r = sub.add_parser("rollout", help="ORCA-as-robot episodes: metrics line and a video")
    r.add_argument("--env", default="pernav/CrowdNav-v0", choices=sorted(PRESETS))
    r.add_argument("--episodes", type=int, default=16)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--video", default="outputs/sim/rollout.mp4", help="mp4 or gif of episode 0 ('' for none)")
    r.set_defaults(fn=_rollout)
    d = sub.add_parser("render", help="one frame of every preset in a PNG grid")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--steps", type=int, default=20, help="steps before the frame")
    d.add_argument("--out", default="outputs/sim/presets.png")
    d.set_defaults(fn=_render)
    c = sub.add_parser("check", help="gymnasium check_env on registered ids")
    c.add_argument("ids", nargs="*", help="ids (default: all)")
    c.add_argument("--replay-file", default="", help="ETH/UCY file for pernav/CrowdNavReplay-v0")
    c.set_defaults(fn=_check)
    m = sub.add_parser("make-replay", help="write a synthetic ETH/UCY-format track file")
    m.add_argument("out")
    m.add_argument("--peds", type=int, default=12)
    m.add_argument("--duration", type=float, default=40.0, help="seconds")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(fn=_make_replay)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    for name in ("episodes", "rounds", "steps_per_round", "peds"):
        if getattr(args, name, 1) < 1:
            print(f"pernav sim {args.cmd}: --{name.replace('_', '-')} must be ≥ 1", file=sys.stderr)
            return 2
    if args.cmd == "bench" and min(args.sizes) < 1:
        print("pernav sim bench: --sizes must be ≥ 1", file=sys.stderr)
        return 2
    return int(args.fn(args))
