"""`pernav occ bench`: per-frame latency and peak memory of MetaOcc against a dense-attention peer.

Latency is per streaming frame (the memory bank holds the previous frames, as online). The peer is the
same network with its global cross-attention fusion done the straightforward way: every
voxel attends to every voxel plus the global tokens (`torch.nn.functional.scaled_dot_product_attention`),
instead of `kernels.na3d` over a neighbourhood plus the global tokens. Both run on identical inputs,
interleaved (A B A B ...) after a warm-up; the table reports medians, the ratio, and peak memory.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from perception.occupancy.config import OccConfig, load_config
from perception.occupancy.model import MetaOcc
from perception.occupancy.model.metaocc import MemoryBank

SMALL_IMAGE = (48, 80)  # generated views after the devkit's front/back halving
REAL_IMAGE = (1080, 1920)


class DenseGlobalAttention(nn.Module):
    """Drop-in for `NeighborhoodAttention3d` (same weights): full attention over all voxels + extra tokens."""

    def __init__(self, na: nn.Module) -> None:
        super().__init__()
        self.qkv, self.proj, self.num_heads, self.head_dim = na.qkv, na.proj, na.num_heads, na.head_dim

    def forward(self, x: torch.Tensor, extra_tokens: torch.Tensor | None = None) -> torch.Tensor:
        """x `[B, X, Y, Z, C]`, extra_tokens `[B, M, C]` → `[B, X, Y, Z, C]`."""
        b, *spatial, c = x.shape
        q, k, v = self.qkv(x.reshape(b, -1, c)).unflatten(-1, (3, self.num_heads, self.head_dim)).unbind(-3)
        if extra_tokens is not None:
            ek, ev = self.qkv(extra_tokens).unflatten(-1, (3, self.num_heads, self.head_dim)).unbind(-3)[1:]
            k, v = torch.cat([k, ek], 1), torch.cat([v, ev], 1)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.proj(out.transpose(1, 2).reshape(b, *spatial, c))


def synthetic_frames(cfg: OccConfig, device: torch.device, points: int = 12000) -> list[dict[str, torch.Tensor]]:
    """Input frames with the preset's real shapes (random content; timing does not depend on it)."""
    g = torch.Generator().manual_seed(0)
    h, w = SMALL_IMAGE if cfg.data.image_scale == 1.0 and cfg.data.pad_to < 32 else REAL_IMAGE
    h, w = round(h * cfg.data.image_scale), round(w * cfg.data.image_scale)
    h, w = h + (-h) % cfg.data.pad_to, w + (-w) % cfg.data.pad_to
    K = torch.tensor([[w / 2, 0, w / 2], [0, w / 2, h / 2], [0, 0, 1.0]])
    cam2ego = torch.eye(4).repeat(6, 1, 1)
    for i, yaw in enumerate([0, 55, -55, 180, 125, -125]):
        a = torch.deg2rad(torch.tensor(float(yaw)))
        rz = torch.tensor([[torch.cos(a), -torch.sin(a), 0], [torch.sin(a), torch.cos(a), 0], [0, 0, 1]])
        cam2ego[i, :3, :3] = rz @ torch.tensor([[0.0, 0, 1], [-1, 0, 0], [0, -1, 0]])
    lo = torch.tensor([-60.0, -40, -3])
    span = torch.tensor([120.0, 80, 8])
    radar = torch.cat([torch.rand(1, points, 3, generator=g) * span + lo, torch.randn(1, points, 5, generator=g)], -1)
    frame = {"images": torch.randn(1, 6, 3, h, w, generator=g), "K": K.expand(1, 6, 3, 3).clone(),
             "cam2ego": cam2ego[None], "radar": radar, "radar_lengths": torch.tensor([points]),
             "ego2global": torch.eye(4, dtype=torch.float64)[None]}
    frames = []
    for i in range(cfg.data.history + 1):
        f = {k: v.to(device) for k, v in frame.items()}
        f["ego2global"] = f["ego2global"].clone()
        f["ego2global"][0, 0, 3] = 2.0 * i
        frames.append(f)
    return frames


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {key}")


