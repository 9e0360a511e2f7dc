"""A procedural street: a straight road along global x, sidewalks, fences, buildings, trees, agents.

Every solid is an oriented box `[cx, cy, cz, length, width, height, yaw]` (global frame, z up, ground at
z = 0) with a class id; agents move with constant velocity along their heading. The ego drives along the
road with a gentle lateral weave so that ego motion has rotation as well as translation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.synthetic.omnihd.format import CLASS_ID

ROAD_HALF_WIDTH = 7.0
SIDEWALK_WIDTH = 4.0
LIDAR_HEIGHT = 1.9

#: class -> (length, width, height) mean size in metres, and typical speed (m/s)
AGENT_TYPES: dict[str, tuple[tuple[float, float, float], float]] = {
    "car": ((4.5, 1.9, 1.6), 8.0),
    "large_vehicle": ((10.0, 2.6, 3.2), 6.0),
    "pedestrian": ((0.6, 0.6, 1.75), 1.3),
    "rider": ((1.8, 0.7, 1.7), 4.0),
    "cycle": ((1.7, 0.6, 1.1), 0.0),
}


@dataclass
class World:
    """Static boxes `[S, 7]` with classes `[S]`; agents `[A, 7]` at t = 0 with speeds `[A]` and classes `[A]`."""

    static_boxes: np.ndarray
    static_classes: np.ndarray
    agent_boxes: np.ndarray
    agent_speeds: np.ndarray
    agent_classes: np.ndarray
    ego_speed: float
    weave_amplitude: float
    weave_period: float

    def agents_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Agent boxes `[A, 7]` and global velocities `[A, 3]` at time `t` seconds."""
        heading = np.stack([np.cos(self.agent_boxes[:, 6]), np.sin(self.agent_boxes[:, 6])], axis=1)
        vel = np.zeros((len(self.agent_boxes), 3))
        vel[:, :2] = heading * self.agent_speeds[:, None]
        boxes = self.agent_boxes.copy()
        boxes[:, :3] += vel * t
        return boxes, vel

    def boxes_at(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All boxes `[M, 7]`, classes `[M]` and velocities `[M, 3]` at time `t`."""
        agents, vel = self.agents_at(t)
        boxes = np.concatenate([self.static_boxes, agents])
        classes = np.concatenate([self.static_classes, self.agent_classes])
        vels = np.concatenate([np.zeros((len(self.static_boxes), 3)), vel])
        return boxes, classes, vels

    def ego_pose(self, t: float) -> np.ndarray:
        """Ego (= LiDAR) to global 4x4 pose at time `t`."""
        x = self.ego_speed * t
        w = 2 * np.pi / self.weave_period
        y = self.weave_amplitude * np.sin(w * x / max(self.ego_speed, 1e-6))
        dy = self.weave_amplitude * w / max(self.ego_speed, 1e-6) * np.cos(w * x / max(self.ego_speed, 1e-6))
        yaw = np.arctan2(dy, 1.0)
        pose = np.eye(4)
        pose[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
        pose[:3, 3] = [x, y, LIDAR_HEIGHT]
        return pose

    def ego_velocity(self, t: float, dt: float = 1e-3) -> np.ndarray:
        """Ego velocity `[3]` expressed in the ego frame (what the IMU table stores as `velocity_ego`)."""
        p0, p1 = self.ego_pose(t - dt), self.ego_pose(t + dt)
        v_global = (p1[:3, 3] - p0[:3, 3]) / (2 * dt)
        return self.ego_pose(t)[:3, :3].T @ v_global


def ground_class(xy: np.ndarray) -> np.ndarray:
    """Class of the ground surface at global points `[..., 2]`: road, sidewalk, or manmade (plaza)."""
    ay = np.abs(xy[..., 1])
    out = np.full(ay.shape, CLASS_ID["manmade"], dtype=np.int64)
    out[ay < ROAD_HALF_WIDTH + SIDEWALK_WIDTH] = CLASS_ID["sidewalk"]
    out[ay < ROAD_HALF_WIDTH] = CLASS_ID["driveable_surface"]
    return out


def _box(cx: float, cy: float, size: tuple[float, float, float], yaw: float) -> list[float]:
    return [cx, cy, size[2] / 2, size[0], size[1], size[2], yaw]


def make_world(rng: np.random.Generator, length: float, ego_speed: float, num_agents: int) -> World:
    """Build a street `length` metres long (starting 70 m behind the ego) with `num_agents` agents."""
    static: list[list[float]] = []
    classes: list[int] = []
    x0, x1 = -70.0, length + 70.0
    edge = ROAD_HALF_WIDTH + SIDEWALK_WIDTH
    for side in (-1.0, 1.0):
        x = x0
        while x < x1:  # buildings behind the sidewalk, with gaps
            w = rng.uniform(8, 20)
            if rng.random() < 0.8:
                depth, height = rng.uniform(6, 12), rng.uniform(4, 14)
                static.append(_box(x + w / 2, side * (edge + 2 + depth / 2), (w, depth, height), 0.0))
                classes.append(CLASS_ID["manmade"])
            x += w + rng.uniform(1, 6)
        x = x0
        while x < x1:  # trees on the sidewalk
            x += rng.uniform(6, 16)
            s = rng.uniform(1.5, 3.0)
            static.append(_box(x, side * (edge - 1.0), (s, s, rng.uniform(3, 6)), 0.0))
            classes.append(CLASS_ID["vegetation"])
        x = x0
        while x < x1:  # fence segments along the kerb
            seg = rng.uniform(8, 25)
            if rng.random() < 0.5:
                static.append(_box(x + seg / 2, side * (ROAD_HALF_WIDTH + 0.3), (seg, 0.3, 1.1), 0.0))
                classes.append(CLASS_ID["traffic_fence"])
            x += seg + rng.uniform(5, 20)
    for _ in range(int(length / 15) + 4):  # cones / barriers near the road edge
        x = rng.uniform(x0, x1)
        y = rng.choice([-1, 1]) * rng.uniform(ROAD_HALF_WIDTH - 1.5, ROAD_HALF_WIDTH - 0.6)
        static.append(_box(x, y, (0.6, 0.6, rng.uniform(0.7, 1.1)), 0.0))
        classes.append(CLASS_ID["road_obstacle"])

    agents: list[list[float]] = []
    speeds: list[float] = []
    agent_classes: list[int] = []
    names = list(AGENT_TYPES)
    probs = np.array([0.4, 0.1, 0.25, 0.12, 0.13])
    for _ in range(num_agents):
        name = names[rng.choice(len(names), p=probs)]
        (length_m, width_m, height_m), speed = AGENT_TYPES[name]
        size = (length_m * rng.uniform(0.9, 1.1), width_m * rng.uniform(0.9, 1.1), height_m * rng.uniform(0.9, 1.1))
        x = rng.uniform(x0 + 20, x1 - 20)
        if name in ("car", "large_vehicle", "rider"):
            lane = rng.choice([-1, 1])
            y = lane * rng.uniform(2.8, 5.0)
            yaw = 0.0 if lane < 0 else np.pi
            speed = speed * rng.uniform(0.6, 1.2) if rng.random() < 0.8 else 0.0
        elif name == "pedestrian":
            side = rng.choice([-1, 1])
            crossing = rng.random() < 0.25
            y = side * (rng.uniform(1.0, ROAD_HALF_WIDTH) if crossing else rng.uniform(edge - 3.5, edge - 0.5))
            yaw = (-side * np.pi / 2) if crossing else rng.choice([0.0, np.pi])
            speed = speed * rng.uniform(0.5, 1.3)
        else:  # parked cycles on the sidewalk
            y = rng.choice([-1, 1]) * rng.uniform(ROAD_HALF_WIDTH + 0.8, edge - 2.0)
            yaw = rng.uniform(-np.pi, np.pi)
        agents.append(_box(x, y, size, yaw))
        speeds.append(speed)
        agent_classes.append(CLASS_ID[name])
    return World(
        static_boxes=np.asarray(static, dtype=np.float64),
        static_classes=np.asarray(classes, dtype=np.int64),
        agent_boxes=np.asarray(agents, dtype=np.float64).reshape(-1, 7),
        agent_speeds=np.asarray(speeds, dtype=np.float64),
        agent_classes=np.asarray(agent_classes, dtype=np.int64),
        ego_speed=ego_speed,
        weave_amplitude=float(rng.uniform(0.3, 1.0)),
        weave_period=float(rng.uniform(6, 12)),
    )
