"""Occupancy pictures (matplotlib, Agg): BEV semantic map, height slices and a 3D voxel scatter."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from perception.occupancy.grid import CLASS_NAMES, IGNORE, NUM_CLASSES

COLORS = np.array([
    [255, 255, 255], [200, 30, 30], [240, 200, 40], [255, 120, 0], [120, 30, 160], [60, 160, 220],
    [255, 60, 160], [150, 150, 150], [70, 70, 75], [170, 140, 110], [40, 140, 40], [190, 170, 150],
]) / 255
CMAP = ListedColormap(COLORS)


def bev_map(labels: np.ndarray) -> np.ndarray:
    """Top-most non-free class per column `[X, Y]` (0 where the column is free; 255 treated as free)."""
    occ = (labels != 0) & (labels != IGNORE)
    top = labels.shape[2] - 1 - np.argmax(occ[:, :, ::-1], axis=2)
    out = np.take_along_axis(labels, top[..., None], axis=2)[..., 0]
    return np.where(occ.any(axis=2), out, 0)


def _show_bev(ax: plt.Axes, labels: np.ndarray, title: str) -> None:
    ax.imshow(bev_map(labels).T, origin="lower", cmap=CMAP, vmin=0, vmax=NUM_CLASSES - 1, extent=(-60, 60, -40, 40),
              interpolation="nearest")
    ax.set_title(title)
    ax.set_xlabel("x forward (m)")
    ax.set_ylabel("y left (m)")


def save_comparison(path: Path, pred: np.ndarray, gt: np.ndarray | None, title: str = "") -> Path:
    """BEV of prediction (and GT) plus height slices of the prediction; one PNG."""
    cols = 2 if gt is not None else 1
    fig = plt.figure(figsize=(6 * cols + 6, 8))
    ax = fig.add_subplot(2, cols + 1, 1)
    _show_bev(ax, pred, "prediction (BEV, top class)")
    if gt is not None:
        _show_bev(fig.add_subplot(2, cols + 1, 2), np.where(gt == IGNORE, 0, gt), "ground truth (BEV)")
    slices = [2, 3, 5, 8]
    for i, z in enumerate(slices):
        a = fig.add_subplot(4, (cols + 1) * 2, (cols + 1) * 2 * (i // 2 + 2) + i % 2 + 1)
        a.imshow(pred[:, :, z].T, origin="lower", cmap=CMAP, vmin=0, vmax=NUM_CLASSES - 1, interpolation="nearest")
        a.set_title(f"z slice {z} ({-3 + 0.5 * z:.1f} m)", fontsize=8)
        a.axis("off")
    a3 = fig.add_subplot(2, cols + 1, cols + 1, projection="3d")
    draw_voxels_3d(a3, pred)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[i + 1]) for i in range(len(CLASS_NAMES))]
    fig.legend(handles, CLASS_NAMES, loc="lower right", ncol=2, fontsize=8)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def draw_voxels_3d(ax: plt.Axes, labels: np.ndarray, max_points: int = 20000) -> None:
    """Occupied voxels as a coloured 3D scatter (subsampled to `max_points`)."""
    idx = np.argwhere((labels != 0) & (labels != IGNORE))
    if len(idx) > max_points:
        idx = idx[np.linspace(0, len(idx) - 1, max_points).astype(int)]
    xyz = idx * 0.5 + np.array([-60, -40, -3]) + 0.25
    ax.scatter(xyz[:, 0], xyz[:, 1], xyz[:, 2], c=COLORS[labels[tuple(idx.T)]], s=1, marker="s", depthshade=False)
    ax.set_box_aspect((120, 80, 8 * 3))
    ax.view_init(elev=35, azim=-120)
    ax.set_title("3D view")


def save_bar_chart(path: Path, table: dict[str, dict[str, float]], metric: str, title: str) -> Path:
    """Bar chart of `metric` for each named run in `table`."""
    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(table)
    ax.bar(names, [table[n][metric] for n in names], color="tab:blue")
    for i, n in enumerate(names):
        ax.text(i, table[n][metric], f"{table[n][metric]:.1f}", ha="center", va="bottom")
    ax.set_ylabel(metric)
    ax.set_title(title)
    plt.xticks(rotation=20)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
