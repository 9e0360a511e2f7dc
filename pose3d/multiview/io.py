"""Atomic file output and safe checkpoint loading for pose3d tools."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import torch

from perception.occupancy.atomic import write_atomic


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace`` (perception's writer)."""
    write_atomic(Path(path), lambda f: f.write(data))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomic, key-sorted JSON."""
    atomic_write_bytes(path, json.dumps(obj, sort_keys=True, indent=1).encode())


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save`` to bytes, then an atomic write (tensors and plain data only)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` with an error that names the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or foreign files raise many different types
        raise ValueError(f"{path}: not a readable pernav checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise ValueError(f"{path}: checkpoint lacks 'model' and 'config' entries")
    return state
