"""`MetaOccModel`: MetaOcc as an mmengine `BaseModel`, so mmengine's Runner (and mmdet3d's training script)
drive it. `forward(mode="loss")` is exactly `perception.occupancy.losses.training_losses`."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from mmengine.model import BaseModel

from configs import schema
from perception.occupancy.config import OptimConfig
from perception.occupancy.grid import OMNIHD_GRID
from perception.occupancy.losses import training_losses
from perception.occupancy.mm.preprocessor import OccDataPreprocessor
from perception.occupancy.model import MetaOcc
from perception.occupancy.model.config import ModelConfig


class MetaOccModel(BaseModel):
    """Wraps `MetaOcc` (as `self.net`) with the training objective and the class weights.

    `model` and `optim` are the typed `ModelConfig` / `OptimConfig` or plain dicts of their fields (as an
    mmengine config file writes them; unknown keys are errors). `voxelization` and `max_points_per_voxel`
    configure the radar path of `OccDataPreprocessor` (mmcv's Voxelization or plain torch). The class
    weights `[num_classes]` are a buffer, saved in checkpoints; NaN until set (see `ClassWeightsHook`), and
    unweighted cross-entropy while unset.
    """

    def __init__(self, model: ModelConfig | dict[str, Any], optim: OptimConfig | dict[str, Any] | None = None,
                 voxelization: str = "auto", max_points_per_voxel: int = -1, init_cfg: dict | None = None) -> None:
        model_cfg = model if isinstance(model, ModelConfig) else schema.from_dict(ModelConfig, model, "model.model")
        grid = OMNIHD_GRID.scaled(model_cfg.downsample)
        super().__init__(data_preprocessor=OccDataPreprocessor(grid, voxelization, max_points_per_voxel),
                         init_cfg=init_cfg)
        self.model_cfg: ModelConfig = model_cfg
        self.optim_cfg: OptimConfig = optim if isinstance(optim, OptimConfig) else schema.from_dict(
            OptimConfig, optim or {}, "model.optim")
        self.net = MetaOcc(model_cfg, OMNIHD_GRID)
        self.register_buffer("class_weights", torch.full((self.model_cfg.num_classes,), float("nan")))

    def has_class_weights(self) -> bool:
        """Whether the class weights were set (by `set_class_weights` or a loaded checkpoint)."""
        return not bool(torch.isnan(self.class_weights).any())

    def set_class_weights(self, weights: torch.Tensor) -> None:
        """Class weights `[num_classes]` for the cross-entropy term."""
        if weights.shape != self.class_weights.shape:
            raise ValueError(f"class weights have shape {tuple(weights.shape)}, expected "
                             f"{tuple(self.class_weights.shape)}")
        self.class_weights.copy_(weights)

    def forward(self, frames: list[dict[str, torch.Tensor]], occ: torch.Tensor | None = None,
                mode: str = "tensor", **batch: Any) -> dict[str, torch.Tensor] | torch.Tensor | list[dict]:
        """A collated batch (`frames`, labels `occ [B, X, Y, Z]`, other keys) →

        - `mode="loss"`: `training_losses(...)`, a dict with `total`, `ce`, `geo_scal`, `sem_scal`, ...;
        - `mode="tensor"`: logits `[B, classes, X, Y, Z]`;
        - `mode="predict"`: one dict per sample with `pred [X, Y, Z]` (uint8 classes), `occ` (if given), `token`.
        """
        if mode == "loss":
            if occ is None:
                raise ValueError("MetaOccModel.forward(mode='loss') needs the labels `occ` in the batch")
            weights = self.class_weights if self.has_class_weights() else None
            return training_losses(self.net, {"frames": frames, "occ": occ, **batch}, weights, self.optim_cfg)
        logits = self.net(frames)
        if mode == "tensor":
            return logits
        if mode == "predict":
            pred = logits.argmax(1).to(torch.uint8)
            tokens = batch.get("token", [""] * len(pred))
            return [{"pred": p, "token": t, **({"occ": occ[i]} if occ is not None else {})}
                    for i, (p, t) in enumerate(zip(pred, tokens, strict=True))]
        raise ValueError(f"MetaOccModel.forward: mode must be 'loss', 'tensor' or 'predict', got {mode!r}")

    def parse_losses(self, losses: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss to optimise is `losses["total"]` (mmengine's default would sum keys containing "loss");
        every term is logged, the total as `loss`."""
        log_vars = OrderedDict(loss=losses["total"].detach())
        log_vars.update((k, v.detach()) for k, v in losses.items() if k != "total")
        return losses["total"], log_vars
