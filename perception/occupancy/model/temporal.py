"""Temporal memory bank: past fused voxel volumes, warped into the current ego frame and fused."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from perception.occupancy.grid import VoxelGrid


def warp_to_current(volume: torch.Tensor, prev2cur: torch.Tensor, grid: VoxelGrid) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample a past volume `[B, C, X, Y, Z]` at the current voxel centres.

    Args:
        prev2cur: `[B, 4, 4]` past ego frame → current ego frame.
    Returns:
        the aligned volume `[B, C, X, Y, Z]` and a validity mask `[B, 1, X, Y, Z]` (centres that fall
        inside the past grid).
    """
    b = volume.shape[0]
    centers = grid.centers(volume.device).reshape(-1, 3)  # current frame
    cur2prev = torch.linalg.inv(prev2cur.float())
    p = centers @ cur2prev[:, :3, :3].transpose(1, 2) + cur2prev[:, None, :3, 3]  # [B, N, 3]
    lo = p.new_tensor(grid.point_range[:3])
    hi = p.new_tensor(grid.point_range[3:])
    norm = 2 * (p - lo) / (hi - lo) - 1  # x, y, z in [-1, 1]
    # grid_sample's last dim is (W, H, D) = (z, y, x) for a volume laid out [X, Y, Z]
    g = norm.flip(-1).view(b, *grid.size, 3)
    out = F.grid_sample(volume, g, mode="bilinear", padding_mode="zeros", align_corners=False)
    valid = (norm.abs() <= 1).all(-1).view(b, 1, *grid.size).float()
    return out, valid


class TemporalFusion(nn.Module):
    """F_out = conv([F_T, mean of aligned memory, validity]) + F_T; identity-like when the bank is empty."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fuse = nn.Sequential(nn.Conv3d(2 * channels + 1, channels, 3, padding=1), nn.BatchNorm3d(channels),
                                  nn.ReLU(inplace=True), nn.Conv3d(channels, channels, 1))

    def forward(self, current: torch.Tensor, aligned: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """current `[B, C, X, Y, Z]`; aligned: (volume, mask) pairs from :func:`warp_to_current`."""
        if aligned:
            vol = torch.stack([a for a, _ in aligned]).sum(0)
            mask = torch.stack([m for _, m in aligned]).sum(0)
            memory = vol / mask.clamp(min=1)
            valid = (mask > 0).float()
        else:
            memory = torch.zeros_like(current)
            valid = current.new_zeros(current.shape[0], 1, *current.shape[2:])
        return current + self.fuse(torch.cat([current, memory, valid], dim=1))
