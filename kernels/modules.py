"""``nn.Module`` wrappers: projections, heads and optional relative position bias around the ops."""

from __future__ import annotations

import torch
from torch import nn

from kernels._args import BoolOrTuple, IntOrTuple, per_axis
from kernels.functional import na1d, na2d, na3d, set_attention

_OPS = {1: na1d, 2: na2d, 3: na3d}


class _NeighborhoodAttention(nn.Module):
    ndim: int

    def __init__(
        self,
        dim: int,
        num_heads: int,
        kernel_size: IntOrTuple,
        dilation: IntOrTuple = 1,
        stride: IntOrTuple = 1,
        is_causal: BoolOrTuple = False,
        rel_pos_bias: bool = False,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        backend: str | None = None,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.kernel_size = per_axis("kernel_size", kernel_size, self.ndim)
        self.dilation, self.stride, self.is_causal = dilation, stride, is_causal
        self.backend = backend
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        self.rpb = None
        if rel_pos_bias:
            self.rpb = nn.Parameter(torch.zeros(num_heads, *[2 * k - 1 for k in self.kernel_size]))
            nn.init.trunc_normal_(self.rpb, std=0.02)

    def forward(self, x: torch.Tensor, extra_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """x ``[B, *spatial, dim]``, extra_tokens ``[B, M, dim]`` (global tokens) → ``[B, *spatial, dim]``."""
        if x.dim() != self.ndim + 2:
            raise ValueError(f"{type(self).__name__}: x must be [B, *spatial({self.ndim}), dim], got {tuple(x.shape)}")
        h, d = self.num_heads, self.head_dim
        q, k, v = self.qkv(x).unflatten(-1, (3, h, d)).unbind(-3)
        ek = ev = None
        if extra_tokens is not None:
            ek, ev = self.qkv(extra_tokens).unflatten(-1, (3, h, d)).unbind(-3)[1:]
        out = _OPS[self.ndim](
            q, k, v, self.kernel_size, self.dilation, self.stride, self.is_causal,
            additional_keys=ek, additional_values=ev, rpb=self.rpb, backend=self.backend,
        )  # fmt: skip
        return self.proj(out.flatten(-2))


class NeighborhoodAttention1d(_NeighborhoodAttention):
    """Multi-head 1-D neighborhood attention on ``[B, L, dim]``."""

    ndim = 1


class NeighborhoodAttention2d(_NeighborhoodAttention):
    """Multi-head 2-D neighborhood attention on ``[B, X, Y, dim]`` (e.g. BEV grids)."""

    ndim = 2


class NeighborhoodAttention3d(_NeighborhoodAttention):
    """Multi-head 3-D neighborhood attention on ``[B, X, Y, Z, dim]`` (e.g. voxel grids)."""

    ndim = 3


class SetAttention(nn.Module):
    """Multi-head attention of queries over a padded set of keys (self-attention when context is None)."""

    def __init__(self, dim: int, num_heads: int, bias: bool = True, backend: str | None = None) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim={dim} must be divisible by num_heads={num_heads}")
        self.num_heads, self.head_dim, self.backend = num_heads, dim // num_heads, backend
        self.q = nn.Linear(dim, dim, bias=bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=bias)
        self.proj = nn.Linear(dim, dim, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        context: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x ``[B, Lq, dim]``, context ``[B, Lk, dim]`` (default x), lengths ``[B]`` or mask ``[B, Lk]``.

        Returns ``[B, Lq, dim]``; rows of sets with no valid key are the output bias only (zero attention).
        """
        ctx = x if context is None else context
        h, d = self.num_heads, self.head_dim
        q = self.q(x).unflatten(-1, (h, d))
        k, v = self.kv(ctx).unflatten(-1, (2, h, d)).unbind(-3)
        out = set_attention(q, k, v, lengths=lengths, key_padding_mask=key_padding_mask, backend=self.backend)
        return self.proj(out.flatten(-2))
