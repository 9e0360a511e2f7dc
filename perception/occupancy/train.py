"""`pernav occ train`: iteration-based training with TensorBoard, atomic checkpoints, resume and DDP.

Launch on several processes with `torchrun --nproc-per-node N -m perception.occupancy.cli train ...`
(gloo on CPU, NCCL on GPU); each rank reads its shard through a `DistributedSampler`.
"""

from __future__ import annotations

import gc
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import yaml
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from perception.occupancy.checkpoint import load_checkpoint, save_checkpoint
from perception.occupancy.config import OccConfig, config_to_dict
from perception.occupancy.data.omnihd import OmniHDScenes, collate
from perception.occupancy.grid import IGNORE, NUM_CLASSES
from perception.occupancy.labels import load_occ_gt
from perception.occupancy.losses import class_weights_from_counts, training_losses
from perception.occupancy.model import MetaOcc
from perception.occupancy.sensor_dropout import random_dropout


def to_device(batch: dict, device: torch.device) -> dict:
    """Move the tensors of a collated batch (frames and labels) to `device`."""
    frames = [{k: v.to(device) for k, v in f.items()} for f in batch["frames"]]
    out = dict(batch, frames=frames)
    if "occ" in batch:
        out["occ"] = batch["occ"].to(device)
    return out


def label_counts(ds: OmniHDScenes, max_samples: int = 64) -> np.ndarray:
    """Voxel counts per class `[NUM_CLASSES]` over (up to) `max_samples` evenly spaced training labels."""
    counts = np.zeros(NUM_CLASSES)
    picks = np.linspace(0, len(ds) - 1, min(len(ds), max_samples)).astype(int)
    for i in picks:
        occ = load_occ_gt(ds.tables.sample_info(ds.samples[i], 1).occ_path, ds.grid)
        counts += np.bincount(occ[occ != IGNORE].ravel(), minlength=NUM_CLASSES)[:NUM_CLASSES]
    return counts


def _optimizer(model: MetaOcc, cfg: OccConfig) -> torch.optim.Optimizer:
    backbone = [p for n, p in model.named_parameters() if n.startswith("camera.encoder.")]
    ids = {id(p) for p in backbone}
    rest = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": rest, "lr": cfg.optim.lr}]
    if backbone:
        groups.append({"params": backbone, "lr": cfg.optim.lr * cfg.optim.backbone_lr_mult})
    return torch.optim.AdamW(groups, weight_decay=cfg.optim.weight_decay)


def train(cfg: OccConfig, resume: str | None = None, progress: bool = True) -> Path:
    """Train and return the final checkpoint path (`<out_dir>/latest.pt`)."""
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if cfg.device == "cuda" else "gloo")
    rank = dist.get_rank() if distributed else 0
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cfg.device == "cuda" else "cpu")
    torch.manual_seed(cfg.optim.seed)
    out = Path(cfg.out_dir)
    ds = OmniHDScenes(cfg.data, "train")
    sampler = DistributedSampler(ds, shuffle=True, seed=cfg.optim.seed) if distributed else None
    gen = torch.Generator().manual_seed(cfg.optim.seed)
    loader = DataLoader(ds, batch_size=cfg.optim.batch_size, shuffle=sampler is None, sampler=sampler,
                        num_workers=cfg.optim.num_workers, collate_fn=collate, generator=gen, drop_last=False)
    model = MetaOcc(cfg.model).to(device)
    optimizer = _optimizer(model, cfg)
    step = 0
    weights = class_weights_from_counts(label_counts(ds))
    if resume:
        blob = load_checkpoint(resume)
        model.load_state_dict(blob["model"])
        if "optimizer" in blob:
            optimizer.load_state_dict(blob["optimizer"])
        step = int(blob["step"])
        weights = torch.as_tensor(blob["extra"].get("class_weights", weights))
    net: torch.nn.Module = DistributedDataParallel(model) if distributed else model
    lr_lambda = lambda s: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(s, cfg.optim.iters) / cfg.optim.iters))  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda, last_epoch=step - 1 if step else -1)
    writer = SummaryWriter(str(out / "tb")) if rank == 0 else None
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    extra = {"class_weights": weights.tolist()}
    bar = tqdm(total=cfg.optim.iters, initial=step, desc="occ train", disable=not progress or rank != 0)
    epoch, t0 = 0, time.perf_counter()
    rng = random.Random(cfg.optim.seed + rank)
    net.train()
    while step < cfg.optim.iters:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for batch in loader:
            if step >= cfg.optim.iters:
                break
            batch = to_device(random_dropout(batch, cfg.optim.sensor_dropout, rng), device)
            losses = training_losses(net, batch, weights, cfg.optim)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{losses['total'].item():.3f}")
            if writer is not None and (step % cfg.optim.log_every == 0 or step == 1):
                for k, v in losses.items():
                    writer.add_scalar(f"losses/{k}", v.item(), step)
                writer.add_scalar("charts/lr", optimizer.param_groups[0]["lr"], step)
                writer.add_scalar("charts/grad_norm", float(gnorm), step)
                writer.add_scalar("charts/iter_per_s", step / (time.perf_counter() - t0), step)
            if rank == 0 and step % cfg.optim.ckpt_every == 0:
                save_checkpoint(out / "latest.pt", model, cfg, step, optimizer, extra)
        epoch += 1
    bar.close()
    final = out / "latest.pt"
    if rank == 0:
        save_checkpoint(final, model, cfg, step, optimizer, dict(extra, train_seconds=time.perf_counter() - t0))
    if writer is not None:
        writer.close()
    if distributed:
        del net, optimizer
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
    return final
