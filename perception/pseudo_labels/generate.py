"""Write pseudo `occ_gt` files for unlabelled samples (atomically, skipping files that exist).

Per sample: LiDAR points are projected into the six undistorted cameras and take the segmentor's class
at their pixel (most confident view); geometric constraints drop inconsistent votes (points at ground
height may only be flat classes, points above it may not); each voxel takes the majority of its points'
classes (points without a consistent class mark the voxel occupied-unknown = 255); voxels the LiDAR rays
pass through are free (0) except at and below the ground layer; everything unobserved is 255.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from perception.occupancy.atomic import save_npz_atomic
from perception.occupancy.data.images import read_rgb, resize, undistort
from perception.occupancy.data.omnihd import LIDAR_DIMS, read_points
from perception.occupancy.data.tables import CAMERAS, DOUBLE_RES_CAMERAS, OmniHDTables, SampleInfo
from perception.occupancy.grid import CLASS_NAMES, IGNORE, NUM_CLASSES, OMNIHD_GRID, VoxelGrid
from perception.occupancy.labels import dense_to_sparse, load_occ_gt
from perception.pseudo_labels.geometry import estimate_ground_z, free_space, project_to_camera
from perception.pseudo_labels.segmentor import Segmentor

FLAT_CLASSES = frozenset(CLASS_NAMES.index(n) + 1 for n in ("driveable_surface", "sidewalk"))
GROUND_BAND = 0.35  # metres above the estimated ground that count as "at ground height"


@dataclass
class CameraView:
    """An undistorted view at the devkit's resolution: RGB `[H, W, 3]`, `K [3, 3]`, cam2ego `[4, 4]`."""

    rgb: np.ndarray
    K: np.ndarray
    cam2ego: np.ndarray


def load_views(info: SampleInfo) -> list[CameraView]:
    """The six cameras of a sample, undistorted, front/back halved (no network normalisation)."""
    views = []
    for cam in CAMERAS:
        path, calib = info.cameras[cam]
        img = torch.from_numpy(read_rgb(path)).permute(2, 0, 1).float()
        img = undistort(img, calib.K, calib.dist)
        K = calib.K
        if cam in DOUBLE_RES_CAMERAS:
            img, K = resize(img, K, 0.5)
        rgb = img.clamp(0, 255).round().byte().permute(1, 2, 0).numpy()
        views.append(CameraView(rgb, K, calib.cam2ego))
    return views


def point_labels_from_gt(points: np.ndarray, occ: np.ndarray, grid: VoxelGrid) -> np.ndarray:
    """Class of the ground-truth voxel under each point `[N]` (looked up 5 cm below the point; 0 = none)."""
    idx, inside = grid.point_indices(points[:, :3] - np.array([0.0, 0.0, 0.05]))
    out = np.zeros(len(points), dtype=np.int64)
    out[inside] = occ[idx[inside, 0], idx[inside, 1], idx[inside, 2]]
    out[out == IGNORE] = 0
    return out


def fit_segmentor(segmentor: Segmentor, tables: OmniHDTables, samples: list[dict], grid: VoxelGrid = OMNIHD_GRID,
                  progress: bool = True) -> None:
    """Fit on labelled samples: LiDAR points carry their ground-truth voxel class into the images."""
    images, pixels, labels = [], [], []
    for sample in tqdm(samples, desc="fit segmentor", disable=not progress):
        info = tables.sample_info(sample, 1)
        pts = read_points(info.lidar_path, LIDAR_DIMS, "lidar")
        cls = point_labels_from_gt(pts, load_occ_gt(info.occ_path, grid), grid)
        for view in load_views(info):
            uv, ok = project_to_camera(pts[:, :3], view.K, view.cam2ego, view.rgb.shape[:2])
            ok &= cls > 0
            images.append(view.rgb)
            pixels.append(uv[ok])
            labels.append(cls[ok])
    segmentor.fit(images, pixels, labels)


def pseudo_label(info: SampleInfo, segmentor: Segmentor, grid: VoxelGrid = OMNIHD_GRID) -> np.ndarray:
    """Dense pseudo labels `[X, Y, Z]` uint8 for one sample."""
    pts = read_points(info.lidar_path, LIDAR_DIMS, "lidar")[:, :3]
    best_cls = np.full(len(pts), -1, dtype=np.int64)
    best_conf = np.zeros(len(pts))
    for view in load_views(info):
        seg, conf = segmentor(view.rgb)
        uv, ok = project_to_camera(pts, view.K, view.cam2ego, view.rgb.shape[:2])
        c = np.zeros(len(pts))
        c[ok] = conf[uv[ok, 1], uv[ok, 0]]
        take = ok & (c > best_conf)
        best_cls[take] = seg[uv[take, 1], uv[take, 0]]
        best_conf[take] = c[take]
    ground_z = estimate_ground_z(pts)
    at_ground = pts[:, 2] < ground_z + GROUND_BAND
    is_flat = np.isin(best_cls, list(FLAT_CLASSES))
    best_cls[(at_ground & ~is_flat) | (~at_ground & is_flat)] = -1  # geometric consistency
    occ = np.full(grid.size, IGNORE, dtype=np.uint8)
    free = free_space(pts, grid)
    ground_iz = int(np.floor((ground_z - grid.point_range[2]) / grid.voxel_size[2]))
    free[:, :, : max(ground_iz + 1, 0)] = False  # the ground layer and below are never free space
    occ[free] = 0
    idx, inside = grid.point_indices(pts - np.array([0.0, 0.0, 0.05]))
    idx, cls = idx[inside], best_cls[inside]
    flat = np.ravel_multi_index(idx.T, grid.size)
    votes = np.zeros((int(np.prod(grid.size)), NUM_CLASSES), dtype=np.int32)
    np.add.at(votes, (flat[cls > 0], cls[cls > 0]), 1)
    occupied = np.unique(flat)
    labelled = votes[occupied].sum(1) > 0
    occ.reshape(-1)[occupied] = np.where(labelled, votes[occupied].argmax(1), IGNORE)
    return occ


def write_pseudo_labels(tables: OmniHDTables, samples: list[dict], segmentor: Segmentor, out_root: Path,
                        grid: VoxelGrid = OMNIHD_GRID, progress: bool = True) -> list[Path]:
    """Write `<out_root>/<scene>/occ_gt/<ts>.npz` for each sample, skipping existing files (resumable)."""
    written = []
    for sample in tqdm(samples, desc="pseudo-label", disable=not progress):
        info = tables.sample_info(sample, 1)
        path = out_root / info.occ_path.relative_to(tables.root)
        if path.is_file():
            continue
        save_npz_atomic(path, occ_gt=dense_to_sparse(pseudo_label(info, segmentor, grid)))
        written.append(path)
    return written
