"""Build the frames of a :class:`DataConfig` (the one place that picks a loader)."""

from __future__ import annotations

from pathlib import Path

from pose3d.multiview.config import DataConfig, ModelConfig
from pose3d.multiview.datasets.custom import CustomRigDataset
from pose3d.multiview.datasets.panoptic import PanopticDataset
from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.datasets.shelf_campus import SETTINGS, ShelfCampusDataset, read_voxelpose_calibration
from pose3d.multiview.datasets.synthetic_poses import SyntheticPoseDataset, pose_pool

KINDS = ("panoptic", "shelf", "campus", "shelf_synthetic", "campus_synthetic", "custom")


def build_dataset(
    cfg: DataConfig, model: ModelConfig | None = None
) -> PanopticDataset | ShelfCampusDataset | SyntheticPoseDataset | CustomRigDataset:
    """The dataset object for ``cfg.kind`` (Shelf/Campus keep per-actor ground truth in ``.actors``).

    ``model`` gives the capture space of the ``*_synthetic`` kinds (default: :class:`ModelConfig`'s).
    """
    if cfg.kind == "panoptic":
        if not cfg.sequences:
            raise ValueError("data.sequences is empty: name the Panoptic sequences to use")
        pseudo = cfg.pseudo_dir or None
        return PanopticDataset(cfg.root, cfg.sequences, [tuple(c) for c in cfg.cameras], cfg.interval, pseudo)
    if cfg.kind in ("shelf", "campus"):
        return ShelfCampusDataset(cfg.root, cfg.kind, cfg.frames or None)
    if cfg.kind in ("shelf_synthetic", "campus_synthetic"):
        name = cfg.kind.split("_")[0]
        if not cfg.pose_source or not cfg.sequences:
            raise ValueError(f"data.kind {cfg.kind!r} needs data.pose_source and data.sequences (the 3D pose pool)")
        width, height = SETTINGS[name]["size"]
        cameras = read_voxelpose_calibration(Path(cfg.root) / f"calibration_{name}.json", width, height)
        pool = pose_pool(PanopticDataset(cfg.pose_source, cfg.sequences, interval=cfg.interval).frames)
        m = model or ModelConfig()
        return SyntheticPoseDataset(
            cameras,
            pool,
            cfg.synthetic_frames,
            cfg.synthetic_people,
            m.space_center,
            m.space_size,
            cfg.synthetic_seed,
            area=cfg.synthetic_area or None,
            near_prob=cfg.synthetic_near,
            min_distance=cfg.synthetic_min_distance,
        )
    if cfg.kind == "custom":
        if not cfg.calibration or not cfg.pseudo_2d:
            raise ValueError("data.kind 'custom' needs data.calibration and data.pseudo_2d")
        return CustomRigDataset(cfg.calibration, cfg.pseudo_2d, image_root=Path(cfg.root))
    raise ValueError(f"data.kind must be one of {KINDS}, got {cfg.kind!r}")


def build_frames(cfg: DataConfig, model: ModelConfig | None = None) -> list[FrameSample]:
    """Just the frames."""
    return list(build_dataset(cfg, model).frames)
