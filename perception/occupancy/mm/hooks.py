"""mmengine hooks that give the Runner what `pernav occ train` guarantees: class weights from the training
labels, sensor-dropout augmentation that replays identically on resume, a tqdm progress bar, and checkpoints
that `perception.occupancy.checkpoint.load_checkpoint` (`torch.load(weights_only=True)`) reads."""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import is_model_wrapper
from tqdm import tqdm

from perception.occupancy.checkpoint import FORMAT_VERSION
from perception.occupancy.config import OccConfig, config_to_dict
from perception.occupancy.data.omnihd import OmniHDScenes
from perception.occupancy.grid import IGNORE, NUM_CLASSES
from perception.occupancy.labels import load_occ_gt
from perception.occupancy.losses import class_weights_from_counts
from perception.occupancy.mm.model import MetaOccModel
from perception.occupancy.sensor_dropout import random_dropout

_HISTORY_BUFFER = "__mmengine_history_buffer__"


def unwrap(runner: Any) -> MetaOccModel:
    """The `MetaOccModel` a runner trains (inside its DDP wrapper, if any)."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if not isinstance(model, MetaOccModel):
        raise TypeError(f"these hooks drive a MetaOccModel, the runner holds a {type(model).__name__}")
    return model


def label_counts(ds: OmniHDScenes, max_samples: int = 64) -> np.ndarray:
    """Voxel counts per class `[NUM_CLASSES]` over (up to) `max_samples` evenly spaced training labels."""
    counts = np.zeros(NUM_CLASSES)
    picks = np.linspace(0, len(ds) - 1, min(len(ds), max_samples)).astype(int)
    for i in picks:
        occ = load_occ_gt(ds.label_path(ds.tables.sample_info(ds.samples[i], 1)), ds.grid)
        counts += np.bincount(occ[occ != IGNORE].ravel(), minlength=NUM_CLASSES)[:NUM_CLASSES]
    return counts


class ClassWeightsHook(Hook):
    """Before training, set the model's class weights from the training labels' class frequencies, unless
    they were already set (a resumed checkpoint keeps its own)."""

    priority = "VERY_HIGH"

    def __init__(self, max_samples: int = 64) -> None:
        self.max_samples = max_samples

    def before_train(self, runner: Any) -> None:
        model = unwrap(runner)
        ds = runner.train_dataloader.dataset
        if not isinstance(ds, OmniHDScenes):
            raise TypeError(f"ClassWeightsHook needs an OmniHDScenes training set, got {type(ds).__name__}")
        if not model.has_class_weights():
            weights = class_weights_from_counts(label_counts(ds, self.max_samples))
            model.set_class_weights(weights.to(model.class_weights))


class SensorDropoutHook(Hook):
    """With `probability`, train an iteration with the radar removed or one camera black
    (`perception.occupancy.sensor_dropout.random_dropout`). The generator is seeded from (seed, rank,
    iteration), so a resumed run draws exactly what the uninterrupted run would have."""

    def __init__(self, probability: float, seed: int = 0) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"sensor dropout probability must be in [0, 1], got {probability}")
        self.probability, self.seed = probability, seed

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: dict | None = None) -> None:
        if self.probability <= 0 or data_batch is None:
            return
        rng = random.Random(f"{self.seed}/{runner.rank}/{runner.iter}")
        data_batch.update(random_dropout(data_batch, self.probability, rng))


class TqdmProgressHook(Hook):
    """A tqdm bar over the training iterations on rank 0 (starting at the resumed iteration)."""

    priority = "LOW"

    def __init__(self, enabled: bool = True, desc: str = "occ train") -> None:
        self.enabled, self.desc = enabled, desc
        self.bar: tqdm | None = None

    def before_train(self, runner: Any) -> None:
        self.bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc,
                        disable=not self.enabled or runner.rank != 0)

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if outputs and "loss" in outputs:
                self.bar.set_postfix(loss=f"{float(outputs['loss']):.3f}")

    def after_train(self, runner: Any) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class MetaOccCheckpointHook(Hook):
    """Makes the Runner's checkpoints MetaOcc checkpoints as well: adds `kind`, `format_version`, `step`,
    `model` (MetaOcc's own state dict, sharing storage with mmengine's `state_dict`), `config` and `extra`
    (class weights, training seconds), and stores mmengine's message-hub history and numpy scalars as plain
    Python data, so the file loads with `torch.load(weights_only=True)` both here and in `pernav occ eval`.
    Loading converts back.

    `config` is the run's `OccConfig`; without one (mmdet3d configs) it is assembled from the model's and
    the training set's typed configs.
    """

    priority = "VERY_LOW"

    def __init__(self, config: OccConfig | None = None) -> None:
        self.config = config
        self.t0 = time.perf_counter()
        self.seconds_before = 0.0

    def before_train(self, runner: Any) -> None:
        self.t0 = time.perf_counter()

    def _config(self, runner: Any) -> OccConfig:
        if self.config is not None:
            return self.config
        model, ds = unwrap(runner), runner.train_dataloader.dataset
        data = ds.cfg if isinstance(ds, OmniHDScenes) else OccConfig().data
        return OccConfig(data=data, model=model.model_cfg, optim=model.optim_cfg, out_dir=str(runner.work_dir))

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        model = unwrap(runner)
        hub = checkpoint["message_hub"]
        hub["log_scalars"] = {k: _plain_buffer(v) for k, v in hub["log_scalars"].items()}
        hub["runtime_info"] = {k: v.item() if isinstance(v, np.generic) else v for k, v in hub["runtime_info"].items()}
        checkpoint.update(
            format_version=FORMAT_VERSION, kind="metaocc", step=int(checkpoint["meta"]["iter"]),
            model={k.removeprefix("net."): v for k, v in checkpoint["state_dict"].items() if k.startswith("net.")},
            config=config_to_dict(self._config(runner)),
            extra={"class_weights": model.class_weights.tolist(),
                   "train_seconds": self.seconds_before + time.perf_counter() - self.t0})

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        hub = checkpoint.get("message_hub")
        if hub is not None:
            hub["log_scalars"] = {k: _history_buffer(v) for k, v in hub["log_scalars"].items()}
        self.seconds_before = float(checkpoint.get("extra", {}).get("train_seconds", 0.0))


def _plain_buffer(buf: HistoryBuffer | dict) -> dict:
    """A `HistoryBuffer` as plain data (`torch.load(weights_only=True)` refuses the class)."""
    if isinstance(buf, dict):
        return buf
    logs, counts = buf.data
    return {_HISTORY_BUFFER: True, "log": logs.tolist(), "count": counts.tolist(), "max_length": buf.max_length}


def _history_buffer(value: Any) -> Any:
    """Inverse of `_plain_buffer` (other values pass through)."""
    if isinstance(value, dict) and value.get(_HISTORY_BUFFER):
        return HistoryBuffer(value["log"], value["count"], value["max_length"])
    return value
