"""The two attention layers of HEIGHT, each with the ``kernels.set_attention`` path and an ``nn.MultiheadAttention``
build of the same layer (``impl="torch_mha"``), which exists only as the benchmark peer of ``pernav nav bench``.
"""

from __future__ import annotations

import torch
from torch import nn

from kernels import SetAttention, set_attention


class SelfAttentionOverSet(nn.Module):
    """Multi-head self-attention among the valid members of a padded set (HEIGHT's human-human edge).

    ``kernels``: :class:`kernels.SetAttention` (Q, KV, output projections). ``torch_mha``:
    ``nn.MultiheadAttention`` with a key-padding mask.
    """

    def __init__(self, dim: int, heads: int, impl: str = "kernels", backend: str | None = None) -> None:
        super().__init__()
        self.impl = impl
        if impl == "kernels":
            self.attn: nn.Module = SetAttention(dim, heads, backend=backend)
        else:
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x ``[B, N, dim]``, mask ``[B, N]`` bool (True = valid) → ``[B, N, dim]`` (padding rows unspecified)."""
        if self.impl == "kernels":
            return self.attn(x, key_padding_mask=~mask)
        pad = ~mask
        pad[:, 0] &= mask.any(dim=1)  # nn.MultiheadAttention returns NaN for a set with no key: keep one
        return self.attn(x, x, x, key_padding_mask=pad, need_weights=False)[0]


class RobotToSetAttention(nn.Module):
    """One-head attention of the robot embedding over a padded set (HEIGHT's robot-human edge, ``EdgeAttention_M``).

    ``kernels``: query = Linear(robot), key = Linear(member), value = the member embedding itself, logits
    scaled by a fixed ``temperature``, masked softmax through :func:`kernels.set_attention` (an empty set
    gives 0). ``torch_mha``: one-head ``nn.MultiheadAttention`` (with its own projections) over the same inputs.
    """

    def __init__(self, query_dim: int, member_dim: int, attn_dim: int, temperature: float, impl: str = "kernels",
                 backend: str | None = None):
        super().__init__()
        self.impl, self.temperature, self.backend = impl, temperature, backend
        if impl == "kernels":
            self.q = nn.Linear(query_dim, attn_dim)
            self.k = nn.Linear(member_dim, attn_dim)
        else:
            self.attn = nn.MultiheadAttention(member_dim, 1, kdim=member_dim, vdim=member_dim, batch_first=True)
            self.q = nn.Linear(query_dim, member_dim)

    def forward(self, query: torch.Tensor, members: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """query ``[B, query_dim]``, members ``[B, N, member_dim]``, mask ``[B, N]`` (True = valid).

        Returns ``[B, member_dim]``.
        """
        if self.impl == "kernels":
            q = self.q(query)[:, None, None, :]  # [B, 1, 1, attn]
            k = self.k(members)[:, :, None, :]  # [B, N, 1, attn]
            out = set_attention(q, k, members[:, :, None, :], key_padding_mask=~mask, scale=self.temperature,
                                backend=self.backend)
            return out[:, 0, 0]
        pad = ~mask
        pad[:, 0] &= mask.any(dim=1)
        out = self.attn(self.q(query)[:, None], members, members, key_padding_mask=pad, need_weights=False)[0]
        return out[:, 0] * mask.any(dim=1, keepdim=True)
