"""Batched camera rigs as tensors, and the grids of the root and pose cubes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from perception.geometry.camera import Camera, project_points


@dataclass
class Rig:
    """Cameras of a batch of frames plus the image-to-heatmap affine of each view.

    Attributes:
        K: [B, V, 3, 3]. dist: [B, V, 5]. R: [B, V, 3, 3]. t: [B, V, 3] (mm). All in original-image pixels.
        affine: [B, V, 2, 3] original-image pixels -> heatmap pixels (resize, augmentation, stride).
        heatmap_size: (height, width) of the heatmaps.
    """

    K: torch.Tensor
    dist: torch.Tensor
    R: torch.Tensor
    t: torch.Tensor
    affine: torch.Tensor
    heatmap_size: tuple[int, int]

    @staticmethod
    def from_cameras(cameras: list[list[Camera]], affines: np.ndarray, heatmap_size: tuple[int, int]) -> Rig:
        """[B][V] cameras and [B, V, 2, 3] affines -> float32 tensors."""

        def stack(attr: str) -> torch.Tensor:
            return torch.tensor(np.array([[getattr(c, attr) for c in row] for row in cameras]), dtype=torch.float32)

        return Rig(
            stack("K"),
            stack("dist"),
            stack("R"),
            stack("t"),
            torch.as_tensor(affines, dtype=torch.float32),
            heatmap_size,
        )

    def to(self, device: torch.device | str) -> Rig:
        return Rig(
            self.K.to(device),
            self.dist.to(device),
            self.R.to(device),
            self.t.to(device),
            self.affine.to(device),
            self.heatmap_size,
        )

    def with_affine(self, affine: torch.Tensor) -> Rig:
        return Rig(self.K, self.dist, self.R, self.t, affine, self.heatmap_size)

    def repeat_interleave(self, k: int) -> Rig:
        """Each frame's rig ``k`` times in a row (one per proposal)."""
        return Rig(
            self.K.repeat_interleave(k, 0),
            self.dist.repeat_interleave(k, 0),
            self.R.repeat_interleave(k, 0),
            self.t.repeat_interleave(k, 0),
            self.affine.repeat_interleave(k, 0),
            self.heatmap_size,
        )

    def select(self, idx: torch.Tensor | slice) -> Rig:
        """Rows ``idx`` of the batch."""
        return Rig(self.K[idx], self.dist[idx], self.R[idx], self.t[idx], self.affine[idx], self.heatmap_size)

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World points into every view's heatmap.

        Args:
            points: [B, N, 3] mm.
        Returns:
            ([B, V, N, 2] heatmap pixels (-1e4 where not valid), [B, V, N] bool valid: in front of the
            camera and inside the heatmap).
        """
        V = self.K.shape[1]
        p = points.unsqueeze(1).expand(-1, V, -1, -1)
        uv = project_points(p, self.K, self.dist, self.R, self.t)
        depth = (p @ self.R.transpose(-1, -2) + self.t.unsqueeze(-2))[..., 2]
        hm = uv @ self.affine[..., :2].transpose(-1, -2) + self.affine[..., 2].unsqueeze(-2)
        h, w = self.heatmap_size
        inside = (hm[..., 0] >= 0) & (hm[..., 0] <= w - 1) & (hm[..., 1] >= 0) & (hm[..., 1] <= h - 1)
        valid = inside & (depth > 1.0)
        # points behind the camera can project to inf/NaN: park every invalid point far off the heatmap
        return torch.where(valid.unsqueeze(-1), hm, torch.full_like(hm, -1e4)), valid


def cube_offsets(size: tuple[float, float, float], shape: tuple[int, int, int]) -> torch.Tensor:
    """[X, Y, Z, 3] voxel offsets from the cube centre (mm), ends included as in VoxelPose."""
    axes = [torch.linspace(-s / 2, s / 2, n) for s, n in zip(size, shape, strict=True)]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)


def subvoxel_offsets(offsets: torch.Tensor, size: tuple[float, float, float], samples: int) -> torch.Tensor:
    """Each voxel's ``samples``^3 sub-voxel sample points, for cubes coarser than the heatmap Gaussians.

    The sample points sit at the centres of a ``samples``^3 split of the voxel's extent (the grid step
    ``size / (n - 1)`` along each axis).

    Args:
        offsets: [X, Y, Z, 3] voxel centres (mm), from :func:`cube_offsets`. size: the cube's extent (mm).
    Returns:
        [X, Y, Z * samples^3, 3]: voxel (x, y, z)'s points are ``[x, y, z * samples^3 : (z + 1) * samples^3]``.
    """
    X, Y, Z, _ = offsets.shape
    if samples == 1:
        return offsets
    step = torch.tensor([s / max(n - 1, 1) for s, n in zip(size, (X, Y, Z), strict=True)], dtype=offsets.dtype)
    frac = (torch.arange(samples, dtype=offsets.dtype) + 0.5) / samples - 0.5
    sub = torch.stack(torch.meshgrid(frac, frac, frac, indexing="ij"), -1).reshape(-1, 3) * step  # [s^3, 3]
    return (offsets[..., None, :] + sub).reshape(X, Y, Z * samples**3, 3)
