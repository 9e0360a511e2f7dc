"""Atomic, deterministic file writing for the synthetic dataset writers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from sim.atomic import write_bytes_atomic


def write_json(path: Path, obj: Any) -> None:
    """Atomic JSON with sorted keys and compact separators (same object -> same bytes)."""
    write_bytes_atomic(path, json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def write_image(path: Path, image: np.ndarray) -> None:
    """[H, W, 3] float image in [0, 1] -> JPEG (quality 92) or PNG, chosen by the suffix."""
    rgb = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    kwargs = {"quality": 92} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    write_bytes_atomic(path, iio.imwrite("<bytes>", rgb, extension=path.suffix, **kwargs))


def rounded(a: np.ndarray, decimals: int = 3) -> list:
    """Nested lists of rounded floats, so JSON output does not depend on float printing noise."""
    return np.round(np.asarray(a, dtype=np.float64), decimals).tolist()
