"""Evaluation: fixed seeds give identical results, the report is written from the real entry point."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch

from navigation.baselines.common import robot_limits
from navigation.checkpoint import save_checkpoint
from navigation.cli import main
from navigation.config import EnvConfig, TrainConfig, config_to_dict
from navigation.evaluate import run_episodes, summarize
from navigation.networks import build_policy
from navigation.policies import LearnedPolicy, make_policy

SHORT = EnvConfig(overrides={"time_limit": 6.0})


def _random_learned() -> LearnedPolicy:
    torch.manual_seed(0)
    env = gym.make(SHORT.env_id, **SHORT.overrides)
    net = build_policy(TrainConfig().network, env.observation_space, env.action_space)
    return LearnedPolicy(net, "random_height", robot_limits(SHORT.env_id, SHORT.overrides))


def test_evaluation_is_deterministic():
    for make in (_random_learned, lambda: make_policy("orca", SHORT)):
        a, _ = run_episodes(make(), SHORT, episodes=5, seed=42, num_envs=3, progress=False)
        b, _ = run_episodes(make(), SHORT, episodes=5, seed=42, num_envs=3, progress=False)
        assert a == b
        assert [r["seed"] for r in a] == [42, 43, 44, 45, 46]
    # an episode depends on its seed only, not on which wave it ran in
    c, _ = run_episodes(make_policy("orca", SHORT), SHORT, episodes=5, seed=42, num_envs=5, progress=False)
    assert c == a
    d, _ = run_episodes(make_policy("orca", SHORT), SHORT, episodes=5, seed=43, num_envs=3, progress=False)
    assert d[:4] == a[1:]


def test_summary_rates():
    recs = [{"outcome": o, "time": 10.0, "path_length": 6.0, "intrusion_ratio": 0.1, "min_distance": 0.3,
             "return": 1.0} for o in ("success", "success", "collision_wall", "timeout")]
    s = summarize(recs)
    assert (s["success"], s["collision"], s["collision_wall"], s["timeout"]) == (0.5, 0.25, 0.25, 0.25)
    assert s["nav_time"] == 10.0


def test_eval_entry_point_writes_report(tmp_path):
    ckpt = tmp_path / "h.pt"
    policy = _random_learned()
    save_checkpoint(ckpt, {"config": config_to_dict(TrainConfig()), "policy": policy.net.state_dict()})
    out = tmp_path / "report"
    rc = main(["eval", "--policy", f"height={ckpt}", "--policy", "orca", "--episodes", "2", "--trajectories", "1",
               "--env-set", "time_limit=6.0", "--out", str(out), "--no-progress", "--video"])
    assert rc == 0
    assert (out / "rollout_height.mp4").stat().st_size > 0 and not (out / "rollout_orca.mp4").exists()
    md = (out / "report.md").read_text()
    assert "| height | 2 |" in md and "| orca | 2 |" in md and "trajectories.png" in md
    assert "<table" in (out / "report.html").read_text()
    assert (out / "trajectories.png").stat().st_size > 10_000
    results = json.loads((out / "results.json").read_text())["results"]["pernav/CrowdNav-v0"]
    assert set(results) == {"height", "orca"} and results["orca"]["episodes"] == 2


def test_eval_rejects_missing_checkpoint(tmp_path, capsys):
    assert main(["eval", "--policy", f"x={tmp_path}/nope.pt", "--episodes", "1", "--out", str(tmp_path)]) == 2
    assert "nope.pt" in capsys.readouterr().err


def test_rollout_video(tmp_path):
    import imageio.v3 as iio

    out = tmp_path / "ep.mp4"
    assert main(["rollout", "--policy", "dwa", "--env-set", "time_limit=3.0", "--every", "1", "--out", str(out)]) == 0
    frames = iio.imread(out, index=None)
    assert frames.shape[0] >= 20 and frames.shape[-1] == 3
    assert (frames[0].astype(int) - frames[-1].astype(int)).any()  # the scene moved


def test_replay_scenario_in_report(tmp_path):
    """The real-crowd replay scenario runs from an ETH/UCY-format file (``frame ped_id x y``)."""
    lines = [f"{f} {p} {-4 + 0.02 * f + p:.2f} {0.5 * p - 1:.2f}" for p in range(4) for f in range(0, 300, 10)]
    tracks = tmp_path / "tracks.txt"
    tracks.write_text("\n".join(lines) + "\n")
    out = tmp_path / "report"
    assert main(["eval", "--policy", "dwa", "--episodes", "1", "--trajectories", "0", "--replay-file", str(tracks),
                 "--env-set", "time_limit=10.0", "--out", str(out), "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())["results"]
    assert any(k.startswith("pernav/CrowdNavReplay-v0") for k in results)


def test_checkpoint_on_wider_padding(tmp_path):
    """HEIGHT's weights do not depend on the padded sizes; DS-RNN's obstacle input does (named error)."""
    for name in ("height", "dsrnn"):
        cfg = TrainConfig()
        cfg.network.name = name
        env = gym.make(SHORT.env_id)
        net = build_policy(cfg.network, env.observation_space, env.action_space)
        save_checkpoint(tmp_path / f"{name}.pt", {"config": config_to_dict(cfg), "policy": net.state_dict()})
    more = EnvConfig("pernav/CrowdNavMoreObstacles-v0", {"time_limit": 3.0})
    records, _ = run_episodes(make_policy(f"h={tmp_path}/height.pt", more), more, episodes=2, progress=False)
    assert len(records) == 2
    with pytest.raises(ValueError, match="dsrnn.pt: weights do not fit"):
        make_policy(f"d={tmp_path}/dsrnn.pt", more)
