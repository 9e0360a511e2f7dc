"""Fast CPU backend in plain torch that never materialises an N×N matrix.

Neighborhood attention: queries are cut into tiles (``T`` per axis); the windows of a tile's queries
fit in one key region of at most ``T + k - 1`` (plus stride slack) per axis, so each tile is one small
dense attention problem ``[T^n queries] × [K^n keys]`` with a per-query window mask, and all tiles go
through one batched ``scaled_dot_product_attention`` call. Work per query is ``(K/k)^n`` times the exact
neighborhood (about 2–4× for the default tiles) but runs on SDPA's fused CPU kernel with no Python loop
over positions. Dilation is removed first by regrouping tokens into their dilation groups.

Sets: one masked SDPA call for small sets; large sets are split by length so padding costs nothing
(see :func:`set_attention` for the measurements behind the threshold). Empty sets give zeros.
"""

from __future__ import annotations

import functools
import itertools
import math
import os

import torch
import torch.nn.functional as F

from kernels.windows import axis_windows

#: default query tile per spatial rank (1-D, 2-D, 3-D); PERNAV_NA_TILE overrides (e.g. "8" or "8,8")
DEFAULT_TILE = {1: 64, 2: 8, 3: 4}
#: queries per SDPA call (times batch); PERNAV_NA_CHUNK overrides
CHUNK_QUERIES = int(os.environ.get("PERNAV_NA_CHUNK", "2048"))
#: set_attention: sets with at least this many keys are split by length instead of masked
BUCKET_MIN_KEYS = 256


