"""DAgger warm start: the expert labels the state the env is really in, learning from labels works, and PPO
starts from the imitation checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from navigation.baselines.common import robot_limits
from navigation.checkpoint import load_checkpoint
from navigation.cli import main
from navigation.config import EnvConfig, NetworkConfig, config_to_dict, load_config
from navigation.envs import make_vector_env
from navigation.imitation import ExpertMixer, beta_at, imitation_loss
from navigation.networks import ActorCritic, build_policy
from navigation.policies import make_policy
from navigation.rollout import Rollout, RolloutCollector

ROOT = Path(__file__).resolve().parents[2]
PRESET = str(ROOT / "configs/nav/height_cpu.yaml")
SMALL = ["ppo.num_envs=2", "ppo.num_steps=8", "env.overrides.time_limit=3.0", "checkpoint_every=2",
         "imitation.iterations=2", "imitation.beta_iterations=1", "imitation.batch_sequences=2"]


def test_beta_decays_linearly_to_zero():
    assert beta_at(0, 0.8, 10) == 0.8
    assert beta_at(5, 0.8, 10) == pytest.approx(0.4)
    assert beta_at(10, 0.8, 10) == 0.0 and beta_at(50, 0.8, 10) == 0.0


def test_expert_tracks_the_command_the_learner_produced():
    """With β = 0 the env runs the learner's (random) actions; the expert's tracked command must equal the
    robot's true forward speed, read back from the next observation."""
    n = 3
    env_cfg = EnvConfig()
    envs = make_vector_env(env_cfg, n)
    mixer = ExpertMixer(make_policy("dwa", env_cfg), n, seed=0)
    mixer.beta = 0.0
    obs, _ = envs.reset(seed=7)
    first = np.ones(n, dtype=bool)
    rng = np.random.default_rng(1)
    for _ in range(12):
        learner = rng.integers(0, 9, size=n)
        executed, labels = mixer(obs, first, learner)
        assert np.array_equal(executed, learner) and labels.shape == (n,)
        obs, _, term, trunc, _ = envs.step(executed)
        assert not (term | trunc).any()
        theta = obs["robot_node"][:, 0, 4]
        v = obs["temporal_edges"][:, 0, 0] * np.cos(theta) + obs["temporal_edges"][:, 0, 1] * np.sin(theta)
        np.testing.assert_allclose(mixer.tracker.cmd[:, 0], v, atol=1e-5)
        first = np.zeros(n, dtype=bool)
    envs.close()


def _dwa_labelled_batch() -> tuple[ActorCritic, dict[str, Any], Rollout]:
    """An untrained HEIGHT policy and one 4-env × 20-step rollout that DWA acted and labelled (β = 1), as a
    training batch."""
    torch.manual_seed(0)
    env_cfg = EnvConfig(overrides={"time_limit": 5.0})
    envs = make_vector_env(env_cfg, 4)
    policy = build_policy(NetworkConfig(), envs.single_observation_space, envs.single_action_space)
    collector = RolloutCollector(envs, policy, 20, robot_limits(env_cfg.env_id, env_cfg.overrides),
                                 behaviour=ExpertMixer(make_policy("dwa", env_cfg), 4, seed=0))
    collector.restart(3)
    rollout, _ = collector.collect()
    envs.close()
    batch = {"obs": rollout.obs, "state0": rollout.state0, "masks": rollout.masks, "labels": rollout.labels,
             "valid": rollout.valid, "target": torch.zeros_like(rollout.rewards)}
    return policy, batch, rollout


def test_learning_from_expert_labels_raises_agreement():
    """A few gradient steps on one DAgger rollout make the learner agree with DWA more often."""
    policy, batch, rollout = _dwa_labelled_batch()
    assert rollout.labels is not None and torch.equal(rollout.labels, rollout.actions)  # β = 1: expert acts
    opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
    before = imitation_loss(policy, batch, 0.0)
    for _ in range(30):
        loss = imitation_loss(policy, batch, 0.0)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = imitation_loss(policy, batch, 0.0)
    assert after["nll"] < 0.7 * before["nll"]
    assert after["agreement"] > before["agreement"] + 0.2


