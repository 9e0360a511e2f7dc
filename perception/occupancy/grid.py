"""The OmniHD-Scenes occupancy grid: 240 x 160 x 16 voxels of 0.5 m over [-60, -40, -3, 60, 40, 5] m.

Labels: 0 = free, 1..11 = the classes below, 255 = ignored (never observed; masked in metrics and losses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

CLASS_NAMES: tuple[str, ...] = (
    "car",
    "pedestrian",
    "rider",
    "large_vehicle",
    "cycle",
    "road_obstacle",
    "traffic_fence",
    "driveable_surface",
    "sidewalk",
    "vegetation",
    "manmade",
)
FREE = 0
IGNORE = 255
NUM_CLASSES = len(CLASS_NAMES) + 1  # with free space


@dataclass(frozen=True)
class VoxelGrid:
    """A regular grid: `point_range` = [xmin, ymin, zmin, xmax, ymax, zmax] (m), `size` = (X, Y, Z) voxels."""

    point_range: tuple[float, float, float, float, float, float] = (-60.0, -40.0, -3.0, 60.0, 40.0, 5.0)
    size: tuple[int, int, int] = (240, 160, 16)

    @property
    def voxel_size(self) -> tuple[float, float, float]:
        lo, hi = self.point_range[:3], self.point_range[3:]
        return tuple((h - l) / n for l, h, n in zip(lo, hi, self.size, strict=True))  # type: ignore[return-value]

    def scaled(self, factor: tuple[int, int, int]) -> VoxelGrid:
        """The same range with `size // factor` voxels (a coarser feature grid)."""
        if any(s % f for s, f in zip(self.size, factor, strict=True)):
            raise ValueError(f"grid size {self.size} is not divisible by {factor}")
        return VoxelGrid(self.point_range, tuple(s // f for s, f in zip(self.size, factor, strict=True)))  # type: ignore[arg-type]

    def centers(self, device: torch.device | None = None) -> torch.Tensor:
        """Voxel centres `[X, Y, Z, 3]` in metres (float32)."""
        axes = [
            lo + (torch.arange(n, device=device, dtype=torch.float32) + 0.5) * v
            for lo, n, v in zip(self.point_range[:3], self.size, self.voxel_size, strict=True)
        ]
        return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)

    def point_indices(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer voxel indices `[N, 3]` of points `[N, >=3]` and a mask `[N]` of those inside the grid."""
        lo = np.asarray(self.point_range[:3])
        idx = np.floor((points[:, :3] - lo) / np.asarray(self.voxel_size)).astype(np.int64)
        inside = np.all((idx >= 0) & (idx < np.asarray(self.size)), axis=1)
        return idx, inside


OMNIHD_GRID = VoxelGrid()
