"""Multi-sweep 4D radar points with ego-velocity compensation, as the OmniHD-Scenes baseline loader does.

A raw sweep is `[N, 8]` = (x, y, z, v_r, power, motion_state, SNR, valid_flag) in the radar frame. The
ego velocity, rotated into the radar frame, is projected onto each point's ray (azimuth and elevation)
and added to v_r; the compensated radial velocity is split into (vx, vy), rotated with xyz into the
current LiDAR frame. Output rows are
`[x, y, z, vx_comp, vy_comp, power, snr, time_diff, vr_comp, radar_id]` (`RADAR_FEATURES`).
"""

from __future__ import annotations

import numpy as np

RADAR_FEATURES: tuple[str, ...] = ("x", "y", "z", "vx_comp", "vy_comp", "power", "snr", "time_diff", "vr_comp",
                                   "radar_id")


def compensate_sweep(
    points: np.ndarray,
    ego_velocity: np.ndarray,
    sensor2ego_rotation: np.ndarray,
    sensor2lidar: np.ndarray,
    time_diff: float,
    radar_id: int,
) -> np.ndarray:
    """One radar sweep → compensated points in the current LiDAR frame.

    Args:
        points: `[N, 8]` raw radar points (radar frame).
        ego_velocity: `[3]` ego velocity at the sweep time, in the ego frame (IMU `velocity_ego`).
        sensor2ego_rotation: `[3, 3]` radar→ego rotation.
        sensor2lidar: `[4, 4]` radar (at sweep time) → current LiDAR frame.
        time_diff: current sample time minus sweep time (s).
        radar_id: 0..5 in the devkit's radar order.
    Returns:
        `[N, 10]` float32 rows in `RADAR_FEATURES` order.
    """
    xyz = points[:, :3].astype(np.float64)
    r = np.maximum(np.linalg.norm(xyz, axis=1), 1e-6)
    azimuth = np.arctan2(xyz[:, 1], xyz[:, 0])
    elevation = np.arcsin(np.clip(xyz[:, 2] / r, -1.0, 1.0))
    v_sensor = sensor2ego_rotation.T @ np.asarray(ego_velocity, dtype=np.float64)
    ray = np.stack([np.cos(azimuth) * np.cos(elevation), np.sin(azimuth) * np.cos(elevation), np.sin(elevation)], 1)
    vr_comp = ray @ v_sensor + points[:, 3]
    v_xy = np.stack([vr_comp * np.cos(elevation) * np.cos(azimuth), vr_comp * np.cos(elevation) * np.sin(azimuth),
                     np.zeros_like(vr_comp)], axis=1)
    v_lidar = v_xy @ sensor2lidar[:3, :3].T
    xyz_lidar = xyz @ sensor2lidar[:3, :3].T + sensor2lidar[:3, 3]
    n = len(points)
    return np.concatenate(
        [xyz_lidar, v_lidar[:, :2], points[:, [4, 6]], np.full((n, 1), time_diff), vr_comp[:, None],
         np.full((n, 1), float(radar_id))],
        axis=1,
    ).astype(np.float32)


def crop_to_range(points: np.ndarray, point_range: tuple[float, ...]) -> np.ndarray:
    """Keep points `[N, >=3]` inside `[xmin, ymin, zmin, xmax, ymax, zmax]`."""
    lo, hi = np.asarray(point_range[:3]), np.asarray(point_range[3:])
    keep = np.all((points[:, :3] >= lo) & (points[:, :3] < hi), axis=1)
    return points[keep]
