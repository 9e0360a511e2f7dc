"""Attention kernels shared by every pernav model.

Heads-last layout ``[B, *spatial, heads, dim]`` throughout. Ops: :func:`na1d`, :func:`na2d`,
:func:`na3d` (neighborhood / dilated / strided-blocked / causal attention with optional global
tokens and relative position bias) and :func:`set_attention` (many small variable-size sets).
Backends: ``reference`` (dense, readable, any dtype), ``torch`` (tiled SDPA, CPU fast path) and
``triton`` (fused online-softmax kernels, GPU); :func:`kernels.dispatch.choose_backend` picks one.
"""

from kernels.dispatch import choose_backend
from kernels.functional import na1d, na2d, na3d, set_attention
from kernels.modules import (
    NeighborhoodAttention1d,
    NeighborhoodAttention2d,
    NeighborhoodAttention3d,
    SetAttention,
)

__all__ = [
    "NeighborhoodAttention1d",
    "NeighborhoodAttention2d",
    "NeighborhoodAttention3d",
    "SetAttention",
    "choose_backend",
    "na1d",
    "na2d",
    "na3d",
    "set_attention",
]
