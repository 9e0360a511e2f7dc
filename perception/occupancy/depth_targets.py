"""LiDAR depth supervision of the camera branch (as BEVDet/BEVFusion's depth loss): LiDAR points → sparse
per-view depth images at image resolution → nearest depth per feature cell → depth-bin targets."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

#: depth-bin target of feature cells with no LiDAR return in range
NO_DEPTH = -1


def lidar_depth_images(points: np.ndarray, K: np.ndarray, cam2ego: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Sparse depth images `[V, H, W]` float32 (metres along the optical axis, 0 = no return).

    Args:
        points: LiDAR points `[N, 3]` in the ego (LiDAR) frame.
        K: intrinsics `[V, 3, 3]` of the undistorted, resized views.
        cam2ego: camera → ego `[V, 4, 4]` (OpenCV camera axes).
        size: (H, W) of the (padded) network images.
    The nearest return wins where several points fall on one pixel.
    """
    h, w = size
    out = np.zeros((len(K), h, w), np.float32)
    for v in range(len(K)):
        ego2cam = np.linalg.inv(cam2ego[v])
        cam = points @ ego2cam[:3, :3].T + ego2cam[:3, 3]
        z = cam[:, 2]
        front = z > 0.1
        uv = cam[front] @ K[v].T
        u = np.floor(uv[:, 0] / uv[:, 2]).astype(np.int64)
        r = np.floor(uv[:, 1] / uv[:, 2]).astype(np.int64)
        inside = (u >= 0) & (u < w) & (r >= 0) & (r < h)
        u, r, d = u[inside], r[inside], z[front][inside]
        order = np.argsort(-d)  # far first, so the nearest point is written last
        out[v, r[order], u[order]] = d[order]
    return out


def depth_bin_targets(depth: torch.Tensor, feature_size: tuple[int, int], depth_range: tuple[float, float],
                      bins: int) -> torch.Tensor:
    """Depth images `[N, H, W]` (0 = none) → bin index per feature cell `[N, h, w]` int64 (`NO_DEPTH` = none).

    Each cell takes the nearest return among its pixels (min-pooling over non-zero depths); cells outside
    `depth_range` get `NO_DEPTH`. Bin i covers `lo + i*step .. lo + (i+1)*step`, as the camera lifting reads it.
    """
    h, w = feature_size
    if depth.shape[-2] % h or depth.shape[-1] % w:
        raise ValueError(f"depth images {tuple(depth.shape[-2:])} are not a multiple of the feature map {h}x{w}")
    far = torch.where(depth > 0, depth, torch.full_like(depth, float("inf")))
    nearest = -F.max_pool2d(-far[:, None], kernel_size=(depth.shape[-2] // h, depth.shape[-1] // w))[:, 0]
    lo, hi = depth_range
    idx = ((nearest - lo) / ((hi - lo) / bins)).floor()
    valid = torch.isfinite(nearest) & (idx >= 0) & (idx < bins)
    return torch.where(valid, idx, torch.full_like(idx, NO_DEPTH)).long()


def depth_loss(depth_logits: torch.Tensor, depth: torch.Tensor, depth_range: tuple[float, float]) -> torch.Tensor:
    """Cross-entropy of the camera depth distribution against LiDAR depth bins.

    depth_logits `[B, V, D, h, w]`, depth images `[B, V, H, W]` → scalar (0 when no cell has a return).
    """
    b, v, d, h, w = depth_logits.shape
    target = depth_bin_targets(depth.flatten(0, 1), (h, w), depth_range, d)
    if not (target != NO_DEPTH).any():
        return depth_logits.sum() * 0
    return F.cross_entropy(depth_logits.flatten(0, 1), target, ignore_index=NO_DEPTH)
