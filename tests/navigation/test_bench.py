"""``pernav nav bench`` runs both attention builds and reports ratios."""

from __future__ import annotations

import pytest

from navigation.bench import format_bench, run_bench
from navigation.cli import main
from navigation.config import load_config

SMALL = ["ppo.num_envs=2", "ppo.num_steps=4", "ppo.epochs=1"]


def test_bench_measures_both_builds():
    res = run_bench(load_config("configs/nav/height.yaml", SMALL), reps=2, train_updates=1, memory=False)
    for batch in (1, 256):
        assert set(res["latency_ms"][batch]) == {"kernels", "kernels/reference", "torch_mha"}
        assert all(v > 0 for v in res["latency_ms"][batch].values())
    assert all(v > 0 for v in res["train_steps_per_s"].values())
    table = format_bench(res)
    assert "torch_mha / kernels" in table and "batch 256" in table and "kernels/reference" in table


@pytest.mark.slow
def test_bench_entry_point_with_memory(tmp_path):
    out = tmp_path / "bench.md"
    assert main(["bench", "--set", *SMALL, "--reps", "2", "--updates", "1", "--out", str(out)]) == 0
    assert "peak RSS" in out.read_text()
