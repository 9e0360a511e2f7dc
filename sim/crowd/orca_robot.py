"""ORCA as the robot's policy (CrowdNav's ORCA baseline), batched over scenes.

Privileged: it reads the true human states and obstacles from a :class:`CrowdBatch`, not the observation.
It drives a holonomic robot with continuous ``(vx, vy)`` actions.
"""

from __future__ import annotations

import numpy as np

from sim.crowd.engine import CrowdBatch
from sim.crowd.orca import orca_velocities


def orca_robot_actions(batch: CrowdBatch) -> np.ndarray:
    """``[B, 2]`` world-frame velocities towards the goal that avoid all humans and obstacles (ORCA).

    The robot treats every human as a reciprocal ORCA agent (radius + ``orca_safety_space``) and moves at
    up to ``v_max``.
    """
    cfg = batch.cfg
    if not (cfg.holonomic and cfg.continuous_actions):
        raise ValueError("orca_robot_actions needs holonomic=True and continuous_actions=True")
    b, h = batch.human_valid.shape
    pos = np.concatenate([batch.human_pos, batch.robot_pos[:, None]], axis=1)
    vel = np.concatenate([batch.human_vel, batch.robot_velocity()[:, None]], axis=1)
    d = batch.robot_goal - batch.robot_pos
    dn = np.hypot(d[:, 0], d[:, 1])
    pref = np.zeros((b, h + 1, 2))
    pref[:, h] = d * np.minimum(1.0, cfg.v_max / np.maximum(dn, 1e-12))[:, None]
    radius = np.concatenate([np.full((b, h), cfg.human_radius), np.full((b, 1), cfg.robot_radius)], axis=1)
    radius = radius + cfg.orca_safety_space
    speed = np.concatenate([np.full((b, h), cfg.human_v_pref), np.full((b, 1), cfg.v_max)], axis=1)
    active = np.zeros((b, h + 1), dtype=bool)
    active[:, h] = True
    seen = np.concatenate([batch.human_valid, np.zeros((b, 1), dtype=bool)], axis=1)
    out = orca_velocities(pos, vel, pref, radius, speed, active, seen, batch.edges, cfg.orca)
    return out[:, h].astype(np.float32)
