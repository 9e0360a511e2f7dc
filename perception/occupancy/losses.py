"""Occupancy losses: class-weighted cross-entropy plus MonoScene's scene-class affinity terms
(geometry scale `geo_scal` and semantic scale `sem_scal`), all ignoring label 255; and the training objective,
which adds LiDAR depth supervision of the camera branch and the per-branch auxiliary heads' cross-entropy."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from perception.occupancy.config import OptimConfig
from perception.occupancy.depth_targets import depth_loss
from perception.occupancy.grid import FREE, IGNORE
from perception.occupancy.model.config import ModelConfig


def class_weights_from_counts(counts: np.ndarray) -> torch.Tensor:
    """SurroundOcc/MonoScene-style weights `1 / log(1.02 + frequency)` from voxel counts `[classes]`."""
    freq = counts / max(counts.sum(), 1)
    return torch.as_tensor(1.0 / np.log(1.02 + freq), dtype=torch.float32)


def geo_scal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Precision, recall and specificity of "occupied" (1 − p_free) vs the labels, as BCE terms.

    logits `[B, K, X, Y, Z]`, target `[B, X, Y, Z]` (255 ignored).
    """
    valid = target != IGNORE
    p_occ = 1 - logits.softmax(1)[:, FREE][valid]
    occ = (target[valid] != FREE).float()
    eps = 1e-6
    inter = (p_occ * occ).sum()
    precision = inter / (p_occ.sum() + eps)
    recall = inter / (occ.sum() + eps)
    spec = ((1 - p_occ) * (1 - occ)).sum() / ((1 - occ).sum() + eps)
    return -(torch.log(precision + eps) + torch.log(recall + eps) + torch.log(spec + eps)) / 3


def sem_scal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-class precision / recall / specificity BCE terms, averaged over classes present in the batch."""
    valid = target != IGNORE
    prob = logits.softmax(1).permute(0, 2, 3, 4, 1)[valid]  # [N, K]
    tgt = target[valid]
    terms = []
    eps = 1e-6
    for k in range(prob.shape[1]):
        p, t = prob[:, k], (tgt == k).float()
        if t.sum() == 0:
            continue
        loss = -torch.log((p * t).sum() / (t.sum() + eps) + eps)  # recall
        if p.sum() > 0:
            loss = loss - torch.log((p * t).sum() / (p.sum() + eps) + eps)  # precision
        if (1 - t).sum() > 0:
            loss = loss - torch.log(((1 - p) * (1 - t)).sum() / ((1 - t).sum() + eps) + eps)  # specificity
        terms.append(loss)
    return torch.stack(terms).mean() if terms else logits.sum() * 0


def occupancy_loss(logits: torch.Tensor, target: torch.Tensor, class_weights: torch.Tensor | None,
                   scal_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """`{"ce", "geo_scal", "sem_scal", "total"}` for logits `[B, K, X, Y, Z]` and labels `[B, X, Y, Z]`."""
    w = None if class_weights is None else class_weights.to(logits.device)
    ce = F.cross_entropy(logits, target, weight=w, ignore_index=IGNORE)
    geo, sem = geo_scal_loss(logits, target), sem_scal_loss(logits, target)
    return {"ce": ce, "geo_scal": geo, "sem_scal": sem, "total": ce + scal_weight * (geo + sem)}


def training_losses(model: torch.nn.Module, batch: dict, class_weights: torch.Tensor | None,
                    optim: OptimConfig) -> dict[str, torch.Tensor]:
    """One training step's losses: forward `batch["frames"]` through `model` and score against `batch["occ"]`.

    The single place that defines MetaOcc's training objective; the training loops call only this. Terms:
    `ce`, `geo_scal`, `sem_scal` on the output; `depth` (camera depth distribution vs LiDAR, weight
    `optim.depth_weight`, when the batch has `depth`); `aux_camera` / `aux_radar` (cross-entropy of each
    branch's auxiliary head, weight `optim.aux_weight`; a sample whose radar is missing has no radar term).
    """
    out = model(batch["frames"], with_aux=True)
    losses = occupancy_loss(out["logits"], batch["occ"], class_weights, optim.scal_weight)
    cur = batch["frames"][-1]
    extra = []
    if "depth_logits" in out and "depth" in cur and optim.depth_weight > 0:
        losses["depth"] = depth_loss(out["depth_logits"], cur["depth"], model_config(model).depth_range)
        extra.append(optim.depth_weight * losses["depth"])
    w = None if class_weights is None else class_weights.to(out["logits"].device)
    for branch in ("camera", "radar"):
        if f"aux_{branch}" not in out or optim.aux_weight <= 0:
            continue
        target = batch["occ"]
        if branch == "radar":  # no radar, nothing to describe
            target = torch.where((cur["radar_lengths"] > 0).view(-1, 1, 1, 1), target, torch.full_like(target, IGNORE))
        if (target != IGNORE).any():
            losses[f"aux_{branch}"] = F.cross_entropy(out[f"aux_{branch}"], target, weight=w, ignore_index=IGNORE)
            extra.append(optim.aux_weight * losses[f"aux_{branch}"])
    losses["total"] = losses["total"] + sum(extra)
    return losses


def model_config(model: torch.nn.Module) -> ModelConfig:
    """The `ModelConfig` of a MetaOcc, also through a DistributedDataParallel wrapper."""
    return getattr(model, "module", model).cfg
