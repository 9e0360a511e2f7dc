"""Numpy ORCA against RVO2 (the ``pyrvo`` bindings) on the same scenes.

Tolerance: RVO2 works in float32 (relative rounding 6e-8, i.e. ~3e-7 m at 5 m) and we work in float64.
ORCA is piecewise smooth, so rounding differences stay at that level until a trajectory reaches a
switch between constraint cases; measured deviations over 100 steps are 1e-6 to 1.4e-4 m. We allow 1e-3 m, far
below anything visible (a human radius is 0.25 m) yet a wrong constraint case shows up as > 1e-2 m
within a few steps (observed while developing: 0.07 m after one step).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.geometry import rect_polygon
from sim.crowd.orca import ObstacleEdges, OrcaParams, orca_velocities

pyrvo = pytest.importorskip("pyrvo")

TOL = 1e-3


def _random_scene(seed: int, n_agents: int, with_obstacles: bool):
    rng = np.random.default_rng(seed)
    polys = [rect_polygon(*rng.uniform(-2, 2, 2), *rng.uniform(0.3, 1.2, 2)) for _ in range(3 * with_obstacles)]
    segs = [np.array([[-5.0, 4.0], [5.0, 4.2]]), np.array([[-4.5, -5.0], [-4.4, 5.0]])] if with_obstacles else []
    pos = []
    while len(pos) < n_agents:
        p = rng.uniform(-4, 4, 2)
        if all(np.hypot(*(p - q)) > 0.8 for q in pos) and (
            not polys or min(np.abs(p - poly.mean(0)).max() - np.abs(poly - poly.mean(0)).max() for poly in polys) > 0.5
        ):
            pos.append(p)
    pos = np.array(pos)
    goals = -pos + rng.normal(0, 0.3, pos.shape)
    return polys, segs, pos, goals


def _run_both(polys, segs, pos0, goals, steps: int, radius=0.3, speed=1.0, dt=0.1):
    n = len(pos0)
    sim = pyrvo.RVOSimulator(dt, 10.0, 10, 5.0, 5.0, radius, speed)
    for p in pos0:
        sim.add_agent(tuple(p))
    for poly in polys:
        sim.add_obstacle([tuple(v) for v in poly])
    for s in segs:
        sim.add_obstacle([tuple(v) for v in s])
    sim.process_obstacles()
    poly_arr = np.array(polys).reshape(1, -1, 4, 2)
    seg_arr = np.array(segs).reshape(1, -1, 2, 2)
    edges = ObstacleEdges.from_polygons(poly_arr, np.ones(poly_arr.shape[:2], bool), seg_arr)
    params = OrcaParams(dt=dt)
    pos, vel = pos0[None].copy(), np.zeros((1, n, 2))
    dev, infeasible = [], 0
    flags = np.zeros((1, n), bool)
    for _ in range(steps):
        d = goals - pos[0]
        nd = np.linalg.norm(d, axis=1, keepdims=True)
        pref = np.where(nd > 1, d / nd, d)
        for i in range(n):
            sim.set_agent_pref_velocity(i, tuple(pref[i]))
        sim.do_step()
        ones = np.ones((1, n), bool)
        vel = orca_velocities(pos, vel, pref[None], np.full((1, n), radius), np.full((1, n), speed), ones, ones,
                              edges, params, infeasible=flags)
        infeasible += int(flags.sum())
        pos = pos + vel * dt
        ref = np.array([sim.get_agent_position(i).to_tuple() for i in range(n)])
        dev.append(np.abs(ref - pos[0]).max())
    return np.array(dev), pos[0], infeasible


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agents_only_matches_rvo2(seed):
    _, _, pos, goals = _random_scene(seed, 10, with_obstacles=False)
    dev, final, _ = _run_both([], [], pos, goals, 100)
    assert dev.max() < TOL, dev.max()
    assert np.abs(final - pos).max() > 2.0  # the agents really moved


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_obstacles_match_rvo2(seed):
    polys, segs, pos, goals = _random_scene(seed, 8, with_obstacles=True)
    dev, final, _ = _run_both(polys, segs, pos, goals, 100)
    assert dev.max() < TOL, dev.max()
    assert np.abs(final - pos).max() > 2.0


def test_dense_crowd_infeasible_case_matches_rvo2():
    """Agents packed closer than their radii force RVO2's linearProgram3 path."""
    rng = np.random.default_rng(7)
    pos = rng.uniform(-0.8, 0.8, (8, 2))
    dev, _, infeasible = _run_both([], [], pos, -3 * pos, 30)
    assert infeasible > 0, "linearProgram3 was not exercised"
    assert dev.max() < TOL, dev.max()


def test_batched_equals_per_scene():
    """Stepping scenes together gives the same velocities as stepping each alone."""
    scenes = [_random_scene(s, 6, with_obstacles=True) for s in (10, 11)]
    polys = np.array([np.array(sc[0]) for sc in scenes])
    segs = np.array([np.array(sc[1]) for sc in scenes])
    pos = np.array([sc[2] for sc in scenes])
    pref = np.array([sc[3] - sc[2] for sc in scenes]) * 0.2
    vel = np.random.default_rng(0).normal(0, 0.3, pos.shape)
    r, s, ones = np.full(pos.shape[:2], 0.3), np.full(pos.shape[:2], 1.0), np.ones(pos.shape[:2], bool)
    edges = ObstacleEdges.from_polygons(polys, np.ones(polys.shape[:2], bool), segs)
    both = orca_velocities(pos, vel, pref, r, s, ones, ones, edges, OrcaParams())
    for i in range(2):
        e = ObstacleEdges.from_polygons(polys[i:i + 1], np.ones((1, 3), bool), segs[i:i + 1])
        one = orca_velocities(pos[i:i + 1], vel[i:i + 1], pref[i:i + 1], r[:1], s[:1], ones[:1], ones[:1], e,
                              OrcaParams())
        np.testing.assert_allclose(both[i], one[0], atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_env_humans_match_pyrvo_stepped_env(seed):
    """The default scenario (boxes, walls, standing humans, robot) stepped by numpy ORCA vs by RVO2."""
    from sim.crowd.pyrvo_batch import PyrvoCrowdBatch

    cfg = CrowdSimConfig(robot_visible_prob=1.0)  # the robot is an ORCA agent for the humans too
    ours, ref = CrowdBatch(cfg, 1), PyrvoCrowdBatch(cfg)
    ours.reset_scenes([0], [seed])
    ref.reset_scenes([0], [seed])
    rng = np.random.default_rng(seed)
    start = ours.human_pos.copy()
    for _ in range(60):
        a = np.array([rng.integers(9)])
        _, info_a = ours.step(a)
        _, info_b = ref.step(a)
        assert np.abs(ours.human_pos - ref.human_pos).max() < TOL
        if info_a.done[0]:
            break
    assert np.abs(ours.human_pos - start).max() > 0.5


def test_wrong_shapes_are_named():
    ones = np.ones((1, 3), bool)
    with pytest.raises(ValueError, match="pref_vel"):
        orca_velocities(np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), np.zeros((3, 2)), np.ones((1, 3)),
                        np.ones((1, 3)), ones, ones, None, OrcaParams())
