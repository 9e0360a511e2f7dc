"""ORCA as the robot's policy (CrowdNav++'s "ORCA-as-robot" baseline) on the simulator's numpy ORCA solver.

The robot is agent 0 at the origin of its own frame; observed humans are the other agents (assumed to
reciprocate, which they do only when they notice the robot); static geometry is the observed obstacle
polygons plus a polyline through consecutive lidar hits (which also covers the walls).
"""

from __future__ import annotations

import numpy as np

from navigation.baselines.common import CommandTracker, RobotLimits, Scene, decode, robot_first_agents, toward_goal
from sim.crowd.orca import ObstacleEdges, OrcaParams, orca_velocities

FAR = 1e3  # padding segments are placed this far away (outside every ORCA range)


def lidar_segments(scene: Scene, max_gap: float = 0.6) -> np.ndarray:
    """``[N, R, 2, 2]`` segments between consecutive lidar hits closer than ``max_gap``; others moved far away."""
    p = scene.lidar_points
    q = np.roll(p, -1, axis=1)
    ok = scene.lidar_hit & np.roll(scene.lidar_hit, -1, axis=1) & (np.hypot(*(q - p).transpose(2, 0, 1)) < max_gap)
    far = np.array([[FAR, FAR], [FAR + 1.0, FAR]])
    seg = np.stack([p, q], axis=2)
    seg = np.where(ok[..., None, None], seg, far)
    degenerate = np.hypot(*(seg[:, :, 1] - seg[:, :, 0]).transpose(2, 0, 1)) < 1e-6
    return np.where(degenerate[..., None, None], far, seg)


class OrcaRobotPolicy:
    """ORCA velocity towards the goal, then the env action nearest to it."""

    name = "orca"

    def __init__(self, limits: RobotLimits, safety_space: float = 0.1, params: OrcaParams | None = None) -> None:
        self.lim, self.safety = limits, safety_space
        self.params = params or OrcaParams(dt=limits.dt)

    def reset(self, n: int) -> None:
        self.tracker = CommandTracker(self.lim, n)

    def act(self, obs: dict[str, np.ndarray], first: np.ndarray) -> np.ndarray:
        """obs with leading ``[N]``, first ``[N]`` bool (episode starts) → actions ``[N]`` or ``[N, 2]``."""
        self.tracker.reset(first)
        sc = decode(obs, self.lim.lidar_range)
        n, h = sc.human_mask.shape
        pos, vel, active, seen = robot_first_agents(sc)
        pref = np.concatenate([toward_goal(sc.goal, self.lim.v_max)[:, None], sc.human_vel], axis=1)
        radius = np.concatenate([np.full((n, 1), self.lim.radius), np.full((n, h), self.lim.human_radius)], 1)
        radius = radius + self.safety
        speed = np.concatenate([np.full((n, 1), self.lim.v_max), np.full((n, h), 2.0)], axis=1)
        edges = ObstacleEdges.from_polygons(sc.polygons, sc.polygon_mask, lidar_segments(sc))
        wanted = orca_velocities(pos, vel, pref, radius, speed, active, seen, edges, self.params)[:, 0]
        theta = obs["robot_node"][:, 0, 4].astype(np.float64)
        return self.tracker.action(self.tracker.target(wanted, theta))
