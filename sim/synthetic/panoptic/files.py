"""Atomic, deterministic file writing for the synthetic dataset writers."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Atomic JSON with sorted keys and compact separators (same object -> same bytes)."""
    write_bytes(path, json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def write_image(path: Path, image: np.ndarray) -> None:
    """[H, W, 3] float image in [0, 1] -> JPEG (quality 92) or PNG, chosen by the suffix."""
    rgb = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    kwargs = {"quality": 92} if path.suffix.lower() in (".jpg", ".jpeg") else {}
    write_bytes(path, iio.imwrite("<bytes>", rgb, extension=path.suffix, **kwargs))


def rounded(a: np.ndarray, decimals: int = 3) -> list:
    """Nested lists of rounded floats, so JSON output does not depend on float printing noise."""
    return np.round(np.asarray(a, dtype=np.float64), decimals).tolist()
