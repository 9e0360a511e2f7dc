"""Neighborhood windows along one axis, in NATTEN's semantics, with small inputs clamped.

All backends reduce dilation to plain neighborhoods by regrouping tokens: along an axis of length ``L``
with dilation ``d``, token ``i`` belongs to dilation group ``i % d`` at group-local position ``i // d``,
and attends only inside its group. Within a group of length ``n`` a query at position ``j`` sees keys
``[start[j], end[j])`` (group-local):

* non-causal: the stride-group leader ``min((j // s) * s + s // 2, n - 1)`` is clamped to
  ``[k // 2, n - 1 - k // 2]`` and the window is the ``k`` keys centred on it (every query sees exactly
  ``k`` keys; ``s == k`` gives non-overlapping blocks as in HaloNet/Swin);
* causal: keys ``j' <= j`` with ``leader - j' < k``, the leader being the last query of the stride group;
* ``n < k``: the window is the whole group (NATTEN raises here; we clamp).
"""

from __future__ import annotations

import torch


def group_length(length: int, dilation: int, group: int) -> int:
    """Number of tokens of an axis of ``length`` in dilation group ``group`` (``x[group::dilation]``)."""
    return (length - group + dilation - 1) // dilation


def axis_windows(
    n: int, kernel: int, stride: int, causal: bool, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Key window ``[start, end)`` of every query along a dilation group of ``n`` tokens.

    Returns two int64 tensors of shape ``[n]``.
    """
    j = torch.arange(n, device=device)
    if causal:
        leader = torch.clamp((j // stride) * stride + stride - 1, max=n - 1)
        return torch.clamp(leader - kernel + 1, min=0), j + 1
    if n <= kernel:
        return torch.zeros_like(j), torch.full_like(j, n)
    half = kernel // 2
    leader = torch.clamp((j // stride) * stride + stride // 2, max=n - 1)
    start = torch.clamp(leader, half, n - 1 - half) - half
    return start, start + kernel
