"""Sensor rig and sensor models: 6 distorted pinhole cameras, a 32-beam LiDAR, 6 4D imaging radars.

Extrinsics are sensor→ego 4x4 matrices (ego = LiDAR frame: x forward, y left, z up). Cameras use the
OpenCV convention (x right, y down, z forward) and Brown–Conrady distortion `[k1, k2, p1, p2, k3]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.synthetic.omnihd.format import CAMERAS, DOUBLE_RES_CAMERAS, RADARS
from sim.synthetic.omnihd.raycast import cast_rays

#: mounting yaw (deg) of each camera / radar around ego z
CAMERA_YAW = dict(zip(CAMERAS, (0.0, 55.0, -55.0, 180.0, 125.0, -125.0), strict=True))
RADAR_YAW = dict(zip(RADARS, (0.0, 50.0, -50.0, 180.0, 130.0, -130.0), strict=True))
#: RGB of each class (index = class id; 0 = sky)
PALETTE = np.array(
    [[135, 180, 230], [200, 30, 30], [240, 200, 40], [255, 120, 0], [120, 30, 160], [60, 160, 220],
     [255, 60, 160], [150, 150, 150], [70, 70, 75], [170, 140, 110], [40, 140, 40], [190, 170, 150]],
    dtype=np.float64,
)
#: radar cross-section proxy (dBsm) per class id
RCS_DB = np.array([0, 10, -5, 0, 15, -3, 0, 5, -20, -20, -5, 10], dtype=np.float64)


def yaw_matrix(deg: float) -> np.ndarray:
    """Rotation `[3, 3]` about z by `deg` degrees."""
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


#: OpenCV camera axes (x right, y down, z forward) expressed in a forward-looking ego-aligned frame
CAM_AXES = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class CameraModel:
    """One camera: `size` (H, W) as stored on disk, intrinsics `K [3, 3]`, `dist [5]`, `cam2ego [4, 4]`."""

    name: str
    size: tuple[int, int]
    K: np.ndarray
    dist: np.ndarray
    cam2ego: np.ndarray


def make_cameras(height: int, width: int, hfov_deg: float = 80.0) -> list[CameraModel]:
    """The 6-camera rig; front/back are stored at twice `height x width`, as in the real dataset."""
    cams = []
    for name in CAMERAS:
        scale = 2 if name in DOUBLE_RES_CAMERAS else 1
        h, w = height * scale, width * scale
        f = (w / 2) / np.tan(np.deg2rad(hfov_deg) / 2)
        K = np.array([[f, 0, w / 2 - 0.5], [0, f, h / 2 - 0.5], [0, 0, 1.0]])
        dist = np.array([-0.08, 0.02, 0.0005, -0.0005, 0.0])
        T = np.eye(4)
        T[:3, :3] = yaw_matrix(CAMERA_YAW[name]) @ CAM_AXES
        T[:3, 3] = yaw_matrix(CAMERA_YAW[name]) @ np.array([1.0, 0.0, -0.3])
        cams.append(CameraModel(name, (h, w), K, dist, T))
    return cams


def radar_to_ego(name: str) -> np.ndarray:
    """Radar→ego `[4, 4]`: radars sit 0.6 m above ground, 2 m out along their yaw."""
    T = np.eye(4)
    T[:3, :3] = yaw_matrix(RADAR_YAW[name])
    T[:3, 3] = yaw_matrix(RADAR_YAW[name]) @ np.array([2.0, 0.0, 0.0]) + np.array([0.0, 0.0, -1.3])
    return T


def pixel_rays(cam: CameraModel) -> np.ndarray:
    """Unit ray directions `[H, W, 3]` in the camera frame for every pixel of the distorted image.

    Inverts the distortion by fixed-point iteration (the generator's own sensor model; `sim` imports no
    `perception`).
    """
    h, w = cam.size
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    xd = (u - cam.K[0, 2]) / cam.K[0, 0]
    yd = (v - cam.K[1, 2]) / cam.K[1, 1]
    k1, k2, p1, p2, k3 = cam.dist
    x, y = xd.copy(), yd.copy()
    for _ in range(20):
        r2 = x * x + y * y
        radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        x, y = (xd - dx) / radial, (yd - dy) / radial
    d = np.stack([x, y, np.ones_like(x)], axis=-1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def render_camera(
    cam: CameraModel, ego2global: np.ndarray, boxes: np.ndarray, classes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """RGB image `[H, W, 3]` uint8: class colours shaded by distance, with texture noise and sky."""
    rays = pixel_rays(cam).reshape(-1, 3)
    R = ego2global[:3, :3] @ cam.cam2ego[:3, :3]
    origin = ego2global[:3, :3] @ cam.cam2ego[:3, 3] + ego2global[:3, 3]
    dirs = rays @ R.T
    dist, cls, idx = cast_rays(np.broadcast_to(origin, dirs.shape).copy(), dirs, boxes, classes)
    shade = np.where(np.isfinite(dist), 0.55 + 0.45 * np.exp(-np.nan_to_num(dist, posinf=1e3) / 60.0), 1.0)
    box_tint = np.where(idx >= 0, 0.85 + 0.3 * ((idx * 0.618) % 1.0), 1.0)  # instances differ a little
    rgb = PALETTE[cls] * (shade * box_tint)[:, None]
    rgb += rng.normal(0.0, 6.0, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8).reshape(*cam.size, 3)


def scan_lidar(
    ego2global: np.ndarray, boxes: np.ndarray, classes: np.ndarray, rng: np.random.Generator,
    beams: int = 32, azimuths: int = 720,
) -> np.ndarray:
    """LiDAR sweep `[N, 5]` float32 = (x, y, z, intensity, ring) in the LiDAR frame."""
    el = np.deg2rad(np.linspace(-25.0, 10.0, beams))
    az = np.linspace(-np.pi, np.pi, azimuths, endpoint=False)
    E, A = np.meshgrid(el, az, indexing="ij")
    d_local = np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
    dirs = d_local @ ego2global[:3, :3].T
    origins = np.broadcast_to(ego2global[:3, 3], dirs.shape).copy()
    dist, cls, _ = cast_rays(origins, dirs, boxes, classes, max_range=120.0)
    ok = np.isfinite(dist)
    r = dist[ok] + rng.normal(0.0, 0.02, ok.sum())
    xyz = d_local[ok] * r[:, None]
    intensity = np.clip(40 + 10 * RCS_DB[cls[ok]] / 10 + rng.normal(0, 3, ok.sum()), 0, 255)
    ring = np.broadcast_to(np.arange(beams)[:, None], E.shape).reshape(-1)[ok]
    return np.concatenate([xyz, intensity[:, None], ring[:, None]], axis=1).astype(np.float32)


def scan_radar(
    radar2ego: np.ndarray, ego2global: np.ndarray, ego_vel_global: np.ndarray, boxes: np.ndarray,
    classes: np.ndarray, box_vels: np.ndarray, rng: np.random.Generator, rays: int = 700, clutter: int = 25,
) -> np.ndarray:
    """4D radar sweep `[N, 8]` float32 = (x, y, z, v_r, power, motion_state, SNR, valid_flag), radar frame.

    `v_r` is the raw radial velocity (target minus sensor motion along the ray), so the devkit's ego-velocity
    compensation recovers the target's own radial speed.
    """
    az = rng.uniform(-np.deg2rad(60), np.deg2rad(60), rays)
    el = rng.uniform(-np.deg2rad(10), np.deg2rad(10), rays)
    d_local = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], -1)
    s2g = ego2global @ radar2ego
    dirs = d_local @ s2g[:3, :3].T
    origins = np.broadcast_to(s2g[:3, 3], dirs.shape).copy()
    dist, cls, idx = cast_rays(origins, dirs, boxes, classes, max_range=100.0)
    power = RCS_DB[cls] - 40 * np.log10(np.maximum(dist, 1.0)) / 4 + rng.normal(0, 2, rays)
    ground = idx < 0
    keep = np.isfinite(dist) & (rng.random(rays) < np.where(ground, 0.15, 0.9))
    target_v = np.where(ground[:, None], 0.0, box_vels[np.maximum(idx, 0)])
    v_r = ((target_v - ego_vel_global) * dirs).sum(-1) + rng.normal(0, 0.1, rays)
    r = dist + rng.normal(0, 0.1, rays)
    pts = d_local * np.where(keep, r, 0.0)[:, None]
    motion = (np.abs((target_v * dirs).sum(-1)) > 0.5).astype(np.float64)
    real = np.concatenate([pts, v_r[:, None], power[:, None], motion[:, None], (power + 20)[:, None],
                           np.ones((rays, 1))], axis=1)[keep]
    # clutter: ghost detections uniformly in the field of view, weak and with random Doppler
    ca, ce = rng.uniform(-1.0, 1.0, clutter), rng.uniform(-0.17, 0.17, clutter)
    cr = rng.uniform(3, 80, clutter)
    cxyz = np.stack([np.cos(ce) * np.cos(ca), np.cos(ce) * np.sin(ca), np.sin(ce)], -1) * cr[:, None]
    cpow = rng.uniform(-25, -10, clutter)
    ghost = np.concatenate([cxyz, rng.normal(0, 3, (clutter, 1)), cpow[:, None], np.zeros((clutter, 1)),
                            (cpow + 20)[:, None], np.ones((clutter, 1))], axis=1)
    out = np.concatenate([real, ghost]) if len(real) else ghost
    return out.astype(np.float32)
