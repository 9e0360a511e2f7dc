"""DS-RNN-style baseline (``dsrnn_obs_vertex``): a structural RNN with one recurrent edge per human slot.

Per step: each human slot's spatial edge ``[Δx, Δy, vx, vy]`` → 64 → edge GRU (shared weights, own state per
slot; a slot's state is dropped while it is empty); the robot's temporal edge (its velocity) → 64 → temporal
GRU; attention of the temporal state over the valid edge states (``kernels.set_attention``); the robot node
(goal, velocity, and the flattened obstacle vertices, as the ``_obs_vertex`` variant) → 64; node GRU over
``[node ‖ temporal ‖ attended]``. The recurrent state is the concatenation of all GRU states.
"""

from __future__ import annotations

import torch
from torch import nn

from kernels import set_attention
from navigation.config import NetworkConfig
from navigation.networks.layers import mlp
from navigation.observation import ROBOT_FEATURES

EDGE = 64


class DSRNNTrunk(nn.Module):
    """Encoded observations ``[B, T, ...]`` → node-GRU features ``[B, T, hidden]``.

    State ``[B, N·64 + 64 + hidden]`` (edge, temporal and node GRU states).
    """

    def __init__(self, cfg: NetworkConfig, lidar_rays: int, max_humans: int, max_obstacles: int) -> None:
        super().__init__()
        self.max_humans, self.hidden = max_humans, cfg.hidden_size
        self.backend = cfg.attention_backend or None
        self.edge_embed = mlp([4, EDGE])
        self.edge_gru = nn.GRUCell(EDGE, EDGE)
        self.temporal_embed = mlp([2, EDGE])
        self.temporal_gru = nn.GRUCell(EDGE, EDGE)
        self.q = nn.Linear(EDGE, EDGE)
        self.k = nn.Linear(EDGE, EDGE)
        self.node_embed = mlp([ROBOT_FEATURES + 8 * max_obstacles, EDGE])
        self.node_gru = nn.GRUCell(3 * EDGE, cfg.hidden_size)
        self.state_size = max_humans * EDGE + EDGE + cfg.hidden_size
        self.feature_size = cfg.hidden_size

    def forward(
        self, enc: dict[str, torch.Tensor], state: torch.Tensor, masks: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """enc ``[B, T, ...]``, state ``[B, state_size]``, masks ``[B, T]`` → features ``[B, T, hidden]``, state."""
        b, t = masks.shape
        n = self.max_humans
        edge_h = state[:, : n * EDGE].reshape(b, n, EDGE)
        temp_h = state[:, n * EDGE : n * EDGE + EDGE]
        node_h = state[:, n * EDGE + EDGE :]
        edges_in = self.edge_embed(enc["humans"])  # [B, T, N, 64]
        temp_in = self.temporal_embed(enc["robot"][..., 3:5])  # [B, T, 64]
        node_in = self.node_embed(torch.cat([enc["robot"], enc["obstacles"].flatten(-2)], dim=-1))  # [B, T, 64]
        outs = []
        for s in range(t):
            keep = masks[:, s, None]
            valid = enc["human_mask"][:, s]  # [B, N]
            edge_h = self.edge_gru(edges_in[:, s].reshape(b * n, EDGE), (edge_h * keep[..., None]).reshape(b * n, EDGE))
            edge_h = edge_h.reshape(b, n, EDGE) * valid[..., None]
            temp_h = self.temporal_gru(temp_in[:, s], temp_h * keep)
            q = self.q(temp_h)[:, None, None, :]
            k = self.k(edge_h)[:, :, None, :]
            v = edge_h[:, :, None, :]
            attended = set_attention(q, k, v, key_padding_mask=~valid, backend=self.backend)[:, 0, 0]
            node_h = self.node_gru(torch.cat([node_in[:, s], temp_h, attended], dim=-1), node_h * keep)
            outs.append(node_h)
        return torch.stack(outs, dim=1), torch.cat([edge_h.flatten(1), temp_h, node_h], dim=1)
