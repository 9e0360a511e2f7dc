"""Pluggable image segmentors for pseudo-labelling.

A segmentor maps an RGB image `[H, W, 3]` uint8 to per-pixel class ids `[H, W]` (0..11 in the occupancy
class list; -1 = unknown) and a confidence `[H, W]` in [0, 1]. `SEGMENTORS` lists the available ones.

The offline default, `PrototypeSegmentor`, needs no download: it is fitted on the labelled part of the
data (LiDAR points carry the class of their ground-truth voxel into the image) and models each class
as a Gaussian over colour and image row. An open-vocabulary model (e.g. CLIPSeg / Grounded-SAM from a
local checkpoint) plugs in through the same two-method interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from perception.occupancy.grid import NUM_CLASSES


class Segmentor(Protocol):
    """`fit` on labelled pixels (optional for zero-shot models), then call on images."""

    def fit(self, images: list[np.ndarray], pixels: list[np.ndarray], labels: list[np.ndarray]) -> None: ...

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def _features(image: np.ndarray, uv: np.ndarray | None = None) -> np.ndarray:
    """Colour (RGB / 255) and normalised row of pixels `uv [N, 2]` (all pixels when None) → `[N, 4]`."""
    h, w, _ = image.shape
    if uv is None:
        v, u = np.mgrid[0:h, 0:w]
        uv = np.stack([u.ravel(), v.ravel()], 1)
    rgb = image[uv[:, 1], uv[:, 0]].astype(np.float64) / 255.0
    return np.concatenate([rgb, (uv[:, 1:2] + 0.5) / h], axis=1)


class PrototypeSegmentor:
    """Per-class Gaussian (mean, full covariance) over colour + row; max-likelihood with a softmax
    confidence. Classes with fewer than `min_pixels` training pixels are never predicted."""

    def __init__(self, min_pixels: int = 20, reg: float = 1e-3) -> None:
        self.min_pixels, self.reg = min_pixels, reg
        self.means: dict[int, np.ndarray] = {}
        self.precisions: dict[int, np.ndarray] = {}
        self.log_norm: dict[int, float] = {}

    def fit(self, images: list[np.ndarray], pixels: list[np.ndarray], labels: list[np.ndarray]) -> None:
        """images: `[H, W, 3]` each; pixels: integer `[N_i, 2]` (u, v); labels: `[N_i]` class ids."""
        feats = np.concatenate([_features(im, uv) for im, uv in zip(images, pixels, strict=True)])
        ys = np.concatenate(labels)
        for c in range(1, NUM_CLASSES):
            x = feats[ys == c]
            if len(x) < self.min_pixels:
                continue
            cov = np.cov(x.T) + self.reg * np.eye(x.shape[1])
            self.means[c] = x.mean(0)
            self.precisions[c] = np.linalg.inv(cov)
            self.log_norm[c] = -0.5 * np.linalg.slogdet(cov)[1] + np.log(len(x) / len(ys))
        if not self.means:
            raise ValueError("PrototypeSegmentor.fit: no class has enough labelled pixels")

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.means:
            raise RuntimeError("PrototypeSegmentor: call fit() first")
        h, w, _ = image.shape
        x = _features(image)
        classes = sorted(self.means)
        ll = np.stack([
            self.log_norm[c] - 0.5 * np.einsum("ni,ij,nj->n", x - self.means[c], self.precisions[c], x - self.means[c])
            for c in classes
        ], axis=1)
        ll -= ll.max(1, keepdims=True)
        prob = np.exp(ll)
        prob /= prob.sum(1, keepdims=True)
        best = prob.argmax(1)
        return np.asarray(classes)[best].reshape(h, w), prob.max(1).reshape(h, w)


SEGMENTORS: dict[str, Callable[[], Segmentor]] = {"prototype": PrototypeSegmentor}
