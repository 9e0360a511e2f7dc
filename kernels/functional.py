"""Public attention ops. Layout is heads-last everywhere: ``[B, *spatial, heads, dim]``.

Semantics follow NATTEN (see :mod:`kernels.windows`), except that inputs smaller than
``kernel_size × dilation`` are clamped (each query sees its whole dilation group) instead of rejected.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import torch

from kernels import reference
from kernels._args import BoolOrTuple, IntOrTuple, check_na_args
from kernels.dispatch import choose_backend


def _backend_module(name: str) -> ModuleType:
    if name == "reference":
        return reference
    if name == "torch":
        return importlib.import_module("kernels.torch_backend")
    return importlib.import_module("kernels.triton_backend")


def _na(
    ndim: int,
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple,
    stride: IntOrTuple,
    is_causal: BoolOrTuple,
    scale: float | None,
    additional_keys: torch.Tensor | None,
    additional_values: torch.Tensor | None,
    rpb: torch.Tensor | None,
    backend: str | None,
) -> torch.Tensor:
    kernel, dil, st, causal = check_na_args(
        q, k, v, ndim, kernel_size, dilation, stride, is_causal, additional_keys, additional_values
    )
    if rpb is not None and tuple(rpb.shape[1:]) != tuple(2 * kk - 1 for kk in kernel):
        raise ValueError(
            f"na{ndim}d: rpb must be [heads, {', '.join(str(2 * kk - 1) for kk in kernel)}], got {tuple(rpb.shape)}"
        )
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    tokens = q[0, ..., 0, 0].numel()
    name = choose_backend(f"na{ndim}d", q.device, q.dtype, tokens, backend)
    if name == "triton" and rpb is not None:
        name = "torch"  # the fused kernels take no per-pair bias; relative-position bias runs unfused
    return _backend_module(name).na(q, k, v, kernel, dil, st, causal, scale, additional_keys, additional_values, rpb)


def na1d(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    stride: IntOrTuple = 1,
    is_causal: BoolOrTuple = False,
    scale: float | None = None,
    additional_keys: torch.Tensor | None = None,
    additional_values: torch.Tensor | None = None,
    rpb: torch.Tensor | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """1-D neighborhood attention.

    Args:
        query, key: ``[B, L, heads, dim]``; value: ``[B, L, heads, dim_v]``.
        kernel_size: odd window length; dilation: gap between window keys; stride: queries per shared
            window (``stride == kernel_size`` gives blocked attention); is_causal: keys at or before the query.
        scale: logit scale, default ``dim ** -0.5``.
        additional_keys / additional_values: ``[B, M, heads, dim]`` global tokens every query attends.
        rpb: relative position bias ``[heads, 2*kernel_size-1]``.
        backend: ``"reference" | "torch" | "triton"``; default chosen by :func:`kernels.dispatch.choose_backend`.

    Returns:
        ``[B, L, heads, dim_v]``.
    """
    return _na(1, query, key, value, kernel_size, dilation, stride, is_causal, scale,
               additional_keys, additional_values, rpb, backend)  # fmt: skip


def na2d(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    stride: IntOrTuple = 1,
    is_causal: BoolOrTuple = False,
    scale: float | None = None,
    additional_keys: torch.Tensor | None = None,
    additional_values: torch.Tensor | None = None,
    rpb: torch.Tensor | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """2-D neighborhood attention on ``[B, X, Y, heads, dim]`` → ``[B, X, Y, heads, dim_v]``.

    Per-axis arguments are an int or an ``(x, y)`` tuple; rpb is ``[heads, 2*kx-1, 2*ky-1]``; extra
    tokens ``[B, M, heads, dim]``. See :func:`na1d` for the meaning of each argument.
    """
    return _na(2, query, key, value, kernel_size, dilation, stride, is_causal, scale,
               additional_keys, additional_values, rpb, backend)  # fmt: skip


def na3d(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    kernel_size: IntOrTuple,
    dilation: IntOrTuple = 1,
    stride: IntOrTuple = 1,
    is_causal: BoolOrTuple = False,
    scale: float | None = None,
    additional_keys: torch.Tensor | None = None,
    additional_values: torch.Tensor | None = None,
    rpb: torch.Tensor | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """3-D neighborhood attention on ``[B, X, Y, Z, heads, dim]`` → ``[B, X, Y, Z, heads, dim_v]``.

    Per-axis arguments are an int or an ``(x, y, z)`` tuple; rpb is ``[heads, 2*kx-1, 2*ky-1, 2*kz-1]``;
    extra tokens ``[B, M, heads, dim]``. See :func:`na1d` for the meaning of each argument.
    """
    return _na(3, query, key, value, kernel_size, dilation, stride, is_causal, scale,
               additional_keys, additional_values, rpb, backend)  # fmt: skip


def _lengths_from_mask(key_padding_mask: torch.Tensor, k: torch.Tensor, v: torch.Tensor):
    """Move each set's valid keys to the front (attention ignores key order); return (k, v, lengths)."""
    valid = ~key_padding_mask
    lengths = valid.sum(dim=1)
    prefix = torch.arange(valid.shape[1], device=valid.device)[None, :] < lengths[:, None]
    if bool((prefix == valid).all()):
        return k, v, lengths
    order = torch.argsort((~valid).to(torch.int8), dim=1, stable=True)  # valid keys first
    gather = lambda t: t.gather(1, order[:, :, None, None].expand_as(t))  # noqa: E731
    return gather(k), gather(v), lengths


