"""Renderer gradient check, cube projection, NMS and soft-argmax against known geometry."""

from __future__ import annotations

import numpy as np
import torch

from perception.geometry.camera import Camera
from pose3d.multiview.config import ModelConfig
from pose3d.multiview.geometry import Rig, cube_offsets, subvoxel_offsets
from pose3d.multiview.heatmaps import render_gaussians
from pose3d.multiview.losses import hungarian_l1, render_points
from pose3d.multiview.model import (
    SelfPose3dModel,
    nms_proposals,
    project_to_cube,
    project_to_cube_subvoxel,
    soft_argmax,
)


def test_renderer_gradcheck() -> None:
    pts = torch.tensor([[[[3.2, 2.1], [5.7, 4.4]]]], dtype=torch.float64, requires_grad=True)  # [1, P=1, J=2, 2]
    w = torch.tensor([[[1.0, 0.5]]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, ww: render_gaussians(p, ww, 7, 9, 1.5), (pts, w))


def test_renderer_peaks_where_points_are() -> None:
    pts = torch.tensor([[[4.0, 3.0]], [[10.0, 6.0]]])  # two people, one joint
    maps = render_gaussians(pts, torch.ones(2, 1), 12, 16, 2.0)[0]
    assert maps[3, 4] == 1.0 and maps[6, 10] == 1.0  # clipped sum
    assert maps[0, 15] < 1e-3


def _rig(cams: list[Camera], heatmap_size: tuple[int, int] = (48, 64)) -> Rig:
    h, w = heatmap_size
    aff = np.tile(np.array([[w / 640, 0, 0], [0, h / 480, 0]]), (1, 4, 1, 1))
    return Rig.from_cameras([cams], aff, heatmap_size)


def test_projection_puts_a_rendered_point_back_at_its_voxel(ring_cameras: list[Camera]) -> None:
    rig = _rig(ring_cameras)
    point = torch.tensor([[[[400.0, -300.0, 1000.0]]]])  # [B, K, J, 3]
    heat = render_points(rig, point, torch.ones(1, 1, 1), 2.0)  # [1, V, 1, h, w]
    offsets = cube_offsets((4000.0, 4000.0, 2000.0), (40, 40, 20))
    cube = project_to_cube(heat, rig, torch.tensor([[0.0, 0.0, 1000.0]]), offsets)[0, 0]
    idx = np.unravel_index(int(cube.argmax()), cube.shape)
    best = offsets[idx] + torch.tensor([0.0, 0.0, 1000.0])
    assert torch.linalg.norm(best - point[0, 0, 0]) < 150  # within about a voxel (100 mm)
    assert cube.max() > 0.7 and cube.mean() < 0.05


def test_nms_and_soft_argmax() -> None:
    offsets = cube_offsets((800.0, 800.0, 400.0), (8, 8, 4))
    cube = torch.zeros(1, 8, 8, 4)
    cube[0, 2, 3, 1], cube[0, 2, 4, 1], cube[0, 6, 6, 2] = 0.9, 0.8, 0.7  # 0.8 is next to 0.9: suppressed
    centers, scores = nms_proposals(cube, offsets, 3)
    assert np.allclose(scores[0, :2], [0.9, 0.7])
    # sub-voxel refinement: score-weighted centroid of the 3x3x3 neighbourhood
    torch.testing.assert_close(centers[0, 0], (0.9 * offsets[2, 3, 1] + 0.8 * offsets[2, 4, 1]) / 1.7)
    torch.testing.assert_close(centers[0, 1], offsets[6, 6, 2])  # isolated peak stays on its voxel
    sharp = torch.full((1, 1, 8, 8, 4), -1.0)
    sharp[0, 0, 5, 1, 2] = 1.0
    got = soft_argmax(sharp, offsets[None], 100.0)
    torch.testing.assert_close(got[0, 0], offsets[5, 1, 2])


def test_hungarian_l1_matches_people_one_to_one() -> None:
    g = torch.rand(1, 1, 2, 15, 2) * 40
    pred = g.flip(2) + 1.0  # same people, other order, 1 px off in x and y
    cost = hungarian_l1(pred.unsqueeze(0)[0], torch.ones(1, 2, dtype=torch.bool), g, torch.ones(1, 1, 2, 15), (40, 80))
    assert torch.isclose(cost, torch.tensor(1 / 80 + 1 / 40))


def test_tiny_model_forward_finds_rendered_people(ring_cameras: list[Camera]) -> None:
    cfg = ModelConfig(
        input="detections",
        image_size=[256, 192],
        root_cube=[16, 16, 8],
        pose_cube=[8, 8, 8],
        v2v_width=4,
        max_people=3,
        space_center=[0, 0, 1000],
        space_size=[4000, 4000, 2000],
    )
    model = SelfPose3dModel(cfg).eval()
    rig = _rig(ring_cameras, (48, 64))
    with torch.no_grad():
        out = model(rig, heatmaps=torch.rand(1, 4, 15, 48, 64))
    assert out["poses"].shape == (1, 3, 15, 3) and out["root_cube"].shape == (1, 16, 16, 8)
    # poses of proposals lie inside their 2 m cubes
    valid = out["valid"][0]
    if valid.any():
        d = (out["poses"][0, valid] - out["centers"][0, valid, None]).abs()
        assert (d <= 1000 + 1e-3).all()


def test_hungarian_l1_ignores_joints_projected_off_the_heatmap() -> None:
    g = torch.rand(1, 1, 1, 15, 2) * 40
    pred = g.clone()
    pred[..., 3, :] = -1e4  # parked: not inside
    inside = torch.ones(1, 1, 1, 15, dtype=torch.bool)
    inside[..., 3] = False
    args = (pred, torch.ones(1, 1, dtype=torch.bool), g, torch.ones(1, 1, 1, 15), (40, 80))
    assert hungarian_l1(*args, inside) == 0
    assert hungarian_l1(*args) > 10


def test_batched_projection_matches_per_view_loop_and_bench_runs(ring_cameras: list[Camera]) -> None:
    from pose3d.multiview.bench import format_bench, per_view_loop_projection, run_bench

    rig = _rig(ring_cameras, (48, 64))
    heat = torch.rand(1, 4, 3, 48, 64)
    offsets = cube_offsets((2000.0, 2000.0, 2000.0), (8, 8, 8))
    center = torch.tensor([[100.0, -200.0, 900.0]])
    torch.testing.assert_close(
        project_to_cube(heat, rig, center, offsets), per_view_loop_projection(heat, rig, center, offsets)
    )
    cfg = ModelConfig(input="detections", image_size=[128, 64], root_cube=[8, 8, 4], pose_cube=[8, 8, 8], v2v_width=4)
    res = run_bench(cfg, views=2, people=2, repeats=1)
    assert res["ratio_root_projection_peer_over_ours"] > 0 and "peak memory" in format_bench(res)


def test_subvoxel_projection_is_the_max_over_shifted_cubes_and_keeps_a_peak_between_voxels(
    ring_cameras: list[Camera],
) -> None:
    rig = _rig(ring_cameras)
    size, shape = (4000.0, 4000.0, 2000.0), (20, 20, 8)
    offsets = cube_offsets(size, shape)
    step = torch.tensor([4000 / 19, 4000 / 19, 2000 / 7])
    assert torch.equal(subvoxel_offsets(offsets, size, 1), offsets)
    points = subvoxel_offsets(offsets, size, 2)
    assert points.shape == (20, 20, 8 * 8, 3)
    per_voxel = points.reshape(20, 20, 8, 8, 3)
    torch.testing.assert_close(per_voxel.mean(-2), offsets)  # centred on the voxel centre
    assert ((per_voxel - offsets[..., None, :]).abs() <= step / 4 + 1e-3).all()  # inside the voxel
    # a point halfway between voxel centres (along all three axes), drawn with a narrow Gaussian
    centre = torch.tensor([[0.0, 0.0, 1000.0]])
    point = centre + offsets[10, 10, 4] - step / 2
    heat = render_points(rig, point[None, None], torch.ones(1, 1, 1), 1.0)  # [1, V, 1, h, w]
    plain = project_to_cube(heat, rig, centre, offsets)
    sub = project_to_cube_subvoxel(heat, rig, centre, points, 2)
    assert sub.shape == plain.shape == (1, 1, 20, 20, 8)
    # reference: the max over the eight cubes shifted to each sub-voxel point
    shifts = (per_voxel - offsets[..., None, :])[0, 0, 0]  # [8, 3], the same for every voxel
    ref = torch.stack([project_to_cube(heat, rig, centre, offsets + d) for d in shifts]).amax(0)
    torch.testing.assert_close(sub, ref)
    assert sub.max() > 1.5 * plain.max()
    # the model uses it for the root cube when asked
    cfg = ModelConfig(input="detections", image_size=[256, 192], root_cube=[20, 20, 8], space_size=list(size))
    cfg.space_center = [0.0, 0.0, 1000.0]
    hm = heat.expand(-1, -1, 15, -1, -1)
    one = SelfPose3dModel(cfg).eval()
    two = SelfPose3dModel(ModelConfig(**{**cfg.__dict__, "root_subvoxels": 2})).eval()
    two.load_state_dict(one.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(two.root_net(sub), two.root_cube(hm[:, :, 2:3], rig)[:, None])
        torch.testing.assert_close(one.root_net(plain), one.root_cube(hm[:, :, 2:3], rig)[:, None])
