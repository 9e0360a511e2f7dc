"""HEIGHT's optional details (off by default): v_pref changes, relative robot node, wheel noise, start delay."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.env import CrowdNavEnv

# humans cross a 1.5 m circle in ~6 s, so they reach goals (and draw new ones) often
SMALL = CrowdSimConfig(scenario="circle_crossing", circle_radius=1.5, goal_distance_min=2.0, goal_distance_max=3.0,
                       human_num=4, human_num_range=0, static_human_num=1, static_human_range=0)


def _run_humans(cfg: CrowdSimConfig, steps: int) -> CrowdBatch:
    b = CrowdBatch(cfg, 4)
    b.reset_scenes(np.arange(4), [0, 1, 2, 3])
    for _ in range(steps):
        b.step(np.full(4, 4))  # the robot keeps a zero command; episodes are not reset
        moving = b.human_valid & ~b.human_static
        speed = np.hypot(b.human_vel[..., 0], b.human_vel[..., 1])
        assert np.all(speed[moving] <= b.human_v_pref[moving] + 1e-9)  # ORCA's max speed is each human's v_pref
    return b


def test_default_keeps_preferred_speed():
    b = _run_humans(SMALL, 150)
    assert np.all(b.human_v_pref[b.human_valid] == SMALL.human_v_pref)


def test_preferred_speed_changes_at_goals():
    cfg = SMALL.override(human_v_pref_change=0.1)
    b = _run_humans(cfg, 150)
    moving = b.human_valid & ~b.human_static
    changed = moving & (b.human_v_pref != cfg.human_v_pref)
    assert changed.sum() >= 4  # several humans reached a goal and drew a new speed
    assert np.all(b.human_v_pref[b.human_static & b.human_valid] == cfg.human_v_pref)
    assert np.all(b.human_v_pref >= 0.0)
    # each arrival moves v_pref by at most 0.1; 150 steps allow only a few arrivals per human
    assert np.all(np.abs(b.human_v_pref[moving] - cfg.human_v_pref) <= 0.1 * 4 + 1e-12)


def test_relative_robot_node():
    rel_env = CrowdNavEnv(SMALL.override(robot_node="relative"))
    abs_env = CrowdNavEnv(SMALL)
    check_env(rel_env, skip_render_check=True)
    assert rel_env.observation_space["robot_node"].shape == (1, 3)
    rng = np.random.default_rng(0)
    ra, _ = rel_env.reset(seed=5)
    aa, _ = abs_env.reset(seed=5)
    for _ in range(20):
        node_abs = aa["robot_node"][0].astype(np.float64)
        np.testing.assert_allclose(ra["robot_node"][0, :2], node_abs[2:4] - node_abs[:2], atol=1e-5)
        assert ra["robot_node"][0, 2] == aa["robot_node"][0, 4]
        assert rel_env.observation_space.contains(ra)
        for k in ra:
            if k != "robot_node":
                np.testing.assert_array_equal(ra[k], aa[k])
        a = int(rng.integers(9))
        ra, *_ = rel_env.step(a)
        aa, *_ = abs_env.step(a)


def test_wheel_noise_statistics():
    """Noise on each wheel (rad/s) maps to v and ω with stds r·σ/√2 and r·σ·√2/L around the command."""
    cfg = CrowdSimConfig(wheel_noise_std=0.15)
    n = 400
    b = CrowdBatch(cfg, n)
    b.reset_scenes(np.arange(n), list(range(n)))
    b.steps[:] = 5
    b.robot_cmd[:] = (0.3, 0.5)
    v, w = b._executed_command(None)
    sv = cfg.wheel_radius * cfg.wheel_noise_std / math.sqrt(2)
    sw = cfg.wheel_radius * cfg.wheel_noise_std * math.sqrt(2) / cfg.wheel_base
    assert abs(v.mean() - 0.3) < 4 * sv / math.sqrt(n) and abs(w.mean() - 0.5) < 4 * sw / math.sqrt(n)
    assert v.std() == pytest.approx(sv, rel=0.2) and w.std() == pytest.approx(sw, rel=0.2)
    frozen = np.zeros(n, bool)
    frozen[:3] = True
    before = [r.bit_generator.state["state"]["state"] for r in b.rngs[:4]]
    b._executed_command(frozen)
    after = [r.bit_generator.state["state"]["state"] for r in b.rngs[:4]]
    assert before[:3] == after[:3] and before[3] != after[3]  # frozen scenes draw no noise


def test_wheel_noise_moves_the_robot_off_the_command():
    quiet, noisy = CrowdNavEnv(CrowdSimConfig()), CrowdNavEnv(CrowdSimConfig(wheel_noise_std=0.15))
    quiet.reset(seed=1)
    noisy.reset(seed=1)
    for a in [0] * 6 + [4] * 10:  # speed up and turn, then keep the command
        quiet.step(a)
        noisy.step(a)
    np.testing.assert_array_equal(quiet.batch.robot_cmd, noisy.batch.robot_cmd)  # same commands
    gap = np.hypot(*(quiet.batch.robot_pos - noisy.batch.robot_pos)[0])
    assert 1e-4 < gap < 0.05  # a few mm–cm after 16 steps of 0.1 s


def test_wheel_noise_needs_a_unicycle():
    with pytest.raises(ValueError, match="wheel_noise_std"):
        CrowdNavEnv(CrowdSimConfig(wheel_noise_std=0.15, holonomic=True))


@pytest.mark.parametrize("delay", [0, 2])
def test_start_delay(delay):
    env = CrowdNavEnv(SMALL.override(continuous_actions=True, start_delay_steps=delay, robot_visible_prob=0.0))
    env.reset(seed=3)
    start = env.batch.robot_pos.copy()
    for k in range(delay + 1):
        obs, *_ = env.step(np.array([0.5, 0.0], np.float32))
        moved = np.hypot(*(env.batch.robot_pos - start)[0])
        if k < delay:
            assert moved == 0.0 and np.all(obs["temporal_edges"] == 0.0)
        else:
            assert moved == pytest.approx(0.05) and np.hypot(*obs["temporal_edges"][0]) == pytest.approx(0.5)
