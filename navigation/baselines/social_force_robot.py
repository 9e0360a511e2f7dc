"""Social force as the robot's policy (CrowdNav++'s baseline) on the simulator's numpy social-force model.

The robot is agent 0 heading for its goal; observed humans repel it; lidar hit points are the obstacle
points (walls included). The robot asks for the velocity the model reaches after one relaxation time
(``look_ahead`` = τ = 0.5 s): integrating a single 0.1 s step from the robot's lagging unicycle velocity would
ask for almost no change and leave it creeping. Known failure: the summed repulsion of many lidar points on
a wall can balance the goal attraction, so the robot stalls in front of goals less than ~1 m from a wall.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from navigation.baselines.common import CommandTracker, RobotLimits, decode, robot_first_agents
from sim.crowd.social_force import SocialForceParams, social_force_step


class SocialForceRobotPolicy:
    """pysocialforce's model for the robot, then the env action nearest to its velocity."""

    name = "social_force"

    def __init__(self, limits: RobotLimits, params: SocialForceParams | None = None, look_ahead: float = 0.5) -> None:
        self.lim = limits
        # pysocialforce stops agents 0.5 m before their goal; the robot must get within the goal radius
        self.params = params or dataclasses.replace(SocialForceParams(), step_width=look_ahead, stop_distance=0.0,
                                                    goal_threshold=0.0)

    def reset(self, n: int) -> None:
        self.tracker = CommandTracker(self.lim, n)

    def act(self, obs: dict[str, np.ndarray], first: np.ndarray) -> np.ndarray:
        """obs with leading ``[N]``, first ``[N]`` bool (episode starts) → actions ``[N]`` or ``[N, 2]``."""
        self.tracker.reset(first)
        sc = decode(obs, self.lim.lidar_range)
        n = sc.human_mask.shape[0]
        pos, vel, active, seen = robot_first_agents(sc)
        goal = np.concatenate([sc.goal[:, None], sc.human_pos + sc.human_vel], axis=1)
        speed = np.concatenate([np.full((n, 1), self.lim.v_max), np.hypot(*sc.human_vel.transpose(2, 0, 1))], 1)
        _, new_vel = social_force_step(pos, vel, goal, speed, active, seen, sc.lidar_points, sc.lidar_hit,
                                       self.params)
        theta = obs["robot_node"][:, 0, 4].astype(np.float64)
        return self.tracker.action(self.tracker.target(new_vel[:, 0], theta))
