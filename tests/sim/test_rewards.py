"""Collision, goal, timeout and the shaped reward terms (HEIGHT's ``calc_reward``)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.crowd.config import CrowdSimConfig
from sim.crowd.env import CrowdNavEnv
from sim.crowd.spaces import ACTION_KEEP

KEEP = ACTION_KEEP


def _env(**kw) -> CrowdNavEnv:
    env = CrowdNavEnv(CrowdSimConfig(**kw))
    env.reset(seed=0)
    b = env.batch
    # a quiet, known scene: robot at the origin facing +x, goal 3 m ahead, humans far away and standing
    b.robot_pos[0] = (0.0, 0.0)
    b.robot_theta[0] = 0.0
    b.robot_goal[0] = (3.0, 0.0)
    b.goal_dist[0] = 3.0
    b.obstacle_valid[0] = False
    b._refresh_static_geometry([0])
    nh = int(b.human_valid[0].sum())
    b.human_static[0, :nh] = True
    b.human_pos[0, :nh] = np.stack([np.full(nh, -3.5), np.linspace(-3.5, 3.5, nh)], axis=-1)
    b.human_goal[0] = b.human_pos[0]
    b.human_vel[0] = 0.0
    return env


def test_potential_reward_and_constant_penalty():
    env = _env()
    env.batch.robot_cmd[0] = (0.3, 0.0)
    _, r, term, trunc, info = env.step(KEEP)
    # moved 0.03 m towards the goal: 2 · 0.03 − 0.025
    assert r == pytest.approx(2 * 0.03 - 0.025, abs=1e-9)
    assert (term, trunc, info["outcome"]) == (False, False, "running")


def test_spin_and_backward_penalties():
    env = _env()
    env.batch.robot_cmd[0] = (-0.2, 0.5)
    _, r, *_ = env.step(KEEP)
    d = np.hypot(*(env.batch.robot_goal[0] - env.batch.robot_pos[0]))
    expected = np.clip(2 * (3.0 - d), -0.1, 0.1) - 0.05 * 0.5**2 - 0.1 * 0.2 - 0.025
    assert r == pytest.approx(expected, abs=1e-9)
    assert r < -0.025 - 0.05 * 0.25  # moving away and spinning costs more than the constant


def test_discrete_increments_accumulate_and_clip():
    env = _env()
    for _ in range(20):
        env.step(0)  # +0.05 m/s, +0.1 rad/s each step
    assert env.batch.robot_cmd[0] == pytest.approx((0.5, 1.0))


def test_goal_reached():
    env = _env()
    env.batch.robot_pos[0] = (2.75, 0.0)
    env.batch.robot_cmd[0] = (0.3, 0.0)
    _, r, term, trunc, info = env.step(KEEP)
    assert info["outcome"] == "success" and info["is_success"] and term and not trunc
    assert r == pytest.approx(20 - 0.025)
    assert info["metrics"]["outcome"] == "success" and info["metrics"]["time"] == pytest.approx(0.1)


def test_collision_with_human():
    env = _env()
    env.batch.human_pos[0, 0] = (0.4, 0.0)  # 0.4 < 0.2 + 0.25
    _, r, term, _, info = env.step(KEEP)
    assert info["outcome"] == "collision_human" and term
    assert r == pytest.approx(-20 - 0.025)
    assert info["min_human_distance"] < 0


def test_collision_with_obstacle():
    env = _env()
    b = env.batch
    b.obstacles[0, 0] = [[0.24, -0.5], [1.0, -0.5], [1.0, 0.5], [0.24, 0.5]]
    b.obstacle_valid[0, 0] = True
    b._refresh_static_geometry([0])
    b.robot_cmd[0] = (0.5, 0.0)
    _, r, term, _, info = env.step(KEEP)
    assert info["outcome"] == "collision_obstacle" and term and r == pytest.approx(-20.025)


def test_collision_with_wall():
    env = _env()
    env.batch.robot_pos[0] = (4.26, 0.0)
    env.batch.robot_cmd[0] = (0.5, 0.0)
    _, r, term, _, info = env.step(KEEP)
    assert info["outcome"] == "collision_wall" and term and r == pytest.approx(-20.025)


def test_discomfort_penalty():
    env = _env()
    env.batch.human_pos[0, 0] = (0.0, 0.6)  # surface distance 0.6 − 0.45 = 0.15 < 0.25
    _, r, term, _, info = env.step(KEEP)
    assert not term and info["min_human_distance"] == pytest.approx(0.15)
    assert r == pytest.approx((0.15 - 0.25) * 10 * 0.1 - 0.025)


def test_static_discomfort_is_off_by_default_and_penalises_clearance_when_set():
    obstacle = [[0.5, -0.5], [1.0, -0.5], [1.0, 0.5], [0.5, 0.5]]  # robot surface 0.3 m away, 0.25 after the step

    def step(**kw):
        env = _env(**kw)
        b = env.batch
        b.obstacles[0, 0] = obstacle
        b.obstacle_valid[0, 0] = True
        b._refresh_static_geometry([0])
        b.robot_cmd[0] = (0.5, 0.0)
        return env.step(KEEP)[1]

    potential = 2 * 0.05 - 0.025
    assert step() == pytest.approx(potential)
    assert step(static_discomfort_dist=0.2) == pytest.approx(potential)  # clearance 0.25 ≥ 0.2
    assert step(static_discomfort_dist=0.4) == pytest.approx(potential + (0.25 - 0.4) * 10 * 0.1)
    # a wall counts as static geometry too
    env = _env(static_discomfort_dist=0.4)
    env.batch.robot_pos[0] = (0.0, -4.1)  # 0.4 m from the wall, clearance 0.2, standing still
    env.batch.robot_goal[0] = (3.0, -4.1)
    _, r, term, _, _ = env.step(KEEP)
    assert not term and r == pytest.approx((0.2 - 0.4) * 10 * 0.1 - 0.025)


def test_timeout_is_truncation_at_limit_minus_one_second():
    env = _env()
    steps = 0
    while True:
        _, r, term, trunc, info = env.step(KEEP)
        steps += 1
        if term or trunc:
            break
    assert (info["outcome"], trunc, term) == ("timeout", True, False)
    assert steps == 490 and r == pytest.approx(-0.025)
    m = info["metrics"]
    assert m["time"] == pytest.approx(49.0) and m["path_length"] == 0.0 and m["intrusion_ratio"] == 0.0


def test_intrusion_ratio_and_min_distance_metrics():
    env = _env()
    env.batch.human_pos[0, 0] = (0.0, 0.6)
    env.step(KEEP)
    env.batch.human_pos[0, 0] = (0.0, 3.0)
    env.step(KEEP)
    env.batch.robot_pos[0] = (2.9, 0.0)
    *_, info = env.step(KEEP)
    m = info["metrics"]
    assert m["outcome"] == "success"
    assert m["intrusion_ratio"] == pytest.approx(1 / 3)
    assert m["min_distance"] == pytest.approx(0.15)


def test_holonomic_continuous_actions_move_and_clip():
    env = _env(holonomic=True, continuous_actions=True)
    start = env.batch.robot_pos[0].copy()
    _, r, *_ = env.step(np.array([3.0, 4.0], dtype=np.float32))  # asks 5 m/s, clipped to 0.5 m/s
    step = env.batch.robot_pos[0] - start
    assert step == pytest.approx([0.03, 0.04])
    assert env.batch.robot_theta[0] == pytest.approx(np.arctan2(4, 3))
    progress = 3.0 - np.hypot(3.0 - 0.03, 0.04)
    assert r == pytest.approx(2 * progress - 0.025)  # no spin / backward penalty for a holonomic robot


def test_future_collision_penalty_is_off_by_default_and_halves_with_each_step_ahead():
    # a human walking at 0.5 m/s straight at the standing robot (blind to it): each predicted position is
    # 0.125 m closer; overlap means a centre distance below 0.2 + 0.25 m
    def step(start_x: float, **kw) -> tuple[float, float]:
        env = _env(**kw)
        b = env.batch
        b.human_static[0, 0] = False
        b.human_pos[0, 0] = (start_x, 0.0)
        b.human_goal[0, 0] = (-3.0, 0.0)
        b.human_vel[0, 0] = (-0.5, 0.0)
        b.robot_goal[0] = (0.0, 3.0)
        b.goal_dist[0] = 3.0
        _, r, term, _, _ = env.step(KEEP)
        assert not term
        return r, b.human_pos[0, 0, 0]

    r_off, x = step(0.6)
    assert x == pytest.approx(0.55)  # the human kept walking: 0.425 m away at k = 1
    assert step(0.6, future_collision_steps=5)[0] == pytest.approx(r_off - 20 / 2**2)
    r_off, x = step(1.02)
    assert x == pytest.approx(0.97)  # 0.845, 0.72, 0.595, 0.47, 0.345 m
    assert step(1.02, future_collision_steps=5)[0] == pytest.approx(r_off - 20 / 2**6)
    assert step(1.02, future_collision_steps=4)[0] == pytest.approx(r_off)
    assert step(1.02, future_collision_steps=5, future_collision_dt=0.5)[0] == pytest.approx(r_off - 20 / 2**4)
