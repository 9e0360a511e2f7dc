"""The mmdet3d config in configs/occupancy/mmdet3d/ describes the same run as the typed small preset (read
without its custom_imports, so this runs without mmdet3d)."""

from __future__ import annotations

from pathlib import Path

import pytest

from configs import schema
from perception.occupancy.config import load_config
from perception.occupancy.data.omnihd import OmniHDConfig
from perception.occupancy.model.config import ModelConfig

mmengine_config = pytest.importorskip("mmengine.config")

MM_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "occupancy" / "mmdet3d" / "metaocc_small_omnihd.py"


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
