"""What the non-learned robot policies share: the scene as the robot sees it, and turning a wanted velocity
into the env's action (the 9 increments or a continuous command).

Baselines read only the public observation (``sim/crowd/spaces.py``), all in the robot frame, and the robot's
limits from the environment's registered spec (``gymnasium.spec(id).kwargs["config"]``). Unicycle or
holonomic kinematics follow that config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from sim.crowd.spaces import DISCRETE_ACTION_DELTAS


@dataclass(frozen=True)
class RobotLimits:
    """The robot's kinematics, read from the env config."""

    v_max: float
    w_max: float
    radius: float
    human_radius: float
    dt: float
    holonomic: bool
    continuous: bool
    lidar_range: float
    arena_half_size: float


def robot_limits(env_id: str, overrides: dict[str, Any]) -> RobotLimits:
    """Limits of ``env_id``'s robot (with ``overrides`` applied), from its gymnasium spec."""
    cfg = gym.spec(env_id).kwargs["config"].override(**overrides)
    return RobotLimits(cfg.v_max, cfg.w_max, cfg.robot_radius, cfg.human_radius, cfg.dt, cfg.holonomic,
                       cfg.continuous_actions, cfg.lidar_range, cfg.arena_half_size)


@dataclass
class Scene:
    """Batch of ``N`` observations decoded into robot-frame geometry (numpy)."""

    goal: np.ndarray
    """``[N, 2]`` goal position"""
    velocity: np.ndarray
    """``[N, 2]`` robot velocity"""
    human_pos: np.ndarray
    """``[N, H, 2]``"""
    human_vel: np.ndarray
    human_mask: np.ndarray
    """``[N, H]`` bool"""
    polygons: np.ndarray
    """``[N, O, 4, 2]`` obstacle corners (counter-clockwise)"""
    polygon_mask: np.ndarray
    lidar_points: np.ndarray
    """``[N, R, 2]`` lidar hit points"""
    lidar_hit: np.ndarray
    """``[N, R]`` bool, ray hit something within range"""


def lidar_directions(rays: int) -> np.ndarray:
    """Robot-frame unit vectors ``[rays, 2]`` of the scan's rays: ray ``k`` at ``-π + k · 2π / rays``
    (``sim/crowd/spaces.py``)."""
    angles = -np.pi + np.arange(rays) * 2 * np.pi / rays
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def lidar_hits(ranges: Any, lidar_range: float) -> Any:
    """Which rays of ``ranges [..., R]`` (a numpy array or a torch tensor, kept) hit something, i.e. returned
    less than the maximum range."""
    return ranges < lidar_range - 1e-3


def decode(obs: dict[str, np.ndarray], lidar_range: float) -> Scene:
    """Vector-env observation dict (leading ``[N]``) → :class:`Scene` in the robot frame."""
    rn = obs["robot_node"][:, 0].astype(np.float64)
    theta = rn[:, 4]
    c, s = np.cos(theta), np.sin(theta)

    def to_robot(v: np.ndarray) -> np.ndarray:
        return np.stack([c * v[:, 0] + s * v[:, 1], -s * v[:, 0] + c * v[:, 1]], axis=-1)

    edges = obs["spatial_edges"].astype(np.float64)
    ranges = obs["point_clouds"][:, 0].astype(np.float64)
    return Scene(
        goal=to_robot(rn[:, 2:4] - rn[:, 0:2]),
        velocity=to_robot(obs["temporal_edges"][:, 0].astype(np.float64)),
        human_pos=edges[..., 0:2],
        human_vel=edges[..., 2:4],
        human_mask=obs["human_mask"].astype(bool),
        polygons=obs["obstacle_vertices"].astype(np.float64).reshape(len(rn), -1, 4, 2),
        polygon_mask=obs["obstacle_mask"].astype(bool),
        lidar_points=ranges[..., None] * lidar_directions(ranges.shape[1]),
        lidar_hit=lidar_hits(ranges, lidar_range),
    )