def _tile_sizes(spatial: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...]) -> list[int]:
    env = os.environ.get("PERNAV_NA_TILE")
    tiles = [int(t) for t in env.split(",")] if env else [DEFAULT_TILE[len(spatial)]] * len(spatial)
    if len(tiles) == 1:
        tiles = tiles * len(spatial)
    out = []
    for n, k, s, t in zip(spatial, kernel, stride, tiles, strict=True):
        if s == k:
            t = k  # blocked attention: one tile per block, windows coincide, no mask needed
        elif s > 1:
            t = max(s, (t // s) * s)  # align tiles to stride groups so windows don't straddle
        out.append(max(1, min(t, n)))
    return out


@functools.lru_cache(maxsize=64)
def _axis_plan(n: int, kernel: int, stride: int, causal: bool, tile: int, device: torch.device):
    """Per-axis tiling of ``n`` queries into ``nt`` tiles of ``T``.

    Tile ``t`` reads keys ``[t*T - pad, t*T - pad + span)`` of the key axis padded by ``pad`` on the left,
    i.e. a window of ``span`` with step ``T`` (an ``unfold`` view, no gather). Returns
    ``(nt, pad_left, pad_right, span, mask, rel)`` with mask ``[nt, T, span]`` = key inside the query's
    window and rel ``[nt, T, span]`` = key - query + kernel - 1 (relative-position-bias index, clamped).
    """
    start, end = axis_windows(n, kernel, stride, causal, device)
    nt = math.ceil(n / tile)
    q_idx = torch.clamp(torch.arange(nt * tile, device=device), max=n - 1)
    s_t, e_t = start[q_idx].view(nt, tile), end[q_idx].view(nt, tile)
    base = torch.arange(nt, device=device) * tile
    pad = max(0, int((base - s_t.min(dim=1).values).max()))
    span = int((e_t.max(dim=1).values - (base - pad)).max())
    pad_right = max(0, (nt - 1) * tile - pad + span - n)
    k_pos = (base - pad)[:, None] + torch.arange(span, device=device)  # [nt, span] unpadded coordinates
    mask = (k_pos[:, None, :] >= s_t[:, :, None]) & (k_pos[:, None, :] < e_t[:, :, None])
    rel = (k_pos[:, None, :] - q_idx.view(nt, tile)[:, :, None] + kernel - 1).clamp(0, 2 * kernel - 2)
    return nt, pad, pad_right, span, mask, rel


@functools.lru_cache(maxsize=64)
def _tile_bias(masks: tuple[torch.Tensor, ...], n_extra: int, dtype: torch.dtype) -> torch.Tensor | None:
    """Additive mask ``[nt, 1, Tq, K + n_extra]`` (0 inside the window, -inf outside); None if all inside.

    ``masks`` are the per-axis ``[nt_a, T_a, K_a]`` window masks; the tile mask is their outer AND.
    """
    mask = masks[0]
    for m in masks[1:]:
        mask = mask[:, None, :, None, :, None] & m[None, :, None, :, None, :]
        mask = mask.reshape(mask.shape[0] * m.shape[0], mask.shape[2] * m.shape[1], -1)
    if n_extra:
        mask = torch.cat([mask, mask.new_ones(*mask.shape[:2], n_extra)], dim=2)
    if bool(mask.all()):
        return None
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, float("-inf"))
    return bias[:, None]


def _add_relative_bias(
    bias: torch.Tensor | None, rpb: torch.Tensor, rels: list[torch.Tensor], n_extra: int
) -> torch.Tensor:
    """Window bias ``[nt, 1, Tq, K+M]`` plus ``rpb[h, rel]`` → ``[nt, H, Tq, K+M]`` (differentiable in rpb)."""
    index = rels[0]
    for a, r in enumerate(rels[1:], start=1):
        size = rpb.shape[1 + a]
        index = index[:, None, :, None, :, None] * size + r[None, :, None, :, None, :]
        index = index.reshape(index.shape[0] * r.shape[0], index.shape[2] * r.shape[1], -1)
    rb = rpb.reshape(rpb.shape[0], -1)[:, index].transpose(0, 1)  # [nt, H, Tq, K]
    if n_extra:
        rb = torch.cat([rb, rb.new_zeros(*rb.shape[:3], n_extra)], dim=3)
    return rb if bias is None else rb + bias


def _na_plain(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    causal: tuple[bool, ...],
    scale: float,
    extra_k: torch.Tensor | None,
    extra_v: torch.Tensor | None,
    rpb: torch.Tensor | None = None,
) -> torch.Tensor:
    """Non-dilated NA by tiles. q/k/v ``[B, *spatial, H, D]``; extra ``[B, M, H, D]``; rpb ``[H, 2k-1, ..]``."""
    b, *spatial_l, h, d = q.shape
    spatial = tuple(spatial_l)
    nd = len(spatial)
    tiles = _tile_sizes(spatial, kernel, stride)
    plans = [
        _axis_plan(n, kk, s, c, t, q.device)
        for n, kk, s, c, t in zip(spatial, kernel, stride, causal, tiles, strict=True)
    ]
    nts = [p[0] for p in plans]
    spans = [p[3] for p in plans]

    # queries: pad each axis to nt*T; keys: pad each axis by the plan so tile t starts at t*T
    qpad = [x for a in reversed(range(nd)) for x in (0, nts[a] * tiles[a] - spatial[a])]
    qp = F.pad(q, [0, 0, 0, 0, *qpad]) if any(qpad) else q
    kpad = [x for a in reversed(range(nd)) for x in (plans[a][1], plans[a][2])]
    kp, vp = (F.pad(k, [0, 0, 0, 0, *kpad]), F.pad(v, [0, 0, 0, 0, *kpad])) if any(kpad) else (k, v)
    n_extra = 0 if extra_k is None else extra_k.shape[1]
    bias = _tile_bias(tuple(p[4] for p in plans), n_extra, q.dtype)  # [nt, 1, Tq, K(+M)] or None
    if rpb is not None:
        bias = _add_relative_bias(bias, rpb, [p[5] for p in plans], n_extra)  # [nt, H, Tq, K(+M)]

    # Chunks of tile rows (axis 0) keep each SDPA call's gathered keys cache-sized, so time stays
    # linear in the number of tokens instead of going memory-bound on large grids.
    tq = math.prod(tiles)
    rest = math.prod(nts[1:])
    rows = max(1, CHUNK_QUERIES // (b * tq * rest))
    outs = []
    for r0 in range(0, nts[0], rows):
        r1 = min(nts[0], r0 + rows)
        qc = qp[:, r0 * tiles[0] : r1 * tiles[0]]
        kc = kp[:, r0 * tiles[0] : (r1 - 1) * tiles[0] + spans[0]]
        vc = vp[:, r0 * tiles[0] : (r1 - 1) * tiles[0] + spans[0]]
        bc = None if bias is None else bias[r0 * rest : r1 * rest]
        outs.append(_tiles_attend(qc, kc, vc, [r1 - r0, *nts[1:]], tiles, spans, bc, extra_k, extra_v, scale))
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
    return out[(slice(None), *[slice(0, n) for n in spatial])]


def _tiles_attend(
    qp: torch.Tensor,
    kp: torch.Tensor,
    vp: torch.Tensor,
    nts: list[int],
    tiles: list[int],
    spans: list[int],
    bias: torch.Tensor | None,
    extra_k: torch.Tensor | None,
    extra_v: torch.Tensor | None,
    scale: float,
) -> torch.Tensor:
    """One SDPA call over ``prod(nts)`` tiles.

    qp ``[B, nt0*T0, ..., H, D]`` (padded queries), kp/vp ``[B, (nt0-1)*T0 + K0, ..., H, D]`` (padded keys),
    bias ``[prod(nts), 1, Tq, K(+M)]``. Returns ``[B, nt0*T0, ..., H, Dv]``.
    """
    nd = len(nts)
    b, h, d, dv = qp.shape[0], qp.shape[-2], qp.shape[-1], vp.shape[-1]
    kt, vt = kp, vp
    for a in range(nd):  # overlapping key windows as a strided view: [.., nt_a, .., H, D, K_a] -> [.., nt_a, K_a, ..]
        kt = kt.unfold(1 + 2 * a, spans[a], tiles[a]).movedim(-1, 2 + 2 * a)
        vt = vt.unfold(1 + 2 * a, spans[a], tiles[a]).movedim(-1, 2 + 2 * a)
    # [B, nt0, T0, nt1, T1, ..., H, D] -> [B*nt, H, T0*T1*..., D]
    inter = [x for a in range(nd) for x in (nts[a], tiles[a])]
    perm = [0, *[1 + 2 * a for a in range(nd)], 2 * nd + 1, *[2 + 2 * a for a in range(nd)], 2 * nd + 2]
    n_tiles, tq, tk = math.prod(nts), math.prod(tiles), math.prod(spans)
    qt = qp.reshape(b, *inter, h, d).permute(perm).reshape(b * n_tiles, h, tq, d)
    kt = kt.permute(perm).reshape(b * n_tiles, h, tk, d)
    vt = vt.permute(perm).reshape(b * n_tiles, h, tk, dv)
    if extra_k is not None and extra_v is not None:
        m = extra_k.shape[1]
        kt = torch.cat([kt, extra_k.permute(0, 2, 1, 3)[:, None].expand(b, n_tiles, h, m, d).reshape(-1, h, m, d)], 2)
        vt = torch.cat([vt, extra_v.permute(0, 2, 1, 3)[:, None].expand(b, n_tiles, h, m, dv).reshape(-1, h, m, dv)], 2)
    attn_mask = None
    if bias is not None:
        attn_mask = bias[None].expand(b, *bias.shape).reshape(b * n_tiles, bias.shape[1], tq, -1)
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=attn_mask, scale=scale)
    # [B*nt, H, Tq, Dv] -> [B, nt0, T0, nt1, T1, ..., H, Dv]
    out = out.reshape(b, *nts, h, *tiles, dv)
    inv = [0, *[x for a in range(nd) for x in (1 + a, 2 + nd + a)], 1 + nd, 2 + 2 * nd]
    return out.permute(inv).reshape(b, *[nt * t for nt, t in zip(nts, tiles, strict=True)], h, dv)


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
    """Neighborhood attention, q/k/v ``[B, *spatial, heads, dim]`` → ``[B, *spatial, heads, dim_v]``.

    rpb: optional relative position bias ``[heads, 2*k0-1, ...]`` (not applied to additional keys).
    """
    if all(dd == 1 for dd in dilation):
        return _na_plain(q, k, v, kernel, stride, causal, scale, additional_keys, additional_values, rpb)
    nd = len(dilation)
    out = q.new_empty(*q.shape[:-1], v.shape[-1])
    for groups in itertools.product(*[range(dd) for dd in dilation]):
        sl = (slice(None), *[slice(g, None, dd) for g, dd in zip(groups, dilation, strict=True)])
        if any(q.shape[1 + a] <= groups[a] for a in range(nd)):
            continue  # empty group on an axis shorter than its dilation
        out[sl] = _na_plain(q[sl], k[sl], v[sl], kernel, stride, causal, scale, additional_keys, additional_values, rpb)
    return out


def _zeros_in_graph(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Zeros ``[B, Lq, H, Dv]`` that are still part of q/k/v's autograd graph (with zero gradient).

    Empty sets are never computed; this keeps ``autograd.grad(out, (q, k, v))`` valid (zero gradients,
    never NaN, even for inf inputs) when a whole batch has no valid key.
    """
    b, lq, h, _ = q.shape
    if k.shape[1] == 0 or not torch.is_grad_enabled():
        return q.new_zeros(b, lq, h, v.shape[-1])
    linked = q[..., :1] + k[:, :1, :, :1] + v[:, :1, :, :1]  # [B, Lq, H, 1]
    zero = torch.where(torch.zeros((), dtype=torch.bool, device=q.device), linked, 0.0)
    return zero.expand(b, lq, h, v.shape[-1])


def set_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: torch.Tensor, scale: float
) -> torch.Tensor:
    """Attention over sets whose first ``lengths[b]`` keys are valid.

    q ``[B, Lq, heads, dim]``, k ``[B, Lk, heads, dim]``, v ``[B, Lk, heads, dim_v]``, lengths ``[B]``.
    Returns ``[B, Lq, heads, dim_v]``; sets with no valid key give zeros.

    Padding common to every set is cut off first. Small sets (fewer than ``BUCKET_MIN_KEYS`` keys) then
    go through one masked SDPA call: measured on 2 CPU cores, SDPA's cost there is per (set, head)
    rather than per key, so splitting by length only adds gathers (2048 sets × 32 keys: 2.9× slower).
    Large sets are sorted by length and each run of equal length is one unmasked SDPA call on just its
    valid keys (128 sets × 512 keys: 0.84× the masked call).
    """
    longest = int(lengths.max()) if lengths.numel() else 0
    if longest == 0:
        return _zeros_in_graph(q, k, v)
    k, v = k[:, :longest], v[:, :longest]
    if longest < BUCKET_MIN_KEYS:
        # SDPA gives exact zeros (and zero gradients) for rows whose keys are all masked.
        valid = torch.arange(longest, device=k.device)[None, :] < lengths[:, None]
        return F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=valid[:, None, None, :], scale=scale
        ).transpose(1, 2)
    return _bucketed_set_attention(q, k, v, lengths, scale)


def _bucketed_set_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, lengths: torch.Tensor, scale: float
) -> torch.Tensor:
    """One unmasked SDPA call per distinct length; same contract as :func:`set_attention`."""
    order = torch.argsort(lengths, stable=True)
    sizes, counts = torch.unique_consecutive(lengths[order], return_counts=True)
    # Sets sorted by length; groups are split off (split's backward is one cat, where slicing would
    # allocate a full-size zero gradient per group).
    parts = [t.index_select(0, order).split(counts.tolist()) for t in (q, k, v)]
    outs = []
    for size, qs, ks, vs in zip(sizes.tolist(), *parts, strict=True):
        if size == 0:
            outs.append(_zeros_in_graph(qs, ks, vs))
            continue
        qh, kh, vh = qs.transpose(1, 2), ks[:, :size].transpose(1, 2), vs[:, :size].transpose(1, 2)
        outs.append(F.scaled_dot_product_attention(qh, kh, vh, scale=scale).transpose(1, 2))
    return torch.cat(outs).index_select(0, torch.argsort(order))
