"""Neighborhood attention through the fused Triton kernels, with autograd.

:func:`na` regroups tokens by dilation (differentiable torch ops), runs :class:`FusedNA` on the grouped
tensors and ungroups the output; gradients flow back through the same regrouping.
"""

from __future__ import annotations

import functools
import math

import torch
import triton
from torch.autograd.function import once_differentiable

from kernels.triton_backend.geometry import NAGeometry, from_groups, na_geometry, to_groups
from kernels.triton_backend.launch import ATTN_WARPS, block, check_grid, dot_options, row_delta
from kernels.triton_backend.na_kernels import (
    extra_bwd_dkdv_kernel,
    na_bwd_dkdv_kernel,
    na_bwd_dq_kernel,
    na_fwd_kernel,
)
from kernels.triton_backend.tile_ops import LOG2E

#: global tokens per program of the extra-token kernels are at most this many (and at least 16)
MAX_BLOCK_E = 64
#: queries per iteration of the extra-token dK/dV kernel
EXTRA_BLOCK_M = 64


@functools.lru_cache(maxsize=64)
def _geometry(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    causal: tuple[bool, ...],
    device: torch.device,
) -> NAGeometry:
    return na_geometry(spatial, kernel, dilation, stride, causal, device)


def _tables(geom: NAGeometry) -> list[torch.Tensor]:
    """Per-axis int32 ``[4, G_a, N_a]`` tables (start, end, inv_lo, inv_hi) as the kernels read them."""
    return [ax.table for ax in geom.axes]


def _active(geom: NAGeometry) -> dict[str, bool]:
    """Compile-time flags: must the kernels check windows along the first two axes?

    An axis can be skipped only when it has one position and both tiles are one wide along it (then
    every token in a box is at position 0 and inside every window).
    """
    flat = [n == 1 and p == 1 and i == 1 for n, p, i in zip(geom.n, geom.ptile, geom.itile, strict=True)]
    return {"ACT_X": not flat[0], "ACT_Y": not flat[1]}


def _shape_args(geom: NAGeometry, h: int, d: int, dv: int) -> list[int]:
    return [*geom.n, *(ax.groups for ax in geom.axes), h, d, dv]


class FusedNA(torch.autograd.Function):
    """Autograd wrapper of the NA kernels on grouped tensors.

    q, k ``[BG, N0, N1, N2, H, D]``, v ``[BG, N0, N1, N2, H, DV]`` contiguous; ek ``[B, M, H, D]`` and
    ev ``[B, M, H, DV]`` contiguous, or None. Returns ``[BG, N0, N1, N2, H, DV]``.
    """

    @staticmethod
    def forward(ctx, q, k, v, ek, ev, geom: NAGeometry, scale: float):
        bg, h, d, dv = q.shape[0], q.shape[-2], q.shape[-1], v.shape[-1]
        n_tokens = math.prod(geom.n)
        o = q.new_empty(*q.shape[:-1], dv)
        lse = torch.empty(bg * h, n_tokens, dtype=torch.float32, device=q.device)
        m_extra = 0 if ek is None else ek.shape[1]
        tables = _tables(geom)
        check_grid("na", bg * h)
        na_fwd_kernel[(math.prod(geom.tiles(geom.ptile)), bg * h)](
            q, k, v, o, lse, q if ek is None else ek, v if ev is None else ev, *tables,
            *_shape_args(geom, h, d, dv), m_extra, scale * LOG2E,
            *geom.ptile, *geom.itile, **_active(geom), BLOCK_D=block(d), BLOCK_DV=block(dv),
            BLOCK_E=block(min(max(m_extra, 1), MAX_BLOCK_E)), **dot_options(q.dtype), num_warps=ATTN_WARPS,
        )  # fmt: skip
        ctx.save_for_backward(q, k, v, ek, ev, o, lse)
        ctx.geom, ctx.scale = geom, scale
        return o

    @staticmethod
    @once_differentiable
    def backward(ctx, do):
        q, k, v, ek, ev, o, lse = ctx.saved_tensors
        geom, scale = ctx.geom, ctx.scale
        do = do.contiguous()
        bg, h, d, dv = q.shape[0], q.shape[-2], q.shape[-1], v.shape[-1]
        n_tokens = math.prod(geom.n)
        delta = row_delta(o.view(bg, n_tokens, h, dv), do.view(bg, n_tokens, h, dv))
        m_extra = 0 if ek is None else ek.shape[1]
        block_e = block(min(max(m_extra, 1), MAX_BLOCK_E))
        tables = _tables(geom)
        shape = _shape_args(geom, h, d, dv)
        opts = dict(BLOCK_D=block(d), BLOCK_DV=block(dv), num_warps=ATTN_WARPS, **dot_options(q.dtype))
        dq, dk, dv_ = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        na_bwd_dq_kernel[(math.prod(geom.tiles(geom.ptile)), bg * h)](
            q, k, v, do, lse, delta, dq, q if ek is None else ek, v if ev is None else ev, *tables,
            *shape, m_extra, scale * LOG2E, scale, *geom.ptile, *geom.itile, **_active(geom), BLOCK_E=block_e, **opts,
        )  # fmt: skip
        na_bwd_dkdv_kernel[(math.prod(geom.tiles(geom.ptile)), bg * h)](
            q, k, v, do, lse, delta, dk, dv_, *tables, *shape, scale * LOG2E, scale,
            *geom.ptile, *geom.itile, **_active(geom), **opts,
        )  # fmt: skip
        dek = dev = None
        if ek is not None and ev is not None:
            b = ek.shape[0]
            dek, dev = torch.empty_like(ek), torch.empty_like(ev)
            check_grid("na global tokens", b * h)
            extra_bwd_dkdv_kernel[(triton.cdiv(m_extra, block_e), b * h)](
                q, ek, ev, do, lse, delta, dek, dev, n_tokens, geom.groups, h, d, dv, m_extra,
                scale * LOG2E, scale, BLOCK_M=EXTRA_BLOCK_M, BLOCK_E=block_e, **opts,
            )  # fmt: skip
        return dq, dk, dv_, dek, dev, None, None


def na(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    causal: tuple[bool, ...],
    scale: float,
    additional_keys: torch.Tensor | None = None,
    additional_values: torch.Tensor | None = None,
    rpb: torch.Tensor | None = None,
) -> torch.Tensor:
    """Neighborhood attention, q/k ``[B, *spatial, heads, dim]``, v ``[B, *spatial, heads, dim_v]``.

    Per-axis tuples as normalised by :mod:`kernels.functional`; additional_keys / additional_values
    ``[B, M, heads, dim]`` / ``[B, M, heads, dim_v]`` are attended by every query. rpb is not supported
    by the fused kernels (the dispatcher sends such calls to the torch backend). Returns
    ``[B, *spatial, heads, dim_v]``.
    """
    if rpb is not None:
        raise ValueError("triton backend: relative position bias (rpb) is not fused; use backend='torch'")
    geom = _geometry(tuple(q.shape[1:-2]), kernel, dilation, stride, causal, q.device)
    ek = None if additional_keys is None else additional_keys.contiguous()
    ev = None if additional_values is None else additional_values.contiguous()
    out = FusedNA.apply(to_groups(q, geom), to_groups(k, geom), to_groups(v, geom), ek, ev, geom, scale)
    return from_groups(out, geom)
