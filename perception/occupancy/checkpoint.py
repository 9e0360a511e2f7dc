"""Checkpoints: tensors plus plain metadata (config, step, version), written atomically, read with
`weights_only=True`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from perception.occupancy.atomic import write_atomic
from perception.occupancy.config import OccConfig, config_from_dict, config_to_dict
from perception.occupancy.model import MetaOcc

FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, model: torch.nn.Module, cfg: OccConfig, step: int,
                    optimizer: torch.optim.Optimizer | None = None, extra: dict[str, Any] | None = None,
                    half: bool = False) -> Path:
    """Write `path` atomically (temp file + `os.replace`). `half` stores float tensors as float16."""
    state = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items()}
    blob: dict[str, Any] = {"format_version": FORMAT_VERSION, "kind": "metaocc", "step": step, "model": state,
                            "config": config_to_dict(cfg), "extra": extra or {}}
    if optimizer is not None:
        blob["optimizer"] = optimizer.state_dict()
    return write_atomic(path, lambda f: torch.save(blob, f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and validate a checkpoint (no pickled objects are executed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt files
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(blob, dict) or blob.get("kind") != "metaocc" or "model" not in blob or "config" not in blob:
        raise ValueError(f"{path}: not a MetaOcc checkpoint (missing kind/model/config)")
    if blob.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format {blob.get('format_version')}, expected {FORMAT_VERSION}")
    return blob


def model_from_checkpoint(path: str | Path, cfg: OccConfig | None = None) -> tuple[MetaOcc, OccConfig, dict]:
    """Build the model from the checkpoint's own config (or `cfg`) and load its weights (float32)."""
    blob = load_checkpoint(path)
    cfg = cfg or config_from_dict(blob["config"])
    model = MetaOcc(cfg.model)
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["model"].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match model config {cfg.model} ({exc})") from exc
    return model, cfg, blob
