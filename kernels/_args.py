"""Argument checking shared by every backend: per-axis int-or-tuple arguments and tensor shapes."""

from __future__ import annotations

from collections.abc import Sequence

import torch

IntOrTuple = int | Sequence[int]
BoolOrTuple = bool | Sequence[bool]


def per_axis(name: str, value: IntOrTuple, ndim: int) -> tuple[int, ...]:
    """Expand an int (or a length-``ndim`` tuple) to a tuple of ``ndim`` positive ints, or raise."""
    values: tuple = tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim
    if len(values) != ndim:
        raise ValueError(f"{name}={value!r}: expected an int or {ndim} values (one per spatial axis)")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{name}={value!r}: values must be integers, got {type(v).__name__} {v!r}")
        if v < 1:
            raise ValueError(f"{name}={value!r}: values must be positive")
    return values


def per_axis_bool(name: str, value: BoolOrTuple, ndim: int) -> tuple[bool, ...]:
    values: tuple = tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim
    if len(values) != ndim or not all(isinstance(v, bool) for v in values):
        raise ValueError(f"{name}={value!r}: expected a bool or {ndim} bools (one per spatial axis)")
    return values


def check_na_args(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    ndim: int,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple,
    stride: IntOrTuple,
    is_causal: BoolOrTuple,
    additional_keys: torch.Tensor | None,
    additional_values: torch.Tensor | None,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[bool, ...]]:
    """Validate ``na{ndim}d`` inputs; return (kernel, dilation, stride, causal) as per-axis tuples.

    Shapes: q, k, v ``[B, *spatial(ndim), heads, dim]`` (v may have its own ``dim``);
    additional_keys / additional_values ``[B, M, heads, dim]``.
    """
    rank = ndim + 3
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.dim() != rank:
            raise ValueError(
                f"na{ndim}d: {name} must be [B, {', '.join('XYZ'[:ndim])}, heads, dim] (rank {rank}), "
                f"got shape {tuple(t.shape)}"
            )
    if q.shape != k.shape:
        raise ValueError(f"na{ndim}d: query {tuple(q.shape)} and key {tuple(k.shape)} must have the same shape")
    if v.shape[:-1] != k.shape[:-1]:
        raise ValueError(f"na{ndim}d: value {tuple(v.shape)} must match key {tuple(k.shape)} except in dim")
    if not (q.dtype == k.dtype == v.dtype):
        raise ValueError(f"na{ndim}d: dtypes differ (query {q.dtype}, key {k.dtype}, value {v.dtype})")
    if (additional_keys is None) != (additional_values is None):
        raise ValueError(f"na{ndim}d: give both additional_keys and additional_values, or neither")
    if additional_keys is not None and additional_values is not None:
        b, h, d = q.shape[0], q.shape[-2], q.shape[-1]
        if additional_keys.dim() != 4 or additional_keys.shape[0] != b or additional_keys.shape[2:] != (h, d):
            raise ValueError(
                f"na{ndim}d: additional_keys must be [B={b}, M, heads={h}, dim={d}], got {tuple(additional_keys.shape)}"
            )
        if additional_values.shape[:-1] != additional_keys.shape[:-1] or additional_values.shape[-1] != v.shape[-1]:
            raise ValueError(
                f"na{ndim}d: additional_values must be [B, M, heads, {v.shape[-1]}] matching additional_keys "
                f"{tuple(additional_keys.shape)}, got {tuple(additional_values.shape)}"
            )
    kernel = per_axis("kernel_size", kernel_size, ndim)
    if any(kk % 2 == 0 for kk in kernel):
        raise ValueError(f"kernel_size={kernel_size!r}: must be odd on every axis (query at the centre)")
    dil = per_axis("dilation", dilation, ndim)
    st = per_axis("stride", stride, ndim)
    for a in range(ndim):
        if st[a] > kernel[a]:
            raise ValueError(f"stride={stride!r}: stride {st[a]} exceeds kernel_size {kernel[a]} on axis {a}")
    causal = per_axis_bool("is_causal", is_causal, ndim)
    return kernel, dil, st, causal
