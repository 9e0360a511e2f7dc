"""Training objectives: SelfPose3d's self-supervised terms and VoxelPose's supervised ones."""

from __future__ import annotations

import torch
from scipy.optimize import linear_sum_assignment

from pose3d.multiview.geometry import Rig
from pose3d.multiview.heatmaps import gaussian_cube, render_gaussians


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``weight * (pred - target)^2`` (all [..., h, w] broadcastable)."""
    err = (pred - target) ** 2
    return (err * weight).mean() if weight is not None else err.mean()


def render_points(rig: Rig, points: torch.Tensor, weights: torch.Tensor, sigma: float) -> torch.Tensor:
    """Project [B, K, J, 3] world points into every view and draw them.

    Args:
        points: [B, K, J, 3] mm (K people). weights: [B, K, J], or [B, V, K, J] per view (0 = skip).
    Returns:
        [B, V, J, h, w] heatmaps; differentiable w.r.t. ``points``.
    """
    B, K, J, _ = points.shape
    uv, inside = rig.project(points.reshape(B, K * J, 3))
    V = uv.shape[1]
    w = weights.reshape(B, -1, K, J) * inside.reshape(B, V, K, J).to(points.dtype)
    return render_gaussians(uv.reshape(B, V, K, J, 2), w, *rig.heatmap_size, sigma)


def sample_synthetic_roots(
    batch: int, max_roots: int, center: list[float], size: list[float], offsets: list[list[float]], gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """SelfPose3d's synthetic roots: 1..``max_roots`` per sample, x and y uniform, z shared per sample
    plus N(0, 50 mm).

    Args:
        offsets: per axis (a, b): coordinates are drawn in [space min + a, space max + b] (mm).
    Returns:
        ([B, max_roots, 3] mm, [B, max_roots] bool valid).
    """
    c, s = torch.tensor(center), torch.tensor(size)
    lo = c - s / 2 + torch.tensor([o[0] for o in offsets])
    hi = c + s / 2 + torch.tensor([o[1] for o in offsets])
    if (hi < lo).any():
        raise ValueError(f"synthetic_root_range {offsets} leaves an empty range in space {center} +- {size}/2")
    counts = torch.randint(1, max_roots + 1, (batch,), generator=gen)
    valid = torch.arange(max_roots)[None] < counts[:, None]
    xy = lo[:2] + (hi[:2] - lo[:2]) * torch.rand(batch, max_roots, 2, generator=gen)
    z = lo[2] + (hi[2] - lo[2]) * torch.rand(batch, 1, 1, generator=gen)
    z = z + 50 * torch.randn(batch, max_roots, 1, generator=gen)
    return torch.cat([xy, z], -1), valid


def root_confidence_pool(joints_2d_vis: torch.Tensor, root: int) -> list[torch.Tensor]:
    """The root-joint confidences that the detections drew into each sample's root channel.

    Args:
        joints_2d_vis: [B, V, P, J] pseudo-pose confidences (0 = missing joint; a pose with no joint is padding).
        root: root joint index.
    Returns:
        B tensors [N_b]: the root confidence of every pseudo pose of every view (0 where its root is missing).
    """
    detected = (joints_2d_vis > 0).any(-1)  # [B, V, P]
    return [joints_2d_vis[b, ..., root][detected[b]].clamp(0, 1) for b in range(len(joints_2d_vis))]


def synthetic_root_heatmaps(
    rig: Rig,
    roots: torch.Tensor,
    valid: torch.Tensor,
    sigma: float,
    noise: float,
    gen: torch.Generator,
    confidences: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """[B, P, 3] roots -> [B, V, 1, h, w] root heatmaps with additive Gaussian noise, clipped to [0, 1].

    Each root is drawn in each view as a Gaussian of std ``sigma`` heatmap pixels, like the detection-built
    root channel. Its amplitude is 1 (SelfPose3d) when ``confidences`` is None; otherwise it is drawn
    per (root, view) from that sample's pool (see :func:`root_confidence_pool`), so that the synthetic
    roots are as strong, as weak and as often missing in a view as the real roots the root net sees at
    test time (an empty pool gives 1).
    """
    B, P, _ = roots.shape
    amp = torch.ones(B, rig.K.shape[1], P, dtype=roots.dtype, device=roots.device)  # [B, V, P]
    if confidences is not None:
        for b, pool in enumerate(confidences):
            if len(pool):
                pick = torch.randint(len(pool), amp.shape[1:], generator=gen)
                amp[b] = pool.to(roots.dtype)[pick.to(pool.device)]
    maps = render_points(rig, roots.unsqueeze(2), (amp * valid[:, None].to(roots.dtype)).unsqueeze(-1), sigma)
    return (maps + noise * torch.randn(maps.shape, generator=gen)).clamp(0, 1)


def root_target(roots: torch.Tensor, valid: torch.Tensor, grid: torch.Tensor, sigma: float) -> torch.Tensor:
    """[B, X, Y, Z] 3D Gaussian target of the roots (mm)."""
    return gaussian_cube(roots, valid, grid, sigma)


def hungarian_l1(
    pred_hm: torch.Tensor,
    pred_valid: torch.Tensor,
    pseudo_hm: torch.Tensor,
    pseudo_vis: torch.Tensor,
    size: tuple[int, int],
    pred_inside: torch.Tensor | None = None,
) -> torch.Tensor:
    """Visibility-weighted L1 between projected predictions and pseudo poses, matched one-to-one per view.

    Args:
        pred_hm: [B, V, K, J, 2] projected predicted joints (heatmap px). pred_valid: [B, K] bool.
        pseudo_hm: [B, V, P, J, 2] pseudo poses (heatmap px). pseudo_vis: [B, V, P, J].
        size: (h, w), coordinates are divided by it.
        pred_inside: [B, V, K, J] bool, projected joints that land in the heatmap (others are ignored).
    Returns:
        scalar mean matched cost (0 when nothing can be matched).
    """
    scale = pred_hm.new_tensor([size[1], size[0]])
    costs = []
    B, V = pred_hm.shape[:2]
    for b in range(B):
        keep = pred_valid[b].nonzero().flatten()
        for v in range(V):
            people = (pseudo_vis[b, v] > 0).any(-1).nonzero().flatten()
            if len(keep) == 0 or len(people) == 0:
                continue
            p = pred_hm[b, v, keep] / scale  # [k, J, 2]
            g = pseudo_hm[b, v, people] / scale  # [q, J, 2]
            w = (pseudo_vis[b, v, people] > 0).to(p.dtype)[None]  # [1, q, J]
            if pred_inside is not None:
                w = w * pred_inside[b, v, keep][:, None].to(p.dtype)  # [k, q, J]
            cost = ((p[:, None] - g[None]).abs().sum(-1) * w).sum(-1) / w.sum(-1).clamp(min=1)
            rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
            costs.append(cost[torch.as_tensor(rows), torch.as_tensor(cols)])
    return torch.cat(costs).mean() if costs else pred_hm.sum() * 0


def to_heatmap_px(points_px: torch.Tensor, affine: torch.Tensor) -> torch.Tensor:
    """[B, V, P, J, 2] original pixels through [B, V, 2, 3] affines -> heatmap pixels."""
    return points_px @ affine[..., :2].transpose(-1, -2).unsqueeze(2) + affine[..., 2][:, :, None, None, :]
