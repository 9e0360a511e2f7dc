"""Vectorised ray casting against oriented boxes and the ground plane z = 0 (global frame)."""

from __future__ import annotations

import numpy as np

from sim.synthetic.omnihd.world import ground_class


def _to_box_frame(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Points `[N, 3]` in each box's local frame → `[N, M, 3]` (boxes `[M, 7]`)."""
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    d = points[:, None, :] - boxes[None, :, :3]
    x = c * d[..., 0] + s * d[..., 1]
    y = -s * d[..., 0] + c * d[..., 1]
    return np.stack([x, y, d[..., 2]], axis=-1)


def cast_rays(
    origins: np.ndarray,
    dirs: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    max_range: float = 150.0,
    chunk: int = 2048,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First hit of each ray.

    Args:
        origins: `[N, 3]` ray origins; dirs: `[N, 3]` unit directions (global frame).
        boxes: `[M, 7]` oriented boxes; classes: `[M]` their class ids.
    Returns:
        distance `[N]` (inf on a miss), class id `[N]` (0 on a miss), box index `[N]` (-1 for ground/miss).
    """
    n = len(origins)
    dist = np.full(n, np.inf)
    cls = np.zeros(n, dtype=np.int64)
    idx = np.full(n, -1, dtype=np.int64)
    half = boxes[:, 3:6] / 2
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    for lo in range(0, n, chunk):
        o, d = origins[lo : lo + chunk], dirs[lo : lo + chunk]
        ol = _to_box_frame(o, boxes)  # [n, M, 3]
        dl = np.stack([c * d[:, None, 0] + s * d[:, None, 1], -s * d[:, None, 0] + c * d[:, None, 1],
                       np.broadcast_to(d[:, None, 2], (len(d), len(boxes)))], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / dl
            t1 = (-half - ol) * inv
            t2 = (half - ol) * inv
        tmin = np.nanmax(np.minimum(t1, t2), axis=-1)
        tmax = np.nanmin(np.maximum(t1, t2), axis=-1)
        hit = (tmax >= np.maximum(tmin, 0)) & (tmin > 1e-3)
        t = np.where(hit, tmin, np.inf)
        best = np.argmin(t, axis=1) if len(boxes) else np.zeros(len(o), dtype=np.int64)
        tb = t[np.arange(len(o)), best] if len(boxes) else np.full(len(o), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            tg = np.where(d[:, 2] < -1e-6, -o[:, 2] / d[:, 2], np.inf)
        ground_first = tg < tb
        tt = np.minimum(tb, tg)
        tt[tt > max_range] = np.inf
        dist[lo : lo + chunk] = tt
        hit_any = np.isfinite(tt)
        gpts = o + d * np.where(np.isfinite(tg), tg, 0.0)[:, None]
        cl = np.where(ground_first, ground_class(gpts[:, :2]), classes[best] if len(boxes) else 0)
        cls[lo : lo + chunk] = np.where(hit_any, cl, 0)
        idx[lo : lo + chunk] = np.where(hit_any & ~ground_first, best, -1)
    return dist, cls, idx