def test_near_human_steps_weigh_more_in_the_label_loss():
    """With ``near_human_weight`` w, a step with a visible human within the distance counts 1 + w times."""
    policy, batch, _ = _dwa_labelled_batch()
    opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
    for _ in range(10):  # away from the uniform start, so steps' NLLs differ
        loss = imitation_loss(policy, batch, 0.0)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        params, _, _ = policy(batch["obs"], batch["state0"], batch["masks"])
        step_nll = -policy.distribution(params).log_prob(batch["labels"]).numpy()  # [B, T]
        edges = batch["obs"]["spatial_edges"].numpy()
        dist = np.where(batch["obs"]["human_mask"].numpy() > 0, np.hypot(edges[..., 0], edges[..., 1]), np.inf)
        closest = dist.min(-1)  # [B, T]
        threshold = float(np.median(closest[np.isfinite(closest)]))
        near = closest < threshold
        assert 0 < near.sum() < near.size  # both kinds of step are there
        weight = batch["valid"].numpy() * (1 + 4.0 * near)
        expected = (step_nll * weight).sum() / weight.sum()
        got = imitation_loss(policy, batch, 0.0, near_human_weight=4.0, near_human_dist=threshold)["nll"]
        plain = imitation_loss(policy, batch, 0.0)["nll"]
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    assert abs(float(got) - float(plain)) > 1e-2


