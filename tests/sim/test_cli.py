"""Smoke tests of the ``pernav sim`` entry points on tiny settings."""

from __future__ import annotations

import json

import imageio.v3 as iio
import pytest

from sim.crowd.cli import main
from sim.crowd.config import CrowdSimConfig
from sim.crowd.rollout import run_orca_rollouts


def test_rollout_metrics_line(capsys):
    assert main(["rollout", "--episodes", "2", "--seed", "1", "--video", ""]) == 0
    out = capsys.readouterr().out
    assert "episodes=2 success=" in out and "collision=" in out and "path_length=" in out


def test_rollout_video(tmp_path):
    video = tmp_path / "r.gif"
    summary = run_orca_rollouts(CrowdSimConfig(time_limit=4.0), 2, 0, video, progress=False)
    assert summary.episodes == 2 and sum(summary.outcomes.values()) == 2
    frames = iio.imread(video, index=None)
    assert frames.ndim == 4 and len(frames) > 5 and frames[0].std() > 0
    assert not (frames[0] == frames[-1]).all()  # things moved


def test_bench_small(tmp_path, capsys):
    pytest.importorskip("pyrvo")
    assert main(["bench", "--sizes", "1", "4", "--rounds", "1", "--steps-per-round", "8", "--out",
                 str(tmp_path)]) == 0
    data = json.loads((tmp_path / "bench.json").read_text())
    assert [r["num_envs"] for r in data["rows"]] == [1, 4]
    assert all(r["batched_steps_per_s"] > 0 and r["ratio"] > 0 for r in data["rows"])
    assert data["single_env_steps_per_s"] > 0
    assert (tmp_path / "bench.png").stat().st_size > 1000
    assert "ratio" in capsys.readouterr().out


def test_check_and_make_replay(tmp_path, capsys):
    f = tmp_path / "tracks.txt"
    assert main(["make-replay", str(f), "--peds", "4"]) == 0
    assert main(["check", "pernav/CrowdNav-v0", "pernav/CrowdNavReplay-v0", "--replay-file", str(f)]) == 0
    assert capsys.readouterr().out.count("ok ") == 2


def test_bad_arguments():
    assert main(["rollout", "--episodes", "0"]) == 2
    with pytest.raises(SystemExit):
        main(["rollout", "--env", "pernav/Nope-v0"])
