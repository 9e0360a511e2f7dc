"""LiDAR depth supervision of the camera branch, the training objective's terms, and graceful sensor dropout."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from perception.occupancy.config import OptimConfig, load_config
from perception.occupancy.data.images import IMAGENET_MEAN, IMAGENET_STD
from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes, collate
from perception.occupancy.depth_targets import NO_DEPTH, depth_bin_targets, depth_loss, lidar_depth_images
from perception.occupancy.losses import training_losses
from perception.occupancy.model import MetaOcc, ModelConfig
from perception.occupancy.sensor_dropout import TRAINING_MIX, apply_dropout, random_dropout

#: a camera at the ego origin looking along ego +x (OpenCV axes: x right = ego -y, y down = ego -z)
FORWARD_CAM = np.eye(4)
FORWARD_CAM[:3, :3] = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@pytest.fixture(scope="module")
def batch(omnihd_root: Path) -> dict:
    ds = OmniHDScenes(OmniHDConfig(root=str(omnihd_root), pad_to=16, history=1), "train")
    return collate([ds[2]])


def test_lidar_depth_image_by_hand() -> None:
    K = np.array([[[10.0, 0.0, 4.0], [0.0, 10.0, 3.0], [0.0, 0.0, 1.0]]])
    pts = np.array([[10.0, 0.0, 0.0],    # on the optical axis: pixel (u=4, v=3), depth 10
                    [5.0, 0.0, 0.0],     # same pixel, nearer: wins
                    [4.0, -2.0, 0.0],    # 2 m to the right at 4 m: u = 10*2/4 + 4 = 9 → outside an 8-wide image
                    [4.0, -0.8, 1.2],    # right and up: u = 6, v = 3 - 3 = 0, depth 4
                    [-5.0, 0.0, 0.0]])   # behind the camera
    depth = lidar_depth_images(pts, K, FORWARD_CAM[None], (6, 8))
    expected = np.zeros((1, 6, 8), np.float32)
    expected[0, 3, 4], expected[0, 0, 6] = 5.0, 4.0
    np.testing.assert_allclose(depth, expected, atol=1e-5)


def test_depth_bins_take_the_nearest_return_per_cell() -> None:
    depth = torch.zeros(1, 4, 4)
    depth[0, 0, 0], depth[0, 1, 1] = 5.0, 3.0   # cell (0, 0): nearest 3 m
    depth[0, 0, 3] = 9.0                         # cell (0, 1): beyond the 8 m range
    depth[0, 3, 2] = 7.9                         # cell (1, 1): last bin; cell (1, 0) has no return
    bins = depth_bin_targets(depth, (2, 2), (0.0, 8.0), 4)
    assert bins.tolist() == [[[1, NO_DEPTH], [NO_DEPTH, 3]]]
    with pytest.raises(ValueError, match="not a multiple"):
        depth_bin_targets(depth, (3, 2), (0.0, 8.0), 4)


def test_depth_loss_rewards_the_lidar_bin() -> None:
    depth = torch.full((1, 1, 2, 2), 2.5)  # bin 1 of 4 over 0..8 m everywhere
    right = torch.full((1, 1, 4, 1, 1), -5.0)
    right[:, :, 1] = 5.0
    wrong = right.roll(1, dims=2)
    assert depth_loss(right, depth, (0.0, 8.0)) < 0.01 < 5.0 < depth_loss(wrong, depth, (0.0, 8.0))
    assert depth_loss(right, torch.zeros_like(depth), (0.0, 8.0)) == 0  # no return, no loss


def test_loader_gives_lidar_depth_aligned_with_the_images(batch: dict) -> None:
    cur, prev = batch["frames"][-1], batch["frames"][0]
    assert "depth" not in prev and cur["depth"].shape == (1, 6, 32, 48)
    hit = cur["depth"][0] > 0
    assert hit.float().mean() > 0.2
    # LiDAR returns come from surfaces: almost none lands on the rendered sky colour
    rgb = cur["images"][0] * IMAGENET_STD + IMAGENET_MEAN  # [6, 3, H, W]
    sky = torch.tensor([135.0, 180.0, 230.0]).view(1, 3, 1, 1) / 255
    is_sky = ((rgb - sky).abs().amax(1) < 0.1)
    assert is_sky[~hit].float().mean() > 0.2 and is_sky[hit].float().mean() < 0.02


def test_training_objective_terms(batch: dict) -> None:
    torch.manual_seed(0)
    optim = OptimConfig()
    fusion = MetaOcc(ModelConfig(variant="fusion", channels=16, heads=2))
    losses = training_losses(fusion, batch, None, optim)
    assert {"ce", "geo_scal", "sem_scal", "depth", "aux_camera", "aux_radar", "total"} <= set(losses)
    parts = losses["ce"] + losses["geo_scal"] + losses["sem_scal"] + losses["depth"]
    parts = parts + 0.5 * (losses["aux_camera"] + losses["aux_radar"])
    torch.testing.assert_close(losses["total"], parts)
    no_radar = training_losses(fusion, apply_dropout(batch, "radar_missing"), None, optim)
    assert "aux_radar" not in no_radar and "aux_camera" in no_radar
    camera = training_losses(MetaOcc(ModelConfig(variant="camera", channels=16, heads=2)), batch, None, optim)
    assert "depth" in camera and "aux_camera" not in camera
    radar = training_losses(MetaOcc(ModelConfig(variant="radar", channels=16, heads=2)), batch, None, optim)
    assert "depth" not in radar and "aux_radar" not in radar


def test_missing_radar_takes_the_camera_path(batch: dict) -> None:
    """With the radar stream empty, the fused output no longer depends on anything the radar branch
    computes: the points' values do not matter."""
    torch.manual_seed(0)
    model = MetaOcc(ModelConfig(variant="fusion", channels=16, heads=2)).eval()
    missing = apply_dropout(batch, "radar_missing")
    scrambled = apply_dropout(batch, "radar_missing")
    scrambled["frames"] = [dict(f, radar=torch.randn_like(f["radar"]) * 30) for f in scrambled["frames"]]
    with torch.no_grad():
        torch.testing.assert_close(model(missing["frames"]), model(scrambled["frames"]))
        assert not torch.allclose(model(batch["frames"]), model(missing["frames"]))


