"""Occupancy head: 3D conv refinement, then per-voxel logits for every label sub-voxel (channel-to-voxel)."""

from __future__ import annotations

import torch
from torch import nn


class OccupancyHead(nn.Module):
    """Features `[B, C, X, Y, Z]` → logits `[B, classes, X*fx, Y*fy, Z*fz]` for the full-resolution grid.

    Each coarse voxel predicts the logits of its fx*fy*fz label voxels (a 3D pixel-shuffle), which keeps
    thin structures sharper than trilinear upsampling at the cost of one linear layer.
    """

    def __init__(self, channels: int, num_classes: int, factor: tuple[int, int, int], refine: bool = True) -> None:
        """`refine=False` gives the light per-branch auxiliary head (the 1x1 classifier alone)."""
        super().__init__()
        self.factor, self.num_classes = factor, num_classes
        c = channels
        self.refine = nn.Sequential(nn.Conv3d(c, c, 3, padding=1), nn.BatchNorm3d(c), nn.ReLU(inplace=True),
                                    nn.Conv3d(c, c, 3, padding=1), nn.BatchNorm3d(c), nn.ReLU(inplace=True)
                                    ) if refine else None
        self.classify = nn.Conv3d(c, num_classes * factor[0] * factor[1] * factor[2], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, X, Y, Z = x.shape
        fx, fy, fz = self.factor
        y = self.classify(x if self.refine is None else self.refine(x) + x)
        y = y.view(b, self.num_classes, fx, fy, fz, X, Y, Z).permute(0, 1, 5, 2, 6, 3, 7, 4)
        return y.reshape(b, self.num_classes, X * fx, Y * fy, Z * fz)
