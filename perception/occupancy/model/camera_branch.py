"""Camera branch: torchvision ResNet + FPN, depth distribution, back-projection into voxel features."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from perception.geometry.camera import project_points, world_to_camera
from perception.occupancy.model.config import ModelConfig


def build_resnet(name: str, checkpoint: str) -> nn.Module:
    """A torchvision ResNet, random init unless `checkpoint` names a local state-dict file."""
    if not hasattr(torchvision.models, name) or not name.startswith("resnet"):
        raise ValueError(f"model.backbone: {name!r} is not a torchvision ResNet")
    net = getattr(torchvision.models, name)(weights=None)
    if checkpoint:
        path = Path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: backbone checkpoint not found (model.backbone_checkpoint)")
        state = torch.load(path, map_location="cpu", weights_only=True)
        missing, _ = net.load_state_dict(state, strict=False)
        if missing:
            raise ValueError(f"{path}: backbone checkpoint lacks {len(missing)} weights, e.g. {missing[:3]}")
    return net


class CameraEncoder(nn.Module):
    """Images `[N, 3, H, W]` → features `[N, C, H/s, W/s]` and depth logits `[N, D, H/s, W/s]`, s =
    `cfg.camera_stride`: a top-down FPN of ResNet stages 2 and 3 (s = 8), also merged into stage 1 (s = 4)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        net = build_resnet(cfg.backbone, cfg.backbone_checkpoint)
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1)
        self.layer2, self.layer3 = net.layer2, net.layer3
        c1 = net.layer2[0].conv1.in_channels
        c2 = net.layer3[0].conv1.in_channels
        c3 = net.layer4[0].conv1.in_channels
        self.lat2, self.lat3 = nn.Conv2d(c2, cfg.channels, 1), nn.Conv2d(c3, cfg.channels, 1)
        self.lat1 = nn.Conv2d(c1, cfg.channels, 1) if cfg.camera_stride == 4 else None
        self.smooth = nn.Sequential(nn.Conv2d(cfg.channels, cfg.channels, 3, padding=1), nn.BatchNorm2d(cfg.channels),
                                    nn.ReLU(inplace=True))
        self.feat = nn.Conv2d(cfg.channels, cfg.channels, 1)
        self.depth = nn.Conv2d(cfg.channels, cfg.depth_bins, 1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1 = self.stem(images)
        x2 = self.layer2(x1)
        x3 = self.layer3(x2)
        p = self.lat2(x2) + _upsample(self.lat3(x3), x2)
        if self.lat1 is not None:
            p = self.lat1(x1) + _upsample(p, x1)
        p = self.smooth(p)
        return self.feat(p), self.depth(p)


def _upsample(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of `x [N, C, h, w]` to the spatial size of `like [N, *, H, W]`."""
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class CameraBranch(nn.Module):
    """Surround images → image voxel features F_c `[B, C, X, Y, Z]` and depth logits `[B, V, D, h, w]`.

    Each voxel centre is projected into every (undistorted) view; the sampled feature is weighted by the
    predicted depth probability at the voxel's depth and averaged over the views that see it; a 3D conv
    (with batch norm) then mixes neighbouring voxels and fixes the scale, which changes as the depth
    distributions sharpen under LiDAR supervision.
    """

    def __init__(self, cfg: ModelConfig, grid_shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = CameraEncoder(cfg)
        self.height_embed = nn.Parameter(torch.zeros(1, cfg.channels, 1, 1, grid_shape[2]))
        c = cfg.channels
        self.neck = nn.Sequential(nn.Conv3d(c, c, 3, padding=1), nn.BatchNorm3d(c), nn.ReLU(inplace=True))

    def forward(self, images: torch.Tensor, K: torch.Tensor, cam2ego: torch.Tensor, centers: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """images `[B, V, 3, H, W]`, K `[B, V, 3, 3]`, cam2ego `[B, V, 4, 4]`, voxel centres `[X, Y, Z, 3]`."""
        b, v, _, h, w = images.shape
        feats, depth_logits = self.encoder(images.flatten(0, 1))
        probs = depth_logits.softmax(dim=1)
        X, Y, Z, _ = centers.shape
        pts = centers.reshape(-1, 3)
        d_lo, d_hi = self.cfg.depth_range
        step = (d_hi - d_lo) / self.cfg.depth_bins
        out = torch.zeros(b, self.cfg.channels, pts.shape[0], device=images.device)
        count = torch.zeros(b, 1, pts.shape[0], device=images.device)
        for bi in range(b):
            for vi in range(v):
                T = cam2ego[bi, vi]
                R, t = T[:3, :3].T, -T[:3, :3].T @ T[:3, 3]  # ego → camera
                z = world_to_camera(pts, R, t)[:, 2]
                uv = project_points(pts, K[bi, vi], torch.zeros(5, device=pts.device), R, t)
                gx, gy = (2 * uv[:, 0] + 1) / w - 1, (2 * uv[:, 1] + 1) / h - 1
                valid = (z > 0.1) & (gx.abs() <= 1) & (gy.abs() <= 1)
                grid = torch.stack([gx, gy], -1).view(1, 1, -1, 2)
                n = bi * v + vi
                f = F.grid_sample(feats[n : n + 1], grid, align_corners=False)[0, :, 0]  # [C, N]
                p = F.grid_sample(probs[n : n + 1], grid, align_corners=False)[0, :, 0]  # [D, N]
                pos = ((z - d_lo) / step - 0.5).clamp(0, self.cfg.depth_bins - 1)
                lo = pos.floor().long()
                hi = (lo + 1).clamp(max=self.cfg.depth_bins - 1)
                frac = pos - lo
                pd = p.gather(0, lo[None])[0] * (1 - frac) + p.gather(0, hi[None])[0] * frac
                wgt = (pd * valid)[None]
                out[bi] += f * wgt
                count[bi] += valid[None].float()
        vol = (out / count.clamp(min=1)).view(b, self.cfg.channels, X, Y, Z)
        return self.neck(vol * self.cfg.depth_bins + self.height_embed), depth_logits.unflatten(0, (b, v))
