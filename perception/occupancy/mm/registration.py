"""Put MetaOcc's mmengine pieces into a set of registries (mmdet3d's, in `mmdet3d_plugin`; mmengine's root
ones where mmdet3d is absent), so that mmengine-style configs can name them."""

from __future__ import annotations

from mmengine.registry import FUNCTIONS, Registry

from perception.occupancy.data.omnihd import collate
from perception.occupancy.mm import fileio  # noqa: F401  (registers the atomic file backend)
from perception.occupancy.mm.dataset import OmniHDOccDataset
from perception.occupancy.mm.hooks import ClassWeightsHook, MetaOccCheckpointHook, SensorDropoutHook, TqdmProgressHook
from perception.occupancy.mm.metric import OccupancyMetric
from perception.occupancy.mm.model import MetaOccModel

HOOK_CLASSES = (ClassWeightsHook, SensorDropoutHook, TqdmProgressHook, MetaOccCheckpointHook)


def register(models: Registry, datasets: Registry, metrics: Registry, hooks: Registry) -> None:
    """Model `MetaOcc`, dataset `OmniHDOccDataset`, metric `OccupancyMetric`, the hooks of
    `perception.occupancy.mm.hooks`, and `omnihd_collate` in mmengine's root function registry."""
    models.register_module(name="MetaOcc", module=MetaOccModel, force=True)
    datasets.register_module(module=OmniHDOccDataset, force=True)
    metrics.register_module(module=OccupancyMetric, force=True)
    for hook in HOOK_CLASSES:
        hooks.register_module(module=hook, force=True)
    FUNCTIONS.register_module(name="omnihd_collate", module=collate, force=True)
