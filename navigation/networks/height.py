"""HEIGHT's heterogeneous spatio-temporal graph trunk (``selfAttn_srnn_merge_lidar``, MISSION_ANCHORS §D.2).

robot node (7 features, see navigation.observation) → 64; humans (4) → 128 → human-human self-attention
(8 heads) → 64; robot-human attention (1 head, 128) → 64; lidar 1-D CNN → 64; robot 64→32 ‖ humans 64→32 ‖
lidar 64→64 → GRU(128) with resets.
Ablations: ``human_human_attention=False`` (per-human MLP), ``robot_human_attention=False`` (sum of the
human embeddings, as HEIGHT), ``use_lidar=False`` (no robot-obstacle branch).
"""

from __future__ import annotations

import torch
from torch import nn

from navigation.config import NetworkConfig
from navigation.networks.attention import RobotToSetAttention, SelfAttentionOverSet
from navigation.networks.layers import LidarCNN, MaskedGRU, SpatioTemporalTrunk, mlp
from navigation.observation import ROBOT_FEATURES

HUMAN_FEATURES = 4


class HeightTrunk(SpatioTemporalTrunk):
    """Encoded observations ``[B, T, ...]`` → GRU features ``[B, T, hidden]``; state ``[B, hidden]``."""

    def __init__(self, cfg: NetworkConfig, lidar_rays: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.robot_embed = mlp([ROBOT_FEATURES, 64])
        self.human_embed = mlp([HUMAN_FEATURES, 128])
        self.hh_attention = (
            SelfAttentionOverSet(128, cfg.hh_heads, cfg.attention_impl, cfg.attention_backend or None)
            if cfg.human_human_attention
            else None
        )
        self.human_out = mlp([128, 64])
        self.rh_attention = (
            RobotToSetAttention(64, 64, 128, cfg.rh_temperature, cfg.attention_impl, cfg.attention_backend or None)
            if cfg.robot_human_attention
            else None
        )
        self.lidar = nn.Sequential(LidarCNN(lidar_rays, 64), mlp([64, 64])) if cfg.use_lidar else None
        self.robot_to_gru = mlp([64, 32])
        self.human_to_gru = mlp([64, 32])
        self.gru = MaskedGRU(32 + 32 + (64 if cfg.use_lidar else 0), cfg.hidden_size)
        self.state_size = self.feature_size = cfg.hidden_size

    def spatial(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-step (non-recurrent) part on flattened steps: ``enc`` entries ``[S, ...]`` → GRU input ``[S, in]``."""
        robot = self.robot_embed(enc["robot"])  # [S, 64]
        mask = enc["human_mask"]  # [S, N]
        humans = self.human_embed(enc["humans"])  # [S, N, 128]
        if self.hh_attention is not None:
            humans = self.hh_attention(humans, mask)
        humans = self.human_out(humans)  # [S, N, 64]
        if self.rh_attention is not None:
            attended = self.rh_attention(robot, humans, mask)
        else:
            attended = (humans * mask[..., None]).sum(dim=1)
        parts = [self.robot_to_gru(robot), self.human_to_gru(attended)]
        if self.lidar is not None:
            parts.append(self.lidar(enc["lidar"]))
        return torch.cat(parts, dim=-1)