def test_training_dropout_mix_and_black_views_lose_depth(batch: dict) -> None:
    rng = random.Random(0)
    seen: Counter[str] = Counter()
    for _ in range(400):
        out = random_dropout(batch, 1.0, rng)
        cur = out["frames"][-1]
        if (cur["radar_lengths"] == 0).all():
            seen["radar_missing"] += 1
        else:
            black = (cur["depth"][0] == 0).flatten(1).all(1)  # views without any depth left
            seen["cameras_missing" if black.all() else "camera_black"] += 1
            assert black.sum() in (1, 6)
    for kind, share in TRAINING_MIX.items():
        assert abs(seen[kind] / 400 - share) < 0.07, seen
    assert random_dropout(batch, 0.0, rng) is batch


@pytest.mark.parametrize("variant", ["camera", "radar"])
def test_sensor_dropout_is_refused_for_single_sensor_variants(variant: str) -> None:
    """Dropout would train a single-sensor model on some iterations without its only input."""
    with pytest.raises(ValueError, match=f"sensor_dropout=0.3 needs model.variant='fusion'.*{variant}-only"):
        load_config("small", [f"model.variant={variant}", "optim.sensor_dropout=0.3"])
    assert load_config("small", [f"model.variant={variant}", "optim.sensor_dropout=0"]).model.variant == variant
    assert load_config("small", ["optim.sensor_dropout=0.3"]).optim.sensor_dropout == 0.3
