"""PPO training from the real entry point: 2 updates, checkpoint/resume round trip, 2 processes, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from navigation.checkpoint import FORMAT, load_checkpoint, package_version, save_checkpoint
from navigation.cli import main
from navigation.config import NetworkConfig
from navigation.envs import make_env
from navigation.networks import build_policy
from navigation.policies import load_learned

ROOT = Path(__file__).resolve().parents[2]
PRESET = str(ROOT / "configs/nav/height.yaml")
SMALL = ["ppo.num_envs=2", "ppo.num_steps=8", "ppo.epochs=2", "ppo.num_minibatches=2", "env.overrides.time_limit=3.0"]


def _train(out: Path, *extra: str, args: tuple[str, ...] = ()) -> int:
    return main(["train", PRESET, *args, "--no-progress", "--set", f"out_dir={out}", *SMALL, *extra])


def test_two_updates_from_the_entry_point(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "total_updates=2", "checkpoint_every=2") == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["format"] == FORMAT and ckpt["version"] == package_version()
    assert ckpt["update"] == 2 and ckpt["env_steps"] == 2 * 2 * 8
    assert ckpt["config"]["ppo"]["num_steps"] == 8 and ckpt["config"]["network"]["name"] == "height"
    assert yaml.safe_load((out / "config.yaml").read_text()) == ckpt["config"]
    # the parameters moved away from their (seeded) initial values
    env = make_env(_env_cfg())
    torch.manual_seed(0)
    init = build_policy(NetworkConfig(), env.observation_space, env.action_space).state_dict()
    moved = [k for k, v in ckpt["policy"].items() if not torch.equal(v, init[k])]
    assert len(moved) > len(init) // 2
    # TensorBoard scalars were written
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"losses/loss_objective", "losses/loss_critic", "charts/steps_per_second", "charts/success_rate",
            "charts/learning_rate"} <= tags
    lrs = [e.value for e in acc.Scalars("charts/learning_rate")]
    assert lrs[1] < lrs[0]  # linear decay


def _env_cfg():
    from navigation.config import EnvConfig

    return EnvConfig(overrides={"time_limit": 3.0})


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert _train(whole, "total_updates=4", "checkpoint_every=2") == 0
    assert _train(split, "total_updates=4", "checkpoint_every=2", args=("--stop-after", "2")) == 0
    assert load_checkpoint(split / "checkpoint.pt")["update"] == 2
    assert _train(split, "total_updates=4", "checkpoint_every=2", args=("--resume",)) == 0
    a, b = load_checkpoint(whole / "checkpoint.pt"), load_checkpoint(split / "checkpoint.pt")
    assert a["update"] == b["update"] == 4
    for k in a["policy"]:
        torch.testing.assert_close(a["policy"][k], b["policy"][k], rtol=0, atol=0)
    assert a["optimizer"]["state"][0]["step"] == b["optimizer"]["state"][0]["step"]


def test_existing_run_needs_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "total_updates=1", "checkpoint_every=1") == 0
    assert _train(out, "total_updates=1", "checkpoint_every=1") == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize(
    "override,needle",
    [("ppo.bogus=1", "ppo.bogus: unknown key"), ("network.name=resnet", "network.name='resnet'"),
     ("env.env_id=pernav/Nope-v0", "not registered"), ("ppo.num_minibatches=3", "must divide"),
     ("network.attention_backend=cuda", "attention_backend='cuda'"), ("ppo.lr=fast", "ppo.lr='fast'"),
     ("keep_every=75", "keep_every=75: must be 0 or a multiple of checkpoint_every")],
)
def test_bad_config_is_named(tmp_path, capsys, override, needle):
    assert _train(tmp_path / "run", override) == 2
    assert needle in capsys.readouterr().err


def test_missing_config_file(capsys):
    assert main(["train", "/nonexistent/nav.yaml"]) == 2
    assert "/nonexistent/nav.yaml" in capsys.readouterr().err


def test_two_processes_with_torchrun(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "navigation.cli", "train", PRESET, "--no-progress", "--set", f"out_dir={out}",
           "total_updates=2", "checkpoint_every=2", *SMALL]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "max parameter difference across 2 ranks = 0" in proc.stdout
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["env_steps"] == 2 * 2 * 2 * 8  # updates × ranks × envs × steps


def test_continuous_actions_train(tmp_path):
    out = tmp_path / "cont"
    assert _train(out, "total_updates=1", "checkpoint_every=1", "env.overrides.continuous_actions=true") == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert "log_std" in ckpt["policy"] and ckpt["policy"]["action_out.weight"].shape[0] == 2
    assert not torch.equal(ckpt["policy"]["log_std"], torch.zeros(2))  # the Gaussian's std was trained


def test_export_keeps_the_policy_only(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "total_updates=1", "checkpoint_every=1") == 0
    assert main(["export", str(out / "checkpoint.pt"), str(tmp_path / "policy.pt")]) == 0
    full, slim = load_checkpoint(out / "checkpoint.pt"), load_checkpoint(tmp_path / "policy.pt")
    assert "optimizer" not in slim and slim["config"] == full["config"] and slim["update"] == 1
    for k, v in full["policy"].items():
        assert torch.equal(v, slim["policy"][k])
    assert (tmp_path / "policy.pt").stat().st_size < 0.5 * (out / "checkpoint.pt").stat().st_size


def test_export_can_turn_the_stop_mask_on(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "total_updates=1", "checkpoint_every=1") == 0
    masked = tmp_path / "masked.pt"
    assert main(["export", str(out / "checkpoint.pt"), str(masked), "--stop-mask", "0.01"]) == 0
    full, slim = load_checkpoint(out / "checkpoint.pt"), load_checkpoint(masked)
    assert not full["config"]["network"]["stop_mask"]
    assert slim["config"]["network"]["stop_mask"] is True and slim["config"]["network"]["stop_mask_margin"] == 0.01
    assert {k: v for k, v in slim["config"].items() if k != "network"} == \
        {k: v for k, v in full["config"].items() if k != "network"}
    for k, v in full["policy"].items():
        assert torch.equal(v, slim["policy"][k])
    policy = load_learned(masked, _env_cfg())
    assert policy.net.stop_mask is not None and policy.net.stop_mask.margin == 0.01
    # an impossible margin is refused, naming the field, and nothing is written
    capsys.readouterr()
    assert main(["export", str(out / "checkpoint.pt"), str(tmp_path / "bad.pt"), "--stop-mask", "-0.1"]) == 2
    assert "stop_mask_margin" in capsys.readouterr().err and not (tmp_path / "bad.pt").exists()


def test_kept_snapshots_export_as_their_weight_average(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "total_updates=4", "checkpoint_every=2", "keep_every=2") == 0
    kept = sorted(p.name for p in out.glob("checkpoint_*.pt"))
    assert kept == ["checkpoint_000002.pt", "checkpoint_000004.pt"]
    a, b = load_checkpoint(out / kept[0]), load_checkpoint(out / kept[1])
    assert a["update"] == 2 and b["update"] == 4
    for k, v in load_checkpoint(out / "checkpoint.pt")["policy"].items():
        assert torch.equal(v, b["policy"][k])  # the last snapshot is the final checkpoint
    avg_path = tmp_path / "avg.pt"
    assert main(["export", str(out / kept[0]), str(out / kept[1]), str(avg_path)]) == 0
    avg = load_checkpoint(avg_path)
    assert avg["update"] == 4 and "optimizer" not in avg
    assert avg["exported_from"] == [str(out / kept[0]), str(out / kept[1])]
    moved = 0
    for k, v in avg["policy"].items():
        torch.testing.assert_close(v, (a["policy"][k] + b["policy"][k]) / 2)
        moved += not torch.equal(a["policy"][k], b["policy"][k])
    assert moved > 0
    # a snapshot of another network is refused, naming the file
    other = dict(a, config={**a["config"], "network": {**a["config"]["network"], "hidden_size": 64}})
    save_checkpoint(tmp_path / "other.pt", other)
    capsys.readouterr()
    assert main(["export", str(out / kept[0]), str(tmp_path / "other.pt"), str(tmp_path / "bad.pt")]) == 2
    err = capsys.readouterr().err
    assert "network config differs" in err and "other.pt" in err
    assert not (tmp_path / "bad.pt").exists()


@pytest.mark.slow
def test_ppo_learns_an_empty_arena(tmp_path):
    """~4 min on 2 cores: 48k steps in an arena with walls only; the mean return rises by more than 8
    (measured: −17.7 over the first 20 updates → −2.7 … −5 from update 80 on)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "empty"
    assert main(["train", PRESET, "--no-progress", "--set", f"out_dir={out}", "total_updates=200",
                 "checkpoint_every=200", "ppo.lr=3e-4", "env.env_id=pernav/CrowdNavCircleCrossing-v0",
                 "env.overrides={human_num: 0, human_num_range: 0, static_human_num: 0, static_human_range: 0, "
                 "time_limit: 20.0}"]) == 0
    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    returns = [e.value for e in acc.Scalars("charts/episode_return")]
    assert sum(returns[-40:]) / 40 > sum(returns[:20]) / 20 + 8


@pytest.mark.parametrize("preset", ["dsrnn", "homogeneous", "height_cpu"])
def test_other_presets_train(tmp_path, preset):
    out = tmp_path / preset
    assert main(["train", str(ROOT / f"configs/nav/{preset}.yaml"), "--no-progress", "--set", f"out_dir={out}",
                 "total_updates=1", "checkpoint_every=1", *SMALL]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["config"]["network"]["name"] == preset.split("_")[0]
