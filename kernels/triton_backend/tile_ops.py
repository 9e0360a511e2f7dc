"""Triton device functions shared by the NA and set kernels: one tile of online softmax, forward and back.

Scores are kept in the log2 domain (``qk_scale = scale * log2(e)``, ``lse`` stored as log2-sum-exp2), so
``exp2`` replaces ``exp``. All accumulation is fp32. ``UPCAST`` casts the operand tiles to fp32 before
each ``tl.dot`` (used for bf16 under ``TRITON_INTERPRET=1``, whose bf16 dot is wrong); ``PRECISION`` is
the dot input precision (``"ieee"`` for fp32 tensors, ``"tf32"`` — i.e. the native path — for 16-bit).
"""

from __future__ import annotations

import triton
import triton.language as tl

LOG2E = 1.4426950408889634


@triton.jit
def attend_tile(q, k, v, valid, m_i, l_i, acc, qk_scale, PRECISION: tl.constexpr):
    """Fold one key tile into the running softmax.

    q ``[BM, BD]``, k ``[BN, BD]``, v ``[BN, BDV]``, valid ``[BM, BN]`` bool; m_i, l_i ``[BM]`` and
    acc ``[BM, BDV]`` fp32. Returns the updated ``(m_i, l_i, acc)``; fully masked rows stay at
    ``m=-inf, l=0, acc=0``.
    """
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    s = tl.where(valid, s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
    alpha = tl.exp2(m_i - m_safe)
    p = tl.exp2(s - m_safe[:, None])
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
    return m_new, l_i, acc


@triton.jit
def finish_rows(m_i, l_i, acc):
    """Normalise the accumulator; returns (out ``[BM, BDV]`` fp32, lse2 ``[BM]``); empty rows → 0, -inf."""
    empty = l_i == 0.0
    out = acc / tl.where(empty, 1.0, l_i)[:, None]
    lse = tl.where(empty, float("-inf"), m_i + tl.log2(tl.where(empty, 1.0, l_i)))
    return out, lse


@triton.jit
def probs_and_dscores(q, k, v, do, valid, lse, delta, qk_scale, PRECISION: tl.constexpr):
    """Recompute one tile's probabilities and score gradients for the backward pass.

    q ``[BM, BD]``, k ``[BN, BD]``, v ``[BN, BDV]``, do ``[BM, BDV]``, valid ``[BM, BN]``, lse / delta
    ``[BM]`` (log2-sum-exp2 and ``rowsum(dO * O)``). Returns p and dS (w.r.t. the natural-log scores),
    both ``[BM, BN]`` fp32.
    """
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    keep = valid & (lse != float("-inf"))[:, None]
    p = tl.where(keep, tl.exp2(s - tl.where(keep, lse[:, None], 0.0)), 0.0)
    dp = tl.dot(do, tl.trans(v), input_precision=PRECISION)
    return p, p * (dp - delta[:, None])


@triton.jit
def probs_and_dscores_t(k, q, v, do, valid_t, lse, delta, qk_scale, PRECISION: tl.constexpr):
    """Transposed :func:`probs_and_dscores` for the per-key-tile backward: returns p^T, dS^T ``[BN, BM]``.

    k ``[BN, BD]``, q ``[BM, BD]``, v ``[BN, BDV]``, do ``[BM, BDV]``, valid_t ``[BN, BM]``, lse/delta ``[BM]``.
    """
    s_t = tl.dot(k, tl.trans(q), input_precision=PRECISION) * qk_scale
    keep = valid_t & (lse != float("-inf"))[None, :]
    p_t = tl.where(keep, tl.exp2(s_t - tl.where(keep, lse[None, :], 0.0)), 0.0)
    dp_t = tl.dot(v, tl.trans(do), input_precision=PRECISION)
    return p_t, p_t * (dp_t - delta[None, :])


@triton.jit
def delta_kernel(O, DO, DELTA, NQ, H, DV, BLOCK_M: tl.constexpr, BLOCK_DV: tl.constexpr):
    """``DELTA[b*H + h, i] = sum_d O[b, i, h, d] * DO[b, i, h, d]``; O, DO contiguous ``[B, NQ, H, DV]``.

    Grid ``(B * H, cdiv(NQ, BLOCK_M))``.
    """
    pid_bh = tl.program_id(0)
    pid_m = tl.program_id(1)
    b = pid_bh // H
    h = pid_bh % H
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.arange(0, BLOCK_DV)
    base = (b.to(tl.int64) * NQ + rows[:, None]) * H * DV + h * DV + cols[None, :]
    mask = (rows < NQ)[:, None] & (cols < DV)[None, :]
    o = tl.load(O + base, mask=mask, other=0.0).to(tl.float32)
    do = tl.load(DO + base, mask=mask, other=0.0).to(tl.float32)
    tl.store(DELTA + pid_bh.to(tl.int64) * NQ + rows, tl.sum(o * do, 1), mask=rows < NQ)


@triton.jit
def load_rows(PTR, rows, h, H, D, row_mask, BLOCK_D: tl.constexpr, UPCAST: tl.constexpr):
    """Tile ``PTR[rows, h, :D]`` of a contiguous ``[rows, H, D]`` tensor → ``[len(rows), BLOCK_D]``."""
    cols = tl.arange(0, BLOCK_D)
    ptrs = PTR + (rows.to(tl.int64) * H + h)[:, None] * D + cols[None, :]
    x = tl.load(ptrs, mask=row_mask[:, None] & (cols < D)[None, :], other=0.0)
    if UPCAST:
        x = x.to(tl.float32)
    return x


@triton.jit
def store_rows(PTR, x, rows, h, H, D, row_mask, BLOCK_D: tl.constexpr):
    """Store ``x [len(rows), BLOCK_D]`` into ``PTR[rows, h, :D]`` (cast to the tensor's dtype)."""
    cols = tl.arange(0, BLOCK_D)
    ptrs = PTR + (rows.to(tl.int64) * H + h)[:, None] * D + cols[None, :]
    tl.store(ptrs, x.to(PTR.dtype.element_ty), mask=row_mask[:, None] & (cols < D)[None, :])
