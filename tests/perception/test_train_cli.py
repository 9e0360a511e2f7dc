"""The real entry points: `pernav occ train` (2 iterations), resume, eval with dropout, infer, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from perception.occupancy import cli as occ_cli
from perception.occupancy.checkpoint import load_checkpoint
from perception.occupancy.cli import main as occ
from tools.cli import main as pernav

SMALL = ["--set", "model.channels=16", "--set", "model.heads=2", "--set", "data.pad_to=16"]


def test_train_resume_eval_infer(omnihd_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["occ", "train", "--config", "small", "--set", f"data.root={omnihd_root}", "--set", f"out_dir={out}",
            "--set", "optim.iters=2", "--set", "optim.log_every=1", "--set", "optim.sensor_dropout=1.0", *SMALL]
    assert pernav(args) == 0
    ckpt = load_checkpoint(out / "latest.pt")
    assert ckpt["step"] == 2 and ckpt["config"]["model"]["channels"] == 16 and "optimizer" in ckpt
    assert (out / "config.yaml").is_file()
    events = EventAccumulator(str(next((out / "tb").glob("events.out.tfevents.*"))))
    events.Reload()
    assert {"loss", "ce", "geo_scal", "sem_scal", "lr", "grad_norm"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("loss")] == [1, 2]
    before = {k: v.clone() for k, v in ckpt["model"].items()}
    assert pernav([*args[:-len(SMALL) - 6], "--set", "optim.iters=3", *SMALL, "--resume", "auto"]) == 0
    resumed = load_checkpoint(out / "latest.pt")
    assert resumed["step"] == 3
    assert any(not torch.equal(before[k], resumed["model"][k]) for k in before)

    assert occ(["eval", "--checkpoint", str(out / "latest.pt"), "--split", "val", "--dropout"]) == 0
    metrics = json.loads((out / "metrics_val.json").read_text())
    assert set(metrics) >= {"none", "radar_missing", "cameras_missing"}
    assert 0.0 <= metrics["none"]["sc_iou"] <= 100.0 and (out / "eval_val_none.png").stat().st_size > 10_000

    assert occ(["export", "--checkpoint", str(out / "latest.pt"), "--out", str(tmp_path / "w.pt"), "--half"]) == 0
    small = load_checkpoint(tmp_path / "w.pt")
    assert "optimizer" not in small and small["model"]["head.classify.weight"].dtype == torch.float16

    assert occ(["infer", "--checkpoint", str(out / "latest.pt"), "--root", str(omnihd_root), "--split", "val",
                "--out", str(tmp_path / "infer")]) == 0
    preds = sorted((tmp_path / "infer" / "pred").rglob("*.npz"))
    assert len(preds) == 3
    sparse = np.load(preds[0])["occ_gt"]
    assert sparse.shape[1] == 4 and sparse[:, 3].max() < 12
    assert list((tmp_path / "infer").glob("infer_*.png"))


def test_resume_after_crash_matches_uninterrupted_run(omnihd_root: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed in iteration 3 and resumed from its iteration-2 checkpoint ends with the weights of the
    run that was never interrupted (same batches, same sensor-dropout draws, same schedule)."""
    import perception.occupancy.mm.model as mm_model

    def args(out: Path) -> list[str]:
        return ["occ", "train", "--config", "small", "--set", f"data.root={omnihd_root}", "--set", f"out_dir={out}",
                "--set", "optim.iters=4", "--set", "optim.ckpt_every=2", "--set", "optim.sensor_dropout=0.5",
                "--set", "model.variant=fusion", *SMALL]

    assert pernav(args(tmp_path / "straight")) == 0
    calls = {"n": 0}
    real = mm_model.training_losses

    def crash_in_third_iteration(*a: object, **k: object) -> dict[str, torch.Tensor]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(*a, **k)

    monkeypatch.setattr(mm_model, "training_losses", crash_in_third_iteration)
    with pytest.raises(RuntimeError, match="simulated crash"):
        pernav(args(tmp_path / "crashed"))
    monkeypatch.undo()
    at_crash = load_checkpoint(tmp_path / "crashed" / "latest.pt")
    assert at_crash["step"] == 2
    assert pernav([*args(tmp_path / "crashed"), "--resume", "auto"]) == 0

    straight, resumed = load_checkpoint(tmp_path / "straight" / "latest.pt"), load_checkpoint(
        tmp_path / "crashed" / "latest.pt")
    assert resumed["step"] == straight["step"] == 4
    assert resumed["extra"]["class_weights"] == straight["extra"]["class_weights"]
    for key, value in straight["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, rtol=1e-5, atol=1e-6, msg=key)
    assert any(not torch.equal(at_crash["model"][k], v) for k, v in resumed["model"].items())


def test_bad_arguments_give_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert occ(["train", "--set", "model.variant=lidar"]) == 2
    assert "model.variant must be one of" in capsys.readouterr().err
    assert occ(["train", "--set", "model.nope=1"]) == 2
    assert "model.nope: unknown key" in capsys.readouterr().err
    shipped = occ_cli.SHIPPED_CHECKPOINT
    assert occ(["train", "--set", f"out_dir={tmp_path / 'r'}", "--resume", str(shipped)]) == 2
    assert "cannot resume, the checkpoint has no training state" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"junk")
    assert occ(["eval", "--checkpoint", str(bad)]) == 2
    assert "bad.pt: not a readable checkpoint" in capsys.readouterr().err


def test_ddp_two_processes(omnihd_root: Path, tmp_path: Path) -> None:
    """torchrun with 2 CPU processes (gloo): both ranks train on their shard; rank 0 writes the checkpoint."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29561",
           "-m", "perception.occupancy.cli", "train", "--config", "small", "--set", f"data.root={omnihd_root}",
           "--set", f"out_dir={tmp_path / 'ddp'}", "--set", "optim.iters=1", *SMALL,
           "--set", "model.backbone=resnet18", "--set", "model.variant=radar", "--set", "optim.sensor_dropout=0"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load_checkpoint(tmp_path / "ddp" / "latest.pt")["step"] == 1


def test_checkpoint_backend_is_atomic(tmp_path: Path) -> None:
    """mmengine's LocalBackend writes in place; ours leaves the old file whole when a write fails."""
    from mmengine.fileio import get_file_backend

    from perception.occupancy.mm.fileio import ATOMIC_BACKEND

    backend = get_file_backend(str(tmp_path), backend_args={"backend": ATOMIC_BACKEND})
    target = tmp_path / "latest.pt"
    backend.put(b"old checkpoint", target)
    with pytest.raises(TypeError):
        backend.put("not bytes", target)  # type: ignore[arg-type]  # f.write fails mid-save
    assert target.read_bytes() == b"old checkpoint"
    backend.put_text("latest.pt", tmp_path / "last_checkpoint")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_checkpoint", "latest.pt"]  # no temp files left
