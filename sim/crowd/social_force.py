"""Social force (Helbing & Molnár; Moussaïd et al. 2009 interaction term) vectorised over scenes × agents.

The model and its defaults are those of the ``pysocialforce`` package (``DesiredForce + SocialForce +
ObstacleForce``, no groups), evaluated for all scenes at once; ``tests/sim/test_social_force.py`` compares
trajectories with it. As in ``pysocialforce``, obstacles are sampled as points along their edges
(:func:`sample_segments`) and the interaction angle θ is the raw difference of two ``atan2`` angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SocialForceParams:
    """Parameters, named and defaulted as in ``pysocialforce``'s ``default.toml`` (except ``step_width``)."""

    step_width: float = 0.1
    """integration step (s); the simulation step"""
    agent_radius: float = 0.35
    """radius subtracted from obstacle distances (m)"""
    relaxation_time: float = 0.5
    """τ of the desired-velocity force (s)"""
    goal_threshold: float = 0.2
    """no attraction closer than this to the goal (m)"""
    stop_distance: float = 0.5
    """agents closer than this to their goal stop (m)"""
    desired_factor: float = 1.0
    social_factor: float = 5.1
    lambda_importance: float = 2.0
    gamma: float = 0.35
    n: float = 2.0
    n_prime: float = 3.0
    obstacle_factor: float = 10.0
    obstacle_sigma: float = 0.2
    obstacle_threshold: float = 3.0
    resolution: float = 10.0
    """obstacle sample points per metre of edge"""


def sample_segments(segments: np.ndarray, resolution: float) -> list[np.ndarray]:
    """Points along each segment ``[S, 2, 2]`` exactly as ``pysocialforce.scene.EnvState`` samples them."""
    out = []
    for (x0, y0), (x1, y1) in segments:
        k = int(np.linalg.norm((x0 - x1, y0 - y1)) * resolution)
        out.append(np.stack([np.linspace(x0, x1, k), np.linspace(y0, y1, k)], axis=-1))
    return out


def _normalize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.sqrt(x[..., 0] ** 2 + x[..., 1] ** 2)
    return x / np.where(n > 0, n, 1.0)[..., None], n


def social_force_step(
    pos: np.ndarray,
    vel: np.ndarray,
    goal: np.ndarray,
    max_speed: np.ndarray,
    active: np.ndarray,
    seen: np.ndarray,
    obstacle_points: np.ndarray,
    obstacle_mask: np.ndarray,
    params: SocialForceParams,
) -> tuple[np.ndarray, np.ndarray]:
    """One integration step; returns new ``(pos, vel)`` ``[B, M, 2]`` (inactive agents unchanged).

    Args:
        pos, vel, goal: ``[B, M, 2]`` world frame (m, m/s).
        max_speed: ``[B, M]`` desired and maximum speed (``pysocialforce``'s ``max_speeds``).
        active: ``[B, M]`` agents that move; seen: ``[B, M]`` agents that repel others.
        obstacle_points: ``[B, P, 2]`` points sampled on obstacle edges; obstacle_mask: ``[B, P]``.
    """
    p = params
    direction, dist = _normalize(goal - pos)
    desired = np.where(
        (dist > p.goal_threshold)[..., None], direction * max_speed[..., None] - vel, -vel
    ) / p.relaxation_time
    # pairwise interaction: diff[b, i, j] = pos_i − pos_j (as pysocialforce.each_diff)
    diff_dir, diff_len = _normalize(pos[:, :, None] - pos[:, None, :])
    vel_diff = vel[:, None, :] - vel[:, :, None]
    inter_dir, inter_len = _normalize(p.lambda_importance * vel_diff + diff_dir)
    theta = np.arctan2(inter_dir[..., 1], inter_dir[..., 0]) - np.arctan2(diff_dir[..., 1], diff_dir[..., 0])
    b_ = p.gamma * inter_len
    b_safe = np.where(b_ > 0, b_, 1.0)
    f_vel = np.exp(-diff_len / b_safe - (p.n_prime * b_ * theta) ** 2)
    f_ang = -np.sign(theta) * np.exp(-diff_len / b_safe - (p.n * b_ * theta) ** 2)
    left = np.stack([-inter_dir[..., 1], inter_dir[..., 0]], axis=-1)
    pair = seen[:, None, :] & ~np.eye(pos.shape[1], dtype=bool)[None]
    pair_f = np.where(pair[..., None], f_vel[..., None] * inter_dir + f_ang[..., None] * left, 0.0)
    social = pair_f.sum(axis=2)
    force = p.desired_factor * desired + p.social_factor * social
    if obstacle_points.shape[1] > 0:
        o_dir, o_len = _normalize(pos[:, :, None] - obstacle_points[:, None])
        o_len = o_len - p.agent_radius
        near = obstacle_mask[:, None] & (o_len < p.obstacle_threshold + p.agent_radius)
        force = force + p.obstacle_factor * np.where(
            near[..., None], o_dir * np.exp(-o_len / p.obstacle_sigma)[..., None], 0.0
        ).sum(axis=2)
    new_vel = vel + p.step_width * force
    speed = np.sqrt(new_vel[..., 0] ** 2 + new_vel[..., 1] ** 2)
    scale = np.where(speed > 0, np.minimum(1.0, max_speed / np.where(speed > 0, speed, 1.0)), 0.0)
    new_vel = new_vel * scale[..., None]
    new_vel = np.where((dist < p.stop_distance)[..., None], 0.0, new_vel)
    new_vel = np.where(active[..., None], new_vel, vel)
    new_pos = np.where(active[..., None], pos + new_vel * p.step_width, pos)
    return new_pos, new_vel
