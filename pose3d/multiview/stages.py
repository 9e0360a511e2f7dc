"""One training iteration per stage, as an ``nn.Module`` so DDP can wrap it.

Stages (SelfPose3d): ``backbone`` (2D heatmaps), ``rootnet`` (synthetic roots), ``posenet``
(cross-view rendering with attention + Hungarian L1), ``finetune`` (posenet on confident pseudo
joints only, see :class:`~pose3d.multiview.batching.FrameTensors`). With ``objective == "supervised"``
the same stages use VoxelPose's losses on 3D ground truth instead.
"""

from __future__ import annotations

import torch
from torch import nn

from pose3d.multiview.batching import rig_of
from pose3d.multiview.config import PoseConfig
from pose3d.multiview.losses import (
    hungarian_l1,
    render_points,
    root_confidence_pool,
    root_target,
    sample_synthetic_roots,
    synthetic_root_heatmaps,
    to_heatmap_px,
    weighted_mse,
)
from pose3d.multiview.model import SelfPose3dModel
from pose3d.skeleton import ROOT

STAGES = ("backbone", "rootnet", "posenet", "finetune")
RENDER_SCALE = 1000.0


def trainable_modules(model: SelfPose3dModel, stage: str, objective: str) -> list[nn.Module]:
    """Modules whose parameters a stage updates (the rest is frozen and kept in eval mode)."""
    if stage not in STAGES:
        raise ValueError(f"train.stage must be one of {STAGES} or 'all', got {stage!r}")
    if stage == "backbone":
        if model.backbone is None:
            raise ValueError("stage 'backbone' needs model.input == 'images'")
        return [model.backbone]
    if stage == "rootnet":
        return [model.root_net]
    mods: list[nn.Module] = [model.pose_net]
    if model.backbone is not None:
        mods.append(model.backbone)
    if model.attention is not None and objective == "ssl":
        mods.append(model.attention)
    return mods


