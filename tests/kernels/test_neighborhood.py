"""Every non-reference backend against the float64 reference: forward and gradients."""

from __future__ import annotations

import pytest
import torch

from kernels import na1d, na2d, na3d
from kernels.reference import neighborhood_mask

OPS = {1: na1d, 2: na2d, 3: na3d}

# (spatial, kernel, dilation, stride, causal, extra tokens)
CASES = [
    ((13,), 5, 1, 1, False, 0),
    ((17,), 7, 2, 1, False, 0),
    ((13,), 5, 1, 3, False, 0),
    ((15,), 5, 1, 5, False, 0),  # blocked (stride == kernel)
    ((13,), 5, 1, 1, True, 0),
    ((14,), 5, 3, 2, True, 2),
    ((3,), 7, 1, 1, False, 0),  # smaller than the kernel: clamp, don't raise
    ((11, 9), 3, 1, 1, False, 0),
    ((10, 13), (5, 3), (2, 1), (1, 3), (False, True), 3),
    ((4, 3), 7, (1, 2), 1, False, 0),  # smaller than kernel × dilation on both axes
    ((21, 21), 7, 1, 7, False, 0),  # blocked 2-D, 3 × 3 blocks
    ((5, 6, 7), (3, 3, 5), (1, 2, 1), (3, 1, 2), (False, False, True), 2),
    ((6, 5, 4), 3, 1, 1, False, 0),
]


def _inputs(spatial, extra, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    b, h, d = 2, 2, 6
    q, k, v = (torch.randn(b, *spatial, h, d, generator=g, dtype=dtype, requires_grad=True) for _ in range(3))
    ek = ev = None
    if extra:
        ek = torch.randn(b, extra, h, d, generator=g, dtype=dtype, requires_grad=True)
        ev = torch.randn(b, extra, h, d, generator=g, dtype=dtype, requires_grad=True)
    return q, k, v, ek, ev


@pytest.mark.parametrize("rpb", [False, True])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-k{c[1]}-d{c[2]}-s{c[3]}-c{c[4]}-x{c[5]}")
def test_torch_backend_matches_reference(case, rpb):
    spatial, kernel, dilation, stride, causal, extra = case
    op = OPS[len(spatial)]
    q, k, v, ek, ev = _inputs(spatial, extra, seed=hash(case) % 2**31)
    ks = (kernel,) * len(spatial) if isinstance(kernel, int) else kernel
    bias = torch.randn(2, *[2 * kk - 1 for kk in ks], dtype=torch.float64, requires_grad=True) if rpb else None
    args = dict(dilation=dilation, stride=stride, is_causal=causal, additional_keys=ek, additional_values=ev, rpb=bias)
    ref = op(q, k, v, kernel, backend="reference", **args)
    out = op(q, k, v, kernel, backend="torch", **args)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
    leaves = [t for t in (q, k, v, ek, ev, bias) if t is not None]
    grad = torch.randn_like(ref)
    g_ref = torch.autograd.grad(ref, leaves, grad)
    g_out = torch.autograd.grad(out, leaves, grad)
    for a, b in zip(g_out, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_every_query_sees_exactly_kernel_size_keys():
    """NATTEN's defining property: borders shift the window, they do not shrink it."""
    for length, kernel, dilation, stride in [(20, 7, 1, 1), (23, 5, 3, 1), (19, 5, 1, 2), (15, 5, 1, 5)]:
        mask = neighborhood_mask((length,), (kernel,), (dilation,), (stride,), (False,))
        assert (mask.sum(dim=1) == kernel).all(), (length, kernel, dilation, stride)
        # and the query sits inside its own window unless stride groups move it
        if stride == 1:
            assert mask.diagonal().all()


def test_blocked_attention_is_block_diagonal():
    mask = neighborhood_mask((12,), (4 + 1,), (1,), (5,), (False,))[:10, :10]
    blocks = torch.block_diag(torch.ones(5, 5, dtype=torch.bool), torch.ones(5, 5, dtype=torch.bool))
    assert torch.equal(mask, blocks)


def test_causal_never_looks_ahead():
    q, k, v, _, _ = _inputs((9,), 0, seed=1)
    out = na1d(q, k, v, 5, is_causal=True, backend="torch")
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[:, 6:] += 10.0
    v2[:, 6:] -= 10.0
    out2 = na1d(q, k2, v2, 5, is_causal=True, backend="torch")
    torch.testing.assert_close(out[:, :6], out2[:, :6])
    assert not torch.allclose(out[:, 6:], out2[:, 6:])


def test_float32_close_to_float64():
    q, k, v, _, _ = _inputs((24, 20), 0, seed=2)
    ref = na2d(q, k, v, 7, backend="reference")
    out = na2d(q.float(), k.float(), v.float(), 7, backend="torch")
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-5)
