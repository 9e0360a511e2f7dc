"""Differentiable 2D Gaussian heatmap rendering (targets, synthetic root heatmaps, cross-view rendering)."""

from __future__ import annotations

import torch


def render_gaussians(
    points: torch.Tensor, weights: torch.Tensor, height: int, width: int, sigma: float
) -> torch.Tensor:
    """One Gaussian per point, summed over people and clipped to [0, 1].

    Args:
        points: [..., P, J, 2] heatmap-pixel coordinates (x, y); differentiable.
        weights: [..., P, J] per-point weight (0 drops a point, e.g. a missing joint).
        height, width: heatmap size.
        sigma: Gaussian std in heatmap pixels.
    Returns:
        [..., J, height, width] heatmaps ``clamp(sum_p w * exp(-d^2 / 2 sigma^2), 0, 1)``.
    """
    if points.shape[-1] != 2 or points.shape[:-1] != weights.shape:
        raise ValueError(
            f"points [..., P, J, 2] and weights [..., P, J] disagree: {tuple(points.shape)} vs {tuple(weights.shape)}"
        )
    xs = torch.arange(width, dtype=points.dtype, device=points.device)
    ys = torch.arange(height, dtype=points.dtype, device=points.device)
    gx = torch.exp(-((xs - points[..., 0:1]) ** 2) / (2 * sigma**2))  # [..., P, J, W]
    gy = torch.exp(-((ys - points[..., 1:2]) ** 2) / (2 * sigma**2))  # [..., P, J, H]
    maps = torch.einsum("...pjh,...pjw,...pj->...jhw", gy, gx, weights)
    return maps.clamp(max=1.0)


def gaussian_cube(centers: torch.Tensor, valid: torch.Tensor, grid: torch.Tensor, sigma: float) -> torch.Tensor:
    """3D Gaussian target cube: max over people of ``exp(-|x - c|^2 / 2 sigma^2)``.

    Args:
        centers: [B, P, 3] people centres (mm). valid: [B, P] bool.
        grid: [X, Y, Z, 3] voxel centres (mm).
        sigma: std in mm.
    Returns:
        [B, X, Y, Z] in [0, 1].
    """
    if centers.shape[1] == 0:
        return torch.zeros(centers.shape[0], *grid.shape[:-1], dtype=grid.dtype, device=grid.device)
    d2 = ((grid[None, None] - centers[:, :, None, None, None, :]) ** 2).sum(-1)  # [B, P, X, Y, Z]
    return (torch.exp(-d2 / (2 * sigma**2)) * valid[:, :, None, None, None]).amax(1)
