"""Checkpoints: tensors plus plain metadata (config dict, package version, update counter), written atomically."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import torch

from sim.atomic import atomic_path

FORMAT = "pernav.nav.checkpoint/1"


def package_version() -> str:
    """Installed pernav version (``0+unknown`` when run from a bare source tree)."""
    try:
        return importlib.metadata.version("pernav")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (+ format and version) to ``path`` via a temp file in the same folder and ``os.replace``."""
    data = {"format": FORMAT, "version": package_version(), **payload}
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def export_policy(src: str | Path, dst: str | Path) -> int:
    """Write the policy-only part of a training checkpoint (no optimizer state) to ``dst``; returns its bytes."""
    data = load_checkpoint(src)
    keep = {k: v for k, v in data.items() if k not in ("optimizer", "scheduler", "format", "version")}
    keep["policy"] = {k: v.clone() for k, v in data["policy"].items()}
    keep["exported_from"] = str(src)
    save_checkpoint(dst, keep)
    return Path(dst).stat().st_size


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``), checking its format."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path}: checkpoint format {found!r}, expected {FORMAT!r}")
    for key in ("config", "policy"):
        if key not in data:
            raise ValueError(f"{path}: checkpoint lacks {key!r}")
    return data
