"""One typed configuration for every crowd-navigation environment (HEIGHT's defaults, MISSION_ANCHORS §D.3)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from sim.crowd.orca import OrcaParams
from sim.crowd.social_force import SocialForceParams
from sim.crowd.spaces import LIDAR_RANGE, LIDAR_RAYS, MAX_HUMANS, MAX_OBSTACLES, ROBOT_NODE_SIZE

SCENARIOS = ("random", "circle_crossing", "hallway", "lounge", "corridor", "replay")
HUMAN_POLICIES = ("orca", "social_force")


@dataclass(frozen=True)
class CrowdSimConfig:
    """Everything that defines a crowd-navigation scenario; presets live in ``registration.PRESETS``."""

    scenario: str = "random"
    """layout generator: random (HEIGHT's default), circle_crossing (open), hallway, lounge, corridor, replay"""
    dt: float = 0.1
    """control step (s)"""
    time_limit: float = 50.0
    """episode limit (s); as HEIGHT, the episode times out once t ≥ time_limit − 1"""
    arena_half_size: float = 4.5
    """square walls at ±arena_half_size (m)"""

    human_num: int = 7
    """mean number of moving humans"""
    human_num_range: int = 2
    """moving humans are drawn uniformly from human_num ± human_num_range"""
    static_human_num: int = 1
    """mean number of standing humans"""
    static_human_range: int = 1
    max_humans: int = MAX_HUMANS
    """padding size of the human rows of the observation"""
    human_radius: float = 0.25
    human_v_pref: float = 0.5
    """preferred speed of the humans (m/s)"""
    human_policy: str = "orca"
    """orca or social_force"""
    robot_visible_prob: float = 0.2
    """probability (per episode) that humans react to the robot"""
    human_v_pref_change: float = 0.0
    """on reaching a goal a moving human's preferred speed changes by U(−x, x) m/s, kept ≥ 0 (HEIGHT's
    ``random_v_pref`` option: 0.1); 0 = constant"""
    circle_radius: float = 4.0
    """radius of the circle humans start on (circle-crossing style layouts, m)"""

    obstacle_num: int = 10
    obstacle_num_range: int = 2
    max_obstacles: int = MAX_OBSTACLES
    obstacle_size_mean: float = 1.0
    obstacle_size_std: float = 0.6
    obstacle_size_min: float = 0.1
    obstacle_size_max: float = 5.0
    obstacle_gap: float = 1.0
    """minimum free space between two random obstacles (m)"""

    robot_radius: float = 0.2
    v_max: float = 0.5
    w_max: float = 1.0
    holonomic: bool = False
    """holonomic (vx, vy) robot instead of unicycle (v, ω)"""
    continuous_actions: bool = False
    """Box (v, ω) actions instead of HEIGHT's 9 discrete increments"""
    wheel_noise_std: float = 0.0
    """std of N(0, σ) noise on each wheel's angular speed (rad/s) of a differential drive (HEIGHT's TurtleBot:
    0.15); the commanded (v, ω) goes to wheel speeds and back via wheel_base / wheel_radius; unicycle only"""
    wheel_base: float = 0.23
    """distance between the wheels (m, TurtleBot 2)"""
    wheel_radius: float = 0.035
    """wheel radius (m, TurtleBot 2)"""
    start_delay_steps: int = 0
    """the robot ignores actions and stays still for this many steps after reset (HEIGHT: 2)"""
    goal_distance_min: float = 5.0
    goal_distance_max: float = 6.0
    fov: float = 2 * math.pi
    """field of view of the human detector (rad, centred on the heading)"""
    sensor_range: float = LIDAR_RANGE
    """humans farther than this are not observed (m)"""
    robot_node: str = "absolute"
    """observation ``robot_node``: absolute [px, py, gx, gy, θ] or relative [gx − px, gy − py, θ] (HEIGHT)"""
    lidar_rays: int = LIDAR_RAYS
    lidar_range: float = LIDAR_RANGE

    success_reward: float = 20.0
    collision_penalty: float = -20.0
    goal_radius: float = 0.3
    discomfort_dist: float = 0.25
    discomfort_penalty_factor: float = 10.0
    potential_factor: float = 2.0
    spin_factor: float = 0.05
    back_factor: float = 0.1
    constant_penalty: float = -0.025
    static_discomfort_dist: float = 0.0
    """static clearance (m, robot surface to the nearest obstacle or wall) below which each step adds
    ``(clearance − dist)·discomfort_penalty_factor·dt``, the human discomfort term for static geometry; not in
    HEIGHT's reward (0 = off)"""
    future_collision_steps: int = 0
    """CrowdNav++'s prediction penalty: the robot's current position is checked against each human's position
    k·``future_collision_dt`` ahead at constant velocity (k = 1 … this); the earliest overlap adds
    ``collision_penalty / 2^(k+1)`` to a running step. Not in HEIGHT's reward (0 = off)"""
    future_collision_dt: float = 0.25
    """time between the predicted human positions (s; CrowdNav++: its 0.25 s control step)"""

    orca: OrcaParams = field(default_factory=OrcaParams)
    orca_safety_space: float = 0.1
    """added to every radius inside the humans' ORCA (HEIGHT: 0.1 m)"""
    social_force: SocialForceParams = field(default_factory=SocialForceParams)

    replay_file: str = ""
    """ETH/UCY ``frame ped_id x y`` file (scenario=replay)"""
    replay_homography: str = ""
    """optional 3×3 homography file mapping the file's coordinates to metres"""
    replay_fps: float = 2.5
    """annotation rate of the replay file (frames per second)"""
    replay_reactive_dist: float = 0.0
    """replayed humans switch to ORCA once the robot is closer than this (m); 0 = always replay"""

    @property
    def max_steps(self) -> int:
        """Number of steps after which HEIGHT's timeout fires."""
        return int(math.ceil((self.time_limit - 1.0) / self.dt - 1e-9))

    def override(self, **kwargs: object) -> CrowdSimConfig:
        """A copy with some fields replaced (unknown names raise ``TypeError``)."""
        return replace(self, **kwargs)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field when the configuration is impossible."""

        def bad(name: str, why: str) -> None:
            raise ValueError(f"CrowdSimConfig.{name}={getattr(self, name)!r}: {why}")

        if self.scenario not in SCENARIOS:
            bad("scenario", f"unknown scenario, expected one of {SCENARIOS}")
        if self.human_policy not in HUMAN_POLICIES:
            bad("human_policy", f"expected one of {HUMAN_POLICIES}")
        for name in ("dt", "time_limit", "arena_half_size", "human_radius", "robot_radius", "v_max",
                     "w_max", "lidar_range", "sensor_range", "goal_radius", "wheel_base", "wheel_radius",
                     "future_collision_dt"):
            if not getattr(self, name) > 0:
                bad(name, "must be positive")
        for name in ("human_num", "human_num_range", "static_human_num", "static_human_range", "obstacle_num",
                     "obstacle_num_range", "human_v_pref", "obstacle_gap", "obstacle_size_std",
                     "human_v_pref_change", "wheel_noise_std", "start_delay_steps", "static_discomfort_dist",
                     "future_collision_steps"):
            if getattr(self, name) < 0:
                bad(name, "must not be negative")
        if self.robot_node not in ROBOT_NODE_SIZE:
            bad("robot_node", f"expected one of {tuple(ROBOT_NODE_SIZE)}")
        if self.wheel_noise_std > 0 and self.holonomic:
            bad("wheel_noise_std", "wheel noise needs the differential-drive (unicycle) robot, not holonomic=True")
        if self.time_limit <= 1.0 + self.dt:
            bad("time_limit", "must exceed 1 s + dt (HEIGHT times out at time_limit − 1)")
        if not 0.0 <= self.robot_visible_prob <= 1.0:
            bad("robot_visible_prob", "must be a probability")
        if not 0.0 < self.fov <= 2 * math.pi:
            bad("fov", "must be in (0, 2π]")
        if self.lidar_rays < 1:
            bad("lidar_rays", "must be at least 1")
        most = self.human_num + self.human_num_range + self.static_human_num + self.static_human_range
        if most > self.max_humans:
            bad("max_humans", f"smaller than the most humans the scenario can spawn ({most})")
        if self.obstacle_num + self.obstacle_num_range > self.max_obstacles:
            bad("max_obstacles", f"smaller than obstacle_num + obstacle_num_range "
                f"({self.obstacle_num + self.obstacle_num_range})")
        if not 0 < self.obstacle_size_min <= self.obstacle_size_max:
            bad("obstacle_size_min", "need 0 < obstacle_size_min <= obstacle_size_max")
        if self.goal_distance_min > self.goal_distance_max:
            bad("goal_distance_min", "larger than goal_distance_max")
        side = 2 * self.arena_half_size
        if self.goal_distance_min > side * math.sqrt(2) - 2 * self.robot_radius:
            bad("goal_distance_min", f"start and goal cannot be that far apart in a {side} m arena")
        if self.scenario == "random" and self.obstacle_num + self.obstacle_num_range > 0:
            # the smallest obstacles plus their gaps must at least fit in the arena area
            n = self.obstacle_num + self.obstacle_num_range
            need = n * (self.obstacle_size_min + self.obstacle_gap) ** 2
            if need > side * side or self.obstacle_size_min > side:
                bad("obstacle_num", f"{n} obstacles of ≥ {self.obstacle_size_min} m with {self.obstacle_gap} m "
                    f"gaps cannot fit in a {side} m arena")
        if self.circle_radius + self.human_radius > self.arena_half_size and self.scenario in (
            "random", "circle_crossing"
        ):
            bad("circle_radius", f"humans on a {self.circle_radius} m circle would start inside the walls")
        if self.scenario == "replay" and not self.replay_file:
            bad("replay_file", "scenario 'replay' needs a replay_file")

