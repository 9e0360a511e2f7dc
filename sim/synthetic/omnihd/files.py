"""Byte-deterministic, atomic file writers (same content → same bytes, no timestamps inside)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
from PIL import Image

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An `.npz` archive (readable by `np.load`) with a fixed zip timestamp, unlike `np.savez`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    """JPEG encoding of an `[H, W, 3]` uint8 image."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def json_bytes(obj: Any) -> bytes:
    """Pretty JSON, keys in insertion order."""
    return (json.dumps(obj, indent=1) + "\n").encode()
