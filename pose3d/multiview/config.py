"""Typed configuration of `pernav pose` (one dataclass tree; YAML presets in ``configs/pose/``).

Override any field from the command line with a dotted key: ``--set train.lr=3e-4 model.root_cube=[32,32,8]``.
The resolved config is saved next to every checkpoint.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from configs import schema


@dataclass
class DataConfig:
    """Where frames come from."""

    kind: str = "panoptic"
    """``panoptic``, ``shelf``, ``campus``, ``shelf_synthetic``, ``campus_synthetic`` or ``custom``"""
    root: str = "data/panoptic"
    """dataset folder"""
    sequences: list[str] = field(default_factory=list)
    """Panoptic sequences (any subset)"""
    cameras: list[list[int]] = field(default_factory=lambda: [[0, 3], [0, 6], [0, 12], [0, 13], [0, 23]])
    """Panoptic (panel, node) pairs"""
    interval: int = 3
    """keep every n-th annotated frame (VoxelPose: 3 train, 12 validation)"""
    pseudo_dir: str = ""
    """folder of ``<seq>.json`` pseudo-pose files (Panoptic); empty: none"""
    calibration: str = ""
    """rig calibration JSON (custom)"""
    pseudo_2d: str = ""
    """pseudo-pose file (custom)"""
    frames: list[int] = field(default_factory=list)
    """Shelf/Campus frame indices (empty: the standard test range)"""
    pose_source: str = ""
    """``shelf_synthetic``/``campus_synthetic``: Panoptic-format folder (its ``sequences``, every ``interval``-th
    frame) whose 3D poses are placed in the rig of ``root`` (VoxelPose's Shelf/Campus training data)"""
    synthetic_frames: int = 500
    """``*_synthetic``: frames generated"""
    synthetic_people: int = 4
    """``*_synthetic``: up to this many people per frame"""
    synthetic_seed: int = 0
    """``*_synthetic``: random seed of the placements"""
    synthetic_area: list[list[float]] = field(default_factory=list)
    """``*_synthetic``: floor region [[x min, x max], [y min, y max]] (mm) of the roots, where the target room's
    people stand (VoxelPose's Shelf: 3.0 x 3.2 m); empty: the central 70% of model.space_size"""
    synthetic_near: float = 0.0
    """``*_synthetic``: probability that a person is placed next to another one (N(500, 50) mm along x and y;
    VoxelPose: 0.3)"""
    synthetic_min_distance: float = 700.0
    """``*_synthetic``: minimum distance (mm) between the roots of one frame"""


@dataclass
class ModelConfig:
    """Model sizes (defaults are SelfPose3d's; presets shrink them for CPU)."""

    num_joints: int = 15
    """Panoptic-15 joints"""
    input: str = "images"
    """``images`` (2D backbone) or ``detections`` (heatmaps drawn from 2D poses, VoxelPose's Shelf/Campus mode)"""
    image_size: list[int] = field(default_factory=lambda: [960, 512])
    """network input (width, height); heatmaps are a quarter of it"""
    backbone_depth: int = 50
    """PoseResNet depth (18, 34, 50)"""
    deconv_channels: int = 256
    """PoseResNet deconvolution width"""
    attention: bool = True
    """adaptive supervision attention network (a PoseResNet-18 with sigmoid outputs)"""
    attention_deconv_channels: int = 256
    """attention network deconvolution width"""
    heatmap_sigma: float = 3.0
    """Gaussian std (heatmap pixels) for targets and rendering"""
    space_center: list[float] = field(default_factory=lambda: [0.0, -500.0, 800.0])
    """capture-space centre (mm, z up)"""
    space_size: list[float] = field(default_factory=lambda: [8000.0, 8000.0, 2000.0])
    """capture-space size (mm)"""
    root_cube: list[int] = field(default_factory=lambda: [80, 80, 20])
    """root-net voxels (each divisible by 4)"""
    root_subvoxels: int = 1
    """root-cube input: each voxel is the max of the heatmaps over its n^3 sub-voxel points (1 = VoxelPose, the
    voxel centre); for cubes coarse next to the heatmap Gaussians, where a root between centres reads weak"""
    pose_cube_size: list[float] = field(default_factory=lambda: [2000.0, 2000.0, 2000.0])
    """per-person cube size (mm)"""
    pose_cube: list[int] = field(default_factory=lambda: [64, 64, 64])
    """pose-net voxels (each divisible by 4)"""
    min_views: int = 1
    """voxels seen by fewer views are zeroed in the cubes (1 = VoxelPose: mean over the views that see it)"""
    v2v_width: int = 16
    """V2V base width (both nets)"""
    max_people: int = 10
    """proposals kept after 3D max-pool NMS"""
    proposal_threshold: float = 0.3
    """minimum root score of a proposal"""
    softargmax_beta: float = 100.0
    """soft-argmax temperature"""
    pose_residual: bool = False
    """pose net adds its input cube to its output (zero-initialised head): an untrained pose net already
    takes the soft-argmax of the projected heatmaps, and training learns the correction"""


@dataclass
class TrainConfig:
    """Optimisation (SelfPose3d's four stages, or the supervised VoxelPose objective)."""

    objective: str = "ssl"
    """``ssl`` (pseudo 2D + synthetic roots) or ``supervised`` (3D ground truth, VoxelPose)"""
    stage: str = "posenet"
    """``backbone``, ``rootnet``, ``posenet`` or ``finetune`` (``all`` runs them in order)"""
    epochs: int = 1
    """epochs of this stage"""
    rootnet_epochs: int = 0
    """epochs of the ``rootnet`` stage (0: ``epochs``); with synthetic roots every iteration draws new roots,
    so this stage can run longer than the others at a small cost"""
    max_iters: int = 0
    """stop after this many iterations per stage (0: full epochs)"""
    lr: float = 1e-4
    """Adam learning rate"""
    lr_decay_epochs: list[int] = field(default_factory=list)
    """epochs at which the learning rate is divided by 10"""
    batch_size: int = 1
    """frames per iteration"""
    workers: int = 0
    """data-loader processes"""
    view_sets: int = 2
    """augmented copies of the views per frame (cross-view rendering needs 2)"""
    rotate_deg: float = 45.0
    """augmentation: max rotation"""
    scale: float = 0.35
    """augmentation: max relative scale change"""
    synthetic_roots_max: int = 9
    """synthetic root training: up to this many roots"""
    synthetic_root_range: list[list[float]] = field(
        default_factory=lambda: [[1500.0, -1500.0], [1500.0, -1500.0], [900.0, -700.0]]
    )
    """per axis (a, b): synthetic roots are drawn in [space min + a, space max + b] (mm)"""
    synthetic_root_amplitude: str = "one"
    """peak of each synthetic root in each view: ``one`` (SelfPose3d) or ``pseudo``, drawn from the frame's
    pseudo-pose root confidences (0 where a pose lacks its root), which is what the detection-built root
    channel holds at test time"""
    root_sigma: float = 200.0
    """3D Gaussian std of root targets (mm)"""
    weight_root_syn: float = 100.0
    """weight of the synthetic-root MSE (and of the root-cube MSE of the supervised objective)"""
    weight_root_reg: float = 1.0
    """weight of the root consistency between augmented view sets"""
    weight_2d: float = 1.0
    """weight of the backbone heatmap MSE"""
    weight_render: float = 1.0
    """weight of the cross-view rendered heatmap MSE (scaled by 1000 inside, as heatmap MSEs are tiny)"""
    attention_weight: float = 0.1
    """keeps the attention maps from collapsing to 0"""
    l1_weight: float = 0.01
    """Hungarian-matched L1 between projected joints and pseudo poses"""
    l1_start_epoch: int = 5
    """first epoch that uses the L1 term"""
    finetune_min_confidence: float = 0.8
    """fine-tune stage: pseudo joints below this confidence are ignored"""
    finetune_lr_factor: float = 0.1
    """fine-tune stage: learning rate = lr x this"""
    weight_pose_sup: float = 1.0
    """supervised: L1 to 3D ground truth"""
    root_jitter: float = 0.0
    """supervised pose net: std (mm) of Gaussian noise on the true roots that centre its cubes, so it
    learns to work from root-net proposals, which are never exact (0: exact roots, VoxelPose's USE_GT)"""
    checkpoint_every: int = 200
    """iterations between checkpoints (and at the end of each epoch)"""
    log_every: int = 10
    """iterations between TensorBoard scalars"""


@dataclass
class PoseConfig:
    """Everything one `pernav pose` run needs."""

    data: DataConfig = field(default_factory=DataConfig)
    val_data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    out_dir: str = "outputs/pose"
    """run folder: checkpoints, TensorBoard, pictures, resolved config"""
    seed: int = 0
    """random seed"""
    device: str = "cpu"
    """torch device"""


def load_config(
    path: str | Path | None = None, overrides: list[str] | None = None, base: dict[str, Any] | None = None
) -> PoseConfig:
    """A preset YAML (or ``base``, e.g. a checkpoint's config, or the defaults) plus ``key.sub=value``
    overrides (values parsed as YAML)."""
    raw: dict[str, Any] = copy.deepcopy(base) if base else {}
    if path:
        raw = schema.read_yaml(path)
    return schema.from_dict(PoseConfig, schema.apply_overrides(raw, overrides))


def to_dict(cfg: PoseConfig) -> dict[str, Any]:
    """Plain nested dict (for YAML and checkpoints)."""
    return schema.to_dict(cfg)
