"""SelfPose3d / VoxelPose model: 2D heatmaps -> root cube -> proposals -> per-person pose cubes -> joints."""

from __future__ import annotations

import torch
from torch import nn

from pose3d.multiview.config import ModelConfig
from pose3d.multiview.geometry import Rig, cube_offsets, subvoxel_offsets
from pose3d.multiview.networks import PoseResNet, V2VNet
from pose3d.skeleton import ROOT

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def project_to_cube(
    heatmaps: torch.Tensor, rig: Rig, centers: torch.Tensor, offsets: torch.Tensor, min_views: int = 1
) -> torch.Tensor:
    """Fill cubes by sampling every view's heatmaps at the projections of the voxel centres.

    Projection includes lens distortion; views where a voxel falls outside the image (or behind the
    camera) do not count; the result is the mean over the other views, clamped to [0, 1], and zero
    where fewer than ``min_views`` views see the voxel (one view alone only says "somewhere on this ray").

    Args:
        heatmaps: [B, V, C, h, w]. rig: cameras of the B frames.
        centers: [B, 3] cube centres (mm). offsets: [X, Y, Z, 3] voxel offsets (mm).
    Returns:
        [B, C, X, Y, Z].
    """
    B, V, C, h, w = heatmaps.shape
    X, Y, Z, _ = offsets.shape
    points = centers[:, None, :] + offsets.reshape(1, -1, 3)  # [B, N, 3]
    uv, valid = rig.project(points)  # [B, V, N, 2], [B, V, N]
    norm = torch.stack([uv[..., 0] / (w - 1), uv[..., 1] / (h - 1)], -1) * 2 - 1
    sampled = nn.functional.grid_sample(
        heatmaps.reshape(B * V, C, h, w), norm.reshape(B * V, 1, -1, 2), align_corners=True
    ).reshape(B, V, C, -1)
    valid = valid.unsqueeze(2).to(sampled.dtype)
    count = valid.sum(1)
    cube = (sampled * valid).sum(1) / count.clamp(min=1) * (count >= min_views)
    return cube.clamp(0, 1).reshape(B, C, X, Y, Z)


