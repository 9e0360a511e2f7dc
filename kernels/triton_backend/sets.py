"""Attention over variable-length sets through the fused Triton kernels, with autograd."""

from __future__ import annotations

import torch
import triton
from torch.autograd.function import once_differentiable

from kernels.triton_backend.launch import ATTN_WARPS, BLOCK_M, BLOCK_N, block, check_grid, dot_options, row_delta
from kernels.triton_backend.set_kernels import set_bwd_dkdv_kernel, set_bwd_dq_kernel, set_fwd_kernel
from kernels.triton_backend.tile_ops import LOG2E


class FusedSetAttention(torch.autograd.Function):
    """Autograd wrapper of the set kernels.

    q ``[B, LQ, H, D]``, k ``[B, LK, H, D]``, v ``[B, LK, H, DV]`` contiguous, lengths int32 ``[B]``.
    Returns ``[B, LQ, H, DV]``.
    """

    @staticmethod
    def forward(ctx, q, k, v, lengths, scale: float):
        b, lq, h, d = q.shape
        lk, dv = k.shape[1], v.shape[-1]
        o = q.new_empty(b, lq, h, dv)
        lse = torch.empty(b * h, lq, dtype=torch.float32, device=q.device)
        check_grid("set_attention", triton.cdiv(lq, BLOCK_M))
        set_fwd_kernel[(b * h, triton.cdiv(lq, BLOCK_M))](
            q, k, v, o, lse, lengths, lq, lk, h, d, dv, scale * LOG2E, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N,
            BLOCK_D=block(d), BLOCK_DV=block(dv), num_warps=ATTN_WARPS, **dot_options(q.dtype),
        )  # fmt: skip
        ctx.save_for_backward(q, k, v, lengths, o, lse)
        ctx.scale = scale
        return o

    @staticmethod
    @once_differentiable
    def backward(ctx, do):
        q, k, v, lengths, o, lse = ctx.saved_tensors
        scale = ctx.scale
        do = do.contiguous()
        b, lq, h, d = q.shape
        lk, dv = k.shape[1], v.shape[-1]
        delta = row_delta(o, do)
        opts = dict(
            BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_D=block(d), BLOCK_DV=block(dv), num_warps=ATTN_WARPS,
            **dot_options(q.dtype),
        )  # fmt: skip
        dq, dk, dv_ = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
        set_bwd_dq_kernel[(b * h, triton.cdiv(lq, BLOCK_M))](
            q, k, v, do, lse, delta, dq, lengths, lq, lk, h, d, dv, scale * LOG2E, scale, **opts
        )
        check_grid("set_attention", triton.cdiv(lk, BLOCK_N))
        set_bwd_dkdv_kernel[(b * h, triton.cdiv(lk, BLOCK_N))](
            q, k, v, do, lse, delta, dk, dv_, lengths, lq, lk, h, d, dv, scale * LOG2E, scale, **opts
        )
        return dq, dk, dv_, None, None


def set_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: torch.Tensor, scale: float
) -> torch.Tensor:
    """Attention over sets whose first ``lengths[b]`` keys are valid, all sets in one launch.

    q ``[B, Lq, heads, dim]``, k ``[B, Lk, heads, dim]``, v ``[B, Lk, heads, dim_v]``, lengths ``[B]``.
    Returns ``[B, Lq, heads, dim_v]``; sets with no valid key give zero rows.
    """
    lengths32 = lengths.to(device=q.device, dtype=torch.int32).contiguous()
    return FusedSetAttention.apply(q.contiguous(), k.contiguous(), v.contiguous(), lengths32, scale)
