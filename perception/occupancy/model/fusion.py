"""Local adaptive fusion and global cross-attention fusion of camera and radar voxel features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kernels import NeighborhoodAttention3d
from perception.occupancy.model.config import ModelConfig


class LocalAdaptiveFusion(nn.Module):
    """F_laf = W ⊙ F_r + (1 − W) ⊙ F_c with per-voxel, per-channel weights W from both inputs; W = 0 for the
    samples whose radar stream is missing, so F_laf is then exactly the camera features."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Conv3d(2 * channels, channels, 3, padding=1)

    def forward(self, f_cam: torch.Tensor, f_radar: torch.Tensor, radar_present: torch.Tensor) -> torch.Tensor:
        """`[B, C, X, Y, Z]` each and `radar_present [B]` (bool) → `[B, C, X, Y, Z]`."""
        w = torch.sigmoid(self.weight(torch.cat([f_cam, f_radar], dim=1)))
        w = w * radar_present.to(w.dtype).view(-1, 1, 1, 1, 1)
        return w * f_radar + (1 - w) * f_cam


class GlobalCrossAttentionFusion(nn.Module):
    """F_m = F_laf + NA3D(F_laf; neighbourhood ∪ global tokens pooled from F_c and F_r); returns F_m + F_c.

    The neighbourhood keeps local detail; the pooled tokens of every given modality give each voxel a view
    of the whole scene (`kernels.na3d` with additional keys/values).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        c = cfg.channels
        self.pool = cfg.global_tokens
        self.norm, self.norm_tok, self.norm2 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.attn = NeighborhoodAttention3d(c, cfg.heads, kernel_size=cfg.na_kernel)
        self.ffn = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))

    def forward(self, f_laf: torch.Tensor, sources: list[torch.Tensor], residual: torch.Tensor) -> torch.Tensor:
        """f_laf, each source and residual `[B, C, X, Y, Z]` → fused `[B, C, X, Y, Z]`."""
        tokens = torch.cat([F.adaptive_avg_pool3d(s, self.pool).flatten(2).transpose(1, 2) for s in sources], 1)
        x = f_laf.permute(0, 2, 3, 4, 1)  # [B, X, Y, Z, C]
        x = x + self.attn(self.norm(x), extra_tokens=self.norm_tok(tokens))
        x = x + self.ffn(self.norm2(x))
        return x.permute(0, 4, 1, 2, 3) + residual