def project_to_cube_subvoxel(
    heatmaps: torch.Tensor, rig: Rig, centers: torch.Tensor, points: torch.Tensor, samples: int, min_views: int = 1
) -> torch.Tensor:
    """:func:`project_to_cube` with each voxel the max over its ``samples``^3 sub-voxel points.

    A joint between the centres of voxels much larger than its heatmap Gaussian reads only a weak
    value at all of them; the max over sub-voxel points keeps its peak (a box-max pre-filter).

    Args:
        heatmaps: [B, V, C, h, w]. centers: [B, 3] mm. points: [X, Y, Z * samples^3, 3] from
            :func:`~pose3d.multiview.geometry.subvoxel_offsets`.
    Returns:
        [B, C, X, Y, Z].
    """
    X, Y, ZS, _ = points.shape
    dense = project_to_cube(heatmaps, rig, centers, points, min_views)  # [B, C, X, Y, Z * s^3]
    return dense.reshape(*dense.shape[:2], X, Y, ZS // samples**3, samples**3).amax(-1)


def soft_argmax(cube: torch.Tensor, grid: torch.Tensor, beta: float) -> torch.Tensor:
    """[N, J, X, Y, Z] scores and [N, X, Y, Z, 3] voxel centres -> [N, J, 3] expected positions."""
    prob = torch.softmax(beta * cube.flatten(2), dim=-1)
    return prob @ grid.reshape(grid.shape[0], -1, 3)


def nms_proposals(root_cube: torch.Tensor, grid: torch.Tensor, max_people: int) -> tuple[torch.Tensor, torch.Tensor]:
    """3D max-pool NMS: local maxima of the root cube, best ``max_people`` of them, each refined to the
    score-weighted centroid of its 3x3x3 neighbourhood (sub-voxel; a plain VoxelPose peak is the voxel).

    Args:
        root_cube: [B, X, Y, Z]. grid: [X, Y, Z, 3] voxel centres (mm).
    Returns:
        ([B, K, 3] centres in mm, [B, K] scores), K = min(max_people, voxels).
    """
    pooled = nn.functional.max_pool3d(root_cube.unsqueeze(1), 3, stride=1, padding=1).squeeze(1)
    peaks = torch.where(root_cube == pooled, root_cube, torch.zeros_like(root_cube)).flatten(1)
    scores, idx = peaks.topk(min(max_people, peaks.shape[1]), dim=1)
    weight = root_cube.clamp(min=0).unsqueeze(1)  # [B, 1, X, Y, Z]
    ones = weight.new_ones(1, 1, 3, 3, 3)
    den = nn.functional.conv3d(weight, ones, padding=1)
    coords = grid.permute(3, 0, 1, 2).unsqueeze(1)  # [3, 1, X, Y, Z]
    num = torch.cat([nn.functional.conv3d(weight * coords[c], ones, padding=1) for c in range(3)], 1)
    refined = torch.where(den > 1e-6, num / den.clamp(min=1e-6), grid.permute(3, 0, 1, 2).unsqueeze(0))
    centers = torch.gather(refined.flatten(2), 2, idx.unsqueeze(1).expand(-1, 3, -1)).transpose(1, 2)
    return centers, scores


class SelfPose3dModel(nn.Module):
    """The full multi-view multi-person model.

    ``input == "images"``: a PoseResNet gives heatmaps; ``"detections"``: heatmaps are given (drawn from
    2D poses) and there is no backbone. The optional attention network gives SelfPose3d's adaptive
    supervision weights during training.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.input not in ("images", "detections"):
            raise ValueError(f"model.input must be 'images' or 'detections', got {cfg.input!r}")
        if any(v % 32 for v in cfg.image_size):
            raise ValueError(f"model.image_size {cfg.image_size} must be multiples of 32 (ResNet stride)")
        for name in ("root_cube", "pose_cube"):
            if any(v % 4 for v in getattr(cfg, name)):
                raise ValueError(f"model.{name} {getattr(cfg, name)} must be multiples of 4 (V2V pooling)")
        self.cfg = cfg
        J = cfg.num_joints
        self.backbone = PoseResNet(cfg.backbone_depth, cfg.deconv_channels, J) if cfg.input == "images" else None
        self.attention = (
            PoseResNet(18, cfg.attention_deconv_channels, J, sigmoid=True)
            if cfg.attention and cfg.input == "images"
            else None
        )
        self.root_net = V2VNet(1, 1, cfg.v2v_width)
        self.pose_net = V2VNet(J, J, cfg.v2v_width, residual=cfg.pose_residual)
        self.register_buffer("space_center", torch.tensor(cfg.space_center, dtype=torch.float32), persistent=False)
        self.register_buffer(
            "root_offsets", cube_offsets(tuple(cfg.space_size), tuple(cfg.root_cube)), persistent=False
        )
        self.register_buffer(
            "pose_offsets", cube_offsets(tuple(cfg.pose_cube_size), tuple(cfg.pose_cube)), persistent=False
        )
        if cfg.root_subvoxels < 1:
            raise ValueError(f"model.root_subvoxels must be >= 1, got {cfg.root_subvoxels}")
        self.register_buffer(
            "root_points",
            subvoxel_offsets(self.root_offsets, tuple(cfg.space_size), cfg.root_subvoxels),
            persistent=False,
        )
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(3, 1, 1), persistent=False)

    @property
    def root_grid(self) -> torch.Tensor:
        """[X, Y, Z, 3] root-cube voxel centres (mm)."""
        return self.root_offsets + self.space_center

    def heatmaps(self, images: torch.Tensor) -> torch.Tensor:
        """[B, V, 3, H, W] RGB in [0, 1] -> [B, V, J, H/4, W/4] heatmaps."""
        if self.backbone is None:
            raise RuntimeError("model.input is 'detections': there is no backbone; pass heatmaps")
        B, V = images.shape[:2]
        x = (images.flatten(0, 1) - self.mean) / self.std
        out = self.backbone(x)
        return out.reshape(B, V, *out.shape[1:])

    def attention_maps(self, images: torch.Tensor) -> torch.Tensor:
        """[B, V, 3, H, W] -> [B, V, J, H/4, W/4] supervision weights in (0, 1)."""
        if self.attention is None:
            raise RuntimeError("model.attention is off")
        B, V = images.shape[:2]
        out = self.attention((images.flatten(0, 1) - self.mean) / self.std)
        return out.reshape(B, V, *out.shape[1:])

    def root_cube(self, root_heatmaps: torch.Tensor, rig: Rig) -> torch.Tensor:
        """[B, V, 1, h, w] root heatmaps -> [B, X, Y, Z] root-net output."""
        B = root_heatmaps.shape[0]
        cube = project_to_cube_subvoxel(  # root_subvoxels = 1: the plain cube (VoxelPose)
            root_heatmaps, rig, self.space_center.expand(B, 3), self.root_points, self.cfg.root_subvoxels,
            self.cfg.min_views,
        )
        return self.root_net(cube).squeeze(1)

    def poses(self, heatmaps: torch.Tensor, rig: Rig, centers: torch.Tensor) -> torch.Tensor:
        """Per-proposal pose cubes + soft-argmax, all proposals of a frame in one V2V batch.

        Args:
            heatmaps: [B, V, J, h, w]. centers: [B, K, 3] proposal centres (mm).
        Returns:
            [B, K, J, 3] joints (mm).
        """
        B, K = centers.shape[:2]
        if K == 0:
            return heatmaps.new_zeros(B, 0, self.cfg.num_joints, 3)
        flat = centers.reshape(B * K, 3)
        cubes = project_to_cube(
            heatmaps.repeat_interleave(K, 0), rig.repeat_interleave(K), flat, self.pose_offsets, self.cfg.min_views
        )
        grid = flat[:, None, None, None, :] + self.pose_offsets
        return soft_argmax(self.pose_net(cubes), grid, self.cfg.softargmax_beta).reshape(B, K, -1, 3)

    def poses_of_valid(
        self, heatmaps: torch.Tensor, rig: Rig, centers: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`poses` computed only for ``valid`` [B, K] proposals; zeros elsewhere. Returns [B, K, J, 3]."""
        out = heatmaps.new_zeros(*centers.shape[:2], self.cfg.num_joints, 3)
        for b in range(centers.shape[0]):
            keep = valid[b].nonzero().flatten()
            if len(keep):
                one = self.poses(heatmaps[b : b + 1], rig.select(slice(b, b + 1)), centers[b : b + 1, keep])[0]
                out = out.index_put((torch.full_like(keep, b), keep), one)
        return out

    @torch.no_grad()
    def propose(self, heatmaps: torch.Tensor, rig: Rig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Root cube and proposals: ([B, X, Y, Z], [B, K, 3] centres, [B, K] scores)."""
        cube = self.root_cube(heatmaps[:, :, ROOT : ROOT + 1], rig)
        centers, scores = nms_proposals(cube, self.root_grid, self.cfg.max_people)
        return cube, centers, scores

    def forward(
        self, rig: Rig, images: torch.Tensor | None = None, heatmaps: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Inference.

        Returns:
            ``heatmaps`` [B, V, J, h, w], ``root_cube`` [B, X, Y, Z], ``centers`` [B, K, 3],
            ``scores`` [B, K], ``valid`` [B, K] (score above the threshold), ``poses`` [B, K, J, 3] mm
            (zeros where not valid).
        """
        if heatmaps is None:
            if images is None:
                raise ValueError("pass images or heatmaps")
            heatmaps = self.heatmaps(images)
        cube, centers, scores = self.propose(heatmaps, rig)
        valid = scores > self.cfg.proposal_threshold
        poses = self.poses_of_valid(heatmaps, rig, centers, valid)
        return {
            "heatmaps": heatmaps,
            "root_cube": cube,
            "centers": centers,
            "scores": scores,
            "valid": valid,
            "poses": poses,
        }
