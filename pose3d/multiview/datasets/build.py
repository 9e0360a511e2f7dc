"""Build the frames of a :class:`DataConfig` (the one place that picks a loader)."""

from __future__ import annotations

from pathlib import Path

from pose3d.multiview.config import DataConfig
from pose3d.multiview.datasets.custom import CustomRigDataset
from pose3d.multiview.datasets.panoptic import PanopticDataset
from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.datasets.shelf_campus import ShelfCampusDataset

KINDS = ("panoptic", "shelf", "campus", "custom")


def build_dataset(cfg: DataConfig) -> PanopticDataset | ShelfCampusDataset | CustomRigDataset:
    """The dataset object for ``cfg.kind`` (Shelf/Campus keep per-actor ground truth in ``.actors``)."""
    if cfg.kind == "panoptic":
        if not cfg.sequences:
            raise ValueError("data.sequences is empty: name the Panoptic sequences to use")
        pseudo = cfg.pseudo_dir or None
        return PanopticDataset(cfg.root, cfg.sequences, [tuple(c) for c in cfg.cameras], cfg.interval, pseudo)
    if cfg.kind in ("shelf", "campus"):
        return ShelfCampusDataset(cfg.root, cfg.kind, cfg.frames or None)
    if cfg.kind == "custom":
        if not cfg.calibration or not cfg.pseudo_2d:
            raise ValueError("data.kind 'custom' needs data.calibration and data.pseudo_2d")
        return CustomRigDataset(cfg.calibration, cfg.pseudo_2d, image_root=Path(cfg.root))
    raise ValueError(f"data.kind must be one of {KINDS}, got {cfg.kind!r}")


def build_frames(cfg: DataConfig) -> list[FrameSample]:
    """Just the frames."""
    return list(build_dataset(cfg).frames)
