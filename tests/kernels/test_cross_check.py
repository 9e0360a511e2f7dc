"""Semantics cross-checks against independent implementations: natten and torch flex_attention."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

from kernels import na2d


def _flex_na2d_mask(x: int, y: int, k: int):
    """A neighborhood mask_mod written from NATTEN's definition (window centre clamped into the grid)."""
    half = k // 2

    def mask_mod(b, h, q_idx, kv_idx):
        qx, qy, kx, ky = q_idx // y, q_idx % y, kv_idx // y, kv_idx % y
        cx = qx.clamp(half, x - 1 - half)
        cy = qy.clamp(half, y - 1 - half)
        return ((cx - kx).abs() <= half) & ((cy - ky).abs() <= half)

    return create_block_mask(mask_mod, B=None, H=None, Q_LEN=x * y, KV_LEN=x * y, device="cpu")


def test_na2d_matches_flex_attention_with_neighborhood_mask():
    torch.manual_seed(0)
    x, y, k = 16, 24, 7
    q, kk, v = (torch.randn(2, x, y, 2, 16) for _ in range(3))
    flat = lambda t: t.reshape(2, x * y, 2, 16).transpose(1, 2)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # eager flex warns that it is slow
        ref = flex_attention(flat(q), flat(kk), flat(v), block_mask=_flex_na2d_mask(x, y, k))
    ref = ref.transpose(1, 2).reshape(2, x, y, 2, 16)
    torch.testing.assert_close(na2d(q, kk, v, k, backend="torch"), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("kernel", "dilation", "stride", "causal"),
    [(7, 1, 1, False), (5, 2, 1, False), ((3, 5), 1, (3, 5), False), (5, 1, 2, False), (5, 1, 1, (True, False))],
)
def test_na2d_matches_natten(kernel, dilation, stride, causal):
    natten = pytest.importorskip("natten", reason="natten not installed (make install adds it)")
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 16, 16, 2, 32) for _ in range(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = natten.na2d(q, k, v, kernel_size=kernel, dilation=dilation, stride=stride, is_causal=causal)
    out = na2d(q, k, v, kernel, dilation, stride, causal, backend="torch")
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
