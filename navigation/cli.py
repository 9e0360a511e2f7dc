"""``pernav nav {imitate,train,eval,regret,bench,rollout,export}``: HEIGHT training, evaluation, benchmarks, videos."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path


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


def _imitate(args: argparse.Namespace) -> int:
    from navigation.config import load_config
    from navigation.imitation import imitate

    cfg = load_config(args.config, args.set)
    r = imitate(cfg, resume=args.resume, progress=not args.no_progress)
    success = "n/a" if math.isnan(r["learner_success_rate"]) else f"{r['learner_success_rate']:.2f}"
    print(f"DAgger: {r['iterations']} iterations, {r['env_steps']} env steps in {r['wall_s']:.0f} s; learner "
          f"success (last 100 learner-only episodes) {success}; checkpoint {r['checkpoint']}")
    return 0


PRESETS = Path(__file__).resolve().parents[1] / "configs" / "nav"
OOD_ENVS = ("pernav/CrowdNavFewerHumans-v0", "pernav/CrowdNavMoreHumans-v0", "pernav/CrowdNavFewerObstacles-v0",
            "pernav/CrowdNavMoreObstacles-v0")


def _eval(args: argparse.Namespace) -> int:
    import gymnasium as gym

    from configs.schema import apply_overrides
    from navigation.config import EnvConfig
    from navigation.evaluate import run_episodes, summarize
    from navigation.policies import make_policy
    from navigation.report import plot_trajectories, write_report
    from navigation.video import record_episode

    overrides = apply_overrides({}, args.env_set)
    scenarios = [(args.env, EnvConfig(args.env, overrides, args.vector))]
    if args.ood:
        scenarios += [(e, EnvConfig(e, overrides, args.vector)) for e in OOD_ENVS]
    if args.replay_file:
        scenarios.append(("pernav/CrowdNavReplay-v0 (" + args.replay_file + ")",
                          EnvConfig("pernav/CrowdNavReplay-v0", {**overrides, "replay_file": args.replay_file},
                                    args.vector)))
    out = Path(args.out)
    results: dict[str, dict[str, object]] = {}
    pictures: dict[str, str] = {}
    for s_idx, (title, env_cfg) in enumerate(scenarios):
        results[title] = {}
        trajs = {}
        for spec in args.policy:
            try:
                policy = make_policy(spec, env_cfg)
            except ValueError as exc:  # e.g. DS-RNN weights sized for another padding
                if s_idx == 0:
                    raise
                results[title][spec.rpartition("=")[0] or spec] = str(exc).splitlines()[0][:120]
                continue
            records, tr = run_episodes(policy, env_cfg, args.episodes, args.seed, args.num_envs,
                                       args.trajectories if s_idx == 0 else 0, progress=not args.no_progress)
            results[title][policy.name] = summarize(records)
            trajs[policy.name] = tr
            if s_idx == 0 and args.video and spec == args.policy[0]:
                video = out / f"rollout_{policy.name}.mp4"
                outcome = record_episode(make_policy(spec, env_cfg), env_cfg, args.seed, video, every=2)
                print(f"{policy.name}: episode seed {args.seed} {outcome}, video {video}")
        if s_idx == 0 and args.trajectories > 0:
            half = gym.spec(env_cfg.env_id).kwargs["config"].override(**env_cfg.overrides).arena_half_size
            out.mkdir(parents=True, exist_ok=True)
            plot_trajectories(trajs, out / "trajectories.png", half)
            pictures[title] = "trajectories.png"
    meta = {"episodes per policy and scenario": args.episodes, "env seeds": f"{args.seed} … "
            f"{args.seed + args.episodes - 1}", "env overrides": overrides or "none",
            "learned policies act": "greedily (argmax), recurrent state reset per episode"}
    md, page = write_report(out, results, meta, pictures)
    print(md.read_text())
    print(f"report: {md} and {page}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from navigation.bench import format_bench, run_bench
    from navigation.config import load_config
    from sim.atomic import write_bytes_atomic

    cfg = load_config(args.config, args.set)
    table = format_bench(run_bench(cfg, reps=args.reps, train_updates=args.updates, memory=not args.no_memory))
    print(table)
    if args.out:
        write_bytes_atomic(Path(args.out), (table + "\n").encode())
        print(f"written {args.out}")
    return 0


def _rollout(args: argparse.Namespace) -> int:
    from configs.schema import apply_overrides
    from navigation.config import EnvConfig
    from navigation.policies import make_policy
    from navigation.video import record_episode

    env_cfg = EnvConfig(args.env, apply_overrides({}, args.env_set))
    outcome = record_episode(make_policy(args.policy, env_cfg), env_cfg, args.seed, Path(args.out), args.every)
    print(f"{args.policy}: {outcome} (env seed {args.seed}); video {args.out}")
    return 0


def _regret(args: argparse.Namespace) -> int:
    from configs.schema import apply_overrides
    from navigation.config import EnvConfig
    from navigation.policies import load_learned
    from navigation.regret import expert_regret

    env_cfg = EnvConfig(args.env, apply_overrides({}, args.env_set))
    learner = load_learned(args.policy, env_cfg)
    stats = expert_regret(learner.net, args.expert, env_cfg, args.num_envs, args.steps, args.seed)
    print(f"{learner.name} scored by {args.expert} over {stats.pop('steps'):.0f} decisions: "
          + ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
    return 0


def _export(args: argparse.Namespace) -> int:
    from navigation.checkpoint import export_policy

    size = export_policy(args.checkpoint, args.out, args.stop_mask)
    what = args.checkpoint[0] if len(args.checkpoint) == 1 else f"the average of {len(args.checkpoint)} checkpoints"
    mask = "" if args.stop_mask is None else f", stop-path action mask on (margin {args.stop_mask} m)"
    print(f"policy of {what} written to {args.out} ({size / 1e6:.2f} MB{mask})")
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

    p = sub.add_parser("imitate", help="DAgger warm start from a classic expert (then train with init_from)")
    p.add_argument("config", help="YAML preset (its imitation, ppo.num_envs/num_steps, network, env sections)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="dotted overrides")
    p.add_argument("--resume", action="store_true", help="continue from OUT_DIR/checkpoint.pt")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_imitate)

    p = sub.add_parser("regret", help="an expert's per-action scores of a learned policy's own decisions")
    p.add_argument("--policy", required=True, metavar="CHECKPOINT", help="learned policy (training or export file)")
    p.add_argument("--expert", default="mpc", choices=["dwa", "dwa_plan", "mpc"])
    p.add_argument("--env", default="pernav/CrowdNav-v0")
    p.add_argument("--env-set", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--num-envs", type=int, default=32)
    p.add_argument("--steps", type=int, default=300, help="steps of every env")
    p.add_argument("--seed", type=int, default=20_000, help="env i uses seed SEED + i")
    p.set_defaults(func=_regret)

    p = sub.add_parser("eval", help="fixed-seed episodes of several policies → markdown/HTML report")
    p.add_argument("--policy", action="append", default=None, metavar="SPEC",
                   help="orca | social_force | dwa | dwa_plan | mpc | NAME=checkpoint.pt (repeatable; default: orca, "
                        "social_force, dwa)")
    p.add_argument("--env", default="pernav/CrowdNav-v0", help="gymnasium id of the main scenario")
    p.add_argument("--env-set", nargs="*", default=[], metavar="KEY=VALUE", help="env overrides, e.g. time_limit=20")
    p.add_argument("--ood", action="store_true", help="also fewer/more humans and obstacles")
    p.add_argument("--replay-file", default="", help="also the real-crowd replay scenario on this ETH/UCY file")
    p.add_argument("--episodes", type=int, default=500)
    p.add_argument("--seed", type=int, default=10_000, help="episode j uses env seed SEED + j")
    p.add_argument("--num-envs", type=int, default=16, help="episodes stepped together")
    p.add_argument("--vector", default="native", choices=["native", "sync", "async"])
    p.add_argument("--trajectories", type=int, default=3, help="episodes drawn per policy (main scenario)")
    p.add_argument("--video", action="store_true", help="also an mp4 of episode SEED of the first --policy")
    p.add_argument("--out", default="outputs/nav/eval", help="report folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_eval)

    p = sub.add_parser("bench", help="set_attention vs nn.MultiheadAttention build: latency, training steps/s, memory")
    p.add_argument("config", nargs="?", default=str(PRESETS / "height.yaml"), help="preset with network and PPO sizes")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="dotted overrides")
    p.add_argument("--reps", type=int, default=30, help="latency samples per contender and batch size")
    p.add_argument("--updates", type=int, default=3, help="timed PPO updates per contender")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--out", default="", help="also write the table to this markdown file")
    p.set_defaults(func=_bench)

    p = sub.add_parser("rollout", help="render one episode of a policy to an mp4")
    p.add_argument("--policy", required=True, help="orca | social_force | dwa | dwa_plan | mpc | NAME=checkpoint.pt")
    p.add_argument("--env", default="pernav/CrowdNav-v0")
    p.add_argument("--env-set", nargs="*", default=[], metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=10_000)
    p.add_argument("--every", type=int, default=2, help="keep every N-th frame")
    p.add_argument("--out", default="outputs/nav/rollout.mp4")
    p.set_defaults(func=_rollout)

    p = sub.add_parser("export", help="policy-only copy of a training checkpoint, or the weight average of several "
                                      "(what gets shipped)")
    p.add_argument("checkpoint", nargs="+", help="training checkpoint(s) (OUT_DIR/checkpoint.pt, or kept "
                                                 "OUT_DIR/checkpoint_<update>.pt snapshots to average)")
    p.add_argument("out", help="destination .pt")
    p.add_argument("--stop-mask", type=float, default=None, metavar="MARGIN",
                   help="turn the stop-path action mask on in the export, with this clearance margin (m)")
    p.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if getattr(args, "policy", "") is None:
        args.policy = ["orca", "social_force", "dwa"]
    try:
        return int(args.func(args))
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"pernav nav {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
