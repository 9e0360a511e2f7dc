"""Build the observation dict of ``spaces.py`` for a batch of scenes (one compiled pass per scene)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.crowd.spaces import PAD_VALUE


def build_observation(
    robot_pos: np.ndarray,
    robot_theta: np.ndarray,
    robot_vel: np.ndarray,
    robot_goal: np.ndarray,
    human_pos: np.ndarray,
    human_vel: np.ndarray,
    human_valid: np.ndarray,
    fov: float,
    sensor_range: float,
    obstacles: np.ndarray,
    obstacle_valid: np.ndarray,
    lidar: np.ndarray,
) -> dict[str, np.ndarray]:
    """Observation arrays with a leading batch axis ``[B]``.

    Args:
        robot_pos, robot_vel, robot_goal: ``[B, 2]`` world frame; robot_theta: ``[B]``.
        human_pos, human_vel: ``[B, H, 2]`` world frame; human_valid: ``[B, H]``. A valid human is observed
            when it is within ``sensor_range`` (m) and inside the field of view ``fov`` (rad, centred on the
            heading).
        obstacles: ``[B, O, 4, 2]`` world-frame corners; obstacle_valid: ``[B, O]``.
        lidar: ``[B, R]`` ranges.
    """
    b, h = human_valid.shape
    o = obstacles.shape[1]
    f32 = np.float32
    out = {
        "robot_node": np.empty((b, 1, 5), f32),
        "temporal_edges": np.asarray(robot_vel, dtype=f32)[:, None].copy(),
        "spatial_edges": np.empty((b, h, 4), f32),
        "detected_human_num": np.empty((b, 1), f32),
        "human_mask": np.empty((b, h), np.int8),
        "obstacle_vertices": np.empty((b, o, 8), f32),
        "obstacle_num": np.empty((b, 1), f32),
        "obstacle_mask": np.empty((b, o), np.int8),
        "point_clouds": np.asarray(lidar, dtype=f32)[:, None].copy(),
    }
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    _observation_kernel(f64(robot_pos), f64(robot_theta), f64(robot_goal), f64(human_pos), f64(human_vel),
                        np.ascontiguousarray(human_valid, dtype=bool), float(fov), float(sensor_range),
                        f64(obstacles), np.ascontiguousarray(obstacle_valid, dtype=bool), PAD_VALUE,
                        out["robot_node"], out["spatial_edges"], out["detected_human_num"], out["human_mask"],
                        out["obstacle_vertices"], out["obstacle_num"], out["obstacle_mask"])
    return out


@njit(cache=True)
def _stable_order(key: np.ndarray, n: int, order: np.ndarray) -> None:
    """``order[:n]`` = indices of ``key[:n]`` sorted ascending, ties by index (insertion sort, n is small)."""
    for i in range(n):
        j = i
        while j > 0 and key[order[j - 1]] > key[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i


@njit(cache=True)
def _observation_kernel(robot_pos, theta_in, goal, human_pos, human_vel, human_valid, fov, sensor_range,
                        obstacles, obstacle_valid, pad, robot_node, spatial, n_humans, human_mask, corners,
                        n_obstacles, obstacle_mask):
    b_n, h_n = human_valid.shape
    o_n = obstacle_valid.shape[1]
    key = np.empty(max(h_n, o_n))
    order = np.empty(max(h_n, o_n), np.int64)
    narrow = fov < 2 * np.pi - 1e-9
    for b in range(b_n):
        px, py = robot_pos[b, 0], robot_pos[b, 1]
        theta = (theta_in[b] + np.pi) % (2 * np.pi) - np.pi
        c, s = np.cos(theta), np.sin(theta)
        robot_node[b, 0, 0], robot_node[b, 0, 1] = px, py
        robot_node[b, 0, 2], robot_node[b, 0, 3], robot_node[b, 0, 4] = goal[b, 0], goal[b, 1], theta
        # visible humans, nearest first, in the robot frame
        for j in range(h_n):
            dx, dy = human_pos[b, j, 0] - px, human_pos[b, j, 1] - py
            dist = np.hypot(dx, dy)
            vis = human_valid[b, j] and dist <= sensor_range
            if vis and narrow:
                bearing = (np.arctan2(dy, dx) - theta_in[b] + np.pi) % (2 * np.pi) - np.pi
                vis = abs(bearing) <= fov / 2
            key[j] = dist if vis else np.inf
        _stable_order(key, h_n, order)
        n_vis = 0
        for r in range(h_n):
            j = order[r]
            if key[j] == np.inf:
                spatial[b, r, :] = pad
                human_mask[b, r] = 0
                continue
            n_vis += 1
            dx, dy = human_pos[b, j, 0] - px, human_pos[b, j, 1] - py
            vx, vy = human_vel[b, j, 0], human_vel[b, j, 1]
            spatial[b, r, 0], spatial[b, r, 1] = c * dx + s * dy, -s * dx + c * dy
            spatial[b, r, 2], spatial[b, r, 3] = c * vx + s * vy, -s * vx + c * vy
            human_mask[b, r] = 1
        n_humans[b, 0] = n_vis
        # obstacles by distance to their centre, corners in the robot frame
        for k in range(o_n):
            if obstacle_valid[b, k]:
                mx = (obstacles[b, k, 0, 0] + obstacles[b, k, 1, 0] + obstacles[b, k, 2, 0] + obstacles[b, k, 3, 0]) / 4
                my = (obstacles[b, k, 0, 1] + obstacles[b, k, 1, 1] + obstacles[b, k, 2, 1] + obstacles[b, k, 3, 1]) / 4
                key[k] = np.hypot(mx - px, my - py)
            else:
                key[k] = np.inf
        _stable_order(key, o_n, order)
        n_obs = 0
        for r in range(o_n):
            k = order[r]
            if not obstacle_valid[b, k]:
                corners[b, r, :] = pad
                obstacle_mask[b, r] = 0
                continue
            n_obs += 1
            for v in range(4):
                dx, dy = obstacles[b, k, v, 0] - px, obstacles[b, k, v, 1] - py
                corners[b, r, 2 * v], corners[b, r, 2 * v + 1] = c * dx + s * dy, -s * dx + c * dy
            obstacle_mask[b, r] = 1
        n_obstacles[b, 0] = n_obs
