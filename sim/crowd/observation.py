"""Build the observation dict of ``spaces.py`` for a batch of scenes."""

from __future__ import annotations

import numpy as np

from sim.crowd.spaces import PAD_VALUE


def to_robot_frame(vec: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Rotate world vectors ``[B, ..., 2]`` by ``−theta [B]`` into the robot frame."""
    c = np.cos(theta).reshape((-1,) + (1,) * (vec.ndim - 2))
    s = np.sin(theta).reshape(c.shape)
    x, y = vec[..., 0], vec[..., 1]
    return np.stack([c * x + s * y, -s * x + c * y], axis=-1)


def visible_humans(rel: np.ndarray, theta: np.ndarray, valid: np.ndarray, fov: float, sensor_range: float,
                   ) -> np.ndarray:
    """``[B, H]`` humans inside the field of view and sensor range; ``rel [B, H, 2]`` world offsets."""
    dist = np.hypot(rel[..., 0], rel[..., 1])
    vis = valid & (dist <= sensor_range)
    if fov < 2 * np.pi - 1e-9:
        bearing = np.arctan2(rel[..., 1], rel[..., 0]) - theta[:, None]
        bearing = (bearing + np.pi) % (2 * np.pi) - np.pi
        vis &= np.abs(bearing) <= fov / 2
    return vis


def build_observation(
    robot_pos: np.ndarray,
    robot_theta: np.ndarray,
    robot_vel: np.ndarray,
    robot_goal: np.ndarray,
    human_pos: np.ndarray,
    human_vel: np.ndarray,
    human_visible: np.ndarray,
    obstacles: np.ndarray,
    obstacle_valid: np.ndarray,
    lidar: np.ndarray,
) -> dict[str, np.ndarray]:
    """Observation arrays with a leading batch axis ``[B]``.

    Args:
        robot_pos, robot_vel, robot_goal: ``[B, 2]`` world frame; robot_theta: ``[B]``.
        human_pos, human_vel: ``[B, H, 2]`` world frame; human_visible: ``[B, H]``.
        obstacles: ``[B, O, 4, 2]`` world-frame corners; obstacle_valid: ``[B, O]``.
        lidar: ``[B, R]`` ranges.
    """
    b, h = human_visible.shape
    f32 = np.float32
    theta = (robot_theta + np.pi) % (2 * np.pi) - np.pi
    rel = to_robot_frame(human_pos - robot_pos[:, None], theta)
    vel = to_robot_frame(human_vel, theta)
    dist = np.where(human_visible, np.hypot(rel[..., 0], rel[..., 1]), np.inf)
    order = np.argsort(dist, axis=1, kind="stable")
    n_vis = human_visible.sum(axis=1)
    mask = np.arange(h)[None] < n_vis[:, None]
    edges = np.concatenate([rel, vel], axis=-1)
    edges = np.take_along_axis(edges, order[..., None], axis=1)
    edges = np.where(mask[..., None], edges, PAD_VALUE)

    o = obstacles.shape[1]
    corners = to_robot_frame((obstacles - robot_pos[:, None, None]).reshape(b, -1, 2), theta).reshape(b, o, 8)
    centre = obstacles.mean(axis=2) - robot_pos[:, None]
    odist = np.where(obstacle_valid, np.hypot(centre[..., 0], centre[..., 1]), np.inf)
    oorder = np.argsort(odist, axis=1, kind="stable")
    n_obs = obstacle_valid.sum(axis=1)
    omask = np.arange(o)[None] < n_obs[:, None]
    corners = np.where(omask[..., None], np.take_along_axis(corners, oorder[..., None], axis=1), PAD_VALUE)
    return {
        "robot_node": np.concatenate([robot_pos, robot_goal, theta[:, None]], axis=1)[:, None].astype(f32),
        "temporal_edges": robot_vel[:, None].astype(f32),
        "spatial_edges": edges.astype(f32),
        "detected_human_num": n_vis[:, None].astype(f32),
        "human_mask": mask.astype(np.int8),
        "obstacle_vertices": corners.astype(f32),
        "obstacle_num": n_obs[:, None].astype(f32),
        "obstacle_mask": omask.astype(np.int8),
        "point_clouds": lidar[:, None].astype(f32),
    }
