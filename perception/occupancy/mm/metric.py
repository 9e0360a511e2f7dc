"""`OccupancyMetric`: SC-IoU / mIoU (the OmniHD devkit's accumulation, `perception.occupancy.metrics`) as an
mmengine metric, for `Runner.val()` / `Runner.test()` and mmdet3d's test script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from mmengine.evaluator import BaseMetric

from perception.occupancy.grid import NUM_CLASSES
from perception.occupancy.metrics import OccupancyMetrics, sample_scores


class OccupancyMetric(BaseMetric):
    """Consumes `MetaOccModel.forward(mode="predict")` outputs (`pred`, `occ` `[X, Y, Z]` per sample)."""

    default_prefix = "occ"

    def __init__(self, num_classes: int = NUM_CLASSES, collect_device: str = "cpu", prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes = num_classes

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if "occ" not in sample:
                raise ValueError("OccupancyMetric needs labels: the evaluated split must have occ_gt files")
            pred, occ = sample["pred"].long().cpu(), sample["occ"].long().cpu()
            self.results.append(sample_scores(pred[None], occ[None], self.num_classes)[0])

    def compute_metrics(self, results: list[np.ndarray]) -> dict[str, float]:
        meter = OccupancyMetrics(self.num_classes)
        meter.tables = list(results)
        return meter.compute()
