"""Frames -> model tensors: resized and augmented images, camera rigs, pseudo-pose heatmaps, 3D ground truth."""

from __future__ import annotations

from collections.abc import Sequence

import imageio.v3 as iio
import numpy as np
import torch
from torch.utils.data import Dataset

from pose3d.multiview.config import ModelConfig
from pose3d.multiview.datasets.sample import FrameSample
from pose3d.multiview.geometry import Rig
from pose3d.multiview.heatmaps import render_gaussians

HEATMAP_STRIDE = 4


def view_affine(
    width: int, height: int, input_size: tuple[int, int], rot_deg: float = 0.0, scale: float = 1.0, flip: bool = False
) -> np.ndarray:
    """[3, 3] original-image pixels -> network-input pixels: resize, then rotate/scale (/flip) about the centre."""
    W, H = input_size
    base = np.diag([W / width, H / height, 1.0])
    c, s = np.cos(np.deg2rad(rot_deg)) * scale, np.sin(np.deg2rad(rot_deg)) * scale
    aug = np.array([[c * (-1 if flip else 1), -s, 0.0], [s * (-1 if flip else 1), c, 0.0], [0.0, 0.0, 1.0]])
    centre = np.array([[1.0, 0, W / 2], [0, 1.0, H / 2], [0, 0, 1.0]])
    return centre @ aug @ np.linalg.inv(centre) @ base


def warp_image(
    image: np.ndarray, affine: np.ndarray, orig_size: tuple[int, int], input_size: tuple[int, int]
) -> torch.Tensor:
    """Resample an image (any resolution) into the network input through ``affine``.

    Args:
        image: [h, w, 3] uint8 (h x w may differ from ``orig_size``; it is treated as a resized original).
        affine: [3, 3] original pixels -> input pixels.
    Returns:
        [3, H, W] float in [0, 1] (zeros outside the image).
    """
    h, w = image.shape[:2]
    W, H = input_size
    to_orig = np.diag([orig_size[0] / w, orig_size[1] / h, 1.0])
    inv = np.linalg.inv(affine @ to_orig)  # input pixels -> actual image pixels
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64)
    pts = np.stack([xs, ys, np.ones_like(xs)], -1) @ inv.T
    grid = torch.tensor(np.stack([pts[..., 0] / (w - 1), pts[..., 1] / (h - 1)], -1) * 2 - 1, dtype=torch.float32)
    img = torch.as_tensor(np.ascontiguousarray(image[..., :3]), dtype=torch.float32).permute(2, 0, 1) / 255.0
    return torch.nn.functional.grid_sample(img[None], grid[None], align_corners=True)[0]


def pad_people(arrays: Sequence[np.ndarray], count: int, tail: tuple[int, ...]) -> np.ndarray:
    """Stack per-view [P_i, *tail] arrays into [len, count, *tail] with zero padding (extra people dropped)."""
    out = np.zeros((len(arrays), count, *tail))
    for i, a in enumerate(arrays):
        n = min(len(a), count)
        out[i, :n] = np.asarray(a)[:n]
    return out


