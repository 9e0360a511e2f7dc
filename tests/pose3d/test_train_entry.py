"""Two-iteration training runs through the real `pernav pose` entry point, then resume, eval and infer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pose3d.multiview.cli import main
from pose3d.multiview.io import load_checkpoint

TINY_MODEL = [
    "model.image_size=[64,64]",
    "model.backbone_depth=18",
    "model.deconv_channels=16",
    "model.attention_deconv_channels=8",
    "model.root_cube=[16,16,4]",
    "model.pose_cube=[8,8,8]",
    "model.v2v_width=4",
    "model.max_people=3",
    "model.proposal_threshold=-100.0",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("panoptic")
    assert main(["make-data", "--out", str(root), "--sequences", "s1", "--frames", "3", "--size", "96", "64"]) == 0
    return root


def _data_args(root: Path) -> list[str]:
    return [
        f"data.root={root}",
        "data.sequences=[s1]",
        "data.interval=1",
        f"data.pseudo_dir={root / 'pseudo_2d'}",
        f"val_data.root={root}",
        "val_data.sequences=[s1]",
        "val_data.interval=1",
        f"val_data.pseudo_dir={root / 'pseudo_2d'}",
    ]


@pytest.mark.parametrize("objective", ["ssl", "supervised"])
def test_two_iterations_all_stages(data: Path, tmp_path: Path, objective: str) -> None:
    out = tmp_path / "run"
    args = [
        "train",
        "--quiet",
        "--set",
        *_data_args(data),
        *TINY_MODEL,
        f"out_dir={out}",
        "train.stage=all",
        "train.max_iters=2",
        f"train.objective={objective}",
        "train.l1_start_epoch=0",
        "train.weight_root_reg=1.0",
    ]
    assert main(args) == 0
    final = load_checkpoint(out / "model.pt")
    assert final["stage"] == "posenet" and final["config"]["train"]["objective"] == objective
    first = load_checkpoint(out / "model_backbone.pt")["model"]
    # the backbone stage changed the backbone, the pose net stage changed the pose net
    init = torch.load(out / "model_backbone.pt", weights_only=True)["model"]
    changed = [
        k
        for k in final["model"]
        if k.startswith("pose_net") and k.endswith("weight") and not torch.equal(final["model"][k], init[k])
    ]
    assert changed and first.keys() == final["model"].keys()
    assert (out / "config.yaml").is_file() and any((out / "tb").iterdir())


def test_resume_eval_infer(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    base = [
        "train",
        "--quiet",
        "--set",
        *_data_args(data),
        *TINY_MODEL,
        f"out_dir={out}",
        "train.stage=rootnet",
        "train.max_iters=1",
        "model.input=detections",
    ]
    assert main([*base, "train.epochs=1"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 1
    assert main([*base, "train.epochs=2", "--resume"]) == 0  # continues at epoch 1
    assert load_checkpoint(out / "checkpoint.pt")["epoch"] == 2
    metrics = tmp_path / "m.json"
    assert main(["eval", "--quiet", "--checkpoint", str(out / "model.pt"), "--out", str(metrics)]) == 0
    assert "mpjpe" in metrics.read_text()
    pics = tmp_path / "pics"
    assert main(["infer", "--quiet", "--checkpoint", str(out / "model.pt"), "--out", str(pics), "--frames", "1"]) == 0
    assert len(list(pics.glob("views_*.png"))) == 1 and len(list(pics.glob("pose3d_*.png"))) == 1


def test_rootnet_epochs_lengthens_only_the_root_stage(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "--quiet", "--set", *_data_args(data), *TINY_MODEL, f"out_dir={out}", "model.input=detections"]
    args += ["train.stage=all", "train.max_iters=1", "train.epochs=1", "train.rootnet_epochs=2"]
    assert main(args) == 0
    assert load_checkpoint(out / "model_rootnet.pt")["epoch"] == 2
    assert load_checkpoint(out / "model_posenet.pt")["epoch"] == 1


def test_bad_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--quiet", "--set", "train.nope=1"]) == 2
    assert "train.nope: unknown key" in capsys.readouterr().err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["eval", "--checkpoint", str(bad)]) == 2
    assert "bad.pt: not a readable pernav checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize(
    "preset", sorted((Path(__file__).parents[2] / "configs" / "pose").glob("*.yaml")), ids=lambda p: p.name
)
def test_presets_are_complete_and_valid(preset: Path) -> None:
    import yaml

    from pose3d.multiview.config import load_config

    raw = yaml.safe_load(preset.read_text())
    assert set(raw) == {"data", "val_data", "model", "train", "out_dir", "seed", "device"}
    cfg = load_config(preset)
    assert set(raw["model"]) == set(vars(cfg.model)) and set(raw["train"]) == set(vars(cfg.train))


def test_demo_with_shipped_checkpoint(tmp_path: Path) -> None:
    from pose3d.multiview.cli import DEMO_CHECKPOINT

    if not DEMO_CHECKPOINT.is_file():
        pytest.skip(f"{DEMO_CHECKPOINT} not shipped")
    assert main(["demo", "--out", str(tmp_path), "--frames", "2"]) == 0
    assert len(list(tmp_path.glob("views_*.png"))) == 2 and (tmp_path / "metrics.json").is_file()
