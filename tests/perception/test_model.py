"""MetaOcc forward/backward per variant, temporal alignment, sensor dropout, losses."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from perception.occupancy.data.omnihd import OmniHDConfig, OmniHDScenes, collate
from perception.occupancy.grid import VoxelGrid
from perception.occupancy.losses import occupancy_loss
from perception.occupancy.model import MetaOcc, ModelConfig
from perception.occupancy.model.camera_branch import CameraEncoder
from perception.occupancy.model.temporal import warp_to_current
from perception.occupancy.sensor_dropout import apply_dropout


@pytest.fixture(scope="module")
def batch(omnihd_root: Path) -> dict:
    ds = OmniHDScenes(OmniHDConfig(root=str(omnihd_root), pad_to=16, history=1), "train")
    return collate([ds[2]])


@pytest.mark.parametrize("variant", ["fusion", "camera", "radar"])
def test_forward_backward(variant: str, batch: dict) -> None:
    torch.manual_seed(0)
    model = MetaOcc(ModelConfig(variant=variant, channels=16, heads=2))
    logits = model(batch["frames"])
    assert logits.shape == (1, 12, 240, 160, 16)
    losses = occupancy_loss(logits, batch["occ"], None)
    losses["total"].backward()
    assert torch.isfinite(losses["total"])
    for name, branch in (("camera", model.camera), ("radar", model.radar)):
        if branch is None:
            assert name not in variant and variant != "fusion"
            continue
        grads = [p.grad for p in branch.parameters() if p.grad is not None]
        assert grads and sum(g.abs().sum() for g in grads) > 0, f"{name} branch gets no gradient"


def test_missing_sensors_do_not_break_the_model(batch: dict) -> None:
    model = MetaOcc(ModelConfig(variant="fusion", channels=16, heads=2)).eval()
    with torch.no_grad():
        full = model(batch["frames"])
        for cond in ("radar_missing", "camera_black:0", "cameras_missing"):
            out = model(apply_dropout(batch, cond)["frames"])
            assert torch.isfinite(out).all()
            assert not torch.allclose(out, full), cond  # the sensor mattered


@pytest.mark.parametrize("stride", [4, 8])
def test_camera_stride_sets_the_feature_map(stride: int) -> None:
    torch.manual_seed(0)
    enc = CameraEncoder(ModelConfig(channels=16, heads=2, camera_stride=stride)).eval()
    images = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        feats, depth = enc(images)
        assert feats.shape == (2, 16, 32 // stride, 48 // stride) and depth.shape == (2, 30, 32 // stride, 48 // stride)
        if stride == 4:  # the stage-1 lateral carries image detail: changing it changes the features
            enc.lat1.weight.add_(1.0)
            assert not torch.allclose(enc(images)[0], feats)
    with pytest.raises(ValueError, match="camera_stride"):
        ModelConfig(camera_stride=2)


def test_warp_identity_and_one_voxel_shift() -> None:
    grid = VoxelGrid((-4.0, -4.0, -1.0, 4.0, 4.0, 1.0), (8, 8, 2))  # 1 m voxels
    vol = torch.randn(1, 3, 8, 8, 2)
    same, valid = warp_to_current(vol, torch.eye(4)[None], grid)
    torch.testing.assert_close(same, vol, atol=1e-5, rtol=0)
    assert valid.all()
    move = torch.eye(4)[None]
    move[0, 0, 3] = -1.0  # the past frame's origin is 1 m behind the current one
    shifted, valid = warp_to_current(vol, move, grid)
    # current voxel i sits at past voxel i + 1
    torch.testing.assert_close(shifted[:, :, :-1], vol[:, :, 1:], atol=1e-5, rtol=0)
    assert not valid[0, 0, -1].any() and valid[0, 0, :-1].all()


def test_temporal_memory_uses_history(batch: dict) -> None:
    model = MetaOcc(ModelConfig(variant="radar", channels=16, heads=2, memory=1)).eval()
    with torch.no_grad():
        with_hist = model(batch["frames"])
        only_cur = model(batch["frames"][-1:])
    assert not torch.allclose(with_hist, only_cur)


def test_loss_ignores_255() -> None:
    logits = torch.randn(1, 12, 4, 4, 2, requires_grad=True)
    target = torch.full((1, 4, 4, 2), 255)
    target[0, 0, 0, 0] = 3
    a = occupancy_loss(logits, target, None)["ce"]
    target2 = target.clone()
    target2[target2 == 255] = 255
    logits2 = logits.detach().clone()
    logits2[0, :, 1:] = torch.randn_like(logits2[0, :, 1:])  # change only ignored voxels
    b = occupancy_loss(logits2, target2, None)["ce"]
    torch.testing.assert_close(a.detach(), b)
