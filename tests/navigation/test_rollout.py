"""Rollouts: NEXT_STEP autoreset bookkeeping and exact replay of the acting computation by the loss path."""

from __future__ import annotations

import torch

from navigation.baselines.common import robot_limits
from navigation.config import EnvConfig, NetworkConfig
from navigation.envs import make_vector_env
from navigation.networks import build_policy
from navigation.ppo import gae
from navigation.rollout import RolloutCollector


def _collect(vector: str = "native"):
    envs = make_vector_env(EnvConfig(overrides={"time_limit": 2.0}, vector=vector), 3)  # 10-step episodes
    torch.manual_seed(0)
    policy = build_policy(NetworkConfig(), envs.single_observation_space, envs.single_action_space)
    collector = RolloutCollector(envs, policy, 25, robot_limits("pernav/CrowdNav-v0", {}))
    collector.restart(7)
    first, _ = collector.collect()
    second, episodes = collector.collect()
    return policy, first, second, episodes


def test_autoreset_steps_are_masked_and_timeouts_bootstrapped():
    policy, r, _, _ = _collect()
    # episodes time out after 10 steps; the 11th step of each only resets the env
    ended = r.dones & r.valid.bool()
    assert ended.any()
    for e, t in zip(*torch.nonzero(ended, as_tuple=True), strict=True):
        assert not r.terminated[e, t]  # a timeout is a truncation ...
        assert r.next_values[e, t] == r.values[e, t + 1] != 0  # ... bootstrapped from the final observation
        assert r.valid[e, t + 1] == 0 and r.rewards[e, t + 1] == 0 and r.terminated[e, t + 1]
        if t + 2 < r.masks.shape[1]:
            assert r.masks[e, t + 2] == 0  # the next observation starts a new episode
    assert (r.masks[:, 0] == 0).all()  # restart() begins fresh episodes
    adv, target = gae(r, 0.99, 0.95)
    torch.testing.assert_close(target, adv + r.values)


def test_observed_command_is_the_robot_forward_speed():
    """The command the collector adds to each observation equals the speed the env really runs: the forward
    component of the observed world-frame velocity (zero at an episode's first step)."""
    _, r, _, _ = _collect()
    theta = r.obs["robot_node"][..., 0, 4]
    vel = r.obs["temporal_edges"][..., 0, :]
    speed = vel[..., 0] * torch.cos(theta) + vel[..., 1] * torch.sin(theta)
    cmd = r.obs["robot_command"][..., 0, :]
    live = r.valid.bool()
    assert cmd[..., 0].abs().max() > 0.04  # random increments did move the command
    torch.testing.assert_close(cmd[..., 0][live], speed[live], atol=1e-5, rtol=0)
    assert (cmd[r.masks == 0] == 0).all()


def test_sequence_replay_matches_acting():
    """What the loss recomputes from (state0, masks) must equal what was computed step by step."""
    policy, r1, r2, episodes = _collect()
    assert len(episodes) > 0 and all(e["outcome"] == "timeout" for e in episodes)
    for r in (r1, r2):
        assert r.state0.abs().sum() > 0 or r is r1  # the second rollout starts mid-episode
        params, value, _ = policy(r.obs, r.state0, r.masks)
        logp = policy.distribution(params).log_prob(r.actions)
        torch.testing.assert_close(logp, r.log_probs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(value, r.values, rtol=1e-5, atol=1e-5)


def test_native_and_gymnasium_vector_envs_agree():
    _, a, _, ea = _collect("native")
    _, b, _, eb = _collect("sync")
    torch.testing.assert_close(a.rewards, b.rewards)
    torch.testing.assert_close(a.obs["spatial_edges"], b.obs["spatial_edges"])
    assert [e["outcome"] for e in ea] == [e["outcome"] for e in eb]
