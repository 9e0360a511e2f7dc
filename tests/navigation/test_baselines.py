"""Classic robot policies: command tracking matches the env, and they reach the goal in an empty arena."""

from __future__ import annotations

import numpy as np
import pytest

from navigation.config import EnvConfig
from navigation.envs import make_vector_env
from navigation.evaluate import run_episodes, summarize
from navigation.policies import make_policy

EMPTY = EnvConfig("pernav/CrowdNavCircleCrossing-v0", {"human_num": 0, "human_num_range": 0, "static_human_num": 0,
                                                        "static_human_range": 0, "time_limit": 30.0})


@pytest.mark.parametrize("name,least", [("orca", 4), ("dwa", 4), ("dwa_plan", 4), ("mpc", 4), ("social_force", 2)])
def test_reaches_the_goal_in_an_empty_arena(name, least):
    """Social force stalls where wall repulsion balances the goal (goals < 1 m from a wall): 2 of these 4."""
    records, _ = run_episodes(make_policy(name, EMPTY), EMPTY, episodes=4, seed=3, num_envs=4, progress=False)
    outcomes = [r["outcome"] for r in records]
    assert outcomes.count("success") >= least and "collision_wall" not in outcomes, records
    assert summarize(records)["path_length"] < 8.0  # start and goal are 5–6 m apart


def test_tracked_command_is_the_env_command():
    env_cfg = EnvConfig()
    envs = make_vector_env(env_cfg, 3)
    policy = make_policy("dwa", env_cfg)
    obs, _ = envs.reset(seed=5)
    policy.reset(3)
    first = np.ones(3, dtype=bool)
    for _ in range(15):
        actions = policy.act(obs, first)
        obs, _, term, trunc, _ = envs.step(actions)
        assert not (term | trunc).any()
        first[:] = False
        theta = obs["robot_node"][:, 0, 4]
        v_obs = obs["temporal_edges"][:, 0, 0] * np.cos(theta) + obs["temporal_edges"][:, 0, 1] * np.sin(theta)
        np.testing.assert_allclose(v_obs, policy.tracker.cmd[:, 0], atol=1e-5)
    assert np.abs(policy.tracker.cmd[:, 0]).max() > 0.1  # it did accelerate


@pytest.mark.parametrize("name", ["dwa", "mpc"])
def test_action_values_rank_the_taken_action_first(name):
    """Every step, the action a DWA-family policy takes has the largest of its per-action values; actions that clip
    to the same command share their value."""
    env_cfg = EnvConfig()
    envs = make_vector_env(env_cfg, 3)
    policy = make_policy(name, env_cfg)
    obs, _ = envs.reset(seed=11)
    policy.reset(3)
    first = np.ones(3, dtype=bool)
    spread = 0.0
    for _ in range(10):
        actions = policy.act(obs, first)
        values = policy.action_values
        np.testing.assert_array_equal(values[np.arange(3), actions], values.max(axis=1))
        finite = np.where(np.isfinite(values), values, np.nan)
        spread = max(spread, float(np.nanmax(np.nanmax(finite, 1) - np.nanmin(finite, 1))))
        obs, _, _, _, _ = envs.step(actions)
        first[:] = False
    assert spread > 0.01  # the values do tell actions apart
    lim = policy.lim
    policy.tracker.cmd[:] = (lim.v_max, lim.w_max)  # (+,+) (+,0) (0,+) (0,0) all keep it; (+,-) equals (0,-)
    policy.act(obs, first)
    values = policy.action_values
    for same in ([0, 1, 3, 4], [2, 5]):
        np.testing.assert_array_equal(values[:, same], values[:, same[:1]].repeat(len(same), axis=1))
    envs.close()


def test_unknown_policy_is_named():
    with pytest.raises(ValueError, match="'astar'"):
        make_policy("astar", EnvConfig())


def test_dwa_rejects_holonomic_robot():
    with pytest.raises(ValueError, match="holonomic"):
        make_policy("dwa", EnvConfig(overrides={"holonomic": True}))


def test_mpc_plans_the_path_the_env_then_drives():
    """Following one plan (target command (0.375 m/s, -0.25 rad/s), between increments) step by step in the env
    moves the robot along the path the plan predicted: the planner's model is the env's kinematics."""
    env_cfg = EnvConfig("pernav/CrowdNavCircleCrossing-v0", {**EMPTY.overrides, "obstacle_num": 0,
                                                              "obstacle_num_range": 0})
    envs = make_vector_env(env_cfg, 1)
    obs, _ = envs.reset(seed=2)
    policy = make_policy("mpc", env_cfg)
    policy.reset(1)
    c = int(np.flatnonzero(np.all(np.isclose(policy.targets, [0.375, -0.25]), axis=1))[0])
    _, plan, _ = policy._candidates()  # [1, C, K, 2] robot frame
    x0, y0, theta0 = obs["robot_node"][0, 0, 0], obs["robot_node"][0, 0, 1], obs["robot_node"][0, 0, 4]
    rot = np.array([[np.cos(theta0), -np.sin(theta0)], [np.sin(theta0), np.cos(theta0)]])
    for k in range(15):
        step, _, _ = policy._candidates()
        obs, _, term, trunc, _ = envs.step(policy.tracker.action(step[:, c]))
        assert not (term | trunc).any()
        expected = rot @ plan[0, c, k] + [x0, y0]
        np.testing.assert_allclose(obs["robot_node"][0, 0, :2], expected, atol=1e-4)
    assert np.linalg.norm(plan[0, c, 14]) > 0.3  # it did move
    envs.close()
