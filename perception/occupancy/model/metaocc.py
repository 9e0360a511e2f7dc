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
    global attention, temporal fusion and head, so the three are directly comparable. A fusion sample whose
    radar stream is empty (`radar_lengths == 0`) takes the camera path: the radar features are zeroed and
    the local fusion weight is 0. The fusion variant also has a light auxiliary head per branch
    (`cfg.aux_heads`), trained so that each branch alone describes the scene.
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
        with_aux = cfg.variant == "fusion" and cfg.aux_heads
        self.aux_heads = nn.ModuleDict({b: OccupancyHead(cfg.channels, cfg.num_classes, cfg.downsample, refine=False)
                                        for b in ("camera", "radar")}) if with_aux else None

    def encode(self, frame: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One frame → `{"fused": F_T [B, C, X, Y, Z]}` (before temporal fusion), plus the branch features
        `camera`, `radar` `[B, C, X, Y, Z]` and `depth_logits [B, V, D, h, w]` of the branches that ran."""
        out: dict[str, torch.Tensor] = {}
        if self.camera is not None:
            out["camera"], out["depth_logits"] = self.camera(frame["images"], frame["K"], frame["cam2ego"],
                                                             self.centers)
        if self.radar is not None:
            out["radar"] = self.radar(frame["radar"], frame["radar_lengths"])
        if self.local_fusion is not None:
            present = frame["radar_lengths"] > 0
            f_c, f_r = out["camera"], out["radar"] * present.to(out["radar"].dtype).view(-1, 1, 1, 1, 1)
            out["fused"] = self.global_fusion(self.local_fusion(f_c, f_r, present), [f_c, f_r], residual=f_c)
        else:
            single = out["camera"] if self.camera is not None else out["radar"]
            out["fused"] = self.global_fusion(single, [single], residual=single)
        return out

    def decode(self, fused: torch.Tensor, bank: MemoryBank, ego2global: torch.Tensor) -> torch.Tensor:
        """Temporal fusion with the bank, then logits `[B, classes, 240, 160, 16]`; pushes `fused` to the bank."""
        x = fused
        if self.temporal is not None:
            x = self.temporal(fused, bank.aligned(ego2global, self.grid))
        bank.push(fused, ego2global)
        return self.head(x)

    def step(self, frame: dict[str, torch.Tensor], bank: MemoryBank) -> torch.Tensor:
        """Streaming inference: one new frame with a persistent `bank` (from :meth:`new_bank`) → logits."""
        return self.decode(self.encode(frame)["fused"], bank, frame["ego2global"])

    def new_bank(self) -> MemoryBank:
        """An empty memory bank sized for this model."""
        return MemoryBank(self.cfg.memory)

    def forward(self, frames: list[dict[str, torch.Tensor]], with_aux: bool = False
                ) -> torch.Tensor | dict[str, torch.Tensor]:
        """frames oldest first, current last → logits of the current frame `[B, classes, X, Y, Z]`.

        The history frames only fill the memory bank (no gradient), as a streaming run would have. With
        `with_aux` (training) the result is a dict: `logits`, `depth_logits [B, V, D, h, w]` (camera
        variants) and `aux_camera` / `aux_radar` logits `[B, classes, X, Y, Z]` (fusion with aux heads).
        """
        bank = self.new_bank()
        history = frames[:-1] if self.temporal is not None else []
        with torch.no_grad():
            for frame in history[-self.cfg.memory :] if history else []:
                bank.push(self.encode(frame)["fused"], frame["ego2global"])
        cur = frames[-1]
        enc = self.encode(cur)
        logits = self.decode(enc["fused"], bank, cur["ego2global"])
        if not with_aux:
            return logits
        out = {"logits": logits}
        if "depth_logits" in enc:
            out["depth_logits"] = enc["depth_logits"]
        if self.aux_heads is not None:
            out.update({f"aux_{b}": head(enc[b]) for b, head in self.aux_heads.items()})
        return out