class FrameTensors(Dataset):
    """Torch dataset over :class:`FrameSample` s.

    Each item holds ``view_sets`` copies of the views, each randomly rotated/scaled when ``augment``:

    * ``images`` [S, V, 3, H, W] (only when ``load_images``),
    * ``K`` [V, 3, 3], ``dist`` [V, 5], ``R`` [V, 3, 3], ``t`` [V, 3], ``affine`` [S, V, 2, 3] (to heatmap px),
    * ``targets`` [S, V, J, h, w]: Gaussian heatmaps of the 2D (pseudo) poses,
    * ``joints_2d`` [V, P, J, 2] original px and ``joints_2d_vis`` [V, P, J] (P = ``max_people``),
    Pseudo joints with confidence below ``min_confidence`` count as missing (the fine-tune stage).

    * ``gt`` [G, J, 3] mm, ``gt_vis`` [G, J] (G = ``max_people``), ``index``.
    """

    def __init__(
        self,
        frames: Sequence[FrameSample],
        cfg: ModelConfig,
        view_sets: int = 1,
        augment: bool = False,
        rotate_deg: float = 0.0,
        scale: float = 0.0,
        load_images: bool = True,
        seed: int = 0,
        min_confidence: float = 0.0,
    ) -> None:
        self.frames, self.cfg = frames, cfg
        self.view_sets, self.augment = view_sets, augment
        self.rotate_deg, self.scale = rotate_deg, scale
        self.load_images = load_images and cfg.input == "images"
        self.seed = seed
        self.min_confidence = min_confidence
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.frames)

    def heatmap_size(self) -> tuple[int, int]:
        W, H = self.cfg.image_size
        return H // HEATMAP_STRIDE, W // HEATMAP_STRIDE

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        frame = self.frames[i]
        rng = np.random.default_rng((self.seed, self.epoch, i))
        J, P = self.cfg.num_joints, self.cfg.max_people
        h, w = self.heatmap_size()
        input_size = (self.cfg.image_size[0], self.cfg.image_size[1])
        stride = np.diag([1 / HEATMAP_STRIDE, 1 / HEATMAP_STRIDE, 1.0])
        j2d = torch.tensor(pad_people([v.joints_2d for v in frame.views], P, (J, 2)), dtype=torch.float32)
        vis = torch.tensor(pad_people([v.joints_2d_vis for v in frame.views], P, (J,)), dtype=torch.float32)
        vis = torch.where(vis >= self.min_confidence, vis, torch.zeros_like(vis))
        images, affines = [], []
        for _ in range(self.view_sets):
            set_aff, set_img = [], []
            for v in frame.views:
                rot = rng.uniform(-self.rotate_deg, self.rotate_deg) if self.augment else 0.0
                sc = 1 + rng.uniform(-self.scale, self.scale) if self.augment else 1.0
                A = view_affine(v.width, v.height, input_size, rot, sc)
                set_aff.append((stride @ A)[:2])
                if self.load_images:
                    if v.image_path is None or not v.image_path.is_file():
                        raise FileNotFoundError(f"{v.image_path}: image of frame {frame.key} not found")
                    set_img.append(warp_image(iio.imread(v.image_path), A, (v.width, v.height), input_size))
            affines.append(set_aff)
            if self.load_images:
                images.append(torch.stack(set_img))
        affine = torch.tensor(np.array(affines), dtype=torch.float32)  # [S, V, 2, 3]
        hm_pts = j2d @ affine[..., :2].transpose(-1, -2).unsqueeze(2) + affine[..., 2][:, :, None, None, :]
        targets = render_gaussians(
            hm_pts, vis.clamp(0, 1).expand(self.view_sets, -1, -1, -1), h, w, self.cfg.heatmap_sigma
        )
        item = {
            "K": _stack(frame, "K"),
            "dist": _stack(frame, "dist"),
            "R": _stack(frame, "R"),
            "t": _stack(frame, "t"),
            "affine": affine,
            "targets": targets,
            "joints_2d": j2d,
            "joints_2d_vis": vis,
            "index": torch.tensor(i),
            "gt": torch.tensor(pad_people([frame.joints_3d], P, (J, 3))[0], dtype=torch.float32),
            "gt_vis": torch.tensor(pad_people([frame.joints_3d_vis], P, (J,))[0], dtype=torch.float32),
        }
        if self.load_images:
            item["images"] = torch.stack(images)
        return item


def _stack(frame: FrameSample, attr: str) -> torch.Tensor:
    return torch.tensor(np.array([getattr(v.camera, attr) for v in frame.views]), dtype=torch.float32)


def rig_of(batch: dict[str, torch.Tensor], view_set: int, heatmap_size: tuple[int, int]) -> Rig:
    """The :class:`Rig` of view set ``view_set`` of a collated batch."""
    return Rig(batch["K"], batch["dist"], batch["R"], batch["t"], batch["affine"][:, view_set], heatmap_size)
