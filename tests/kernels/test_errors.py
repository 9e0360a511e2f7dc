"""Bad input → ValueError naming the argument and the shapes."""

from __future__ import annotations

import pytest
import torch

from kernels import NeighborhoodAttention2d, na1d, na2d, na3d, set_attention

x2 = torch.randn(1, 8, 8, 2, 4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: na2d(torch.randn(1, 8, 2, 4), torch.randn(1, 8, 2, 4), torch.randn(1, 8, 2, 4), 3), "rank 5"),
        (lambda: na2d(x2, torch.randn(1, 8, 9, 2, 4), x2, 3), r"query \(1, 8, 8, 2, 4\) and key \(1, 8, 9, 2, 4\)"),
        (lambda: na2d(x2, x2, x2, 4), "kernel_size=4: must be odd"),
        (lambda: na2d(x2, x2, x2, (3, 4)), r"kernel_size=\(3, 4\): must be odd"),
        (lambda: na2d(x2, x2, x2, 0), "kernel_size=0: values must be positive"),
        (lambda: na2d(x2, x2, x2, -3), "kernel_size=-3: values must be positive"),
        (lambda: na2d(x2, x2, x2, 3, dilation=1.5), "dilation=1.5: values must be integers"),
        (lambda: na2d(x2, x2, x2, 3, dilation=(1, 2, 3)), r"dilation=\(1, 2, 3\): expected an int or 2 values"),
        (lambda: na2d(x2, x2, x2, 3, stride=5), "stride=5: stride 5 exceeds kernel_size 3"),
        (
            lambda: na1d(torch.randn(1, 8, 2, 4), torch.randn(1, 8, 2, 4), torch.randn(1, 8, 2, 4), 3, is_causal="yes"),
            "is_causal",
        ),
        (lambda: na3d(x2, x2, x2, 3), "rank 6"),
        (lambda: na2d(x2, x2, x2, 3, additional_keys=torch.randn(1, 2, 2, 4)), "give both"),
        (
            lambda: na2d(
                x2, x2, x2, 3, additional_keys=torch.randn(1, 2, 3, 4), additional_values=torch.randn(1, 2, 3, 4)
            ),
            r"additional_keys must be \[B=1, M, heads=2, dim=4\]",
        ),
        (lambda: na2d(x2, x2, x2, 3, rpb=torch.zeros(2, 3, 3)), r"rpb must be \[heads, 5, 5\]"),
        (lambda: na2d(x2, x2, x2, 3, backend="cuda"), "backend='cuda'"),
        (
            lambda: set_attention(torch.randn(2, 3, 2, 4), torch.randn(2, 5, 2, 4), torch.randn(2, 5, 2, 4)),
            "exactly one",
        ),
        (
            lambda: set_attention(
                torch.randn(2, 3, 2, 4), torch.randn(2, 5, 2, 4), torch.randn(2, 5, 2, 4), lengths=torch.tensor([1, 6])
            ),
            r"lengths must lie in \[0, Lk=5\]",
        ),
        (
            lambda: set_attention(
                torch.randn(2, 3, 2, 4),
                torch.randn(2, 5, 2, 4),
                torch.randn(2, 5, 2, 4),
                key_padding_mask=torch.zeros(2, 4, dtype=torch.bool),
            ),
            r"key_padding_mask must be bool \[B=2, Lk=5\]",
        ),
        (
            lambda: set_attention(
                torch.randn(2, 3, 2, 4), torch.randn(3, 5, 2, 4), torch.randn(3, 5, 2, 4), lengths=torch.tensor([1, 2])
            ),
            "shapes disagree",
        ),
        (lambda: NeighborhoodAttention2d(10, 3, 3), "divisible by num_heads"),
        (lambda: NeighborhoodAttention2d(8, 2, 3)(torch.randn(1, 8, 8)), r"x must be \[B, \*spatial\(2\), dim\]"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_triton_on_cpu_without_interpreter_is_refused(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ValueError, match="triton needs CUDA or TRITON_INTERPRET=1"):
        na2d(x2, x2, x2, 3, backend="triton")
