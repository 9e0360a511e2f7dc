"""Observation and action spaces of the crowd-navigation environments (the contract with `navigation/`).

The layout follows HEIGHT's ``CrowdSim3DTbObs-v0`` (MISSION_ANCHORS §D.3) with explicit masks added so a
policy never has to infer padding from magic values. Everything is ``float32`` except the masks.

Frames and units
----------------
* **World frame**: x right, y up, metres; angles in radians, counter-clockwise from +x.
* **Robot frame**: origin at the robot centre, +x along the robot heading θ, +y to its left.
  A world vector ``d`` becomes ``R(-θ) d`` in the robot frame.

Observation keys (``Dict`` space; shapes are per environment, a ``VectorEnv`` adds a leading ``[N]``)
----------------------------------------------------------------------------------------------------
``robot_node``          ``[1, 5]``  ``[px, py, gx, gy, θ]``: robot and goal positions (world frame, m) and
                        heading θ ∈ [-π, π) (rad). With ``robot_node="relative"`` (HEIGHT's option):
                        ``[1, 3]`` ``[gx − px, gy − py, θ]``.
``temporal_edges``      ``[1, 2]``  robot velocity ``[vx, vy]`` in the world frame (m/s).
``spatial_edges``       ``[max_humans, 4]`` per *visible* human ``[Δx, Δy, vx, vy]``: position relative to
                        the robot **in the robot frame** (m) and the human's absolute velocity rotated into
                        the robot frame (m/s). Rows sorted by distance to the robot, nearest first. Rows
                        ``>= detected_human_num`` are padding filled with ``PAD_VALUE`` (15.0).
``detected_human_num``  ``[1]``  number of valid rows in ``spatial_edges`` (0 … max_humans). Unlike HEIGHT it
                        is **not** forced to ≥ 1; use ``human_mask`` (or clamp) before a masked softmax.
``human_mask``          ``[max_humans]`` int8, 1 for valid rows of ``spatial_edges``, 0 for padding.
``obstacle_vertices``   ``[max_obstacles, 8]`` per static obstacle the 4 corners ``[x0, y0, x1, y1, x2, y2,
                        x3, y3]`` in the robot frame (m), counter-clockwise; padding rows are ``PAD_VALUE``.
                        Rows are sorted by the distance from the robot to the obstacle centre.
``obstacle_num``        ``[1]``  number of valid rows in ``obstacle_vertices``.
``obstacle_mask``       ``[max_obstacles]`` int8, 1 for valid rows of ``obstacle_vertices``.
``point_clouds``        ``[1, lidar_rays]`` 2D lidar ranges (m) in ``[0, lidar_range]``; ray ``k`` points at
                        robot-frame angle ``-π + k · 2π / lidar_rays`` (so 180 rays → 2° resolution).
                        Like HEIGHT's default, the scan sees static geometry (obstacles, walls) only,
                        not humans.

A human is *visible* when it is inside the field of view (360° by default) and within ``sensor_range``.

Actions
-------
* ``Discrete(9)`` (default, HEIGHT): index ``i`` adds ``DISCRETE_ACTION_DELTAS[i] = (Δv, Δω)`` to the robot's
  current desired (v, ω), clipped to ``[-v_max, v_max] × [-ω_max, ω_max]``. With holonomic kinematics the
  same table is read as ``(Δvx, Δvy)`` in the world frame, clipped to speed ``v_max``.
* ``Box([-v_max, -ω_max], [v_max, ω_max])`` (continuous, unicycle): the (v, ω) command itself;
  ``Box([-v_max, -v_max], [v_max, v_max])`` (continuous, holonomic): ``(vx, vy)`` in the world frame,
  clipped to speed ``v_max``.
"""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np

#: default padding sizes: 7±2 dynamic + 1±1 static humans → at most 11, 10±2 obstacles → at most 12
MAX_HUMANS = 11
MAX_OBSTACLES = 12
LIDAR_RAYS = 180
LIDAR_RANGE = 25.0
#: value written into padding rows of ``spatial_edges`` / ``obstacle_vertices`` (HEIGHT uses 15)
PAD_VALUE = 15.0

#: HEIGHT's increments: Δv ∈ {+0.05, 0, −0.05} m/s × Δω ∈ {+0.1, 0, −0.1} rad/s, row-major over (Δv, Δω)
DELTA_V = (0.05, 0.0, -0.05)
DELTA_W = (0.1, 0.0, -0.1)
DISCRETE_ACTION_DELTAS: np.ndarray = np.array(list(itertools.product(DELTA_V, DELTA_W)), dtype=np.float64)
NUM_DISCRETE_ACTIONS = len(DISCRETE_ACTION_DELTAS)  # 9
#: index of the (0, 0) increment: keep the current command
ACTION_KEEP = 4

#: width of ``robot_node`` per mode
ROBOT_NODE_SIZE = {"absolute": 5, "relative": 3}

OBSERVATION_KEYS = (
    "robot_node",
    "temporal_edges",
    "spatial_edges",
    "detected_human_num",
    "human_mask",
    "obstacle_vertices",
    "obstacle_num",
    "obstacle_mask",
    "point_clouds",
)


def observation_space(
    max_humans: int = MAX_HUMANS,
    max_obstacles: int = MAX_OBSTACLES,
    lidar_rays: int = LIDAR_RAYS,
    lidar_range: float = LIDAR_RANGE,
    robot_node: str = "absolute",
) -> gym.spaces.Dict:
    """The observation ``Dict`` space described in the module docstring (shapes per environment).

    ``robot_node``: "absolute" (``[1, 5]``) or "relative" (``[1, 3]``).
    """
    f32 = np.float32
    big = np.float32(np.finfo(np.float32).max)
    return gym.spaces.Dict(
        {
            "robot_node": gym.spaces.Box(-big, big, (1, ROBOT_NODE_SIZE[robot_node]), f32),
            "temporal_edges": gym.spaces.Box(-big, big, (1, 2), f32),
            "spatial_edges": gym.spaces.Box(-big, big, (max_humans, 4), f32),
            "detected_human_num": gym.spaces.Box(0.0, float(max_humans), (1,), f32),
            "human_mask": gym.spaces.MultiBinary(max_humans),
            "obstacle_vertices": gym.spaces.Box(-big, big, (max_obstacles, 8), f32),
            "obstacle_num": gym.spaces.Box(0.0, float(max_obstacles), (1,), f32),
            "obstacle_mask": gym.spaces.MultiBinary(max_obstacles),
            "point_clouds": gym.spaces.Box(0.0, float(lidar_range), (1, lidar_rays), f32),
        }
    )


def action_space(
    continuous: bool = False, holonomic: bool = False, v_max: float = 0.5, w_max: float = 1.0
) -> gym.spaces.Space:
    """``Discrete(9)`` velocity increments, or a ``Box`` of (v, ω) / (vx, vy) commands when ``continuous``."""
    if not continuous:
        return gym.spaces.Discrete(NUM_DISCRETE_ACTIONS)
    high = np.array([v_max, v_max if holonomic else w_max], dtype=np.float32)
    return gym.spaces.Box(-high, high, (2,), np.float32)
