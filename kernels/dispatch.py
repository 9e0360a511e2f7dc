"""Backend choice: by argument, by ``PERNAV_ATTN_BACKEND``, or by device, dtype and size — and why.

``choose_backend`` logs each distinct decision once on the ``kernels`` logger (INFO), e.g.
``na2d -> torch: CPU tensor, 4096 tokens (> 256, tiled SDPA beats the dense reference)``.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os

import torch

logger = logging.getLogger("kernels")

BACKENDS = ("reference", "torch", "triton")
#: below this many query tokens the dense reference is as fast as tiling and has no set-up cost
SMALL_PROBLEM = 256


def triton_usable(device: torch.device) -> tuple[bool, str]:
    """Can the Triton backend run tensors on ``device``? Returns (usable, reason)."""
    if importlib.util.find_spec("triton") is None:
        return False, "triton is not installed"
    if device.type == "cuda":
        return True, "CUDA tensor and triton installed"
    if os.environ.get("TRITON_INTERPRET") == "1":
        return True, "CPU tensor under TRITON_INTERPRET=1 (interpreter: slow, for testing)"
    return False, f"{device.type} tensor: triton needs CUDA or TRITON_INTERPRET=1"


def choose_backend(op: str, device: torch.device, dtype: torch.dtype, tokens: int, requested: str | None = None) -> str:
    """Pick the backend for ``op`` on ``tokens`` query tokens; ``requested`` (or the env var) forces one."""
    forced = requested or os.environ.get("PERNAV_ATTN_BACKEND") or None
    if forced is not None:
        if forced not in BACKENDS:
            raise ValueError(f"backend={forced!r}: expected one of {BACKENDS}")
        if forced == "triton":
            ok, why = triton_usable(device)
            if not ok:
                raise ValueError(f"backend='triton' requested for {op} but {why}")
        how = "argument" if requested else "PERNAV_ATTN_BACKEND"
        return _log(op, forced, f"forced by {how}")
    if device.type == "cuda":
        ok, why = triton_usable(device)
        if ok and dtype in (torch.float16, torch.bfloat16, torch.float32):
            return _log(op, "triton", f"{why}, dtype {dtype}")
        return _log(op, "torch", f"CUDA tensor, dtype {dtype}; triton unusable or dtype unsupported ({why})")
    if tokens <= SMALL_PROBLEM:
        return _log(op, "reference", f"{device.type} tensor, {tokens} tokens (<= {SMALL_PROBLEM}: dense is cheapest)")
    return _log(op, "torch", f"{device.type} tensor, {tokens} tokens (> {SMALL_PROBLEM}: tiled SDPA, no N×N matrix)")


@functools.lru_cache(maxsize=256)
def _log(op: str, backend: str, reason: str) -> str:
    logger.info("%s -> %s: %s", op, backend, reason)
    return backend
