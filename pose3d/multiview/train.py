"""`pernav pose train`: staged SelfPose3d (or supervised VoxelPose) training with TensorBoard,
atomic checkpoints, ``--resume`` and DDP under ``torchrun`` (gloo on CPU, NCCL on GPU)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import torch
import torch.distributed as dist
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from pose3d.multiview.batching import FrameTensors
from pose3d.multiview.config import PoseConfig, to_dict
from pose3d.multiview.datasets.build import build_frames
from pose3d.multiview.io import atomic_write_bytes, load_checkpoint, save_checkpoint
from pose3d.multiview.model import SelfPose3dModel
from pose3d.multiview.stages import STAGES, TrainStep, trainable_modules

CHECKPOINT_VERSION = 1


def stages_of(cfg: PoseConfig) -> list[str]:
    """The stages a run goes through (``all``: backbone when there is one, rootnet, posenet)."""
    if cfg.train.stage == "all":
        return (["backbone"] if cfg.model.input == "images" else []) + ["rootnet", "posenet"]
    if cfg.train.stage not in STAGES:
        raise ValueError(f"train.stage must be one of {STAGES} or 'all', got {cfg.train.stage!r}")
    return [cfg.train.stage]


def stage_epochs(cfg: PoseConfig, stage: str) -> int:
    """Epochs of ``stage`` (``train.rootnet_epochs`` for the root net when set, else ``train.epochs``)."""
    return cfg.train.rootnet_epochs if stage == "rootnet" and cfg.train.rootnet_epochs > 0 else cfg.train.epochs


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def checkpoint_state(
    model: SelfPose3dModel,
    cfg: PoseConfig,
    stage: str,
    epoch: int,
    iteration: int,
    optimizer: torch.optim.Optimizer | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> dict:
    """Tensors + plain metadata only."""
    return {
        "version": CHECKPOINT_VERSION,
        "model": model.state_dict(),
        "config": to_dict(cfg),
        "stage": stage,
        "epoch": epoch,
        "iteration": iteration,
        "optimizer": optimizer.state_dict() if optimizer is not None else {},
        "scheduler": scheduler.state_dict() if scheduler is not None else {},
    }


def train(cfg: PoseConfig, resume: bool = False, init: str | None = None, progress: bool = True) -> Path:
    """Run the configured stages; returns the final checkpoint path (``<out_dir>/model.pt``).

    Args:
        resume: continue from ``<out_dir>/checkpoint.pt`` (same stage, epoch and iteration).
        init: start from this checkpoint's weights (e.g. the root-net stage for the pose-net stage).
    """
    rank, world = _dist_info()
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out_dir)
    device = torch.device(cfg.device)
    model = SelfPose3dModel(cfg.model).to(device)
    if init:
        model.load_state_dict(load_checkpoint(init)["model"])
    ckpt_path = out / "checkpoint.pt"
    state = load_checkpoint(ckpt_path) if resume and ckpt_path.is_file() else None
    if resume and state is None and rank == 0:
        print(f"pernav pose train: no {ckpt_path} yet, starting from scratch")
    if state is not None:
        model.load_state_dict(state["model"])
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "config.yaml", yaml.safe_dump(to_dict(cfg), sort_keys=False).encode())
    writer = SummaryWriter(str(out / "tb")) if rank == 0 else None
    frames = build_frames(cfg.data, cfg.model)
    if not frames:
        raise ValueError(f"{cfg.data.root}: the training data has no frames")
    stages = stages_of(cfg)
    start_stage = stages.index(state["stage"]) if state is not None and state["stage"] in stages else 0
    tc = cfg.train
    global_step = 0
    for stage in stages[start_stage:]:
        resuming = state is not None and state["stage"] == stage
        modules = trainable_modules(model, stage, tc.objective)
        for p in model.parameters():
            p.requires_grad_(False)
        params = [p for m in modules for p in m.parameters()]
        for p in params:
            p.requires_grad_(True)
        lr = tc.lr * (tc.finetune_lr_factor if stage == "finetune" else 1.0)
        optimizer = torch.optim.Adam(params, lr=lr)
        sched = torch.optim.lr_scheduler.MultiStepLR(optimizer, tc.lr_decay_epochs, 0.1)
        first_epoch, skip_iters = 0, 0
        if resuming:
            optimizer.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            first_epoch, skip_iters = state["epoch"], state["iteration"]
        needs_images = cfg.model.input == "images" and (
            stage != "rootnet" or tc.weight_root_reg > 0 or tc.objective == "supervised"
        )
        sets = 1 if stage == "backbone" or tc.objective == "supervised" else tc.view_sets
        data = FrameTensors(
            frames,
            cfg.model,
            sets,
            augment=sets > 1,
            rotate_deg=tc.rotate_deg,
            scale=tc.scale,
            load_images=needs_images,
            seed=cfg.seed,
            min_confidence=tc.finetune_min_confidence if stage == "finetune" else 0.0,
        )
        sampler = DistributedSampler(data, world, rank, seed=cfg.seed) if world > 1 else None
        loader = DataLoader(
            data,
            tc.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            num_workers=tc.workers,
            generator=torch.Generator().manual_seed(cfg.seed),
            drop_last=True,
        )
        step_module: torch.nn.Module = TrainStep(model, cfg, stage, cfg.seed * 100 + rank)
        if world > 1:
            step_module = DistributedDataParallel(step_module, find_unused_parameters=True)
        per_epoch = len(loader) if not tc.max_iters else min(len(loader), tc.max_iters)
        epochs = stage_epochs(cfg, stage)
        for epoch in range(first_epoch, epochs):
            data.epoch = epoch
            if sampler is not None:
                sampler.set_epoch(epoch)
            model.eval()
            for m in modules:
                m.train()
            bar = tqdm(total=per_epoch, desc=f"{stage} epoch {epoch + 1}/{epochs}", disable=not progress or rank)
            for it, batch in enumerate(loader):
                if it >= per_epoch:
                    break
                if epoch == first_epoch and it < skip_iters:
                    bar.update(1)
                    continue
                batch = {k: v.to(device) for k, v in batch.items()}
                losses = step_module(batch, epoch)
                optimizer.zero_grad(set_to_none=True)
                if not torch.isfinite(losses["loss"]):
                    raise FloatingPointError(
                        f"{stage} epoch {epoch} iteration {it}: non-finite loss "
                        f"{ {k: v.item() for k, v in losses.items()} }"
                    )
                if losses["loss"].requires_grad:
                    losses["loss"].backward()
                    optimizer.step()
                global_step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{losses['loss'].item():.4f}")
                if writer is not None and (global_step % tc.log_every == 0 or it == per_epoch - 1):
                    for k, v in losses.items():
                        writer.add_scalar(f"losses/{stage}/{k}", v.item(), global_step)
                    writer.add_scalar(f"charts/{stage}/lr", optimizer.param_groups[0]["lr"], global_step)
                if rank == 0 and (it + 1) % tc.checkpoint_every == 0:
                    save_checkpoint(ckpt_path, checkpoint_state(model, cfg, stage, epoch, it + 1, optimizer, sched))
            bar.close()
            sched.step()
            if rank == 0:
                save_checkpoint(ckpt_path, checkpoint_state(model, cfg, stage, epoch + 1, 0, optimizer, sched))
        state = None
        if rank == 0:
            save_checkpoint(out / f"model_{stage}.pt", checkpoint_state(model, cfg, stage, epochs, 0, None))
        del step_module, optimizer
    final = out / "model.pt"
    if rank == 0:
        save_checkpoint(final, checkpoint_state(model, cfg, stages[-1], stage_epochs(cfg, stages[-1]), 0, None))
        writer.close()
    if world > 1:
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
    return final
