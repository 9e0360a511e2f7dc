"""Camera image loading as the OmniHD-Scenes devkit does it: undistort with the calibration, halve the
front/back cameras (stored at twice the resolution), then scale and pad to a multiple of 32."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from perception.geometry.camera import project_points

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


def read_rgb(path: Path) -> np.ndarray:
    """`[H, W, 3]` uint8; ValueError naming the file when it is missing or not an image."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: camera image not found")
    try:
        with Image.open(path) as im:
            return np.array(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from exc


@lru_cache(maxsize=64)
def _undistort_grid(K_bytes: bytes, dist_bytes: bytes, height: int, width: int) -> torch.Tensor:
    K = np.frombuffer(K_bytes).reshape(3, 3).copy()
    dist = np.frombuffer(dist_bytes).copy()
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    src = project_points(rays, K, dist, np.eye(3), np.zeros(3))  # where each ideal pixel lies in the raw image
    gx = (2 * src[..., 0] + 1) / width - 1
    gy = (2 * src[..., 1] + 1) / height - 1
    return torch.from_numpy(np.stack([gx, gy], axis=-1)).float()[None]


def undistort(image: torch.Tensor, K: np.ndarray, dist: np.ndarray) -> torch.Tensor:
    """Undistorted `[3, H, W]` float image with the same `K` (cv2.undistort with newCameraMatrix = K)."""
    if not np.any(dist):
        return image
    grid = _undistort_grid(np.ascontiguousarray(K, dtype=np.float64).tobytes(),
                           np.ascontiguousarray(dist, dtype=np.float64).tobytes(), *image.shape[-2:])
    return F.grid_sample(image[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]


def resize(image: torch.Tensor, K: np.ndarray, scale: float) -> tuple[torch.Tensor, np.ndarray]:
    """Scale `[3, H, W]` by `scale` and the intrinsics `[3, 3]` to match."""
    if scale == 1.0:
        return image, K
    h, w = image.shape[-2:]
    size = (round(h * scale), round(w * scale))
    out = F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=scale < 1)[0]
    S = np.diag([size[1] / w, size[0] / h, 1.0])
    return out, S @ K


def load_camera(
    path: Path, K: np.ndarray, dist: np.ndarray, double_res: bool, scale: float, pad_to: int = 32
) -> tuple[torch.Tensor, np.ndarray]:
    """One view ready for the network: normalised `[3, H', W']` and its intrinsics `[3, 3]`.

    `double_res` cameras are halved first (the devkit's front/back rule); then all are scaled by `scale`
    and zero-padded at the bottom/right to a multiple of `pad_to` (544 x 960 for the real data at 0.5).
    """
    rgb = torch.from_numpy(read_rgb(path)).permute(2, 0, 1).float() / 255.0
    img = undistort(rgb, K, dist)
    if double_res:
        img, K = resize(img, K, 0.5)
    img, K = resize(img, K, scale)
    img = (img - IMAGENET_MEAN) / IMAGENET_STD
    h, w = img.shape[-2:]
    ph, pw = (-h) % pad_to, (-w) % pad_to
    return F.pad(img, (0, pw, 0, ph)), K