def build_contenders(cfg: OccConfig, device: torch.device) -> dict[str, MetaOcc]:
    """Our model and the dense-attention peer, with identical weights."""
    torch.manual_seed(0)
    ours = MetaOcc(cfg.model).to(device).eval()
    peer = copy.deepcopy(ours)
    peer.global_fusion.attn = DenseGlobalAttention(peer.global_fusion.attn)
    return {"MetaOcc (na3d + global tokens)": ours, "peer: dense global attention": peer}


def _step(model: MetaOcc, frames: list[dict], bank: MemoryBank, device: torch.device) -> float:
    """Seconds for one streaming frame (the bank already holds the previous frames)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        model.step(frames[-1], bank)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def peak_memory_mib(cfg: OccConfig, contender: str) -> float:
    """Peak memory of one streaming frame: CUDA max allocated, or on CPU the rise of the process's peak
    RSS (VmHWM, reset through /proc/self/clear_refs) — run in a fresh process per contender."""
    device = torch.device(cfg.device)
    model = build_contenders(cfg, device)[contender]
    frames = synthetic_frames(cfg, device)
    bank = model.new_bank()
    with torch.no_grad():
        for f in frames[:-1]:
            model.step(f, bank)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        _step(model, frames, bank, device)
        return torch.cuda.max_memory_allocated() / 2**20
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _status_kib("VmRSS")
    _step(model, frames, bank, device)
    return (_status_kib("VmHWM") - base) / 1024


def run_bench(args: argparse.Namespace) -> int:
    """Run the comparison, print the table, write `bench.json` and a PNG under `args.out`."""
    from perception.occupancy.visualize import save_bar_chart

    cfg = load_config(args.config, args.set)
    device = torch.device(cfg.device)
    contenders = build_contenders(cfg, device)
    frames = synthetic_frames(cfg, device)
    banks = {k: m.new_bank() for k, m in contenders.items()}
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for name, model in contenders.items():  # warm-up, and fill the memory bank as a stream would
        for _ in range(len(frames)):
            _step(model, frames, banks[name], device)
    for _ in range(args.repeats):
        for name, model in contenders.items():
            times[name].append(_step(model, frames, banks[name], device))
    med = {k: statistics.median(v) for k, v in times.items()}
    mems = {}
    for name in contenders:
        cmd = [sys.executable, "-c", "import sys; from perception.occupancy.bench import _peak_main; _peak_main()",
               name, str(args.config), *args.set]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"peak-memory run for {name!r} failed: {proc.stderr[-2000:]}")
        mems[name] = float(proc.stdout.strip().splitlines()[-1])
    names = list(contenders)
    ratio = med[names[1]] / med[names[0]]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    grid = contenders[names[0]].grid.size
    print(f"preset {args.config}: backbone {cfg.model.backbone}, streaming (memory bank {cfg.model.memory}), "
          f"6 views of {tuple(frames[0]['images'].shape[-2:])}, feature grid {grid}, label grid 240x160x16")
    print(f"{'contender':<34} {'median ms/frame':>16} {'FPS':>7} {'peak MiB':>9}  (peak: fresh process)")
    for k in names:
        print(f"{k:<34} {1e3 * med[k]:>16.1f} {1 / med[k]:>7.2f} {mems[k]:>9.1f}")
    print(f"speed-up of MetaOcc over the peer: {ratio:.2f}x (same run, {args.repeats} interleaved repeats)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = {k: {"median_ms": 1e3 * med[k], "fps": 1 / med[k], "peak_mib": mems[k]} for k in names}
    (out / "bench.json").write_text(json.dumps({"config": args.config, "ratio": ratio, "table": table}, indent=1))
    save_bar_chart(out / "bench_latency.png", table, "median_ms", "MetaOcc per-frame latency (ms)")
    print(f"wrote {out / 'bench.json'} and {out / 'bench_latency.png'}")
    return 0


def _peak_main() -> None:
    """Child-process entry of :func:`peak_memory_mib`: argv = contender, preset, overrides..."""
    name, preset, *overrides = sys.argv[1:]
    print(peak_memory_mib(load_config(preset, overrides), name))