class CommandTracker:
    """Turns a wanted robot-frame velocity into actions, tracking the env's current (v, ω) / (vx, vy) command.

    The env adds the chosen increment to its command and clips it; the tracker replays that rule (starting
    from 0 at every episode start) so it always knows the command it is modifying.
    """

    def __init__(self, limits: RobotLimits, n: int, turn_gain: float = 1.0) -> None:
        self.lim, self.turn_gain = limits, turn_gain
        self.cmd = np.zeros((n, 2))

    def reset(self, first: np.ndarray) -> None:
        """Zero the command of envs whose episode starts now (``first`` ``[N]`` bool)."""
        self.cmd[first] = 0.0

    def target(self, wanted: np.ndarray, theta_world: np.ndarray) -> np.ndarray:
        """Robot-frame wanted velocity ``[N, 2]`` → command in the env's convention ``[N, 2]``."""
        lim = self.lim
        if lim.holonomic:  # (vx, vy) in the world frame
            c, s = np.cos(theta_world), np.sin(theta_world)
            return np.stack([c * wanted[:, 0] - s * wanted[:, 1], s * wanted[:, 0] + c * wanted[:, 1]], axis=-1)
        speed = np.hypot(wanted[:, 0], wanted[:, 1])
        angle = np.arctan2(wanted[:, 1], wanted[:, 0])
        v = np.where(np.abs(angle) < np.pi / 2, speed * np.cos(angle), 0.0)  # turn in place when behind
        w = np.clip(self.turn_gain * angle, -lim.w_max, lim.w_max)
        return np.stack([np.clip(v, -lim.v_max, lim.v_max), np.where(speed > 1e-6, w, 0.0)], axis=-1)

    def action(self, command: np.ndarray) -> np.ndarray:
        """Env action reaching towards ``command`` ``[N, 2]``; updates the tracked command."""
        lim = self.lim
        if lim.continuous:
            new = command
            out: np.ndarray = command.astype(np.float32)
        else:
            cand = self.cmd[:, None, :] + DISCRETE_ACTION_DELTAS[None]  # [N, 9, 2]
            cand = self.clip(cand)
            scale = np.array([1.0, lim.v_max / lim.w_max]) if not lim.holonomic else np.ones(2)
            err = (((cand - command[:, None]) * scale) ** 2).sum(-1)
            out = err.argmin(axis=1)
            new = cand[np.arange(len(out)), out]
        self.cmd = self.clip(new)
        return out

    def apply(self, executed: np.ndarray) -> None:
        """Set the tracked command to what the env does with the ``executed`` actions ``[N]`` / ``[N, d]``
        (whoever chose them): add the increment and clip, or take the continuous command and clip."""
        if self.lim.continuous:
            self.cmd = self.clip(np.asarray(executed, dtype=np.float64))
        else:
            self.cmd = self.clip(self.cmd + DISCRETE_ACTION_DELTAS[np.asarray(executed, dtype=np.int64)])

    def clip(self, cmd: np.ndarray) -> np.ndarray:
        """Clip commands ``[..., 2]`` as the env does."""
        lim = self.lim
        if lim.holonomic:
            speed = np.hypot(cmd[..., 0], cmd[..., 1])
            return cmd * np.minimum(1.0, lim.v_max / np.maximum(speed, 1e-12))[..., None]
        return np.stack([np.clip(cmd[..., 0], -lim.v_max, lim.v_max), np.clip(cmd[..., 1], -lim.w_max, lim.w_max)],
                        axis=-1)


def toward_goal(goal: np.ndarray, speed: float) -> np.ndarray:
    """Preferred velocity ``[N, 2]``: straight at the goal at ``speed``, slowing inside the last metre."""
    d = np.hypot(goal[:, 0], goal[:, 1])
    return goal * (np.minimum(speed, speed * d) / np.maximum(d, 1e-9))[:, None]


def robot_first_agents(sc: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The robot (agent 0, at the origin of its frame) followed by the observed humans.

    Returns pos ``[N, 1+H, 2]``, vel ``[N, 1+H, 2]``, active ``[N, 1+H]`` (only the robot is steered) and
    seen ``[N, 1+H]`` (the robot and the humans in view), as the vectorised ORCA / social-force solvers take them.
    """
    n, h = sc.human_mask.shape
    pos = np.concatenate([np.zeros((n, 1, 2)), sc.human_pos], axis=1)
    vel = np.concatenate([sc.velocity[:, None], sc.human_vel], axis=1)
    active = np.zeros((n, h + 1), dtype=bool)
    active[:, 0] = True
    seen = np.concatenate([np.ones((n, 1), dtype=bool), sc.human_mask], axis=1)
    return pos, vel, active, seen
