"""configs/occupancy/mmdet3d/: the config describes the same run as the typed small preset, and the
OpenMMLab entry points train and validate it: `Runner.from_cfg` with the pieces in mmengine's root
registries (always), in mmdet3d's registries through the config's `custom_imports`, and mmdet3d's own
tools/train.py (both only with the mmdet3d extra; they skip visibly without it)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from configs import schema
from perception.occupancy.checkpoint import load_checkpoint, model_from_checkpoint
from perception.occupancy.config import load_config
from perception.occupancy.data.omnihd import OmniHDConfig
from perception.occupancy.model.config import ModelConfig

mmengine_config = pytest.importorskip("mmengine.config")
from mmengine.runner import Runner  # noqa: E402

MM_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "occupancy" / "mmdet3d" / "metaocc_small_omnihd.py"
SMALL = {"model.model.channels": 16, "model.model.heads": 2, "train_dataloader.dataset.pad_to": 16,
         "val_dataloader.dataset.pad_to": 16, "test_dataloader.dataset.pad_to": 16}


def _options(root: Path, iters: int) -> dict[str, Any]:
    """--cfg-options for a short run on `root`."""
    return {"train_dataloader.dataset.data_root": str(root), "val_dataloader.dataset.data_root": str(root),
            "test_dataloader.dataset.data_root": str(root), "train_cfg.max_iters": iters,
            "train_cfg.val_interval": iters, "param_scheduler.0.T_max": iters, "param_scheduler.0.end": iters,
            "default_hooks.checkpoint.interval": iters, "default_hooks.logger.interval": 1, **SMALL}


def test_mmdet3d_config_matches_small_preset() -> None:
    mm = mmengine_config.Config.fromfile(str(MM_CONFIG), import_custom_modules=False)
    small = load_config("small")
    assert schema.from_dict(ModelConfig, mm.model.model) == small.model
    data = mm.train_dataloader.dataset
    assert schema.from_dict(OmniHDConfig, {"root": small.data.root, **mm.data_options}) == small.data
    assert data.data_root == small.data.root and data.split == "train" and mm.val_dataloader.dataset.split == "val"
    assert mm.model.optim.scal_weight == small.optim.scal_weight
    opt = mm.optim_wrapper
    assert (opt.optimizer.lr, opt.optimizer.weight_decay, opt.clip_grad.max_norm) == (
        small.optim.lr, small.optim.weight_decay, small.optim.grad_clip)
    assert opt.paramwise_cfg.custom_keys["net.camera.encoder"]["lr_mult"] == small.optim.backbone_lr_mult
    assert mm.max_iters == small.optim.iters and mm.param_scheduler[0].T_max == small.optim.iters
    assert mm.train_dataloader.batch_size == small.optim.batch_size
    dropout = [h for h in mm.custom_hooks if h.type == "SensorDropoutHook"]
    assert [(h.probability, h.seed) for h in dropout] == [(small.optim.sensor_dropout, small.optim.seed)]


@pytest.mark.parametrize("scope", ["mmengine", "mmdet3d"])
def test_runner_from_cfg_trains_and_validates(scope: str, omnihd_root: Path, tmp_path: Path) -> None:
    if scope == "mmdet3d":
        pytest.importorskip("mmdet3d", reason="the mmdet3d extra is not installed (tools/build_mmcv.sh + pip)")
        cfg = mmengine_config.Config.fromfile(str(MM_CONFIG))  # custom_imports registers into mmdet3d's registries
        from mmdet3d.registry import MODELS

        assert MODELS.get("MetaOcc").__name__ == "MetaOccModel"
    else:
        from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS

        from perception.occupancy.mm.registration import register

        register(MODELS, DATASETS, METRICS, HOOKS)
        cfg = mmengine_config.Config.fromfile(str(MM_CONFIG), import_custom_modules=False)
        cfg.default_scope = "mmengine"
    cfg.merge_from_dict({"work_dir": str(tmp_path / "work"), **_options(omnihd_root, 2)})
    runner = Runner.from_cfg(cfg)
    runner.train()
    ckpt = tmp_path / "work" / "iter_2.pth"
    blob = load_checkpoint(ckpt)  # torch.load(weights_only=True), as `pernav occ eval` reads it
    assert blob["step"] == 2 and blob["config"]["model"]["channels"] == 16
    assert blob["meta"]["dataset_meta"]["classes"][0] == "free"
    assert all(w > 0 for w in blob["extra"]["class_weights"])
    _, occ_cfg, _ = model_from_checkpoint(ckpt)
    assert occ_cfg.data.root == str(omnihd_root) and occ_cfg.data.pad_to == 16
    metrics = runner.val()
    assert {"occ/sc_iou", "occ/miou"} <= set(metrics) and 0.0 <= metrics["occ/sc_iou"] <= 100.0


def test_mmdet3d_train_script(omnihd_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("mmdet3d", reason="the mmdet3d extra is not installed (tools/build_mmcv.sh + pip)")
    spec = importlib.util.find_spec("mmdet3d")
    assert spec is not None and spec.origin is not None
    script = Path(spec.origin).parent / ".mim" / "tools" / "train.py"
    if not script.is_file():
        pytest.skip(f"{script}: the installed mmdet3d does not ship tools/train.py")
    options = [f"{k}={v}" for k, v in _options(omnihd_root, 1).items()]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(MM_CONFIG.parents[3]))
    proc = subprocess.run([sys.executable, str(script), str(MM_CONFIG), "--work-dir", str(tmp_path / "work"),
                           "--cfg-options", *options], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load_checkpoint(tmp_path / "work" / "iter_1.pth")["step"] == 1
