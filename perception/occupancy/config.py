"""One typed config per entry point: `OccConfig` (data + model + optimisation), loaded from a complete YAML
preset in `configs/occupancy/` with `section.field=value` overrides from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configs import schema
from perception.occupancy.data.omnihd import OmniHDConfig
from perception.occupancy.model.config import ModelConfig

PRESET_DIR = Path(__file__).resolve().parents[2] / "configs" / "occupancy"


@dataclass
class OptimConfig:
    """Optimisation and bookkeeping."""

    iters: int = 200
    """training iterations"""
    batch_size: int = 1
    """samples per iteration per process"""
    lr: float = 2e-3
    """AdamW learning rate (cosine decay to 1% over `iters`)"""
    backbone_lr_mult: float = 0.1
    """learning-rate factor of the camera backbone (as the OmniHD baseline)"""
    weight_decay: float = 0.01
    """AdamW weight decay"""
    grad_clip: float = 35.0
    """max gradient norm"""
    scal_weight: float = 1.0
    """weight of the geo/sem scale-aware loss terms"""
    depth_weight: float = 1.0
    """weight of the LiDAR depth supervision of the camera branch's depth distribution (0 disables)"""
    aux_weight: float = 0.5
    """weight of the per-branch auxiliary heads' cross-entropy (fusion variant; 0 disables)"""
    sensor_dropout: float = 0.0
    """probability per iteration of training with a sensor removed (radar missing, one camera black or all
    cameras black; mix in `sensor_dropout.TRAINING_MIX`)"""
    num_workers: int = 0
    """DataLoader workers"""
    log_every: int = 10
    """TensorBoard logging interval (iterations)"""
    ckpt_every: int = 100
    """checkpoint interval (iterations); one is always written at the end"""
    seed: int = 0
    """torch / sampler seed"""


@dataclass
class OccConfig:
    """Everything one `pernav occ train|eval|infer` run needs."""

    data: OmniHDConfig = field(default_factory=OmniHDConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    out_dir: str = "outputs/occ"
    """checkpoints, TensorBoard logs, metrics and pictures go here"""
    device: str = "cpu"
    """`cpu` or `cuda`"""

    def __post_init__(self) -> None:
        if self.optim.sensor_dropout > 0 and self.model.variant != "fusion":
            raise ValueError(f"optim.sensor_dropout={self.optim.sensor_dropout} needs model.variant='fusion': a "
                             f"{self.model.variant}-only model would train some iterations without its only sensor")


def load_config(preset: str | Path | None = None, overrides: list[str] | None = None) -> OccConfig:
    """A preset name (`small`, `r50`) or YAML path, plus `a.b=value` overrides → `OccConfig`."""
    tree: dict[str, Any] = {}
    if preset:
        path = Path(preset)
        if not path.suffix:
            path = PRESET_DIR / f"metaocc_{preset}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
            raise FileNotFoundError(f"{path}: config preset not found (presets: {known})")
        tree = schema.read_yaml(path)
    return schema.from_dict(OccConfig, schema.apply_overrides(tree, overrides))


def config_to_dict(cfg: OccConfig) -> dict[str, Any]:
    """Plain dict (tuples as lists) for YAML / checkpoints."""
    return schema.to_dict(cfg)


def config_from_dict(tree: dict[str, Any]) -> OccConfig:
    """Inverse of :func:`config_to_dict`."""
    return schema.from_dict(OccConfig, tree)
