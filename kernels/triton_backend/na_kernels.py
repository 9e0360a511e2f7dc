"""Fused neighborhood-attention kernels (forward, dQ, dK/dV, dK/dV of the global tokens).

Tensors are grouped and contiguous: q/k ``[BG, NX, NY, NZ, H, D]``, v/o ``[BG, NX, NY, NZ, H, DV]`` with
``BG = B * GX * GY * GZ`` (dilation groups as batch entries, see :mod:`.geometry`); global tokens
``[B, M, H, D]``; lse / delta fp32 ``[BG * H, NX * NY * NZ]``. ``TAB_X/Y/Z`` are int32
``[4, G_a, N_a]`` tables (start, end, inv_lo, inv_hi) per axis.

A program owns a box of ``PX × PY × PZ`` tokens (queries for forward/dQ, keys for dK/dV) and walks the
box of tokens its windows reach (from the tables) in ``IX × IY × IZ`` tiles, masking each pair by the
exact per-query window. Grid: ``(tiles of the program box, BG * H)``.
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

#: rows of the per-axis tables
START = tl.constexpr(0)
END = tl.constexpr(1)
INV_LO = tl.constexpr(2)
INV_HI = tl.constexpr(3)


@triton.jit
def _coords(t, NTY, NTZ, x0, y0, z0, BX: tl.constexpr, BY: tl.constexpr, BZ: tl.constexpr):
    """Points of box number ``t`` (row-major over ``[., NTY, NTZ]`` boxes) offset by ``(x0, y0, z0)``."""
    offs = tl.arange(0, BX * BY * BZ)
    bx = x0 + (t // (NTY * NTZ)) * BX
    by = y0 + ((t // NTZ) % NTY) * BY
    bz = z0 + (t % NTZ) * BZ
    return bx + offs // (BY * BZ), by + (offs // BZ) % BY, bz + offs % BZ, bx, by, bz


@triton.jit
def _table(TAB, kind, g, G, N, pos, mask):
    """``TAB[kind, g, pos]`` (int32 table ``[4, G, N]``), 0 where ``mask`` is False."""
    return tl.load(TAB + (kind * G + g) * N + pos, mask=mask, other=0)


@triton.jit
def _span(TAB, kind_lo, kind_hi, g, G, N, first, size):
    """Range ``[TAB[kind_lo, g, first], TAB[kind_hi, g, last])`` reached by positions ``first..last``."""
    last = tl.minimum(first + size, N) - 1
    return tl.load(TAB + (kind_lo * G + g) * N + first), tl.load(TAB + (kind_hi * G + g) * N + last)


@triton.jit
def _group(pid_bh, H, GX, GY, GZ):
    """Split the batch-head program id into (grouped batch, head, group per axis, original batch)."""
    bg = pid_bh // H
    return bg, pid_bh % H, (bg // (GZ * GY)) % GX, (bg // GZ) % GY, bg % GZ, bg // (GX * GY * GZ)


@triton.jit
def _query_windows(TAB, g, G, N, pos, mask, ACTIVE: tl.constexpr):
    """Window start and width of the queries at ``pos`` along one axis (zeros on an inactive axis)."""
    if ACTIVE:
        start = _table(TAB, START, g, G, N, pos, mask)
        width = _table(TAB, END, g, G, N, pos, mask) - start
    else:
        start = pos * 0
        width = pos * 0
    return start, width


@triton.jit
def _axis_inside(start, width, pos, TRANSPOSED: tl.constexpr):
    """``[queries, keys]`` (or ``[keys, queries]``) mask ``start <= pos < start + width`` in one compare."""
    if TRANSPOSED:
        inside = (pos[:, None] - start[None, :]).to(tl.uint32) < width[None, :].to(tl.uint32)
    else:
        inside = (pos[None, :] - start[:, None]).to(tl.uint32) < width[:, None].to(tl.uint32)
    return inside


@triton.jit
def _window_mask(sx, wx, sy, wy, sz, wz, kx, ky, kz,
                 ACT_X: tl.constexpr, ACT_Y: tl.constexpr, TRANSPOSED: tl.constexpr):  # fmt: skip
    """Pairs whose key lies in the query's window; axes of length 1 (``ACT_* = False``) are skipped."""
    valid = _axis_inside(sz, wz, kz, TRANSPOSED)
    if ACT_Y:
        valid = valid & _axis_inside(sy, wy, ky, TRANSPOSED)
    if ACT_X:
        valid = valid & _axis_inside(sx, wx, kx, TRANSPOSED)
    return valid


