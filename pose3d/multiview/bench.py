"""`pernav pose bench`: per-frame latency of projection and V2V for 5 views, against a per-view loop peer.

The peer is VoxelPose's way of filling a cube (one ``grid_sample`` call per view, then averaging);
ours projects and samples all views in one batched call. Contenders are interleaved (A B A B ...),
medians reported with their ratio, the machine printed with the table.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from perception.geometry.camera import Camera
from pose3d.multiview.config import ModelConfig
from pose3d.multiview.geometry import Rig
from pose3d.multiview.model import SelfPose3dModel, project_to_cube
from pose3d.skeleton import ROOT


def per_view_loop_projection(
    heatmaps: torch.Tensor, rig: Rig, centers: torch.Tensor, offsets: torch.Tensor
) -> torch.Tensor:
    """Peer: VoxelPose-style cube filling, looping over views. Same inputs/outputs as :func:`project_to_cube`."""
    B, V, C, h, w = heatmaps.shape
    points = centers[:, None, :] + offsets.reshape(1, -1, 3)
    total = heatmaps.new_zeros(B, C, points.shape[1])
    count = heatmaps.new_zeros(B, 1, points.shape[1])
    for v in range(V):
        one = Rig(
            rig.K[:, v : v + 1],
            rig.dist[:, v : v + 1],
            rig.R[:, v : v + 1],
            rig.t[:, v : v + 1],
            rig.affine[:, v : v + 1],
            rig.heatmap_size,
        )
        uv, valid = one.project(points)
        norm = torch.stack([uv[:, 0, :, 0] / (w - 1), uv[:, 0, :, 1] / (h - 1)], -1) * 2 - 1
        s = torch.nn.functional.grid_sample(heatmaps[:, v], norm.unsqueeze(1), align_corners=True)[:, :, 0]
        total += s * valid[:, 0, None]
        count += valid[:, 0, None].to(s.dtype)
    return (total / count.clamp(min=1)).clamp(0, 1).reshape(B, C, *offsets.shape[:3])


def demo_rig(views: int, heatmap_size: tuple[int, int], device: str) -> Rig:
    """``views`` cameras on a ring looking at the capture space, heatmaps at 1/4 of 1920x1080 scaled."""
    cams = []
    for i in range(views):
        a = 2 * np.pi * i / views
        c = np.array([5000 * np.cos(a), -500 + 5000 * np.sin(a), 2000.0])
        z = np.array([0.0, -500.0, 900.0]) - c
        z /= np.linalg.norm(z)
        x = np.cross(z, [0, 0, 1.0])
        x /= np.linalg.norm(x)
        R = np.stack([x, np.cross(z, x), z])
        cams.append(
            Camera(
                np.array([[1200.0, 0, 960], [0, 1200, 540], [0, 0, 1]]),
                np.array([-0.25, 0.1, 0, 0, -0.01]),
                R,
                -R @ c,
                1920,
                1080,
            )
        )
    h, w = heatmap_size
    aff = np.tile(np.array([[w / 1920, 0, 0], [0, h / 1080, 0]]), (1, views, 1, 1))
    return Rig.from_cameras([cams], aff, heatmap_size).to(device)


def _time(fn: Callable[[], object], device: str) -> float:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return (time.perf_counter() - t) * 1000


def run_bench(cfg: ModelConfig, views: int = 5, people: int = 3, repeats: int = 5, device: str = "cpu") -> dict:
    """Median ms per frame for: projection (ours vs per-view loop), root V2V, pose V2V, end to end."""
    torch.manual_seed(0)
    model = SelfPose3dModel(cfg).to(device).eval()
    h, w = cfg.image_size[1] // 4, cfg.image_size[0] // 4
    rig = demo_rig(views, (h, w), device)
    heat = torch.rand(1, views, cfg.num_joints, h, w, device=device)
    center = model.space_center[None]
    pose_c = torch.tensor([[0.0, -500.0, 900.0]], device=device).repeat(people, 1)  # one cube per person
    root_cube = torch.rand(1, 1, *cfg.root_cube, device=device)
    pose_cube = torch.rand(people, cfg.num_joints, *cfg.pose_cube, device=device)
    heat_p, rig_p = heat.repeat_interleave(people, 0), rig.repeat_interleave(people)
    jobs: dict[str, Callable[[], object]] = {
        "projection root cube (ours, batched views)": lambda: project_to_cube(
            heat[:, :, ROOT : ROOT + 1], rig, center, model.root_offsets
        ),
        "projection root cube (peer, per-view loop)": lambda: per_view_loop_projection(
            heat[:, :, ROOT : ROOT + 1], rig, center, model.root_offsets
        ),
        f"projection pose cubes x{people} (ours, one batch)": lambda: project_to_cube(
            heat_p, rig_p, pose_c, model.pose_offsets
        ),
        f"projection pose cubes x{people} (peer, per-view loop)": lambda: [
            per_view_loop_projection(heat, rig, pose_c[i : i + 1], model.pose_offsets) for i in range(people)
        ],
        "V2V root net": lambda: model.root_net(root_cube),
        f"V2V pose net x{people} (one batch)": lambda: model.pose_net(pose_cube),
    }
    if model.backbone is not None:
        images = torch.rand(1, views, 3, cfg.image_size[1], cfg.image_size[0], device=device)
        jobs[f"2D backbone ({views} views)"] = lambda: model.heatmaps(images)
    times: dict[str, list[float]] = {k: [] for k in jobs}
    with torch.no_grad():
        for fn in jobs.values():
            fn()  # warm-up
        for _ in range(repeats):
            for k, fn in jobs.items():  # interleaved
                times[k].append(_time(fn, device))
    med = {k: statistics.median(v) for k, v in times.items()}
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.startswith("cuda")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "median_ms": med,
        "peak_memory_mb": peak,
        "ratio_root_projection_peer_over_ours": med["projection root cube (peer, per-view loop)"]
        / med["projection root cube (ours, batched views)"],
        "ratio_pose_projection_peer_over_ours": med[f"projection pose cubes x{people} (peer, per-view loop)"]
        / med[f"projection pose cubes x{people} (ours, one batch)"],
        "machine": f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, device {device}"
        + (f" ({torch.cuda.get_device_name()})" if device.startswith("cuda") else ""),
    }


def format_bench(res: dict) -> str:
    lines = [res["machine"], f"{'stage':<48} {'median ms':>10}"]
    lines += [f"{k:<48} {v:>10.2f}" for k, v in res["median_ms"].items()]
    lines.append(f"root projection: peer / ours = {res['ratio_root_projection_peer_over_ours']:.2f}x")
    lines.append(f"pose projection: peer / ours = {res['ratio_pose_projection_peer_over_ours']:.2f}x")
    kind = "GPU allocated" if "cuda" in res["machine"] else "process max RSS"
    lines.append(f"peak memory: {res['peak_memory_mb']:.0f} MiB ({kind})")
    return "\n".join(lines)