def test_soft_labels_are_the_softmax_of_the_expert_values():
    """With ``label_temperature`` τ the label is softmax(values / τ): the expert's own action is its most likely,
    and actions no admissible plan starts with get none."""
    n, tau = 4, 0.05
    env_cfg = EnvConfig()
    envs = make_vector_env(env_cfg, n)
    mixer = ExpertMixer(make_policy("mpc", env_cfg), n, seed=0, label_temperature=tau)
    obs, _ = envs.reset(seed=21)
    first = np.ones(n, dtype=bool)
    ruled_out = 0
    for _ in range(15):
        executed, labels = mixer(obs, first, np.zeros(n, dtype=np.int64))  # β = 1: the expert acts
        values = mixer.expert.action_values
        assert labels.shape == (n, 9)
        np.testing.assert_allclose(labels.sum(1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(labels[np.arange(n), executed], labels.max(1))
        expected = np.exp((values - values.max(1, keepdims=True)) / tau)
        np.testing.assert_allclose(labels, expected / expected.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
        ruled_out += int(np.isinf(values).sum())
        assert (labels[np.isinf(values)] == 0).all()
        obs, _, _, _, _ = envs.step(executed)
        first[:] = False
    envs.close()
    assert ruled_out > 0  # some steps did rule actions out


def test_soft_label_loss_is_the_cross_entropy():
    """One-hot soft labels give the hard labels' NLL; other distributions give −Σ q log p over valid steps."""
    policy, batch, _ = _dwa_labelled_batch()
    with torch.no_grad():
        hard = imitation_loss(policy, batch, 0.0)
        one_hot = imitation_loss(policy, {**batch, "labels": torch.nn.functional.one_hot(batch["labels"], 9).float()},
                                 0.0)
        q = torch.softmax(torch.randn(*batch["labels"].shape, 9, generator=torch.Generator().manual_seed(0)), -1)
        soft = imitation_loss(policy, {**batch, "labels": q}, 0.0)
        params, _, _ = policy(batch["obs"], batch["state0"], batch["masks"])
        step = -(q * params["logits"].log_softmax(-1)).sum(-1)
        expected = (step * batch["valid"]).sum() / batch["valid"].sum()
    torch.testing.assert_close(one_hot["nll"], hard["nll"])
    torch.testing.assert_close(one_hot["agreement"], hard["agreement"])
    torch.testing.assert_close(soft["nll"], expected)


def test_soft_labels_need_an_expert_that_scores_actions():
    with pytest.raises(ValueError, match="'orca'"):
        ExpertMixer(make_policy("orca", EnvConfig()), 2, seed=0, label_temperature=0.1)


def test_imitate_then_ppo_from_the_entry_point(tmp_path):
    dag, ppo = tmp_path / "dagger", tmp_path / "ppo"
    assert main(["imitate", PRESET, "--no-progress", "--set", f"out_dir={dag}", *SMALL]) == 0
    ckpt = load_checkpoint(dag / "checkpoint.pt")
    assert ckpt["stage"] == "imitation" and ckpt["update"] == 2 and ckpt["env_steps"] == 2 * 2 * 8
    # a finished run refuses to start over
    assert main(["imitate", PRESET, "--no-progress", "--set", f"out_dir={dag}", *SMALL]) == 2
    # resuming continues the count, with the learning rate the config now gives
    assert main(["imitate", PRESET, "--no-progress", "--resume", "--set", f"out_dir={dag}", *SMALL,
                 "imitation.iterations=4", "imitation.lr=1e-5"]) == 0
    ckpt = load_checkpoint(dag / "checkpoint.pt")
    assert ckpt["update"] == 4 and ckpt["optimizer"]["param_groups"][0]["lr"] == 1e-5
    # PPO starts from those weights: with a vanishing learning rate they stay put
    assert main(["train", PRESET, "--no-progress", "--set", f"out_dir={ppo}", f"init_from={dag / 'checkpoint.pt'}",
                 "total_updates=1", "ppo.lr=1e-12", "ppo.num_minibatches=1", *SMALL]) == 0
    tuned = load_checkpoint(ppo / "checkpoint.pt")["policy"]
    assert max(float((tuned[k] - v).abs().max()) for k, v in ckpt["policy"].items()) < 1e-6
    # a new DAgger run with a stronger expert starts from those weights too
    stage2 = tmp_path / "dagger_plan"
    assert main(["imitate", PRESET, "--no-progress", "--set", f"out_dir={stage2}", f"init_from={dag / 'checkpoint.pt'}",
                 *SMALL, "imitation.expert=dwa_plan", "imitation.iterations=1", "imitation.lr=1e-12"]) == 0
    planned = load_checkpoint(stage2 / "checkpoint.pt")["policy"]
    assert max(float((planned[k] - v).abs().max()) for k, v in ckpt["policy"].items()) < 1e-6
    # PPO checkpoints are not imitation checkpoints
    assert main(["imitate", PRESET, "--no-progress", "--resume", "--set", f"out_dir={ppo}", *SMALL]) == 2


def test_bad_expert_is_named():
    assert main(["imitate", PRESET, "--no-progress", "--set", "imitation.expert=astar"]) == 2


@pytest.mark.parametrize(
    "stage,expert",
    [("plan", "dwa_plan"), ("mpc", "mpc")] + [(stage, None) for stage in ("ppo", "clear", "clear28", "pred", "disc")],
)
def test_later_stage_presets_differ_only_in_network_and_out_dir(stage, expert):
    """HEIGHT and the DS-RNN-style baseline get the same stage-2, -3 (DAgger), -4 to -8 (PPO) recipes (expert,
    budget, seeds)."""
    height = config_to_dict(load_config(str(ROOT / f"configs/nav/height_cpu_{stage}.yaml"), []))
    dsrnn = config_to_dict(load_config(str(ROOT / f"configs/nav/dsrnn_cpu_{stage}.yaml"), []))
    if expert is not None:
        assert height["imitation"]["expert"] == expert
    for cfg in (height, dsrnn):
        cfg.pop("out_dir")
        cfg["network"].pop("name")
    assert height == dsrnn