@triton.jit
def _program_box(TAB_X, TAB_Y, TAB_Z, pid_t, bg, gx, gy, gz, GX, GY, GZ, NX, NY, NZ,
                 PX: tl.constexpr, PY: tl.constexpr, PZ: tl.constexpr, LO: tl.constexpr, HI: tl.constexpr):  # fmt: skip
    """Token rows of this program's box, their in-range mask, and the box they reach (table kinds LO/HI)."""
    x, y, z, x0, y0, z0 = _coords(pid_t, tl.cdiv(NY, PY), tl.cdiv(NZ, PZ), 0, 0, 0, PX, PY, PZ)
    inside = (x < NX) & (y < NY) & (z < NZ)
    lx, hx = _span(TAB_X, LO, HI, gx, GX, NX, x0, PX)
    ly, hy = _span(TAB_Y, LO, HI, gy, GY, NY, y0, PY)
    lz, hz = _span(TAB_Z, LO, HI, gz, GZ, NZ, z0, PZ)
    rows = ((bg.to(tl.int64) * NX + x) * NY + y) * NZ + z
    return x, y, z, rows, inside, lx, hx, ly, hy, lz, hz


@triton.jit
def na_fwd_kernel(Q, K, V, O, LSE, EK, EV, TAB_X, TAB_Y, TAB_Z,
                  NX, NY, NZ, GX, GY, GZ, H, D, DV, M_EXTRA, qk_scale,
                  PX: tl.constexpr, PY: tl.constexpr, PZ: tl.constexpr,
                  IX: tl.constexpr, IY: tl.constexpr, IZ: tl.constexpr, ACT_X: tl.constexpr, ACT_Y: tl.constexpr,
                  BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr, BLOCK_E: tl.constexpr,
                  UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """Forward: O and LSE for one box of queries (online softmax over its key box, then global tokens)."""
    bg, h, gx, gy, gz, b = _group(tl.program_id(1), H, GX, GY, GZ)
    qx, qy, qz, qrows, q_in, lx, hx, ly, hy, lz, hz = _program_box(
        TAB_X, TAB_Y, TAB_Z, tl.program_id(0), bg, gx, gy, gz, GX, GY, GZ, NX, NY, NZ, PX, PY, PZ, START, END
    )
    sx, wx = _query_windows(TAB_X, gx, GX, NX, qx, q_in, ACT_X)
    sy, wy = _query_windows(TAB_Y, gy, GY, NY, qy, q_in, ACT_Y)
    sz, wz = _query_windows(TAB_Z, gz, GZ, NZ, qz, q_in, True)
    q = load_rows(Q, qrows, h, H, D, q_in, BLOCK_D, UPCAST)
    m_i = tl.full([PX * PY * PZ], float("-inf"), tl.float32)
    l_i = tl.zeros([PX * PY * PZ], tl.float32)
    acc = tl.zeros([PX * PY * PZ, BLOCK_DV], tl.float32)
    nty, ntz = tl.cdiv(hy - ly, IY), tl.cdiv(hz - lz, IZ)
    for t in range(0, tl.cdiv(hx - lx, IX) * nty * ntz):
        kx, ky, kz, _, _, _ = _coords(t, nty, ntz, lx, ly, lz, IX, IY, IZ)
        k_in = (kx < hx) & (ky < hy) & (kz < hz)
        krows = ((bg.to(tl.int64) * NX + kx) * NY + ky) * NZ + kz
        k = load_rows(K, krows, h, H, D, k_in, BLOCK_D, UPCAST)
        v = load_rows(V, krows, h, H, DV, k_in, BLOCK_DV, UPCAST)
        valid = _window_mask(sx, wx, sy, wy, sz, wz, kx, ky, kz, ACT_X, ACT_Y, False)
        m_i, l_i, acc = attend_tile(q, k, v, valid, m_i, l_i, acc, qk_scale, PRECISION)
    for e0 in range(0, M_EXTRA, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        e_in = e < M_EXTRA
        k = load_rows(EK, b * M_EXTRA + e, h, H, D, e_in, BLOCK_D, UPCAST)
        v = load_rows(EV, b * M_EXTRA + e, h, H, DV, e_in, BLOCK_DV, UPCAST)
        valid = q_in[:, None] & e_in[None, :]
        m_i, l_i, acc = attend_tile(q, k, v, valid, m_i, l_i, acc, qk_scale, PRECISION)
    out, lse = finish_rows(m_i, l_i, acc)
    store_rows(O, out, qrows, h, H, DV, q_in, BLOCK_DV)
    tl.store(LSE + tl.program_id(1).to(tl.int64) * NX * NY * NZ + (qx * NY + qy) * NZ + qz, lse, mask=q_in)


@triton.jit
def na_bwd_dq_kernel(Q, K, V, DO, LSE, DELTA, DQ, EK, EV, TAB_X, TAB_Y, TAB_Z,
                     NX, NY, NZ, GX, GY, GZ, H, D, DV, M_EXTRA, qk_scale, sm_scale,
                     PX: tl.constexpr, PY: tl.constexpr, PZ: tl.constexpr,
                     IX: tl.constexpr, IY: tl.constexpr, IZ: tl.constexpr, ACT_X: tl.constexpr, ACT_Y: tl.constexpr,
                     BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr, BLOCK_E: tl.constexpr,
                     UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """dQ for one box of queries: the forward's walk again, accumulating ``dS @ K``."""
    bg, h, gx, gy, gz, b = _group(tl.program_id(1), H, GX, GY, GZ)
    qx, qy, qz, qrows, q_in, lx, hx, ly, hy, lz, hz = _program_box(
        TAB_X, TAB_Y, TAB_Z, tl.program_id(0), bg, gx, gy, gz, GX, GY, GZ, NX, NY, NZ, PX, PY, PZ, START, END
    )
    sx, wx = _query_windows(TAB_X, gx, GX, NX, qx, q_in, ACT_X)
    sy, wy = _query_windows(TAB_Y, gy, GY, NY, qy, q_in, ACT_Y)
    sz, wz = _query_windows(TAB_Z, gz, GZ, NZ, qz, q_in, True)
    q = load_rows(Q, qrows, h, H, D, q_in, BLOCK_D, UPCAST)
    do = load_rows(DO, qrows, h, H, DV, q_in, BLOCK_DV, UPCAST)
    stat = tl.program_id(1).to(tl.int64) * NX * NY * NZ + (qx * NY + qy) * NZ + qz
    lse = tl.load(LSE + stat, mask=q_in, other=float("-inf"))
    delta = tl.load(DELTA + stat, mask=q_in, other=0.0)
    dq = tl.zeros([PX * PY * PZ, BLOCK_D], tl.float32)
    nty, ntz = tl.cdiv(hy - ly, IY), tl.cdiv(hz - lz, IZ)
    for t in range(0, tl.cdiv(hx - lx, IX) * nty * ntz):
        kx, ky, kz, _, _, _ = _coords(t, nty, ntz, lx, ly, lz, IX, IY, IZ)
        k_in = (kx < hx) & (ky < hy) & (kz < hz)
        krows = ((bg.to(tl.int64) * NX + kx) * NY + ky) * NZ + kz
        k = load_rows(K, krows, h, H, D, k_in, BLOCK_D, UPCAST)
        v = load_rows(V, krows, h, H, DV, k_in, BLOCK_DV, UPCAST)
        valid = _window_mask(sx, wx, sy, wy, sz, wz, kx, ky, kz, ACT_X, ACT_Y, False)
        _, ds = probs_and_dscores(q, k, v, do, valid, lse, delta, qk_scale, PRECISION)
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    for e0 in range(0, M_EXTRA, BLOCK_E):
        e = e0 + tl.arange(0, BLOCK_E)
        e_in = e < M_EXTRA
        k = load_rows(EK, b * M_EXTRA + e, h, H, D, e_in, BLOCK_D, UPCAST)
        v = load_rows(EV, b * M_EXTRA + e, h, H, DV, e_in, BLOCK_DV, UPCAST)
        valid = q_in[:, None] & e_in[None, :]
        _, ds = probs_and_dscores(q, k, v, do, valid, lse, delta, qk_scale, PRECISION)
        dq += tl.dot(ds.to(k.dtype), k, input_precision=PRECISION)
    store_rows(DQ, dq * sm_scale, qrows, h, H, D, q_in, BLOCK_D)


@triton.jit
def na_bwd_dkdv_kernel(Q, K, V, DO, LSE, DELTA, DK, DV_OUT, TAB_X, TAB_Y, TAB_Z,
                       NX, NY, NZ, GX, GY, GZ, H, D, DV, qk_scale, sm_scale,
                       PX: tl.constexpr, PY: tl.constexpr, PZ: tl.constexpr,
                       IX: tl.constexpr, IY: tl.constexpr, IZ: tl.constexpr, ACT_X: tl.constexpr, ACT_Y: tl.constexpr,
                       BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr,
                       UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """dK, dV for one box of keys: walk the box of queries whose windows reach it (inverse tables)."""
    bg, h, gx, gy, gz, _ = _group(tl.program_id(1), H, GX, GY, GZ)
    kx, ky, kz, krows, k_in, lx, hx, ly, hy, lz, hz = _program_box(
        TAB_X, TAB_Y, TAB_Z, tl.program_id(0), bg, gx, gy, gz, GX, GY, GZ, NX, NY, NZ, PX, PY, PZ, INV_LO, INV_HI
    )
    k = load_rows(K, krows, h, H, D, k_in, BLOCK_D, UPCAST)
    v = load_rows(V, krows, h, H, DV, k_in, BLOCK_DV, UPCAST)
    dk = tl.zeros([PX * PY * PZ, BLOCK_D], tl.float32)
    dv = tl.zeros([PX * PY * PZ, BLOCK_DV], tl.float32)
    nty, ntz = tl.cdiv(tl.maximum(hy - ly, 0), IY), tl.cdiv(tl.maximum(hz - lz, 0), IZ)
    for t in range(0, tl.cdiv(tl.maximum(hx - lx, 0), IX) * nty * ntz):
        qx, qy, qz, _, _, _ = _coords(t, nty, ntz, lx, ly, lz, IX, IY, IZ)
        q_in = (qx < hx) & (qy < hy) & (qz < hz)
        qrows = ((bg.to(tl.int64) * NX + qx) * NY + qy) * NZ + qz
        q = load_rows(Q, qrows, h, H, D, q_in, BLOCK_D, UPCAST)
        do = load_rows(DO, qrows, h, H, DV, q_in, BLOCK_DV, UPCAST)
        stat = tl.program_id(1).to(tl.int64) * NX * NY * NZ + (qx * NY + qy) * NZ + qz
        lse = tl.load(LSE + stat, mask=q_in, other=float("-inf"))
        delta = tl.load(DELTA + stat, mask=q_in, other=0.0)
        sx, wx = _query_windows(TAB_X, gx, GX, NX, qx, q_in, ACT_X)
        sy, wy = _query_windows(TAB_Y, gy, GY, NY, qy, q_in, ACT_Y)
        sz, wz = _query_windows(TAB_Z, gz, GZ, NZ, qz, q_in, True)
        valid_t = _window_mask(sx, wx, sy, wy, sz, wz, kx, ky, kz, ACT_X, ACT_Y, True)
        p_t, ds_t = probs_and_dscores_t(k, q, v, do, valid_t, lse, delta, qk_scale, PRECISION)
        dv += tl.dot(p_t.to(do.dtype), do, input_precision=PRECISION)
        dk += tl.dot(ds_t.to(q.dtype), q, input_precision=PRECISION)
    store_rows(DK, dk * sm_scale, krows, h, H, D, k_in, BLOCK_D)
    store_rows(DV_OUT, dv, krows, h, H, DV, k_in, BLOCK_DV)


@triton.jit
def extra_bwd_dkdv_kernel(Q, EK, EV, DO, LSE, DELTA, DEK, DEV, NQ, G, H, D, DV, M_EXTRA, qk_scale, sm_scale,
                          BLOCK_M: tl.constexpr, BLOCK_E: tl.constexpr,
                          BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr,
                          UPCAST: tl.constexpr, PRECISION: tl.constexpr):  # fmt: skip
    """dK, dV of one tile of global tokens of batch ``b``: every query of all ``G`` groups attends them.

    Grid ``(cdiv(M_EXTRA, BLOCK_E), B * H)``; queries are the ``G * NQ`` contiguous rows of batch ``b``.
    """
    b = tl.program_id(1) // H
    h = tl.program_id(1) % H
    e = tl.program_id(0) * BLOCK_E + tl.arange(0, BLOCK_E)
    e_in = e < M_EXTRA
    k = load_rows(EK, b * M_EXTRA + e, h, H, D, e_in, BLOCK_D, UPCAST)
    v = load_rows(EV, b * M_EXTRA + e, h, H, DV, e_in, BLOCK_DV, UPCAST)
    dk = tl.zeros([BLOCK_E, BLOCK_D], tl.float32)
    dv = tl.zeros([BLOCK_E, BLOCK_DV], tl.float32)
    for r0 in range(0, G * NQ, BLOCK_M):
        r = r0 + tl.arange(0, BLOCK_M)
        r_in = r < G * NQ
        qrows = b.to(tl.int64) * G * NQ + r
        q = load_rows(Q, qrows, h, H, D, r_in, BLOCK_D, UPCAST)
        do = load_rows(DO, qrows, h, H, DV, r_in, BLOCK_DV, UPCAST)
        stat = ((qrows // NQ) * H + h) * NQ + qrows % NQ
        lse = tl.load(LSE + stat, mask=r_in, other=float("-inf"))
        delta = tl.load(DELTA + stat, mask=r_in, other=0.0)
        valid_t = e_in[:, None] & r_in[None, :]
        p_t, ds_t = probs_and_dscores_t(k, q, v, do, valid_t, lse, delta, qk_scale, PRECISION)
        dv += tl.dot(p_t.to(do.dtype), do, input_precision=PRECISION)
        dk += tl.dot(ds_t.to(q.dtype), q, input_precision=PRECISION)
    store_rows(DEK, dk * sm_scale, b * M_EXTRA + e, h, H, D, e_in, BLOCK_D)
    store_rows(DEV, dv, b * M_EXTRA + e, h, H, DV, e_in, BLOCK_DV)
