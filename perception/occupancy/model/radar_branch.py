"""Radar branch: PointPillars-style BEV encoding, then radar height self-attention lifting BEV to voxels."""

from __future__ import annotations

import torch
from torch import nn

from kernels import SetAttention
from perception.occupancy.grid import VoxelGrid
from perception.occupancy.model.config import ModelConfig


class PillarEncoder(nn.Module):
    """Padded radar points `[B, P, F]` (+ `lengths [B]`) → BEV features `[B, C, X, Y]` and per-voxel
    log point counts `[B, X, Y, Z]`.

    Each point gets its features plus its offset from the pillar centre, a shared linear layer, and the
    pillar keeps the channel-wise max (scatter-max), as PointPillars' PFN does.
    """

    def __init__(self, cfg: ModelConfig, grid: VoxelGrid) -> None:
        super().__init__()
        self.grid = grid
        self.pfn = nn.Sequential(nn.Linear(cfg.radar_in + 3, cfg.channels), nn.LayerNorm(cfg.channels), nn.ReLU())
        c = cfg.channels
        self.bev = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                 nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True))

    def forward(self, points: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, p, _ = points.shape
        X, Y, Z = self.grid.size
        lo = points.new_tensor(self.grid.point_range[:3])
        vs = points.new_tensor(self.grid.voxel_size)
        idx = ((points[..., :3] - lo) / vs).floor().long()
        valid = (torch.arange(p, device=points.device)[None] < lengths[:, None])
        valid &= ((idx >= 0) & (idx < idx.new_tensor([X, Y, Z]))).all(-1)
        centre = lo[:2] + (idx[..., :2].float() + 0.5) * vs[:2]
        feats = self.pfn(torch.cat([points, points[..., :2] - centre, points[..., 2:3]], dim=-1))
        c = feats.shape[-1]
        flat = idx[..., 0] * Y + idx[..., 1] + torch.arange(b, device=points.device)[:, None] * (X * Y)
        flat = torch.where(valid, flat, torch.zeros_like(flat))
        feats = torch.where(valid[..., None], feats, torch.zeros_like(feats))
        index = flat.reshape(-1, 1).expand(-1, c)
        bev = feats.new_zeros(b * X * Y, c).scatter_reduce_(0, index, feats.reshape(-1, c), "amax")
        bev = bev.view(b, X, Y, c).permute(0, 3, 1, 2)
        vox = torch.where(valid, flat * Z + idx[..., 2].clamp(0, Z - 1), torch.zeros_like(flat))
        counts = points.new_zeros(b * X * Y * Z).index_add_(0, vox.reshape(-1), valid.reshape(-1).float())
        return self.bev(bev), counts.view(b, X, Y, Z).log1p()


class RadarHeightAttention(nn.Module):
    """Lift BEV `[B, C, X, Y]` to voxels `[B, C, X, Y, Z]`: each column becomes Z tokens (BEV feature + height
    embedding + that voxel's radar point count), refined by self-attention along the height axis."""

    def __init__(self, cfg: ModelConfig, z: int) -> None:
        super().__init__()
        c = cfg.channels
        self.height = nn.Parameter(torch.randn(z, c) * 0.02)
        self.count = nn.Linear(1, c)
        self.norm1, self.norm2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn = SetAttention(c, cfg.heads)
        self.ffn = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))

    def forward(self, bev: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        b, c, X, Y = bev.shape
        z = self.height.shape[0]
        tok = bev.permute(0, 2, 3, 1)[..., None, :] + self.height + self.count(counts[..., None])  # [B,X,Y,Z,C]
        tok = tok.reshape(b * X * Y, z, c)
        lengths = torch.full((tok.shape[0],), z, dtype=torch.long, device=tok.device)
        tok = tok + self.attn(self.norm1(tok), lengths=lengths)
        tok = tok + self.ffn(self.norm2(tok))
        return tok.view(b, X, Y, z, c).permute(0, 4, 1, 2, 3).contiguous()


class RadarBranch(nn.Module):
    """Radar points `[B, P, F]` → radar voxel features F_r `[B, C, X, Y, Z]` on `grid`."""

    def __init__(self, cfg: ModelConfig, grid: VoxelGrid) -> None:
        super().__init__()
        self.pillars = PillarEncoder(cfg, grid)
        self.lift = RadarHeightAttention(cfg, grid.size[2])

    def forward(self, points: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        bev, counts = self.pillars(points, lengths)
        return self.lift(bev, counts)

