"""Reference backend: plain, readable torch that materialises the full attention matrix.

It is the ground truth every other backend is tested against (in float64), so it is written from the
definition (NATTEN's mask formulation) rather than from :mod:`kernels.windows`. Memory is O(N²):
use it for tests and small inputs only.
"""

from __future__ import annotations

import torch


def _axis_mask(length: int, kernel: int, dilation: int, stride: int, causal: bool, device) -> torch.Tensor:
    """``[length, length]`` bool: may query ``i`` attend key ``j`` along this axis?"""
    i = torch.arange(length, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    same_group = (i % dilation) == (j % dilation)
    qi, kj = i // dilation, j // dilation
    n = (length - (i % dilation) + dilation - 1) // dilation  # tokens in the query's dilation group
    if causal:
        leader = torch.minimum((qi // stride) * stride + stride - 1, n - 1)
        return same_group & (kj <= qi) & (leader - kj < kernel)
    half = kernel // 2
    leader = torch.minimum((qi // stride) * stride + stride // 2, n - 1)
    centre = torch.maximum(torch.minimum(leader, n - 1 - half), torch.full_like(leader, half))
    inside = (centre - kj).abs() <= half
    return same_group & (inside | (n <= kernel))  # a group shorter than the kernel is seen whole


def relative_bias(
    rpb: torch.Tensor, spatial: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> torch.Tensor:
    """``[heads, N, N]`` bias ``rpb[h, *(key - query + kernel - 1)]`` in dilation-group-local offsets.

    rpb ``[heads, 2*k0-1, 2*k1-1, ...]``; offsets outside the table are clamped (those pairs are masked).
    """
    index = torch.zeros(1, 1, dtype=torch.long, device=rpb.device)
    for a, length in enumerate(spatial):
        pos = torch.arange(length, device=rpb.device) // dilation[a]
        rel = (pos[None, :] - pos[:, None] + kernel[a] - 1).clamp(0, 2 * kernel[a] - 2)
        size = 2 * kernel[a] - 1
        index = (index[:, None, :, None] * size + rel[None, :, None, :]).reshape(index.shape[0] * length, -1)
    return rpb.reshape(rpb.shape[0], -1)[:, index]


def neighborhood_mask(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    causal: tuple[bool, ...],
    device=None,
) -> torch.Tensor:
    """``[N, N]`` bool mask over row-major flattened positions, N = prod(spatial)."""
    mask = torch.ones(1, 1, dtype=torch.bool, device=device)
    for a, length in enumerate(spatial):
        m = _axis_mask(length, kernel[a], dilation[a], stride[a], causal[a], device)
        mask = (mask[:, None, :, None] & m[None, :, None, :]).reshape(mask.shape[0] * length, -1)
    return mask


def masked_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor,
    scale: float,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Softmax attention with a boolean mask; rows with no allowed key give zeros.

    q ``[B, Lq, heads, dim]``, k ``[B, Lk, heads, dim]``, v ``[B, Lk, heads, dim_v]``,
    mask broadcastable to ``[B, heads, Lq, Lk]`` (True = attend), optional additive ``bias`` likewise.
    Returns ``[B, Lq, heads, dim_v]``.
    """
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * scale
    if bias is not None:
        scores = scores + bias
    scores = scores.masked_fill(~mask, float("-inf"))
    empty = ~mask.any(dim=-1, keepdim=True)
    probs = torch.softmax(scores.masked_fill(empty, 0.0), dim=-1).masked_fill(~mask, 0.0)
    return torch.einsum("bhqk,bkhd->bqhd", probs, v)


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
    b, *spatial, h, _ = q.shape
    flat = lambda t: t.reshape(b, -1, h, t.shape[-1])  # noqa: E731
    mask = neighborhood_mask(tuple(spatial), kernel, dilation, stride, causal, q.device)
    bias = None if rpb is None else relative_bias(rpb, tuple(spatial), kernel, dilation)
    kf, vf = flat(k), flat(v)
    if additional_keys is not None and additional_values is not None:
        kf = torch.cat([kf, additional_keys], dim=1)
        vf = torch.cat([vf, additional_values], dim=1)
        extra = torch.ones(mask.shape[0], additional_keys.shape[1], dtype=torch.bool, device=q.device)
        mask = torch.cat([mask, extra], dim=1)
        if bias is not None:
            bias = torch.cat([bias, bias.new_zeros(h, bias.shape[1], additional_keys.shape[1])], dim=2)
    out = masked_attention(flat(q), kf, vf, mask, scale, bias)
    return out.reshape(b, *spatial, h, v.shape[-1])


def set_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_padding_mask: torch.Tensor, scale: float
) -> torch.Tensor:
    """Attention over padded sets; key_padding_mask ``[B, Lk]``, True = padding.

    Returns ``[B, Lq, heads, dim_v]``.
    """
    return masked_attention(q, k, v, (~key_padding_mask)[:, None, None, :], scale)
