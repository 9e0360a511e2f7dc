"""`pernav occ ...`: make-data | train | eval | infer | pseudo-label | bench | demo.

Examples:
  pernav occ make-data --out data/omnihd_synth --clips 6 --val-clips 2
  pernav occ train --config small --set data.root=data/omnihd_synth --set model.variant=camera \
      --set optim.sensor_dropout=0   # sensor dropout is for the fusion variant only
  pernav occ eval --checkpoint outputs/occ/small/latest.pt --dropout
  pernav occ infer --checkpoint outputs/occ/small/latest.pt --root data/omnihd_synth --split val
  pernav occ pseudo-label --root data/omnihd_synth --labeled-fraction 0.5 --out data/omnihd_pseudo
  pernav occ train --set data.root=data/omnihd_synth --set data.occ_root=data/omnihd_pseudo  # mixed labels
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "weights" / "metaocc_small.pt"


def _make_data(args: argparse.Namespace) -> int:
    from sim.synthetic.omnihd import GeneratorConfig, write_dataset

    cfg = GeneratorConfig(clips=args.clips, val_clips=args.val_clips, frames=args.frames, seed=args.seed,
                          image_height=args.image_height, image_width=args.image_width, agents=args.agents)
    t0 = time.perf_counter()
    root = write_dataset(args.out, cfg)
    print(f"wrote {cfg.clips} clips x {cfg.frames} frames to {root} in {time.perf_counter() - t0:.1f} s")
    return 0


def _train(args: argparse.Namespace) -> int:
    from perception.occupancy.config import load_config
    from perception.occupancy.train import train

    cfg = load_config(args.config, args.set)
    resume = args.resume
    if resume == "auto":
        latest = Path(cfg.out_dir) / "latest.pt"
        resume = str(latest) if latest.is_file() else None
    path = train(cfg, resume=resume)
    print(f"checkpoint: {path}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from perception.occupancy.checkpoint import model_from_checkpoint
    from perception.occupancy.evaluate import evaluate, write_json
    from perception.occupancy.metrics import format_table
    from perception.occupancy.sensor_dropout import DROPOUT_CONDITIONS

    model, cfg, blob = model_from_checkpoint(args.checkpoint)
    if args.root:
        cfg.data.root = args.root
    out = Path(args.out or Path(args.checkpoint).parent)
    conditions = DROPOUT_CONDITIONS if args.dropout else ("none",)
    results = evaluate(model, cfg, args.split, conditions, picture_dir=out)
    print(f"MetaOcc ({cfg.model.variant}), step {blob['step']}, split {args.split}, root {cfg.data.root}")
    print(format_table(results["none"]))
    if args.dropout:
        print(f"\n{'condition':<18} {'SC-IoU':>7} {'mIoU':>7}")
        for cond, m in results.items():
            print(f"{cond:<18} {m['sc_iou']:>7.2f} {m['miou']:>7.2f}")
    write_json(out / f"metrics_{args.split}.json", results)
    print(f"metrics and pictures in {out}")
    return 0


def _infer(args: argparse.Namespace) -> int:
    from perception.occupancy.evaluate import infer

    paths = infer(args.checkpoint, args.root, args.split, Path(args.out))
    print(f"wrote {len(paths)} predictions under {Path(args.out) / 'pred'} and pictures in {args.out}")
    return 0


def _pseudo_label(args: argparse.Namespace) -> int:
    from perception.occupancy.metrics import format_table
    from perception.pseudo_labels.run import run

    out = args.out or args.root
    metrics = run(args.root, out, args.labeled_fraction, args.segmentor)
    print(f"pseudo labels under {out}")
    if metrics:
        print("pseudo labels vs ground truth (voxels the pseudo labels observe):")
        print(format_table(metrics))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from perception.occupancy.bench import run_bench

    return run_bench(args)


def _export(args: argparse.Namespace) -> int:
    from perception.occupancy.checkpoint import model_from_checkpoint, save_checkpoint

    model, cfg, blob = model_from_checkpoint(args.checkpoint)
    path = save_checkpoint(args.out, model, cfg, int(blob["step"]), extra=blob.get("extra", {}), half=args.half)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB, no optimizer state)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Generate a small held-out clip, evaluate the shipped small checkpoint on it with sensor dropout,
    and run inference with pictures."""
    out = Path(args.out)
    data = out / "data"
    rc = _make_data(argparse.Namespace(out=data, clips=1, val_clips=1, frames=args.frames, seed=args.seed,
                                       image_height=48, image_width=80, agents=30))
    if rc:
        return rc
    rc = _eval(argparse.Namespace(checkpoint=str(args.checkpoint), root=str(data), split="val", out=str(out),
                                  dropout=True))
    return rc or _infer(argparse.Namespace(checkpoint=str(args.checkpoint), root=str(data), split="val",
                                           out=str(out)))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pernav occ", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-data", help="write a synthetic dataset in the OmniHD-Scenes layout")
    m.add_argument("--out", required=True, help="dataset root to create")
    m.add_argument("--clips", type=int, default=4)
    m.add_argument("--val-clips", type=int, default=1)
    m.add_argument("--frames", type=int, default=6)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--image-height", type=int, default=48)
    m.add_argument("--image-width", type=int, default=80)
    m.add_argument("--agents", type=int, default=30)
    m.set_defaults(fn=_make_data)
    t = sub.add_parser("train", help="train MetaOcc")
    t.add_argument("--config", default="small", help="preset name (small, r50) or YAML path")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. optim.iters=50")
    t.add_argument("--resume", default=None, help="checkpoint to resume from, or 'auto' (<out_dir>/latest.pt)")
    t.set_defaults(fn=_train)
    e = sub.add_parser("eval", help="SC-IoU / mIoU on a split, optionally under sensor dropout")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--split", default="val")
    e.add_argument("--root", default="", help="dataset root (default: the checkpoint's)")
    e.add_argument("--out", default="", help="folder for metrics and pictures (default: beside the checkpoint)")
    e.add_argument("--dropout", action="store_true", help="also evaluate with radar missing / cameras black")
    e.set_defaults(fn=_eval)
    i = sub.add_parser("infer", help="predict every sample of a dataset folder, with pictures")
    i.add_argument("--checkpoint", required=True)
    i.add_argument("--root", required=True)
    i.add_argument("--split", default="all")
    i.add_argument("--out", default="outputs/occ/infer")
    i.set_defaults(fn=_infer)
    q = sub.add_parser("pseudo-label", help="semi-supervised: pseudo occ_gt for unlabelled train samples")
    q.add_argument("--root", required=True, help="dataset root")
    q.add_argument("--out", default="", help="root to write occ_gt under (default: --root, filling missing files)")
    q.add_argument("--labeled-fraction", type=float, default=None,
                   help="treat only this fraction of train scenes as labelled, pseudo-label the rest into --out "
                        "and score them against their hidden ground truth")
    q.add_argument("--segmentor", default="prototype", help="image segmentor (see perception.pseudo_labels)")
    q.set_defaults(fn=_pseudo_label)
    b = sub.add_parser("bench", help="latency and peak memory per frame, against a peer")
    b.add_argument("--config", default="small")
    b.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    b.add_argument("--repeats", type=int, default=5)
    b.add_argument("--out", default="outputs/occ/bench")
    b.set_defaults(fn=_bench)
    x = sub.add_parser("export", help="strip a checkpoint to weights + config (optionally float16)")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("--out", required=True)
    x.add_argument("--half", action="store_true", help="store floating-point tensors as float16")
    x.set_defaults(fn=_export)
    d = sub.add_parser("demo", help="held-out generated clip: eval (with dropout) + infer, shipped checkpoint")
    d.add_argument("--checkpoint", default=str(SHIPPED_CHECKPOINT))
    d.add_argument("--out", default="outputs/occ_demo")
    d.add_argument("--frames", type=int, default=4)
    d.add_argument("--seed", type=int, default=1000)
    d.set_defaults(fn=_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return int(args.fn(args) or 0)
    except (FileNotFoundError, ValueError) as exc:
        print(f"pernav occ {args.cmd}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
