"""Typed configuration of the MetaOcc network."""

from __future__ import annotations

from dataclasses import dataclass

VARIANTS = ("fusion", "camera", "radar")


@dataclass
class ModelConfig:
    """Sizes and switches of MetaOcc; the `small` and `r50` presets in `configs/occupancy/` fill these in."""

    variant: str = "fusion"
    """`fusion` (camera + radar), `camera` (camera only) or `radar` (radar only)"""
    backbone: str = "resnet18"
    """torchvision ResNet name for the camera branch (`resnet18`, `resnet34`, `resnet50`, ...)"""
    backbone_checkpoint: str = ""
    """local torchvision state-dict file for the backbone; empty = random init (nothing is downloaded)"""
    channels: int = 32
    """voxel feature channels"""
    downsample: tuple[int, int, int] = (4, 4, 2)
    """feature grid = label grid // downsample (60 x 40 x 8 for the OmniHD grid)"""
    camera_stride: int = 8
    """image feature stride of the camera branch: 8 (FPN of ResNet stages 2-3) or 4 (also stage 1; finer lifting
    for small images)"""
    depth_bins: int = 30
    """camera depth distribution bins"""
    depth_range: tuple[float, float] = (1.0, 61.0)
    """metres covered by the depth bins"""
    radar_in: int = 8
    """radar point features (x, y, z, vx, vy, power, snr, time_diff)"""
    heads: int = 4
    """attention heads (radar height attention and global cross-attention)"""
    na_kernel: tuple[int, int, int] = (5, 5, 3)
    """neighbourhood of the global cross-attention fusion (plus the global tokens)"""
    global_tokens: tuple[int, int, int] = (4, 4, 2)
    """each modality is pooled to this many global tokens for cross-attention"""
    memory: int = 1
    """past fused feature volumes kept in the temporal memory bank (0 disables temporal fusion)"""
    num_classes: int = 12
    """0 = free + 11 semantic classes"""
    aux_heads: bool = True
    """fusion only: a light occupancy head on each branch's features, trained with `optim.aux_weight`"""

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"model.variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.camera_stride not in (4, 8):
            raise ValueError(f"model.camera_stride must be 4 or 8, got {self.camera_stride}")
        if self.channels % self.heads:
            raise ValueError(f"model.channels={self.channels} must be divisible by model.heads={self.heads}")
        self.downsample = tuple(self.downsample)  # type: ignore[assignment]
        self.na_kernel = tuple(self.na_kernel)  # type: ignore[assignment]
        self.global_tokens = tuple(self.global_tokens)  # type: ignore[assignment]
        self.depth_range = tuple(self.depth_range)  # type: ignore[assignment]
