"""Homogeneous-graph baseline (HEIGHT's ``homo_transformer_obs``, "HomoGAT"): robot, humans and obstacles are
nodes of one type sharing one embedding, one self-attention over all of them, the robot node's output → GRU.

Node features are 8 numbers: robot ``[gx_r, gy_r, |g|, vx_r, vy_r, 0, 0, 0]``, human ``[Δx, Δy, vx, vy, 0, 0,
0, 0]``, obstacle its 4 corners in the robot frame. No lidar (obstacles enter as vertices, as in HEIGHT).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from navigation.config import NetworkConfig
from navigation.networks.attention import SelfAttentionOverSet
from navigation.networks.layers import MaskedGRU, SpatioTemporalTrunk, mlp

NODE_FEATURES = 8


class HomogeneousTrunk(SpatioTemporalTrunk):
    """Encoded observations ``[B, T, ...]`` → GRU features ``[B, T, hidden]``; state ``[B, hidden]``."""

    def __init__(self, cfg: NetworkConfig, lidar_rays: int) -> None:
        super().__init__()
        self.embed = mlp([NODE_FEATURES, 128])
        self.attention = SelfAttentionOverSet(128, cfg.hh_heads, cfg.attention_impl, cfg.attention_backend or None)
        self.out = mlp([128 + 128, 128])
        self.gru = MaskedGRU(128, cfg.hidden_size)
        self.state_size = self.feature_size = cfg.hidden_size

    def spatial(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """``enc`` entries ``[S, ...]`` → GRU input ``[S, 128]``."""
        robot = F.pad(enc["robot"], (0, NODE_FEATURES - enc["robot"].shape[-1]))[:, None]  # [S, 1, 8]
        humans = F.pad(enc["humans"], (0, NODE_FEATURES - enc["humans"].shape[-1]))  # [S, N, 8]
        nodes = torch.cat([robot, humans, enc["obstacles"]], dim=1)  # [S, 1+N+O, 8]
        mask = torch.cat([torch.ones_like(enc["human_mask"][:, :1]), enc["human_mask"], enc["obstacle_mask"]], 1)
        x = self.embed(nodes)
        y = self.attention(x, mask)
        return self.out(torch.cat([x[:, 0], y[:, 0]], dim=-1))
