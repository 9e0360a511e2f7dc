"""Checkpoints: tensors plus plain metadata (config dict, package version, update counter), written atomically."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from navigation.config import config_from_dict, config_to_dict
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


def export_policy(src: str | Path | Sequence[str | Path], dst: str | Path,
                  stop_mask_margin: float | None = None) -> int:
    """Write the policy-only part of training checkpoint(s) (no optimizer state) to ``dst``; returns its bytes.

    With several checkpoints the exported weights are their uniform average (an SWA-style average of
    snapshots, e.g. ``checkpoint_<update>.pt`` files kept by ``keep_every``). They must hold the same network
    (config and parameter shapes); metadata (config, update, env_steps, wall_s) comes from the last one.
    Averaging is done in float64 and cast back to each tensor's dtype.

    ``stop_mask_margin`` (m), when given, turns the stop-path action mask on in the exported config
    (``network.stop_mask``; it has no weights, so the same tensors load with it).
    """
    paths = [src] if isinstance(src, (str, Path)) else list(src)
    if not paths:
        raise ValueError("export_policy: no checkpoint given")
    loaded = [load_checkpoint(p) for p in paths]
    last = loaded[-1]
    last_shapes = {k: tuple(v.shape) for k, v in last["policy"].items()}
    for path, data in zip(paths[:-1], loaded[:-1], strict=True):
        if data["config"].get("network") != last["config"].get("network"):
            raise ValueError(f"{path}: network config differs from {paths[-1]}'s; only checkpoints of one "
                             "network can be averaged")
        if {k: tuple(v.shape) for k, v in data["policy"].items()} != last_shapes:
            raise ValueError(f"{path}: policy parameters (names or shapes) differ from {paths[-1]}'s")
    keep = {k: v for k, v in last.items() if k not in ("optimizer", "scheduler", "format", "version")}
    if stop_mask_margin is not None:
        network = {**last["config"]["network"], "stop_mask": True, "stop_mask_margin": float(stop_mask_margin)}
        keep["config"] = config_to_dict(config_from_dict({**last["config"], "network": network}))
    keep["policy"] = {k: _mean([d["policy"][k] for d in loaded]) for k in last["policy"]}
    keep["exported_from"] = str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]
    save_checkpoint(dst, keep)
    return Path(dst).stat().st_size


def _mean(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Elementwise mean of same-shape tensors (float64 sum); non-float tensors must agree and are copied."""
    if not tensors[0].is_floating_point():
        if any(not torch.equal(t, tensors[0]) for t in tensors[1:]):
            raise ValueError("non-float policy tensors differ between the checkpoints; cannot average them")
        return tensors[0].clone()
    return (torch.stack([t.double() for t in tensors]).mean(0)).to(tensors[0].dtype)


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
