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
) -> StepResult:
    """Reward and outcome after a step.

    Args:
        steps: ``[B]`` steps taken so far (including this one).
        hit_*: ``[B]`` bool collisions after the move.
        goal_dist, prev_goal_dist: ``[B]`` robot–goal distance after / before the move (m).
        d_min: ``[B]`` smallest robot–human surface distance (m; +inf without humans).
        cmd: ``[B, 2]`` executed command, (v, ω) for a unicycle, (vx, vy) when holonomic.
        static_clearance: ``[B]`` robot surface distance to the nearest obstacle or wall (m).

    Checks, in HEIGHT's order: timeout (t ≥ time_limit − 1, reward 0, truncation), collision (−20),
    goal within ``goal_radius`` (+20), discomfort ``(d_min − 0.25)·10·dt``, else the potential reward
    ``2·(prev − current goal distance)`` clipped to ±2·dt·v_max. Always added: −0.05·ω², −0.1·|v| when
    v < 0 (unicycle only) and −0.025. With ``static_discomfort_dist`` > 0 a running step also adds
    ``(static_clearance − static_discomfort_dist)·10·dt`` while the clearance is below that distance.
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
    reward[danger] = (d_min[danger] - cfg.discomfort_dist) * cfg.discomfort_penalty_factor * cfg.dt
    calm = running & ~danger
    lim = 2 * cfg.dt * cfg.v_max
    reward[calm] = np.clip(cfg.potential_factor * (prev_goal_dist[calm] - goal_dist[calm]), -lim, lim)
    if not cfg.holonomic:
        v, w = cmd[:, 0], cmd[:, 1]
        reward -= cfg.spin_factor * w**2
        reward -= np.where(v < 0, cfg.back_factor * np.abs(v), 0.0)
    reward += cfg.constant_penalty
    near = running & (static_clearance < cfg.static_discomfort_dist)
    reward[near] += (static_clearance[near] - cfg.static_discomfort_dist) * cfg.discomfort_penalty_factor * cfg.dt
    terminated = (outcome != RUNNING) & (outcome != TIMEOUT)
    return StepResult(reward, outcome, terminated, outcome == TIMEOUT)
