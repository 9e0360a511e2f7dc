"""Synthetic root heatmaps (the root net's SSL training input) against the detection-built root channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import default_collate

from perception.geometry.camera import Camera, project_points
from pose3d.multiview.batching import FrameTensors, rig_of
from pose3d.multiview.config import ModelConfig, load_config
from pose3d.multiview.datasets.sample import FrameSample, ViewSample
from pose3d.multiview.losses import root_confidence_pool, synthetic_root_heatmaps
from pose3d.skeleton import ROOT

ROOT_MM = np.array([200.0, -300.0, 950.0])
ROOT_CONF = [0.9, 0.65, 0.0, 0.8]  # per view; view 2's pose lacks its root


def _batch(cams: list[Camera]) -> tuple[dict[str, torch.Tensor], ModelConfig]:
    """One frame whose pseudo poses hold the exact projection of ``ROOT_MM`` with confidence ``ROOT_CONF``."""
    views = []
    for cam, conf in zip(cams, ROOT_CONF, strict=True):
        uv = np.asarray(project_points(ROOT_MM[None], cam.K, cam.dist, cam.R, cam.t))[0]
        joints = np.tile(uv, (15, 1))
        vis = np.full(15, 0.7)
        vis[ROOT] = conf
        views.append(ViewSample(cam, 640, 480, joints_2d=joints[None], joints_2d_vis=vis[None]))
    cfg = ModelConfig(input="detections", image_size=[256, 192], heatmap_sigma=2.0, max_people=3)
    data = FrameTensors([FrameSample("f/0", views)], cfg, 1, load_images=False)
    return default_collate([data[0]]), cfg


def test_root_confidence_pool_holds_each_detected_pose_root_and_skips_padding(ring_cameras: list[Camera]) -> None:
    batch, _ = _batch(ring_cameras)
    (pool,) = root_confidence_pool(batch["joints_2d_vis"], ROOT)
    # 4 views x 1 pose; the 2 padding slots of each view are left out
    assert np.allclose(sorted(pool.tolist()), sorted(ROOT_CONF))


def test_synthetic_root_matches_the_detection_root_channel_in_width_and_peak(ring_cameras: list[Camera]) -> None:
    batch, cfg = _batch(ring_cameras)
    hs = (batch["targets"].shape[-2], batch["targets"].shape[-1])
    rig = rig_of(batch, 0, hs)
    real = batch["targets"][0, 0, :, ROOT]  # [V, h, w], drawn from the pseudo poses
    roots, valid = torch.tensor(ROOT_MM[None, None], dtype=torch.float32), torch.ones(1, 1, dtype=torch.bool)
    gen = torch.Generator().manual_seed(0)
    for v, conf in enumerate(ROOT_CONF):
        syn = synthetic_root_heatmaps(rig, roots, valid, cfg.heatmap_sigma, 0.0, gen, [torch.tensor([conf])])
        torch.testing.assert_close(syn[0, v, 0], real[v], atol=2e-3, rtol=0)
    # SelfPose3d's amplitude-1 roots are brighter than the real ones wherever the detector is unsure
    plain = synthetic_root_heatmaps(rig, roots, valid, cfg.heatmap_sigma, 0.0, gen)[0, :, 0]  # [V, h, w]
    torch.testing.assert_close(plain[1] * ROOT_CONF[1], real[1], atol=2e-3, rtol=0)
    assert plain[2].max() > 0.9 and real[2].max() == 0
    # with the frame's pool, amplitudes are drawn from the real confidences
    (pool,) = root_confidence_pool(batch["joints_2d_vis"], ROOT)
    amps = []
    for _ in range(25):
        syn = synthetic_root_heatmaps(rig, roots, valid, cfg.heatmap_sigma, 0.0, gen, [pool])[0, :, 0]
        amps += (syn.flatten(1).amax(1) / plain.flatten(1).amax(1)).tolist()
    assert np.abs(np.array(amps)[:, None] - np.array(ROOT_CONF)[None]).min(1).max() < 1e-3
    assert abs(np.mean(amps) - np.mean(ROOT_CONF)) < 0.1 and min(amps) < 1e-3


def test_ssl_detections_preset_draws_synthetic_roots_like_the_detections() -> None:
    preset = Path(__file__).parents[2] / "configs" / "pose" / "synthetic_detections_ssl.yaml"
    assert load_config(preset).train.synthetic_root_amplitude == "pseudo"
