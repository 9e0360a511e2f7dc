"""HEIGHT's reward and termination (``calc_reward``), batched over scenes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.crowd.config import CrowdSimConfig

#: outcome codes, in HEIGHT's order of checking
RUNNING, SUCCESS, COLLISION_HUMAN, COLLISION_OBSTACLE, COLLISION_WALL, TIMEOUT = range(6)
OUTCOMES = ("running", "success", "collision_human", "collision_obstacle", "collision_wall", "timeout")


@dataclass
class StepResult:
    """Per-scene reward terms ``[B]`` of one step."""

    reward: np.ndarray
    outcome: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


def _discomfort(cfg: CrowdSimConfig, distance: np.ndarray, limit: float) -> np.ndarray:
    """HEIGHT's discomfort penalty ``(distance − limit)·factor·dt`` for distances below ``limit``."""
    return (distance - limit) * cfg.discomfort_penalty_factor * cfg.dt


def compute_reward(
    cfg: CrowdSimConfig,
    steps: np.ndarray,
    hit_human: np.ndarray,
    hit_obstacle: np.ndarray,
    hit_wall: np.ndarray,
    goal_dist: np.ndarray,
    prev_goal_dist: np.ndarray,
    d_min: np.ndarray,
    cmd: np.ndarray,
    static_clearance: np.ndarray,
    future_overlap: np.ndarray,
) -> StepResult:
    """Reward and outcome after a step.

    Args:
        steps: ``[B]`` steps taken so far (including this one).
        hit_*: ``[B]`` bool collisions after the move.
        goal_dist, prev_goal_dist: ``[B]`` robot–goal distance after / before the move (m).
        d_min: ``[B]`` smallest robot–human surface distance (m; +inf without humans).
        cmd: ``[B, 2]`` executed command, (v, ω) for a unicycle, (vx, vy) when holonomic.
        static_clearance: ``[B]`` robot surface distance to the nearest obstacle or wall (m).
        future_overlap: ``[B]`` int, the first k ≥ 1 at which a human's constant-velocity position
            k·``future_collision_dt`` ahead overlaps the robot's current position; 0 for none.

    Checks, in HEIGHT's order: timeout (t ≥ time_limit − 1, reward 0, truncation), collision (−20),
    goal within ``goal_radius`` (+20), discomfort ``(d_min − 0.25)·10·dt``, else the potential reward
    ``2·(prev − current goal distance)`` clipped to ±2·dt·v_max. Always added: −0.05·ω², −0.1·|v| when
    v < 0 (unicycle only) and −0.025. With ``static_discomfort_dist`` > 0 a running step also adds
    ``(static_clearance − static_discomfort_dist)·10·dt`` while the clearance is below that distance, and
    with ``future_collision_steps`` > 0 CrowdNav++'s prediction penalty ``collision_penalty / 2^(k+1)`` for
    ``future_overlap`` = k > 0.
    """
    b = steps.shape[0]
    outcome = np.full(b, RUNNING)
    reward = np.zeros(b)
    timeout = steps * cfg.dt >= cfg.time_limit - 1.0 - 1e-9
    outcome[timeout] = TIMEOUT
    for code, hit in ((COLLISION_HUMAN, hit_human), (COLLISION_OBSTACLE, hit_obstacle), (COLLISION_WALL, hit_wall)):
        m = (outcome == RUNNING) & hit
        outcome[m] = code
        reward[m] = cfg.collision_penalty
    m = (outcome == RUNNING) & (goal_dist < cfg.goal_radius)
    outcome[m] = SUCCESS
    reward[m] = cfg.success_reward
    running = outcome == RUNNING
    danger = running & (d_min < cfg.discomfort_dist)
    reward[danger] = _discomfort(cfg, d_min[danger], cfg.discomfort_dist)
    calm = running & ~danger
    lim = 2 * cfg.dt * cfg.v_max
    reward[calm] = np.clip(cfg.potential_factor * (prev_goal_dist[calm] - goal_dist[calm]), -lim, lim)
    if not cfg.holonomic:
        v, w = cmd[:, 0], cmd[:, 1]
        reward -= cfg.spin_factor * w**2
        reward -= np.where(v < 0, cfg.back_factor * np.abs(v), 0.0)
    reward += cfg.constant_penalty
    near = running & (static_clearance < cfg.static_discomfort_dist)
    reward[near] += _discomfort(cfg, static_clearance[near], cfg.static_discomfort_dist)
    k = np.where(running, future_overlap, 0)  # all 0 when future_collision_steps is 0 (the engine's gate)
    reward[k > 0] += cfg.collision_penalty / 2.0 ** (k[k > 0] + 1)
    terminated = (outcome != RUNNING) & (outcome != TIMEOUT)
    return StepResult(reward, outcome, terminated, outcome == TIMEOUT)
