"""The benchmark's dense peer computes the same attention as na3d when the neighbourhood is the grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from kernels import NeighborhoodAttention3d
from perception.occupancy.bench import DenseGlobalAttention
from perception.occupancy.cli import main as occ


def test_dense_peer_equals_na3d_with_full_kernel() -> None:
    torch.manual_seed(0)
    na = NeighborhoodAttention3d(16, 2, kernel_size=(5, 5, 3))
    x = torch.randn(1, 5, 5, 3, 16)
    tokens = torch.randn(1, 7, 16)
    torch.testing.assert_close(na(x, extra_tokens=tokens), DenseGlobalAttention(na)(x, tokens), atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_bench_cli(tmp_path: Path) -> None:
    assert occ(["bench", "--repeats", "1", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench.json").read_text())
    assert result["ratio"] > 1.0 and (tmp_path / "bench_latency.png").is_file()
