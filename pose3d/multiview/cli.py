"""`pernav pose`: make-data | train | eval | infer | bench | demo (SelfPose3d multi-view 3D pose)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from pose3d.multiview.config import PoseConfig, load_config, to_dict

DEMO_CHECKPOINT = Path(__file__).parent / "assets" / "demo_detections.pt"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pernav pose", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-data", help="write a synthetic Panoptic- or Shelf/Campus-format dataset")
    m.add_argument("--out", required=True, help="dataset folder")
    m.add_argument("--kind", default="panoptic", choices=["panoptic", "shelf", "campus"])
    m.add_argument("--sequences", nargs="+", default=["synth_train"], help="Panoptic sequence names")
    m.add_argument("--frames", type=int, default=40, help="frames per sequence")
    m.add_argument("--cameras", type=int, default=5, help="Panoptic cameras (5..10)")
    m.add_argument("--people", type=int, nargs=2, default=[2, 4], metavar=("MIN", "MAX"))
    m.add_argument("--size", type=int, nargs=2, default=[320, 180], metavar=("W", "H"), help="Panoptic image size")
    m.add_argument("--no-images", action="store_true", help="skip rendering (pseudo poses and GT only)")
    m.add_argument("--seed", type=int, default=0)
    for name, help_ in (
        ("train", "train the configured stage(s)"),
        ("eval", "evaluate a checkpoint on val_data"),
        ("infer", "predict on val_data and draw pictures"),
        ("bench", "latency benchmark"),
    ):
        s = sub.add_parser(name, help=help_)
        s.add_argument("--config", help="preset YAML (configs/pose/*.yaml)")
        s.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="dotted overrides")
        s.add_argument("--quiet", action="store_true", help="no progress bars")
        if name == "train":
            s.add_argument("--resume", action="store_true", help="continue from <out_dir>/checkpoint.pt")
            s.add_argument("--init", help="start from this checkpoint's weights")
        if name in ("eval", "infer"):
            s.add_argument("--checkpoint", required=True)
            s.add_argument("--out", help="eval: metrics JSON; infer: picture folder")
        if name == "infer":
            s.add_argument("--frames", type=int, default=2, help="frames to draw")
        if name == "bench":
            s.add_argument("--views", type=int, default=5)
            s.add_argument("--repeats", type=int, default=5)
    d = sub.add_parser("demo", help="generate a tiny sequence, run the shipped checkpoint, draw pictures")
    d.add_argument("--out", default="outputs/pose_demo")
    d.add_argument("--checkpoint", default=str(DEMO_CHECKPOINT))
    d.add_argument("--frames", type=int, default=8)
    return p


def _config_for_checkpoint(ckpt: dict, args: argparse.Namespace) -> PoseConfig:
    """The checkpoint's config (or the ``--config`` preset with the checkpoint's model section), plus ``--set``.

    ``--set model.space_center=...`` may move the capture space (it holds no weights).
    """
    base = ckpt["config"]
    if args.config:
        base = to_dict(load_config(args.config))
        base["model"] = ckpt["config"]["model"]
    return load_config(None, args.set, base=base)


def _load_model(path: str, args: argparse.Namespace) -> tuple[torch.nn.Module, PoseConfig]:
    from pose3d.multiview.io import load_checkpoint
    from pose3d.multiview.model import SelfPose3dModel

    ckpt = load_checkpoint(path)
    cfg = _config_for_checkpoint(ckpt, args)
    model = SelfPose3dModel(cfg.model)
    model.load_state_dict(ckpt["model"])
    return model.to(cfg.device).eval(), cfg


def _metrics_text(metrics: dict, indent: str = "  ") -> str:
    lines = []
    for k, v in metrics.items():
        if isinstance(v, dict):
            lines += [f"{indent}{k}", _metrics_text(v, indent + "  ")]
        else:
            lines.append(f"{indent}{k:<18} {v:.2f}" if isinstance(v, float) else f"{indent}{k:<18} {v}")
    return "\n".join(lines)


def _infer(model: torch.nn.Module, cfg: PoseConfig, frames_to_draw: int, out: Path, progress: bool) -> dict:
    from pose3d.multiview.datasets.build import build_dataset
    from pose3d.multiview.evaluate import evaluate, predict
    from pose3d.multiview.io import atomic_write_json
    from pose3d.multiview.visualize import draw_3d, draw_views

    ds = build_dataset(cfg.val_data, cfg.model)
    preds = predict(model, ds.frames, cfg.device, progress)
    out.mkdir(parents=True, exist_ok=True)
    for i in np.linspace(0, len(ds.frames) - 1, min(frames_to_draw, len(ds.frames))).astype(int):
        frame = ds.frames[i]
        tag = frame.key.replace("/", "_")
        draw_views(frame, preds[i]["poses"], out / f"views_{tag}.png")
        draw_3d(frame, preds[i]["poses"], out / f"pose3d_{tag}.png")
    atomic_write_json(
        out / "predictions.json",
        {
            f.key: {"poses_mm": np.round(p["poses"], 1).tolist(), "scores": np.round(p["scores"], 4).tolist()}
            for f, p in zip(ds.frames, preds, strict=True)
        },
    )
    metrics = {}
    if any(len(f.joints_3d) for f in ds.frames) or getattr(ds, "actors", None) is not None:
        metrics = evaluate(preds, ds.frames, getattr(ds, "actors", None))
        atomic_write_json(out / "metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"pernav pose {args.cmd}: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.cmd == "make-data":
        out = Path(args.out)
        if args.kind == "panoptic":
            from sim.synthetic.panoptic.writer import PanopticSynthConfig, write_panoptic_dataset

            cfg = PanopticSynthConfig(
                num_frames=args.frames,
                num_cameras=args.cameras,
                min_people=args.people[0],
                max_people=args.people[1],
                image_width=args.size[0],
                image_height=args.size[1],
                write_images=not args.no_images,
            )
            write_panoptic_dataset(out, args.sequences, cfg, args.seed)
        else:
            from sim.synthetic.panoptic.shelf import ShelfSynthConfig, write_shelf_sequence

            write_shelf_sequence(
                out, ShelfSynthConfig(name=args.kind, num_frames=args.frames, num_actors=args.people[1]), args.seed
            )
        print(f"wrote {args.kind} data to {out}")
        return 0
    if args.cmd == "train":
        from pose3d.multiview.train import train

        path = train(load_config(args.config, args.set), resume=args.resume, init=args.init, progress=not args.quiet)
        print(f"saved {path}")
        return 0
    if args.cmd == "eval":
        from pose3d.multiview.datasets.build import build_dataset
        from pose3d.multiview.evaluate import evaluate, predict
        from pose3d.multiview.io import atomic_write_json

        model, cfg = _load_model(args.checkpoint, args)
        ds = build_dataset(cfg.val_data, cfg.model)
        metrics = evaluate(
            predict(model, ds.frames, cfg.device, not args.quiet), ds.frames, getattr(ds, "actors", None)
        )
        print(_metrics_text(metrics))
        if args.out:
            atomic_write_json(args.out, metrics)
        return 0
    if args.cmd == "infer":
        model, cfg = _load_model(args.checkpoint, args)
        metrics = _infer(model, cfg, args.frames, Path(args.out or Path(cfg.out_dir) / "infer"), not args.quiet)
        print(_metrics_text(metrics))
        return 0
    if args.cmd == "bench":
        from pose3d.multiview.bench import format_bench, run_bench

        cfg = load_config(args.config, args.set)
        print(format_bench(run_bench(cfg.model, args.views, repeats=args.repeats, device=cfg.device)))
        return 0
    if args.cmd == "demo":
        from sim.synthetic.panoptic.writer import PanopticSynthConfig, write_panoptic_dataset

        out = Path(args.out)
        data = out / "data"
        write_panoptic_dataset(data, ["demo_seq"], PanopticSynthConfig(num_frames=args.frames), seed=7)
        overrides = [
            f"val_data.root={data}",
            "val_data.sequences=[demo_seq]",
            "val_data.interval=1",
            f"val_data.pseudo_dir={data / 'pseudo_2d'}",
            "val_data.kind=panoptic",
        ]
        model, cfg = _load_model(args.checkpoint, argparse.Namespace(config=None, set=overrides))
        metrics = _infer(model, cfg, 2, out, True)
        print(_metrics_text(metrics))
        print(f"pictures and metrics in {out}")
        return 0
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    raise SystemExit(main())
