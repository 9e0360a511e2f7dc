"""`pernav occ train` on mmengine's Runner (the engine mmdet3d users know), every object built explicitly
from the typed `OccConfig`: the model (`MetaOccModel`, whose `forward(mode="loss")` is
`perception.occupancy.losses.training_losses`), an `OptimWrapper` around AdamW (backbone group at
`optim.backbone_lr_mult`, gradient clipping), a cosine `CosineAnnealingLR` to 1% over `optim.iters`, the
iteration-based train loop, `CheckpointHook` (a rolling `<out_dir>/latest.pt`), `LoggerHook`, a TensorBoard
visualizer backend (`<out_dir>/tb`) and a tqdm progress bar. The resolved config is stored as
`<out_dir>/config.yaml` (and, as mmengine dumps it, `<out_dir>/<timestamp>.py`); mmengine's own log goes to
`<out_dir>/<timestamp>/`.

Launch on several processes with `torchrun --nproc-per-node N -m perception.occupancy.cli train ...`
(gloo on CPU, NCCL on GPU); each rank reads its shard through mmengine's `DefaultSampler`.

Where mmengine 0.10.7's Runner could not serve a requirement as shipped, and what this module does instead:

- Atomic checkpoints: its `LocalBackend.put` writes straight into the target file, so a crash mid-save
  truncates the previous checkpoint. The checkpoint hook writes through `AtomicLocalBackend`
  (temporary file + `os.replace`, `perception.occupancy.mm.fileio`).
- Resume: it saves its message-hub history as `HistoryBuffer` objects but loads with `torch.load`'s
  default, which is `weights_only=True` since torch 2.6, so it cannot resume its own checkpoints.
  `MetaOccCheckpointHook` stores that history as plain lists (and adds MetaOcc's checkpoint keys, so
  `pernav occ eval` reads the same file with `weights_only=True`). Resuming skips the batches already
  seen (mmengine's loop) and seeds sensor dropout per iteration, so it ends where the uninterrupted run
  does.
- DDP on CPU: its `init_dist("pytorch")` calls `torch.cuda.set_device`, which fails on a machine without a
  GPU, and its default DDP wrapper passes `device_ids=[LOCAL_RANK]`. The process group is created here
  (gloo on CPU) before the Runner, which then reuses it, and the model is handed to the Runner already
  wrapped in `MMDistributedDataParallel` with `device_ids=None` on CPU.
- Device: the Runner puts the model on mmengine's `get_device()` (CUDA whenever it is available), so
  `device: cpu` cannot force CPU training on a GPU machine; `device: cuda` without a GPU is an error here.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import yaml
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.device import get_device
from mmengine.hooks import CheckpointHook, LoggerHook
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import CosineAnnealingLR, OptimWrapper
from mmengine.runner import Runner
from mmengine.visualization import TensorboardVisBackend, Visualizer
from torch.utils.data import DataLoader

from perception.occupancy.atomic import save_text_atomic
from perception.occupancy.checkpoint import load_checkpoint
from perception.occupancy.config import OccConfig, config_to_dict
from perception.occupancy.data.omnihd import OmniHDScenes, collate
from perception.occupancy.mm.fileio import ATOMIC_BACKEND
from perception.occupancy.mm.hooks import ClassWeightsHook, MetaOccCheckpointHook, SensorDropoutHook, TqdmProgressHook
from perception.occupancy.mm.model import MetaOccModel

CHECKPOINT_NAME = "latest.pt"
RUNNER_STATE = ("meta", "state_dict", "optimizer", "param_schedulers", "message_hub")
"""checkpoint keys the Runner resumes from"""


def to_device(batch: dict, device: torch.device) -> dict:
    """Move the tensors of a collated batch (frames and labels) to `device`."""
    frames = [{k: v.to(device) for k, v in f.items()} for f in batch["frames"]]
    out = dict(batch, frames=frames)
    if "occ" in batch:
        out["occ"] = batch["occ"].to(device)
    return out


def build_optim_wrapper(model: MetaOccModel, cfg: OccConfig) -> OptimWrapper:
    """AdamW with the camera backbone at `lr * backbone_lr_mult`, gradients clipped to `grad_clip`."""
    backbone = [p for n, p in model.net.named_parameters() if n.startswith("camera.encoder.")]
    ids = {id(p) for p in backbone}
    rest = [p for p in model.parameters() if id(p) not in ids]
    groups = [{"params": rest, "lr": cfg.optim.lr}]
    if backbone:
        groups.append({"params": backbone, "lr": cfg.optim.lr * cfg.optim.backbone_lr_mult})
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.optim.weight_decay)
    return OptimWrapper(optimizer, clip_grad={"max_norm": cfg.optim.grad_clip})


def build_runner(cfg: OccConfig, resume: str | None = None, progress: bool = True) -> Runner:
    """The mmengine Runner for one training run (the process group, if any, must already exist)."""
    distributed = dist.is_available() and dist.is_initialized()
    out = Path(cfg.out_dir)
    torch.manual_seed(cfg.optim.seed)
    model = MetaOccModel(cfg.model, cfg.optim)
    ds = OmniHDScenes(cfg.data, "train")
    loader = DataLoader(ds, batch_size=cfg.optim.batch_size, sampler=DefaultSampler(ds, shuffle=True,
                        seed=cfg.optim.seed), num_workers=cfg.optim.num_workers, collate_fn=collate)
    experiment = f"occ_{os.getpid()}_{time.time_ns()}"
    optim_wrapper = build_optim_wrapper(model, cfg)
    iters = cfg.optim.iters
    scheduler = CosineAnnealingLR(optim_wrapper, T_max=iters, eta_min_ratio=0.01, by_epoch=False, begin=0, end=iters)
    checkpoint = CheckpointHook(interval=cfg.optim.ckpt_every, by_epoch=False, filename_tmpl=CHECKPOINT_NAME,
                                save_last=True, backend_args={"backend": ATOMIC_BACKEND})
    visualizer = Visualizer(name=experiment,
                            vis_backends=[TensorboardVisBackend(save_dir=str(out / "tb"))])
    net: torch.nn.Module = model
    if distributed:
        device_ids = [int(os.environ.get("LOCAL_RANK", 0))] if torch.cuda.is_available() else None
        net = MMDistributedDataParallel(model.to(get_device()), device_ids=device_ids, broadcast_buffers=True)
    runner = Runner(
        model=net, work_dir=str(out), experiment_name=experiment, cfg=Config({"occ": config_to_dict(cfg)}),
        train_dataloader=loader, optim_wrapper=optim_wrapper, param_scheduler=scheduler,
        train_cfg={"by_epoch": False, "max_iters": iters},
        default_hooks={"logger": LoggerHook(interval=cfg.optim.log_every), "checkpoint": checkpoint},
        custom_hooks=[ClassWeightsHook(), SensorDropoutHook(cfg.optim.sensor_dropout, cfg.optim.seed),
                      TqdmProgressHook(progress), MetaOccCheckpointHook(cfg)],
        visualizer=visualizer, launcher="pytorch" if distributed else "none",
        randomness={"seed": cfg.optim.seed}, resume=resume is not None, load_from=resume, log_level="INFO",
        default_scope="mmengine")
    optim_wrapper.message_hub = runner.message_hub  # built before the Runner's hub, it would log grad_norm elsewhere
    return runner


def train(cfg: OccConfig, resume: str | None = None, progress: bool = True) -> Path:
    """Train (resuming from the checkpoint `resume` if given) and return `<out_dir>/latest.pt`."""
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device=cuda but torch sees no CUDA device")
    if resume is not None:
        missing = [k for k in RUNNER_STATE if k not in load_checkpoint(resume)]
        if missing:
            raise ValueError(f"{resume}: cannot resume, the checkpoint has no training state ({', '.join(missing)}); "
                             "exported weights (`pernav occ export`) only serve eval and infer")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    out = Path(cfg.out_dir)
    if not distributed or dist.get_rank() == 0:
        save_text_atomic(out / "config.yaml", yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
    runner = build_runner(cfg, resume, progress)
    runner.train()
    if distributed:
        del runner
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
    return out / CHECKPOINT_NAME
