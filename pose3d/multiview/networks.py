"""Networks: PoseResNet 2D backbone (torchvision ResNet + deconvolutions) and the V2V 3D CNN."""

from __future__ import annotations

import torch
import torchvision
from torch import nn


class PoseResNet(nn.Module):
    """ResNet trunk + three stride-2 deconvolutions -> per-joint heatmaps at 1/4 resolution.

    Args:
        depth: ResNet depth (18, 34 or 50). deconv_channels: width of the deconvolution layers.
        out_channels: heatmap channels (joints). sigmoid: squash outputs (the attention network).
    Shapes: [N, 3, H, W] -> [N, out_channels, H / 4, W / 4].
    """

    def __init__(
        self, depth: int = 50, deconv_channels: int = 256, out_channels: int = 15, sigmoid: bool = False
    ) -> None:
        super().__init__()
        builders = {18: torchvision.models.resnet18, 34: torchvision.models.resnet34, 50: torchvision.models.resnet50}
        if depth not in builders:
            raise ValueError(f"backbone depth must be one of {sorted(builders)}, got {depth}")
        trunk = builders[depth](weights=None)
        self.trunk = nn.Sequential(*list(trunk.children())[:-2])
        in_ch = trunk.fc.in_features
        layers: list[nn.Module] = []
        for _ in range(3):
            layers += [
                nn.ConvTranspose2d(in_ch, deconv_channels, 4, 2, 1, bias=False),
                nn.BatchNorm2d(deconv_channels),
                nn.ReLU(inplace=True),
            ]
            in_ch = deconv_channels
        self.deconv = nn.Sequential(*layers)
        self.head = nn.Conv2d(deconv_channels, out_channels, 1)
        self.sigmoid = sigmoid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.deconv(self.trunk(x)))
        return torch.sigmoid(out) if self.sigmoid else out


class _Res3D(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(cin, cout, 3, padding=1),
            nn.BatchNorm3d(cout),
            nn.ReLU(inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1),
            nn.BatchNorm3d(cout),
        )
        self.skip = nn.Identity() if cin == cout else nn.Sequential(nn.Conv3d(cin, cout, 1), nn.BatchNorm3d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def _up(cin: int, cout: int) -> nn.Module:
    return nn.Sequential(nn.ConvTranspose3d(cin, cout, 2, 2), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class V2VNet(nn.Module):
    """VoxelPose's V2V: 7^3 conv, residual blocks, a two-level encoder-decoder with skips, 1x1x1 head.

    Args:
        in_channels, out_channels: cube channels in and out. width: base width (VoxelPose: 16).
        residual: add the input cube to the output, with the head initialised to zero, so the untrained
            net passes its input through (needs ``in_channels == out_channels``).
    Shapes: [N, in, X, Y, Z] -> [N, out, X, Y, Z]; X, Y, Z must be divisible by 4.
    """

    def __init__(self, in_channels: int, out_channels: int, width: int = 16, residual: bool = False) -> None:
        super().__init__()
        if residual and in_channels != out_channels:
            raise ValueError(f"V2VNet: residual needs in_channels == out_channels, got {in_channels}, {out_channels}")
        self.residual = residual
        w = width
        self.front = nn.Sequential(
            nn.Conv3d(in_channels, w, 7, padding=3), nn.BatchNorm3d(w), nn.ReLU(inplace=True), _Res3D(w, 2 * w)
        )
        self.enc1, self.enc2 = _Res3D(2 * w, 4 * w), _Res3D(4 * w, 8 * w)
        self.mid, self.dec2 = _Res3D(8 * w, 8 * w), _Res3D(8 * w, 8 * w)
        self.up2, self.skip2, self.dec1 = _up(8 * w, 4 * w), _Res3D(4 * w, 4 * w), _Res3D(4 * w, 4 * w)
        self.up1, self.skip1 = _up(4 * w, 2 * w), _Res3D(2 * w, 2 * w)
        self.head = nn.Conv3d(2 * w, out_channels, 1)
        if residual:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(s % 4 for s in x.shape[2:]):
            raise ValueError(f"V2VNet: cube dims {tuple(x.shape[2:])} must be divisible by 4")
        x_in = x
        x = self.front(x)
        e1 = self.enc1(nn.functional.max_pool3d(x, 2))
        e2 = self.enc2(nn.functional.max_pool3d(e1, 2))
        d = self.up2(self.dec2(self.mid(e2))) + self.skip2(e1)
        d = self.up1(self.dec1(d)) + self.skip1(x)
        return self.head(d) + x_in if self.residual else self.head(d)
