"""Batched 2D geometry: rectangles, point–segment / point–polygon distances, lidar ray casting."""

from __future__ import annotations

import numpy as np


def rect_polygon(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    """Axis-aligned rectangle centred at (cx, cy) as 4 counter-clockwise vertices ``[4, 2]``."""
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def polygon_edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``a → b`` of polygons ``[..., V, 2]``: two arrays ``[..., V, 2]``."""
    return polys, np.roll(polys, -1, axis=-2)


def wall_segments(half_size: float) -> np.ndarray:
    """The 4 walls of the square arena ``[-h, h]²`` as clockwise segments ``[4, 2, 2]`` (inside on the right)."""
    h = half_size
    c = np.array([[-h, -h], [-h, h], [h, h], [h, -h]], dtype=np.float64)
    return np.stack([c, np.roll(c, -1, axis=0)], axis=1)


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points ``p`` to segments ``a–b`` (all broadcast, last axis 2)."""
    ab = b - a
    ap = p - a
    den = np.maximum((ab * ab).sum(-1), 1e-12)
    t = np.clip((ap * ab).sum(-1) / den, 0.0, 1.0)
    d = ap - t[..., None] * ab
    return np.sqrt((d * d).sum(-1))


def point_polygon_distance(p: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Distance from points ``p [..., N, 2]`` to convex CCW polygons ``[..., P, V, 2]``; 0 inside. ``[..., N, P]``."""
    a, b = polygon_edges(polys)
    pp = p[..., :, None, None, :]
    d = point_segment_distance(pp, a[..., None, :, :, :], b[..., None, :, :, :])  # [..., N, P, V]
    e = b - a
    rel = pp - a[..., None, :, :, :]
    inside = np.all(e[..., None, :, :, 0] * rel[..., 1] - e[..., None, :, :, 1] * rel[..., 0] >= 0, axis=-1)
    return np.where(inside, 0.0, d.min(-1))


def lidar_scan(
    origin: np.ndarray, heading: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray, seg_valid: np.ndarray,
    n_rays: int, max_range: float,
) -> np.ndarray:
    """2D lidar ranges against one-sided segments.

    A segment ``a → b`` is seen only from its right-hand side (the outside of a counter-clockwise polygon;
    walls must be given clockwise, seen from inside). The first hit of a ray on a closed polygon is always
    on such a front face, so back faces are dropped before the rays are cast.

    Args:
        origin: ``[B, 2]`` sensor positions; heading: ``[B]`` (rad).
        seg_a, seg_b: ``[B, S, 2]`` segment end points; seg_valid: ``[B, S]``.

    Returns:
        ``[B, n_rays]`` float32 ranges in ``[0, max_range]``; ray k at angle ``heading − π + 2πk / n_rays``.
    """
    ao = seg_a - origin[:, None]
    e = seg_b - seg_a
    t_num = ao[..., 0] * e[..., 1] - ao[..., 1] * e[..., 0]  # det(ao, e) < 0: sensor on the right
    front = seg_valid & (t_num < 0)
    n = max(int(front.sum(axis=1).max()), 1)
    order = np.argsort(~front, axis=1, kind="stable")[:, :n]
    front = np.take_along_axis(front, order, axis=1)
    ao = np.take_along_axis(ao, order[..., None], axis=1).astype(np.float32)
    e = np.take_along_axis(e, order[..., None], axis=1).astype(np.float32)
    t_num = np.take_along_axis(t_num, order, axis=1).astype(np.float32)
    t_num = np.where(front, t_num, np.float32(1.0))[:, None, :]  # back faces: never a hit
    ang = heading[:, None] - np.pi + 2 * np.pi * np.arange(n_rays) / n_rays  # [B, R]
    u = np.stack([np.cos(ang), np.sin(ang)], axis=-1).astype(np.float32)  # [B, R, 2]
    # o + t u = a + s e  →  t = det(ao, e) / det(u, e),  s = det(ao, u) / det(u, e); with det(ao, e) < 0 a
    # hit needs det(u, e) < 0 and 0 ≤ s ≤ 1, i.e. det(u, e) ≤ det(ao, u) ≤ 0
    den = u @ np.stack([e[..., 1], -e[..., 0]], axis=1)  # [B, R, S]
    s_num = u @ np.stack([-ao[..., 1], ao[..., 0]], axis=1)
    hit = (den < 0) & (s_num <= 0) & (s_num >= den) & (t_num < 0)
    t = np.full(den.shape, np.float32(max_range))
    np.divide(np.broadcast_to(t_num, den.shape), den, out=t, where=hit)
    return np.minimum(t.min(axis=-1), np.float32(max_range))
