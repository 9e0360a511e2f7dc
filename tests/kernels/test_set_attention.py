"""set_attention: backends against the reference, masks vs lengths, empty sets, padding invariance."""

from __future__ import annotations

import pytest
import torch

from kernels import SetAttention, set_attention


def _sets(b=7, lq=6, lk=9, h=2, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, lq, h, d, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(b, lk, h, d, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(b, lk, h, d, generator=g, dtype=torch.float64, requires_grad=True)
    lengths = torch.randint(0, lk + 1, (b,), generator=g)
    lengths[0], lengths[1] = 0, lk  # an empty set and a full one
    return q, k, v, lengths


def test_torch_backend_matches_reference_forward_and_backward():
    q, k, v, lengths = _sets()
    ref = set_attention(q, k, v, lengths=lengths, backend="reference")
    out = set_attention(q, k, v, lengths=lengths, backend="torch")
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-10)
    grad = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (q, k, v), grad), torch.autograd.grad(ref, (q, k, v), grad), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_empty_sets_give_zeros_not_nan(backend):
    q, k, v, lengths = _sets()
    lengths[2] = 0
    out = set_attention(q, k, v, lengths=lengths, backend=backend)
    empty = lengths == 0
    assert torch.equal(out[empty], torch.zeros_like(out[empty]))
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(q.grad).all() and torch.equal(q.grad[empty], torch.zeros_like(q.grad[empty]))
    assert torch.isfinite(k.grad).all() and torch.isfinite(v.grad).all()


@pytest.mark.parametrize("backend", ["reference", "torch"])
def test_scattered_padding_mask_equals_lengths(backend):
    """A mask with padding anywhere (not only at the end) gives the attention over the valid keys."""
    q, k, v, _ = _sets(seed=3)
    g = torch.Generator().manual_seed(4)
    pad = torch.rand(k.shape[:2], generator=g) < 0.4
    out = set_attention(q, k, v, key_padding_mask=pad, backend=backend)
    for i in range(q.shape[0]):
        keep = ~pad[i]
        ref = set_attention(
            q[i : i + 1], k[i : i + 1, keep], v[i : i + 1, keep], lengths=keep.sum()[None], backend="reference"
        )
        torch.testing.assert_close(out[i : i + 1], ref, rtol=1e-10, atol=1e-10)


def test_padding_content_never_changes_output():
    q, k, v, lengths = _sets(seed=5)
    out = set_attention(q, k, v, lengths=lengths, backend="torch")
    k2, v2 = k.detach().clone(), v.detach().clone()
    for i, n in enumerate(lengths.tolist()):
        k2[i, n:] = 1e3
        v2[i, n:] = -1e6
    out2 = set_attention(q, k2, v2, lengths=lengths, backend="torch")
    torch.testing.assert_close(out, out2)


def test_module_self_attention_ignores_padded_agents():
    torch.manual_seed(0)
    m = SetAttention(16, 4).double()
    x = torch.randn(3, 5, 16, dtype=torch.float64)
    lengths = torch.tensor([2, 5, 3])
    y = m(x, lengths=lengths)
    x2 = x.clone()
    x2[0, 2:] = 7.0
    torch.testing.assert_close(m(x2, lengths=lengths)[0, :2], y[0, :2])


def test_all_empty_batch_keeps_gradients_defined():
    """A batch where no set has a valid key (no humans in view) must still backpropagate (zeros)."""
    q, k, v, lengths = _sets(seed=6)
    out = set_attention(q, k, v, lengths=torch.zeros_like(lengths), backend="torch")
    assert torch.equal(out, torch.zeros_like(out))
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    assert all(torch.equal(g, torch.zeros_like(g)) for g in grads)
