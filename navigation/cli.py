"""``pernav nav {train,eval,bench}``: HEIGHT training, evaluation against baselines, and benchmarks."""

from __future__ import annotations

import argparse
import math
import os
import sys


def _train(args: argparse.Namespace) -> int:
    from navigation.config import load_config
    from navigation.train import train

    cfg = load_config(args.config, args.set)
    result = train(cfg, resume=args.resume, progress=not args.no_progress, stop_after=args.stop_after)
    if os.environ.get("RANK", "0") == "0":
        success = "n/a (no episode ended)" if math.isnan(result.success_rate) else f"{result.success_rate:.2f}"
        print(f"trained {result.updates} updates, {result.env_steps} env steps in {result.wall_s:.0f} s; "
              f"training success (last 100 episodes) {success}; checkpoint {result.checkpoint}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pernav nav", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="PPO training from a YAML preset (configs/nav/*.yaml)")
    p.add_argument("config", help="YAML preset, e.g. configs/nav/height.yaml")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="dotted overrides, e.g. ppo.num_envs=4 total_updates=10 out_dir=/tmp/run")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--stop-after", type=int, default=None, metavar="N",
                   help="leave after N updates (a multiple of checkpoint_every); continue later with --resume")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"pernav nav {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
