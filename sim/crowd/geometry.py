"""Batched 2D geometry: rectangles, point–segment / point–polygon distances, lidar ray casting."""

from __future__ import annotations

import functools

import numpy as np

_CHUNK_ELEMENTS = 1 << 15  # [scenes, segments, rays] elements per lidar chunk


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
    # work in the sensor frame, where ray k has the fixed direction u_k
    c, s = np.cos(heading)[:, None, None], np.sin(heading)[:, None, None]
    rot = lambda p: np.concatenate([c * p[..., :1] + s * p[..., 1:], -s * p[..., :1] + c * p[..., 1:]], axis=-1)  # noqa: E731
    ao = rot(seg_a - origin[:, None])
    bo = rot(seg_b - origin[:, None])
    t_num = ao[..., 0] * bo[..., 1] - ao[..., 1] * bo[..., 0]  # det(ao, e) = det(ao, bo) < 0: sensor on the right
    front = seg_valid & (t_num < -1e-9)  # edge-on segments (t_num ≈ 0) cannot block a ray either
    n = max(int(front.sum(axis=1).max()), 1)
    order = np.argsort(~front, axis=1, kind="stable")[:, :n]
    front = np.take_along_axis(front, order, axis=1)[..., None]
    # back faces and padding become a short front-facing segment beyond the range (so every t_num < 0)
    far = np.array([2.0 * max_range, 1.0], dtype=np.float32)
    ao = np.where(front, np.take_along_axis(ao, order[..., None], axis=1), far).astype(np.float32)
    bo = np.where(front, np.take_along_axis(bo, order[..., None], axis=1), far * [1, -1]).astype(np.float32)
    t_num = np.where(front[..., 0], np.take_along_axis(t_num, order, axis=1), -2.0 * far[0])  # float64, all < 0
    inv_t_num = (1.0 / t_num).astype(np.float32)  # [B, S]
    u = _ray_directions(n_rays)  # [2, R]
    # o + t u = a + s e hits the segment iff u lies between ao and bo: det(ao, u) ≤ 0 and det(u, bo) ≤ 0;
    # then 1 / t = det(u, e) / det(ao, e) with det(u, e) = det(ao, u) + det(u, bo) < 0. Layout [B, S, R]: the
    # reduction over segments then runs over contiguous rows of rays (much faster than over a short last axis)
    b, m = ao.shape[:2]
    na = np.stack([-ao[..., 1], ao[..., 0]], axis=-1)
    nb = np.stack([bo[..., 1], -bo[..., 0]], axis=-1)
    inv_max = np.empty((b, n_rays), dtype=np.float32)
    step = max(1, _CHUNK_ELEMENTS // (m * n_rays))  # scenes per chunk: keep the [b, S, R] temporaries in cache
    for i in range(0, b, step):
        sl = slice(i, i + step)
        k = ao[sl].shape[0]
        a_u = (na[sl].reshape(-1, 2) @ u).reshape(k, m, n_rays)  # det(ao, u)
        u_b = (nb[sl].reshape(-1, 2) @ u).reshape(k, m, n_rays)  # det(u, bo)
        inv_t = np.where(np.maximum(a_u, u_b) <= 0, (a_u + u_b) * inv_t_num[sl, :, None], np.float32(0.0))
        inv_max[sl] = inv_t.max(axis=1)
    with np.errstate(divide="ignore"):
        return np.minimum(1.0 / inv_max, np.float32(max_range))


@functools.lru_cache(maxsize=8)
def _ray_directions(n_rays: int) -> np.ndarray:
    """``[2, R]`` float32 unit vectors of the rays in the sensor frame (read-only, cached)."""
    ang = -np.pi + 2 * np.pi * np.arange(n_rays) / n_rays
    u = np.stack([np.cos(ang), np.sin(ang)]).astype(np.float32)
    u.flags.writeable = False
    return u
