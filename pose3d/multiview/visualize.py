"""Pictures: camera views with projected skeletons, and a 3D plot of predicted vs true poses."""

from __future__ import annotations

import io
from pathlib import Path

import imageio.v3 as iio
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.io import atomic_write_bytes
from pose3d.skeleton import PANOPTIC15_LIMBS


def _save(fig: plt.Figure, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def draw_views(frame: FrameSample, poses: np.ndarray, path: str | Path) -> None:
    """One panel per view: the image (if any), predicted skeletons (colour) and ground truth (white dashed).

    Args:
        poses: [P, J, 3] predicted joints (mm).
    """
    n = len(frame.views)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.6 * rows), squeeze=False)
    colours = plt.cm.tab10(np.arange(10))
    for ax, view in zip(axes.flat, frame.views, strict=False):
        if view.image_path is not None and view.image_path.is_file():
            img = iio.imread(view.image_path)
            ax.imshow(img, extent=(0, view.width, view.height, 0))
        else:
            ax.set_facecolor("0.15")
        for gt in frame.joints_3d:
            uv = view.camera.project(gt)
            for a, b in PANOPTIC15_LIMBS:
                ax.plot(uv[[a, b], 0], uv[[a, b], 1], "--", color="white", lw=1)
        for i, pose in enumerate(poses):
            uv = view.camera.project(pose)
            for a, b in PANOPTIC15_LIMBS:
                ax.plot(uv[[a, b], 0], uv[[a, b], 1], color=colours[i % 10], lw=2)
        ax.set_xlim(0, view.width)
        ax.set_ylim(view.height, 0)
        ax.set_title(view.camera.name, fontsize=8)
        ax.axis("off")
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.suptitle(f"{frame.key}: predicted (colour) vs ground truth (white dashed)", fontsize=9)
    _save(fig, Path(path))


def draw_3d(frame: FrameSample, poses: np.ndarray, path: str | Path) -> None:
    """3D plot of predicted (colour) and ground-truth (black dashed) skeletons plus the camera centres (mm)."""
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(projection="3d")
    colours = plt.cm.tab10(np.arange(10))
    for gt in frame.joints_3d:
        for a, b in PANOPTIC15_LIMBS:
            ax.plot(*gt[[a, b]].T, "--", color="black", lw=1)
    for i, pose in enumerate(poses):
        for a, b in PANOPTIC15_LIMBS:
            ax.plot(*pose[[a, b]].T, color=colours[i % 10], lw=2)
    centres = np.array([v.camera.center for v in frame.views])
    ax.scatter(*centres.T, marker="^", color="tab:gray", label="cameras")
    everything = np.concatenate([centres, *frame.joints_3d, *poses]) if len(poses) + len(frame.joints_3d) else centres
    ax.set_box_aspect(np.ptp(everything, axis=0) + 1.0)  # equal scale on all axes
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
    ax.set_zlabel("z (mm)")
    ax.set_title(f"{frame.key}: {len(poses)} predicted, {len(frame.joints_3d)} true", fontsize=9)
    ax.legend(fontsize=7)
    _save(fig, Path(path))
