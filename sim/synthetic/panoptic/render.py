"""Cameras and a tiny capsule rasteriser for synthetic multi-view people (numpy only).

The projection here is the generator's own (OpenCV pinhole + k1, k2, p1, p2, k3); the loaders use
``perception.geometry.camera`` and the tests check that both agree, so a convention slip in either
side shows up as a failing test instead of silently wrong labels.
"""

from __future__ import annotations

import numpy as np

from sim.synthetic.panoptic.body import BODY_PARTS


def look_at(center: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-to-camera (R [3, 3], t [3]) for a camera at ``center`` looking at ``target`` (z-up world).

    Camera axes follow OpenCV: x right, y down, z forward.
    """
    z = target - center
    z = z / np.linalg.norm(z)
    x = np.cross(z, np.array([0.0, 0.0, 1.0]))
    x = x / np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    return R, -R @ center


def project(
    points: np.ndarray, K: np.ndarray, dist: np.ndarray, R: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """[..., 3] world points -> ([..., 2] pixels, [...] depth along the optical axis)."""
    cam = points @ R.T + t
    z = cam[..., 2]
    x, y = cam[..., 0] / np.maximum(z, 1e-6), cam[..., 1] / np.maximum(z, 1e-6)
    k1, k2, p1, p2, k3 = dist
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    uv = np.stack([K[0, 0] * xd + K[0, 1] * yd + K[0, 2], K[1, 1] * yd + K[1, 2]], axis=-1)
    return uv, z


def background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """[H, W, 3] float image: a two-colour gradient, a floor band, a few boxes, and grain."""
    top, bottom, floor = rng.uniform(0.1, 0.9, (3, 3))
    v = np.linspace(0, 1, height)[:, None, None]
    img = np.broadcast_to(top * (1 - v) + bottom * v, (height, width, 3)).copy()
    horizon = int(height * rng.uniform(0.35, 0.55))
    img[horizon:] = 0.5 * img[horizon:] + 0.5 * floor
    for _ in range(int(rng.integers(2, 6))):
        h, w = int(rng.integers(height // 8, height // 2)), int(rng.integers(width // 10, width // 3))
        y0, x0 = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
        img[y0 : y0 + h, x0 : x0 + w] = rng.uniform(0, 1, 3)
    img += rng.normal(0, 0.03, img.shape)
    return np.clip(img, 0, 1)


def render_people(
    image: np.ndarray,
    people: list[np.ndarray],
    colours: list[np.ndarray],
    K: np.ndarray,
    dist: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    """Draw shaded capsules for every body part, far to near (painter's algorithm).

    Args:
        image: [H, W, 3] float background (not modified).
        people: per person [21, 3] joints (mm, world).
        colours: per person [3, 3] RGB for shirt, skin, trousers.
        K: [3, 3] intrinsics of the image's resolution.
    Returns:
        [H, W, 3] float image.
    """
    out = image.copy()
    height, width = out.shape[:2]
    prims = []
    for joints, col in zip(people, colours, strict=True):
        uv, z = project(joints, K, dist, R, t)
        for a, b, radius, slot in BODY_PARTS:
            depth = (z[a] + z[b]) / 2
            if min(z[a], z[b]) < 100:
                continue
            prims.append((depth, uv[a], uv[b], K[0, 0] * radius / depth, col[slot]))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    for _, pa, pb, r, col in sorted(prims, key=lambda p: -p[0]):
        x0, x1 = int(max(0, min(pa[0], pb[0]) - r - 1)), int(min(width, max(pa[0], pb[0]) + r + 2))
        y0, y1 = int(max(0, min(pa[1], pb[1]) - r - 1)), int(min(height, max(pa[1], pb[1]) + r + 2))
        if x0 >= x1 or y0 >= y1:
            continue
        px, py = xs[y0:y1, x0:x1], ys[y0:y1, x0:x1]
        d = pb - pa
        u = np.clip(((px - pa[0]) * d[0] + (py - pa[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
        dist2 = (px - pa[0] - u * d[0]) ** 2 + (py - pa[1] - u * d[1]) ** 2
        inside = dist2 < r * r
        shade = 1 - 0.35 * dist2 / max(r * r, 1e-9)
        out[y0:y1, x0:x1][inside] = col[None] * shade[inside][:, None]
    return out
