"""``pernav nav regret``: the expert scores the states the learner's own actions lead to."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from navigation.config import EnvConfig, NetworkConfig
from navigation.envs import make_vector_env
from navigation.networks import build_policy
from navigation.policies import make_policy
from navigation.regret import expert_regret


def test_regret_of_a_constant_policy_matches_a_hand_rolled_loop():
    """A learner that always accelerates straight on (action 1: +v, ω kept): its regret per step is the expert's
    best value minus that action's value, on the states that action leads to."""
    n, steps, seed = 3, 25, 3
    env_cfg = EnvConfig(overrides={"time_limit": 30.0})
    envs = make_vector_env(env_cfg, n)
    net = build_policy(NetworkConfig(), envs.single_observation_space, envs.single_action_space)
    with torch.no_grad():
        net.action_out.weight.zero_()
        net.action_out.bias.copy_(torch.nn.functional.one_hot(torch.tensor(1), 9).float() * 10)
    got = expert_regret(net, "mpc", env_cfg, n, steps, seed)

    expert = make_policy("mpc", env_cfg)
    expert.reset(n)
    obs, _ = envs.reset(seed=seed)
    first = np.ones(n, dtype=bool)
    regret = []
    for _ in range(steps):
        previous = np.where(first[:, None], 0.0, expert.tracker.cmd)
        expert.act(obs, first)
        values = expert.action_values
        regret.append(values.max(1) - values[:, 1])
        expert.tracker.cmd = previous
        expert.tracker.apply(np.ones(n, dtype=np.int64))
        obs, _, term, trunc, _ = envs.step(np.ones(n, dtype=np.int64))
        assert not (term | trunc).any()
        first[:] = False
    envs.close()
    r = np.concatenate(regret)
    assert got["steps"] == n * steps
    assert got["agreement"] == pytest.approx(np.mean(r == 0))
    assert got["ruled_out"] == pytest.approx(np.mean(np.isinf(r)))
    assert got["regret>0.2"] == pytest.approx(np.mean(r > 0.2))
    assert 0 < got["agreement"] < 1  # straight on is sometimes, not always, the expert's choice


def test_expert_must_score_actions():
    env_cfg = EnvConfig()
    envs = make_vector_env(env_cfg, 1)
    net = build_policy(NetworkConfig(), envs.single_observation_space, envs.single_action_space)
    envs.close()
    with pytest.raises(ValueError, match="'orca'"):
        expert_regret(net, "orca", env_cfg, 1, 2, 0)