class TrainStep(nn.Module):
    """``forward(batch, epoch) -> {name: loss}`` with ``"loss"`` the total."""

    def __init__(self, model: SelfPose3dModel, cfg: PoseConfig, stage: str, seed: int) -> None:
        super().__init__()
        if cfg.train.objective not in ("ssl", "supervised"):
            raise ValueError(f"train.objective must be 'ssl' or 'supervised', got {cfg.train.objective!r}")
        if cfg.train.synthetic_root_amplitude not in ("one", "pseudo"):
            raise ValueError(
                f"train.synthetic_root_amplitude must be 'one' or 'pseudo', got {cfg.train.synthetic_root_amplitude!r}"
            )
        self.model, self.cfg, self.stage = model, cfg, stage
        self.gen = torch.Generator().manual_seed(seed)

    def _heatmaps(self, batch: dict[str, torch.Tensor], s: int, grad: bool) -> torch.Tensor:
        if self.model.backbone is None:
            return batch["targets"][:, s]
        with torch.set_grad_enabled(grad):
            return self.model.heatmaps(batch["images"][:, s])

    def _gt_heatmaps(self, batch: dict[str, torch.Tensor], s: int, hs: tuple[int, int]) -> torch.Tensor:
        return render_points(rig_of(batch, s, hs), batch["gt"], batch["gt_vis"], self.cfg.model.heatmap_sigma)

    def forward(self, batch: dict[str, torch.Tensor], epoch: int) -> dict[str, torch.Tensor]:
        hs = (batch["targets"].shape[-2], batch["targets"].shape[-1])
        step = {"backbone": self._backbone, "rootnet": self._rootnet}.get(self.stage, self._posenet)
        losses = step(batch, epoch, hs)
        # an empty dict (nothing to learn from in this sample) gives a constant zero that the loop skips
        losses["loss"] = sum(losses.values()) if losses else torch.zeros(())
        return losses

    def _backbone(self, batch: dict[str, torch.Tensor], epoch: int, hs: tuple[int, int]) -> dict[str, torch.Tensor]:
        sets = batch["targets"].shape[1]
        loss = 0
        for s in range(sets):
            target = batch["targets"][:, s] if self.cfg.train.objective == "ssl" else self._gt_heatmaps(batch, s, hs)
            loss = loss + weighted_mse(self._heatmaps(batch, s, True), target) / sets
        return {"loss_2d": self.cfg.train.weight_2d * RENDER_SCALE * loss}

    def _rootnet(self, batch: dict[str, torch.Tensor], epoch: int, hs: tuple[int, int]) -> dict[str, torch.Tensor]:
        tc, mc, model = self.cfg.train, self.cfg.model, self.model
        sets = batch["targets"].shape[1]
        out: dict[str, torch.Tensor] = {}
        if tc.objective == "supervised":
            rig = rig_of(batch, 0, hs)
            heat = self._heatmaps(batch, 0, False)[:, :, ROOT : ROOT + 1]
            target = root_target(
                batch["gt"][:, :, ROOT], batch["gt_vis"][:, :, ROOT] > 0, model.root_grid, tc.root_sigma
            )
            out["loss_root"] = tc.weight_root_syn * weighted_mse(model.root_cube(heat, rig), target)
            return out
        pool = root_confidence_pool(batch["joints_2d_vis"], ROOT) if tc.synthetic_root_amplitude == "pseudo" else None
        loss = 0
        for s in range(sets):
            rig = rig_of(batch, s, hs)
            roots, valid = sample_synthetic_roots(
                len(batch["K"]),
                tc.synthetic_roots_max,
                mc.space_center,
                mc.space_size,
                tc.synthetic_root_range,
                self.gen,
            )
            heat = synthetic_root_heatmaps(rig, roots, valid, mc.heatmap_sigma, 0.02, self.gen, pool)
            target = root_target(roots, valid, model.root_grid, tc.root_sigma)
            loss = loss + weighted_mse(model.root_cube(heat, rig), target) / sets
        out["loss_root_syn"] = tc.weight_root_syn * loss
        if tc.weight_root_reg > 0 and sets > 1 and ("images" in batch or model.backbone is None):
            cubes = [
                model.root_cube(self._heatmaps(batch, s, False)[:, :, ROOT : ROOT + 1], rig_of(batch, s, hs))
                for s in range(2)
            ]
            out["loss_root_reg"] = tc.weight_root_reg * weighted_mse(cubes[1], cubes[0].detach())
        return out

    def _posenet(self, batch: dict[str, torch.Tensor], epoch: int, hs: tuple[int, int]) -> dict[str, torch.Tensor]:
        tc, mc, model = self.cfg.train, self.cfg.model, self.model
        sets = batch["targets"].shape[1]
        rigs = [rig_of(batch, s, hs) for s in range(sets)]
        heat = [self._heatmaps(batch, s, True) for s in range(sets)]
        out: dict[str, torch.Tensor] = {}
        if model.backbone is not None:
            targets = (
                batch["targets"]
                if tc.objective == "ssl"
                else torch.stack([self._gt_heatmaps(batch, s, hs) for s in range(sets)], 1)
            )
            out["loss_2d"] = (
                tc.weight_2d * RENDER_SCALE * sum(weighted_mse(heat[s], targets[:, s]) for s in range(sets)) / sets
            )
        if tc.objective == "supervised":  # VoxelPose with USE_GT: pose cubes centred on the (jittered) true roots
            gt, vis = batch["gt"], batch["gt_vis"]
            present = vis[:, :, ROOT] > 0
            noise = torch.randn(gt[:, :, ROOT].shape, generator=self.gen).to(gt.device)
            roots = gt[:, :, ROOT] + tc.root_jitter * noise
            errors = []
            for b in range(len(gt)):  # only the people present (the rest is padding)
                keep = present[b].nonzero().flatten()
                if len(keep):
                    pred = model.poses(heat[0][b : b + 1], rigs[0].select(slice(b, b + 1)), roots[b : b + 1, keep])
                    w = vis[b, keep]
                    errors.append(((pred[0] - gt[b, keep]).abs().sum(-1) * w).sum() / w.sum().clamp(min=1))
            if errors:
                out["loss_pose"] = tc.weight_pose_sup * torch.stack(errors).mean()
            return out
        _, centers, scores = model.propose(heat[0].detach(), rigs[0])
        valid = scores > mc.proposal_threshold
        if not valid.any():  # nothing to render yet (untrained root net): only the 2D term, if any
            return out
        preds = [model.poses_of_valid(heat[s], rigs[s], centers, valid) for s in range(sets)]
        attn = (
            [model.attention_maps(batch["images"][:, s]) for s in range(sets)] if model.attention is not None else None
        )
        weights = valid[..., None].expand(-1, -1, mc.num_joints).to(centers.dtype)
        render = 0
        for a in range(sets):
            b = (a + 1) % sets
            drawn = render_points(rigs[b], preds[a], weights, mc.heatmap_sigma)
            render = render + weighted_mse(drawn, batch["targets"][:, b], attn[b] if attn else None) / sets
        out["loss_render"] = tc.weight_render * RENDER_SCALE * render
        if attn:
            out["loss_attention"] = tc.attention_weight * sum(weighted_mse(m, torch.ones_like(m)) for m in attn) / sets
        if tc.l1_weight > 0 and epoch >= tc.l1_start_epoch:
            l1 = 0
            for s in range(sets):
                B, K, J, _ = preds[s].shape
                uv, inside = rigs[s].project(preds[s].reshape(B, K * J, 3))
                pseudo = to_heatmap_px(batch["joints_2d"], batch["affine"][:, s])
                V = uv.shape[1]
                l1 = (
                    l1
                    + hungarian_l1(
                        uv.reshape(B, V, K, J, 2), valid, pseudo, batch["joints_2d_vis"], hs, inside.reshape(B, V, K, J)
                    )
                    / sets
                )
            out["loss_l1"] = tc.l1_weight * l1
        return out
