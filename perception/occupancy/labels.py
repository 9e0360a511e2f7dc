"""Occupancy label files: OmniHD-Scenes sparse `occ_gt/<ts>.npz` and Occ3D-style `labels.npz`."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from perception.occupancy.grid import IGNORE, NUM_CLASSES, OMNIHD_GRID, VoxelGrid


def sparse_to_dense(sparse: np.ndarray, size: tuple[int, int, int], source: str = "occ_gt") -> np.ndarray:
    """Sparse rows `[N, 4]` = (ix, iy, iz, class) → dense labels `[X, Y, Z]` uint8 (unlisted voxels free).

    Raises ValueError naming `source` when the array is malformed or indexes outside the grid.
    """
    if sparse.ndim != 2 or sparse.shape[1] != 4:
        raise ValueError(f"{source}: occ_gt has shape {sparse.shape}, expected (N, 4) = (ix, iy, iz, class)")
    if not np.all(np.isfinite(sparse)):
        raise ValueError(f"{source}: occ_gt contains NaN or inf")
    rows = sparse.astype(np.int64)
    if np.any(rows != sparse):
        raise ValueError(f"{source}: occ_gt has non-integer values")
    bad = np.any((rows[:, :3] < 0) | (rows[:, :3] >= np.asarray(size)), axis=1)
    if bad.any():
        raise ValueError(f"{source}: {int(bad.sum())} occ_gt rows index outside the {size} grid, e.g. {rows[bad][0]}")
    cls = rows[:, 3]
    bad_cls = ~(((cls >= 0) & (cls < NUM_CLASSES)) | (cls == IGNORE))
    if bad_cls.any():
        raise ValueError(f"{source}: occ_gt has class {int(cls[bad_cls][0])}, expected 0..{NUM_CLASSES - 1} or 255")
    dense = np.zeros(size, dtype=np.uint8)
    dense[rows[:, 0], rows[:, 1], rows[:, 2]] = cls
    return dense


def dense_to_sparse(dense: np.ndarray) -> np.ndarray:
    """Dense labels `[X, Y, Z]` → sparse `[N, 4]` (ix, iy, iz, class) rows of non-free voxels, uint16."""
    ijk = np.argwhere(dense != 0)
    return np.concatenate([ijk, dense[tuple(ijk.T)][:, None]], axis=1).astype(np.uint16)


def _open_npz(path: Path) -> np.lib.npyio.NpzFile:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: occupancy label file not found")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from exc


def load_occ_gt(path: str | Path, grid: VoxelGrid = OMNIHD_GRID) -> np.ndarray:
    """Read an OmniHD-Scenes `occ_gt/<ts>.npz` into dense labels `[X, Y, Z]` uint8."""
    path = Path(path)
    with _open_npz(path) as z:
        if "occ_gt" not in z.files:
            raise ValueError(f"{path}: missing array 'occ_gt' (has {z.files})")
        try:
            sparse = z["occ_gt"]
        except ValueError as exc:
            raise ValueError(f"{path}: array 'occ_gt' is unreadable ({exc})") from exc
    return sparse_to_dense(sparse, grid.size, source=str(path))


def load_occ3d(path: str | Path, use_camera_mask: bool = True, free_label: int | None = 17) -> np.ndarray:
    """Read an Occ3D-style `labels.npz` (`semantics`, `mask_lidar`, `mask_camera`) into dense labels.

    Voxels outside the chosen visibility mask become IGNORE (255), as Occ3D evaluation does; `free_label`
    (17 in Occ3D-nuScenes) becomes 0; other ids are kept (map them to your classes before training).
    """
    path = Path(path)
    with _open_npz(path) as z:
        missing = {"semantics", "mask_lidar", "mask_camera"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(missing)} (has {z.files})")
        sem, mask = z["semantics"], z["mask_camera" if use_camera_mask else "mask_lidar"]
    if sem.ndim != 3 or mask.shape != sem.shape:
        raise ValueError(f"{path}: semantics {sem.shape} and mask {mask.shape} must be the same 3D shape")
    if sem.min(initial=0) < 0 or sem.max(initial=0) > 255:
        raise ValueError(f"{path}: semantics outside 0..255")
    out = sem.astype(np.uint8).copy()
    if free_label is not None:
        out[sem == free_label] = 0
    out[mask == 0] = IGNORE
    return out
