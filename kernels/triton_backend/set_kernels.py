"""Fused attention over variable-length sets: forward, dQ and dK/dV, one launch each for all sets.

q ``[B, LQ, H, D]``, k ``[B, LK, H, D]``, v / o ``[B, *, H, DV]`` contiguous; set ``b`` has keys
``[0, LENGTHS[b])``; lse / delta fp32 ``[B * H, LQ]``. Grid ``(B * H, tiles)`` (batch·head first: many
sets are expected, tiles per set few).
"""

from __future__ import annotations

import triton
import triton.language as tl

from kernels.triton_backend.tile_ops import (
    attend_tile,
    finish_rows,
    load_rows,
    probs_and_dscores,
    probs_and_dscores_t,
    store_rows,
)


@triton.jit
def set_fwd_kernel(Q, K, V, O, LSE, LENGTHS, LQ, LK, H, D, DV, qk_scale,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr,
                   UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """O and LSE for one tile of queries of one set; a set with no keys gives zero rows, lse -inf."""
    b = tl.program_id(0) // H
    h = tl.program_id(0) % H
    rows = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
    r_in = rows < LQ
    length = tl.load(LENGTHS + b)
    q = load_rows(Q, b * LQ + rows, h, H, D, r_in, BLOCK_D, UPCAST)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DV], tl.float32)
    for n0 in range(0, length, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        c_in = cols < length
        k = load_rows(K, b * LK + cols, h, H, D, c_in, BLOCK_D, UPCAST)
        v = load_rows(V, b * LK + cols, h, H, DV, c_in, BLOCK_DV, UPCAST)
        m_i, l_i, acc = attend_tile(q, k, v, r_in[:, None] & c_in[None, :], m_i, l_i, acc, qk_scale, PRECISION)
    out, lse = finish_rows(m_i, l_i, acc)
    store_rows(O, out, b * LQ + rows, h, H, DV, r_in, BLOCK_DV)
    tl.store(LSE + tl.program_id(0).to(tl.int64) * LQ + rows, lse, mask=r_in)


@triton.jit
def set_bwd_dq_kernel(Q, K, V, DO, LSE, DELTA, DQ, LENGTHS, LQ, LK, H, D, DV, qk_scale, sm_scale,
                      BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr,
                      UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """dQ for one tile of queries of one set."""
    b = tl.program_id(0) // H
    h = tl.program_id(0) % H
    rows = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
    r_in = rows < LQ
    length = tl.load(LENGTHS + b)
    q = load_rows(Q, b * LQ + rows, h, H, D, r_in, BLOCK_D, UPCAST)
    do = load_rows(DO, b * LQ + rows, h, H, DV, r_in, BLOCK_DV, UPCAST)
    lse = tl.load(LSE + tl.program_id(0).to(tl.int64) * LQ + rows, mask=r_in, other=float("-inf"))
    delta = tl.load(DELTA + tl.program_id(0).to(tl.int64) * LQ + rows, mask=r_in, other=0.0)
    dq = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    for n0 in range(0, length, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        c_in = cols < length
        k = load_rows(K, b * LK + cols, h, H, D, c_in, BLOCK_D, UPCAST)
        v = load_rows(V, b * LK + cols, h, H, DV, c_in, BLOCK_DV, UPCAST)
        valid = r_in[:, None] & c_in[None, :]
        _, ds = probs_and_dscores(q, k, v, do, valid, lse, delta, qk_scale, PRECISION)
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    store_rows(DQ, dq * sm_scale, b * LQ + rows, h, H, D, r_in, BLOCK_D)


@triton.jit
def set_bwd_dkdv_kernel(Q, K, V, DO, LSE, DELTA, DK, DV_OUT, LENGTHS, LQ, LK, H, D, DV, qk_scale, sm_scale,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                        BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr,
                        UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """dK, dV for one tile of keys of one set (zeros for padding keys): every query of the set."""
    b = tl.program_id(0) // H
    h = tl.program_id(0) % H
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    length = tl.load(LENGTHS + b)
    c_in = cols < length
    k = load_rows(K, b * LK + cols, h, H, D, c_in, BLOCK_D, UPCAST)
    v = load_rows(V, b * LK + cols, h, H, DV, c_in, BLOCK_DV, UPCAST)
    dk = tl.zeros([BLOCK_N, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_N, BLOCK_DV], tl.float32)
    n_rows = tl.where(tl.program_id(1) * BLOCK_N < length, LQ, 0)  # padding-only tiles skip the walk
    for m0 in range(0, n_rows, BLOCK_M):
        rows = m0 + tl.arange(0, BLOCK_M)
        r_in = rows < LQ
        q = load_rows(Q, b * LQ + rows, h, H, D, r_in, BLOCK_D, UPCAST)
        do = load_rows(DO, b * LQ + rows, h, H, DV, r_in, BLOCK_DV, UPCAST)
        lse = tl.load(LSE + tl.program_id(0).to(tl.int64) * LQ + rows, mask=r_in, other=float("-inf"))
        delta = tl.load(DELTA + tl.program_id(0).to(tl.int64) * LQ + rows, mask=r_in, other=0.0)
        valid_t = c_in[:, None] & r_in[None, :]
        p_t, ds_t = probs_and_dscores_t(k, q, v, do, valid_t, lse, delta, qk_scale, PRECISION)
        dv += tl.dot(p_t.to(do.dtype), do, input_precision=PRECISION)
        dk += tl.dot(ds_t.to(q.dtype), q, input_precision=PRECISION)
    store_rows(DK, dk * sm_scale, b * LK + cols, h, H, D, cols < LK, BLOCK_D)
    store_rows(DV_OUT, dv, b * LK + cols, h, H, DV, cols < LK, BLOCK_DV)
