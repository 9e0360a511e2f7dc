"""Numpy social force against ``pysocialforce`` (same model, same float64 formulas → ~1e-12 agreement).

``pysocialforce`` reads ``step_width`` and ``agent_radius`` from the top level of its config (not from
``[scene]``), sets the root logger to DEBUG and writes ``file.log`` into the working directory on import, so
it is imported inside a temporary directory and logging is restored afterwards.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch
from sim.crowd.social_force import SocialForceParams, sample_segments, social_force_step

TOL = 1e-9


@pytest.fixture
def psf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    mod = pytest.importorskip("pysocialforce")
    root.setLevel(level)
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    cfg = tmp_path / "sf.toml"
    cfg.write_text("step_width = 0.1\nagent_radius = 0.35\n[scene]\nenable_group = false\n")
    return mod, str(cfg)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_pysocialforce(psf, seed):
    mod, cfg = psf
    rng = np.random.default_rng(seed)
    n = 7
    pos = rng.uniform(-3, 3, (n, 2))
    goal = -pos + rng.normal(0, 0.5, (n, 2))
    vel = 0.5 * (goal - pos) / np.linalg.norm(goal - pos, axis=1, keepdims=True)
    segs = np.array([[[-1, -4], [1, -4]], [[-4, -2], [-4, 2]], [[0.5, 0.5], [1.5, 0.7]]], float)
    ref = mod.Simulator(np.concatenate([pos, vel, goal], 1), groups=None,
                        obstacles=[[s[0, 0], s[1, 0], s[0, 1], s[1, 1]] for s in segs], config_file=cfg)
    pts = np.concatenate(sample_segments(segs, 10.0))[None]
    p, v = pos[None].copy(), vel[None].copy()
    max_speed = 1.3 * np.linalg.norm(vel, axis=1)[None]
    ones = np.ones((1, n), bool)
    for _ in range(80):
        ref.step(1)
        p, v = social_force_step(p, v, goal[None], max_speed, ones, ones, pts, np.ones(pts.shape[:2], bool),
                                 SocialForceParams())
        np.testing.assert_allclose(p[0], ref.peds.state[:, :2], atol=TOL)
        np.testing.assert_allclose(v[0], ref.peds.state[:, 2:4], atol=TOL)
    assert np.abs(p[0] - pos).max() > 1.0


def test_social_force_env_keeps_humans_apart():
    """Humans driven by social force in the default scenario move and rarely overlap."""
    b = CrowdBatch(CrowdSimConfig(human_policy="social_force", robot_visible_prob=1.0), 4)
    b.reset_scenes(range(4), [0, 1, 2, 3])
    start = b.human_pos.copy()
    overlaps = 0
    for _ in range(50):
        b.step(np.full(4, 4))
        d = np.linalg.norm(b.human_pos[:, :, None] - b.human_pos[:, None], axis=-1)
        pair = b.human_valid[:, :, None] & b.human_valid[:, None] & ~np.eye(b.cfg.max_humans, dtype=bool)
        overlaps += int((d[pair] < 2 * b.cfg.human_radius * 0.5).sum())
    assert np.abs(b.human_pos - start)[b.human_valid & ~b.human_static].max() > 1.0
    assert overlaps == 0