def set_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    lengths: torch.Tensor | None = None,
    key_padding_mask: torch.Tensor | None = None,
    scale: float | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """Multi-head attention over many small variable-size sets (e.g. agents per scene) in one call.

    Args:
        query: ``[B, Lq, heads, dim]``; key: ``[B, Lk, heads, dim]``; value: ``[B, Lk, heads, dim_v]``.
        lengths: ``[B]`` number of valid keys per set (keys ``[:lengths[b]]`` are valid), or
        key_padding_mask: ``[B, Lk]`` bool, True = padding (PyTorch's convention). Give exactly one.
        scale: logit scale, default ``dim ** -0.5``.

    Returns:
        ``[B, Lq, heads, dim_v]``. A set with no valid key gives zero rows, never NaN. As in
        ``nn.MultiheadAttention``, padded keys/values must be finite (zeros are usual): they get zero
        weight, and ``0 × NaN`` is NaN.
    """
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise ValueError(
            "set_attention: query, key, value must be [B, L, heads, dim], got "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    b, _, h, d = query.shape
    if key.shape[0] != b or key.shape[2:] != (h, d) or value.shape[:3] != key.shape[:3]:
        raise ValueError(
            f"set_attention: shapes disagree: query {tuple(query.shape)}, key {tuple(key.shape)}, "
            f"value {tuple(value.shape)} (need same B and heads, key dim == query dim, value L == key L)"
        )
    if (lengths is None) == (key_padding_mask is None):
        raise ValueError("set_attention: give exactly one of lengths or key_padding_mask")
    if key_padding_mask is not None:
        if key_padding_mask.shape != key.shape[:2] or key_padding_mask.dtype != torch.bool:
            raise ValueError(
                f"set_attention: key_padding_mask must be bool [B={b}, Lk={key.shape[1]}], "
                f"got {key_padding_mask.dtype} {tuple(key_padding_mask.shape)}"
            )
        key, value, lengths = _lengths_from_mask(key_padding_mask, key, value)
    assert lengths is not None
    if lengths.shape != (b,) or lengths.dtype.is_floating_point:
        raise ValueError(f"set_attention: lengths must be integer [B={b}], got {lengths.dtype} {tuple(lengths.shape)}")
    if bool((lengths < 0).any()) or bool((lengths > key.shape[1]).any()):
        raise ValueError(f"set_attention: lengths must lie in [0, Lk={key.shape[1]}], got {lengths.tolist()}")
    scale = d**-0.5 if scale is None else float(scale)
    name = choose_backend("set_attention", query.device, query.dtype, query.shape[1] * b, backend)
    if name == "reference":
        pad = torch.arange(key.shape[1], device=key.device)[None, :] >= lengths[:, None]
        return reference.set_attention(query, key, value, pad, scale)
    return _backend_module(name).set_attention(query, key, value, lengths.to(torch.long), scale)
