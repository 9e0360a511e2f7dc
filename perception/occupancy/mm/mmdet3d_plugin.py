"""Registers MetaOcc and the OmniHD-Scenes loader in mmdet3d's registries, so mmdet3d's own entry points
(`tools/train.py`, `tools/test.py`, i.e. `Runner.from_cfg`) run the configs in `configs/occupancy/mmdet3d/`.
Those configs import this module through `custom_imports`. Needs the `mmdet3d` extra (mmcv with ops).

Registered (scope `mmdet3d`): model `MetaOcc`, dataset `OmniHDOccDataset`, metric `OccupancyMetric`, hooks
`ClassWeightsHook`, `SensorDropoutHook`, `TqdmProgressHook`, `MetaOccCheckpointHook`; in mmengine's root
function registry: `omnihd_collate`; file backend `pernav_atomic_local` (for `backend_args`).
"""

from __future__ import annotations

from mmdet3d.registry import DATASETS, HOOKS, METRICS, MODELS

from perception.occupancy.mm.registration import register

register(MODELS, DATASETS, METRICS, HOOKS)
