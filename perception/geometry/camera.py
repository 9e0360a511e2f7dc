"""Pinhole cameras with OpenCV lens distortion, shared by all perception code.

Conventions (the same as OpenCV):

* extrinsics map world to camera: ``x_cam = R @ X + t`` (``R`` [3, 3], ``t`` [3], same length unit as ``X``);
* intrinsics ``K`` [3, 3] (``fx, skew, cx; 0, fy, cy; 0, 0, 1``);
* distortion ``dist`` [5] = ``(k1, k2, p1, p2, k3)``, applied to normalised image coordinates.

Every function accepts numpy arrays or torch tensors (and returns the same kind). Torch paths are
differentiable with respect to points and camera parameters; numpy inputs are computed in float64.

CMU Panoptic calibration (``calibration_<seq>.json``, y-up, centimetres) is converted the way
VoxelPose/SelfPose3d do it: a z-up world (``R <- R @ M``, ``M = [[1,0,0],[0,0,-1],[0,1,0]]``) in millimetres,
so a Panoptic point ``p_cm`` (y-up) becomes ``X_mm = 10 * M.T @ p_cm`` (see :func:`panoptic_world_to_mm`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

Array = TypeVar("Array", np.ndarray, torch.Tensor)

#: Bound on |x/z|, |y/z| in :func:`project_points` (tan 89.9 deg ~ 573).
MAX_NORMALIZED = 600.0

#: Panoptic (y-up) to z-up axis change used by VoxelPose and SelfPose3d.
PANOPTIC_TO_ZUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _as_torch(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x if like is None else x.to(dtype=like.dtype, device=like.device)
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    return t if like is None else t.to(dtype=like.dtype, device=like.device)


def _check_shapes(K: Any, dist: Any, R: Any | None = None, t: Any | None = None) -> None:
    if tuple(K.shape[-2:]) != (3, 3):
        raise ValueError(f"K must have shape [..., 3, 3], got {tuple(K.shape)}")
    if dist.shape[-1] != 5:
        raise ValueError(f"dist must have shape [..., 5] = (k1, k2, p1, p2, k3), got {tuple(dist.shape)}")
    if R is not None and tuple(R.shape[-2:]) != (3, 3):
        raise ValueError(f"R must have shape [..., 3, 3], got {tuple(R.shape)}")
    if t is not None and t.shape[-1] != 3:
        raise ValueError(f"t must have shape [..., 3], got {tuple(t.shape)}")


def distort_normalized(xy: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """Apply OpenCV radial + tangential distortion to normalised coordinates.

    Args:
        xy: [..., 2] normalised image coordinates (x/z, y/z).
        dist: [5] (k1, k2, p1, p2, k3), or broadcastable [..., 5].
    Returns:
        [..., 2] distorted normalised coordinates.
    """
    x, y = xy[..., 0], xy[..., 1]
    k1, k2, p1, p2, k3 = (dist[..., i] for i in range(5))
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return torch.stack([xd, yd], dim=-1)


def _apply_K(xy: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    u = K[..., 0, 0] * xy[..., 0] + K[..., 0, 1] * xy[..., 1] + K[..., 0, 2]
    v = K[..., 1, 1] * xy[..., 1] + K[..., 1, 2]
    return torch.stack([u, v], dim=-1)


def world_to_camera(points: Array, R: Any, t: Any) -> Array:
    """Rigid transform ``R @ X + t``.

    Args:
        points: [..., 3] world points.
        R: [3, 3] rotation (world to camera).
        t: [3] translation (world to camera).
    Returns:
        [..., 3] camera-frame points, same array kind as ``points``.
    """
    is_np = not isinstance(points, torch.Tensor)
    p = _as_torch(points)
    Rt, tt = _as_torch(R, p), _as_torch(t, p).reshape(-1)
    if p.shape[-1] != 3:
        raise ValueError(f"points must have shape [..., 3], got {tuple(p.shape)}")
    out = p @ Rt.transpose(-1, -2) + tt
    return out.numpy() if is_np else out


def project_points(points: Array, K: Any, dist: Any, R: Any, t: Any, eps: float = 1e-6) -> Array:
    """Project world points into pixels with a distorted pinhole camera.

    One camera: ``points`` [..., 3], ``K`` [3, 3], ``dist`` [5], ``R`` [3, 3], ``t`` [3].
    Batched cameras: ``points`` [*C, N, 3] with ``K`` [*C, 3, 3], ``dist`` [*C, 5], ``R`` [*C, 3, 3],
    ``t`` [*C, 3] (``*C`` broadcastable, e.g. batch x views); chosen when ``R`` has more than 2 dims.

    Args:
        points: world points (same unit as ``t``).
        K: intrinsics. dist: (k1, k2, p1, p2, k3). R, t: world-to-camera rotation and translation.
        eps: depths below this are clamped (points behind the camera get meaningless pixels;
            use :func:`world_to_camera` to test ``z > 0``). Normalised coordinates are clamped to
            +-``MAX_NORMALIZED`` (rays more than 89.9 deg off-axis), which keeps results and gradients finite.
    Returns:
        [..., 2] pixel coordinates (u, v); numpy in, numpy out; torch in, differentiable torch out.
    """
    is_np = not isinstance(points, torch.Tensor)
    p = _as_torch(points)
    Kt, dt, Rt, tt = _as_torch(K, p), _as_torch(dist, p), _as_torch(R, p), _as_torch(t, p)
    if Rt.ndim > 2:  # batched cameras: add the points axis
        Kt, dt, tt = Kt.unsqueeze(-3), dt.unsqueeze(-2), tt.unsqueeze(-2)
    else:
        dt, tt = dt.reshape(-1), tt.reshape(-1)
    _check_shapes(Kt, dt, Rt, tt)
    if p.shape[-1] != 3:
        raise ValueError(f"points must have shape [..., 3], got {tuple(p.shape)}")
    cam = p @ Rt.transpose(-1, -2) + tt
    z = cam[..., 2:3].clamp(min=eps)
    # bound the normalised coordinates so the distortion polynomial stays finite (and so do gradients)
    xy = (cam[..., :2] / z).clamp(-MAX_NORMALIZED, MAX_NORMALIZED)
    uv = _apply_K(distort_normalized(xy, dt), Kt)
    return uv.detach().numpy() if is_np else uv


def undistort_points(pixels: Array, K: Any, dist: Any, iterations: int = 20) -> Array:
    """Remove lens distortion from pixel coordinates (OpenCV's iterative fixed-point scheme).

    Args:
        pixels: [..., 2] distorted pixel coordinates.
        K: [3, 3] intrinsics.
        dist: [5] (k1, k2, p1, p2, k3).
        iterations: fixed-point iterations (20 gives sub-millipixel error for usual lenses).
    Returns:
        [..., 2] pixel coordinates an ideal pinhole camera with the same ``K`` would see.
    """
    is_np = not isinstance(pixels, torch.Tensor)
    uv = _as_torch(pixels)
    Kt, dt = _as_torch(K, uv), _as_torch(dist, uv).reshape(-1)
    _check_shapes(Kt, dt)
    if uv.shape[-1] != 2:
        raise ValueError(f"pixels must have shape [..., 2], got {tuple(uv.shape)}")
    yd = (uv[..., 1] - Kt[1, 2]) / Kt[1, 1]
    xd = (uv[..., 0] - Kt[0, 2] - Kt[0, 1] * yd) / Kt[0, 0]
    distorted = torch.stack([xd, yd], dim=-1)
    k1, k2, p1, p2, k3 = (dt[i] for i in range(5))
    xy = distorted
    for _ in range(iterations):
        x, y = xy[..., 0], xy[..., 1]
        r2 = x * x + y * y
        radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
        dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
        xy = torch.stack([(distorted[..., 0] - dx) / radial, (distorted[..., 1] - dy) / radial], dim=-1)
    out = _apply_K(xy, Kt)
    return out.detach().numpy() if is_np else out


@dataclass(frozen=True)
class Camera:
    """A calibrated camera: ``x_cam = R @ X + t``; pixels through ``K`` and OpenCV ``dist``.

    Attributes:
        K: [3, 3] intrinsics. dist: [5] (k1, k2, p1, p2, k3). R: [3, 3]. t: [3] (world units).
        width, height: image size in pixels (0 when unknown).
        name: free-form identifier (e.g. ``"00_03"``).
    """

    K: np.ndarray
    dist: np.ndarray
    R: np.ndarray
    t: np.ndarray
    width: int = 0
    height: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        for field, shape in (("K", (3, 3)), ("dist", (5,)), ("R", (3, 3)), ("t", (3,))):
            value = np.asarray(getattr(self, field), dtype=np.float64)
            if field in ("dist", "t"):
                value = value.reshape(-1)
            if value.shape != shape or not np.all(np.isfinite(value)):
                raise ValueError(f"camera {self.name!r}: {field} must be finite with shape {shape}, got {value.shape}")
            object.__setattr__(self, field, value)
        if abs(np.linalg.det(self.R) - 1.0) > 1e-3:
            raise ValueError(f"camera {self.name!r}: R is not a rotation (det {np.linalg.det(self.R):.4f})")

    @property
    def center(self) -> np.ndarray:
        """[3] camera centre in world coordinates (VoxelPose's ``T``)."""
        return -self.R.T @ self.t

    def project(self, points: Array) -> Array:
        """[..., 3] world points -> [..., 2] pixels (see :func:`project_points`)."""
        return project_points(points, self.K, self.dist, self.R, self.t)

    def to_camera(self, points: Array) -> Array:
        """[..., 3] world points -> [..., 3] camera-frame points."""
        return world_to_camera(points, self.R, self.t)

    def scaled(self, sx: float, sy: float) -> Camera:
        """The same camera seeing an image resized by (sx, sy) (pixel centres at integer coordinates)."""
        S = np.diag([sx, sy, 1.0])
        return Camera(S @ self.K, self.dist, self.R, self.t, round(self.width * sx), round(self.height * sy), self.name)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (lists), e.g. for JSON or checkpoints."""
        return {
            "K": self.K.tolist(),
            "dist": self.dist.tolist(),
            "R": self.R.tolist(),
            "t": self.t.tolist(),
            "width": self.width,
            "height": self.height,
            "name": self.name,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Camera:
        """Inverse of :meth:`to_dict`."""
        return cls(
            np.asarray(d["K"]),
            np.asarray(d["dist"]),
            np.asarray(d["R"]),
            np.asarray(d["t"]),
            int(d.get("width", 0)),
            int(d.get("height", 0)),
            str(d.get("name", "")),
        )

    @classmethod
    def from_voxelpose(cls, d: dict[str, Any], name: str = "", width: int = 0, height: int = 0) -> Camera:
        """From VoxelPose's camera dict ``{R, T (centre, mm), fx, fy, cx, cy, k [3], p [2]}``."""
        try:
            R = np.asarray(d["R"], dtype=np.float64).reshape(3, 3)
            T = np.asarray(d["T"], dtype=np.float64).reshape(3)
            k = np.asarray(d["k"], dtype=np.float64).reshape(-1)
            p = np.asarray(d["p"], dtype=np.float64).reshape(-1)
            fx, fy, cx, cy = (float(np.asarray(d[key]).reshape(-1)[0]) for key in ("fx", "fy", "cx", "cy"))
        except KeyError as exc:
            raise ValueError(f"camera {name!r}: VoxelPose camera dict lacks key {exc.args[0]!r}") from None
        if k.size != 3 or p.size != 2:
            raise ValueError(f"camera {name!r}: k has {k.size} values (expected 3), p {p.size} (2)")
        K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        return cls(K, np.array([k[0], k[1], p[0], p[1], k[2]]), R, -R @ T, width, height, name)

    def to_voxelpose(self) -> dict[str, np.ndarray]:
        """VoxelPose's camera dict ``{R, T [3, 1], fx, fy, cx, cy, k [3, 1], p [2, 1]}``."""
        return {
            "R": self.R.copy(),
            "T": self.center.reshape(3, 1),
            "fx": self.K[0, 0],
            "fy": self.K[1, 1],
            "cx": self.K[0, 2],
            "cy": self.K[1, 2],
            "k": self.dist[[0, 1, 4]].reshape(3, 1),
            "p": self.dist[[2, 3]].reshape(2, 1),
        }


def panoptic_world_to_mm(points_cm: np.ndarray) -> np.ndarray:
    """Panoptic y-up centimetre points [..., 3] -> z-up millimetres [..., 3] (VoxelPose's ``p @ M * 10``)."""
    return np.asarray(points_cm, dtype=np.float64) @ PANOPTIC_TO_ZUP * 10.0


def camera_from_panoptic(entry: dict[str, Any], source: str = "calibration") -> Camera:
    """One entry of ``calibration_<seq>.json`` ``cameras[]`` -> :class:`Camera` in z-up millimetres.

    Args:
        entry: ``{"name", "panel", "node", "K", "distCoef", "R", "t" (cm), "resolution"?}``.
        source: file name used in error messages.
    """
    name = str(entry.get("name") or f"{entry.get('panel', '?')}_{entry.get('node', '?')}")
    missing = [k for k in ("K", "distCoef", "R", "t") if k not in entry]
    if missing:
        raise ValueError(f"{source}: camera {name!r} lacks {missing}")
    try:
        K = np.asarray(entry["K"], dtype=np.float64).reshape(3, 3)
        dist = np.asarray(entry["distCoef"], dtype=np.float64).reshape(-1)
        R = np.asarray(entry["R"], dtype=np.float64).reshape(3, 3)
        t = np.asarray(entry["t"], dtype=np.float64).reshape(3)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source}: camera {name!r} has malformed K/distCoef/R/t ({exc})") from None
    if dist.size != 5:
        raise ValueError(f"{source}: camera {name!r} distCoef has {dist.size} values, expected 5")
    width, height = (entry.get("resolution") or [0, 0])[:2]
    return Camera(K, dist, R @ PANOPTIC_TO_ZUP, t * 10.0, int(width), int(height), name)


def camera_to_panoptic(cam: Camera, panel: int, node: int) -> dict[str, Any]:
    """Inverse of :func:`camera_from_panoptic`: one ``calibration_<seq>.json`` camera (y-up, cm)."""
    return {
        "name": f"{panel:02d}_{node:02d}",
        "type": "hd",
        "resolution": [cam.width, cam.height],
        "panel": panel,
        "node": node,
        "K": cam.K.tolist(),
        "distCoef": cam.dist.tolist(),
        "R": (cam.R @ PANOPTIC_TO_ZUP.T).tolist(),
        "t": (cam.t / 10.0).reshape(3, 1).tolist(),
    }
