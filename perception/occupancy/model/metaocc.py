"""MetaOcc: surround cameras + 4D radars → 3D semantic occupancy, with a temporal memory bank."""

from __future__ import annotations

from collections import deque

import torch
from torch import nn

from perception.occupancy.grid import OMNIHD_GRID, VoxelGrid
from perception.occupancy.model.camera_branch import CameraBranch
from perception.occupancy.model.config import ModelConfig
from perception.occupancy.model.fusion import GlobalCrossAttentionFusion, LocalAdaptiveFusion
from perception.occupancy.model.head import OccupancyHead
from perception.occupancy.model.radar_branch import RadarBranch
from perception.occupancy.model.temporal import TemporalFusion, warp_to_current


class MemoryBank:
    """The last `size` fused volumes `[B, C, X, Y, Z]` (detached) with their ego→global poses `[B, 4, 4]`."""

    def __init__(self, size: int) -> None:
        self.entries: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=max(size, 1))
        self.size = size

    def push(self, volume: torch.Tensor, ego2global: torch.Tensor) -> None:
        if self.size > 0:
            self.entries.append((volume.detach(), ego2global.double()))

    def aligned(self, ego2global: torch.Tensor, grid: VoxelGrid) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Every stored volume warped into the frame with pose `ego2global [B, 4, 4]`."""
        cur_inv = torch.linalg.inv(ego2global.double())
        return [warp_to_current(vol, (cur_inv @ e2g).float(), grid) for vol, e2g in self.entries]


class MetaOcc(nn.Module):
    """The full network. A frame is a dict with `images [B, V, 3, H, W]`, `K [B, V, 3, 3]`,
    `cam2ego [B, V, 4, 4]`, `radar [B, P, 8]`, `radar_lengths [B]`, `ego2global [B, 4, 4]`.

    Variants (`cfg.variant`): `fusion` uses both branches; `camera` and `radar` use one, with the same
    global attention, temporal fusion and head, so the three are directly comparable.
    """

    def __init__(self, cfg: ModelConfig, grid: VoxelGrid = OMNIHD_GRID) -> None:
        super().__init__()
        self.cfg, self.label_grid = cfg, grid
        self.grid = grid.scaled(cfg.downsample)
        self.register_buffer("centers", self.grid.centers(), persistent=False)
        self.camera = CameraBranch(cfg, self.grid.size) if cfg.variant in ("fusion", "camera") else None
        self.radar = RadarBranch(cfg, self.grid) if cfg.variant in ("fusion", "radar") else None
        self.local_fusion = LocalAdaptiveFusion(cfg.channels) if cfg.variant == "fusion" else None
        self.global_fusion = GlobalCrossAttentionFusion(cfg)
        self.temporal = TemporalFusion(cfg.channels) if cfg.memory > 0 else None
        self.head = OccupancyHead(cfg.channels, cfg.num_classes, cfg.downsample)

    def encode(self, frame: dict[str, torch.Tensor]) -> torch.Tensor:
        """One frame → fused voxel features F_T `[B, C, X, Y, Z]` (before temporal fusion)."""
        f_c = f_r = None
        if self.camera is not None:
            f_c = self.camera(frame["images"], frame["K"], frame["cam2ego"], self.centers)
        if self.radar is not None:
            f_r = self.radar(frame["radar"], frame["radar_lengths"])
        if f_c is not None and f_r is not None:
            assert self.local_fusion is not None
            return self.global_fusion(self.local_fusion(f_c, f_r), [f_c, f_r], residual=f_c)
        single = f_c if f_c is not None else f_r
        assert single is not None
        return self.global_fusion(single, [single], residual=single)

    def decode(self, fused: torch.Tensor, bank: MemoryBank, ego2global: torch.Tensor) -> torch.Tensor:
        """Temporal fusion with the bank, then logits `[B, classes, 240, 160, 16]`; pushes `fused` to the bank."""
        x = fused
        if self.temporal is not None:
            x = self.temporal(fused, bank.aligned(ego2global, self.grid))
        bank.push(fused, ego2global)
        return self.head(x)

    def step(self, frame: dict[str, torch.Tensor], bank: MemoryBank) -> torch.Tensor:
        """Streaming inference: one new frame with a persistent `bank` (from :meth:`new_bank`) → logits."""
        return self.decode(self.encode(frame), bank, frame["ego2global"])

    def new_bank(self) -> MemoryBank:
        """An empty memory bank sized for this model."""
        return MemoryBank(self.cfg.memory)

    def forward(self, frames: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """frames oldest first, current last → logits of the current frame `[B, classes, X, Y, Z]`.

        The history frames only fill the memory bank (no gradient), as a streaming run would have.
        """
        bank = self.new_bank()
        history = frames[:-1] if self.temporal is not None else []
        with torch.no_grad():
            for frame in history[-self.cfg.memory :] if history else []:
                bank.push(self.encode(frame), frame["ego2global"])
        cur = frames[-1]
        return self.decode(self.encode(cur), bank, cur["ego2global"])
