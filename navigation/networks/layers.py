"""Building blocks shared by the policy networks: MLPs, the lidar 1-D CNN, a GRU with episode-reset masks."""

from __future__ import annotations

import torch
from torch import nn


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, last_activation: bool = True) -> nn.Sequential:
    """``Linear`` layers between consecutive ``sizes`` with ``activation`` after each (optionally not the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class LidarCNN(nn.Module):
    """HEIGHT's robot-obstacle branch: 4 strided 1-D convolutions over the scan, flatten, Linear → ``out``.

    Conv(1→16, k10, s2) → Conv(16→32, k5, s2) → Conv(32→32, k5, s2) → Conv(32→32, k5, s2), ReLU after each;
    180 rays give 32 × 8 = 256 features.
    """

    def __init__(self, rays: int = 180, out: int = 64) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(1, 16, 10, stride=2), nn.ReLU(),
            nn.Conv1d(16, 32, 5, stride=2), nn.ReLU(),
            nn.Conv1d(32, 32, 5, stride=2), nn.ReLU(),
            nn.Conv1d(32, 32, 5, stride=2), nn.ReLU(),
        )
        with torch.no_grad():
            flat = self.conv(torch.zeros(1, 1, rays)).numel()
        if flat == 0:
            raise ValueError(f"LidarCNN: {rays} rays is too few for the 4 strided convolutions")
        self.fc = nn.Sequential(nn.Linear(flat, out), nn.ReLU())

    def forward(self, scan: torch.Tensor) -> torch.Tensor:
        """scan ``[..., rays]`` → ``[..., out]``."""
        lead = scan.shape[:-1]
        x = self.conv(scan.reshape(-1, 1, scan.shape[-1]))
        return self.fc(x.flatten(1)).reshape(*lead, -1)


class MaskedGRU(nn.Module):
    """GRU over time whose hidden state is zeroed where an episode starts.

    ``masks[b, t] == 0`` means step ``t`` of sequence ``b`` is the first step of a new episode, so the
    state carried into it is reset (as in HEIGHT's ``_forward_gru``).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.cell = nn.GRUCell(input_size, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor, h: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x ``[B, T, in]``, h ``[B, hidden]``, masks ``[B, T]`` → outputs ``[B, T, hidden]``, last h."""
        outs = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h * masks[:, t, None])
            outs.append(h)
        return torch.stack(outs, dim=1), h


class SpatioTemporalTrunk(nn.Module):
    """A graph encoder applied at every step (``spatial``), then a :class:`MaskedGRU` over time (``gru``)."""

    gru: MaskedGRU

    def spatial(self, enc: dict[str, torch.Tensor]) -> torch.Tensor:
        """``enc`` entries ``[S, ...]`` → GRU input ``[S, in]``."""
        raise NotImplementedError

    def forward(
        self, enc: dict[str, torch.Tensor], state: torch.Tensor, masks: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """enc ``[B, T, ...]``, state ``[B, hidden]``, masks ``[B, T]`` → features ``[B, T, hidden]``, state."""
        b, t = masks.shape
        x = self.spatial({k: v.flatten(0, 1) for k, v in enc.items()}).unflatten(0, (b, t))
        return self.gru(x, state, masks)
