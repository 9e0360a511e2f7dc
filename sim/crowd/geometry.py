"""Batched 2D geometry (numba kernels): rectangles, point–polygon distances, lidar ray casting."""

from __future__ import annotations

import functools

import numpy as np
from numba import njit


def rect_polygon(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    """Axis-aligned rectangle centred at (cx, cy) as 4 counter-clockwise vertices ``[4, 2]``."""
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def wall_segments(half_size: float) -> np.ndarray:
    """The 4 walls of the square arena ``[-h, h]²`` as clockwise segments ``[4, 2, 2]`` (inside on the right)."""
    h = half_size
    c = np.array([[-h, -h], [-h, h], [h, h], [h, -h]], dtype=np.float64)
    return np.stack([c, np.roll(c, -1, axis=0)], axis=1)


def point_polygon_distance(p: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Distance from points ``p [N, 2]`` to convex CCW polygons ``[P, V, 2]``, 0 inside: ``[N, P]``.

    With a leading scene axis, ``p [B, N, 2]`` and ``polys [B, P, V, 2]`` give ``[B, N, P]``.
    """
    p, polys = np.asarray(p, dtype=np.float64), np.asarray(polys, dtype=np.float64)
    batched = p.ndim == 3
    if p.ndim not in (2, 3) or polys.ndim != p.ndim + 1 or p.shape[-1] != 2 or polys.shape[-1] != 2 or (
        batched and p.shape[0] != polys.shape[0]
    ):
        raise ValueError(f"point_polygon_distance: points {p.shape} and polygons {polys.shape} do not match "
                         "([N, 2] with [P, V, 2], or [B, N, 2] with [B, P, V, 2])")
    pb = np.ascontiguousarray(p if batched else p[None])
    qb = np.ascontiguousarray(polys if batched else polys[None])
    out = np.empty(pb.shape[:2] + qb.shape[1:2])
    _point_polygon_kernel(pb, qb, out)
    return out if batched else out[0]


@njit(cache=True)
def _point_polygon_kernel(p: np.ndarray, polys: np.ndarray, out: np.ndarray) -> None:
    b_n, n_n = p.shape[:2]
    p_n, v_n = polys.shape[1:3]
    for b in range(b_n):
        for i in range(n_n):
            x, y = p[b, i, 0], p[b, i, 1]
            for k in range(p_n):
                best, inside = np.inf, True
                for v in range(v_n):
                    ax, ay = polys[b, k, v, 0], polys[b, k, v, 1]
                    w = v + 1 if v + 1 < v_n else 0
                    ex, ey = polys[b, k, w, 0] - ax, polys[b, k, w, 1] - ay
                    rx, ry = x - ax, y - ay
                    if ex * ry - ey * rx < 0.0:
                        inside = False
                    t = min(max((rx * ex + ry * ey) / max(ex * ex + ey * ey, 1e-12), 0.0), 1.0)
                    best = min(best, (rx - t * ex) ** 2 + (ry - t * ey) ** 2)
                out[b, i, k] = 0.0 if inside else np.sqrt(best)


def lidar_scan(
    origin: np.ndarray, heading: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray, seg_valid: np.ndarray,
    n_rays: int, max_range: float,
) -> np.ndarray:
    """2D lidar ranges against one-sided segments.

    A segment ``a → b`` is seen only from its right-hand side (the outside of a counter-clockwise polygon;
    walls must be given clockwise, seen from inside). The first hit of a ray on a closed polygon is always
    on such a front face, so back faces (and segments seen exactly edge-on) are skipped. Each front face
    is intersected only with the rays inside its angular span.

    Args:
        origin: ``[B, 2]`` sensor positions; heading: ``[B]`` (rad).
        seg_a, seg_b: ``[B, S, 2]`` segment end points; seg_valid: ``[B, S]``.

    Returns:
        ``[B, n_rays]`` float32 ranges in ``[0, max_range]``; ray k at angle ``heading − π + 2πk / n_rays``.
    """
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    out = np.empty((len(origin), n_rays))
    ux, uy = _ray_directions(n_rays)
    _lidar_kernel(f64(origin), f64(heading), f64(seg_a), f64(seg_b), np.ascontiguousarray(seg_valid, dtype=bool),
                  ux, uy, float(max_range), out)
    return out.astype(np.float32)


@njit(cache=True)
def _lidar_kernel(origin: np.ndarray, heading: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray,
                  seg_valid: np.ndarray, ux: np.ndarray, uy: np.ndarray, max_range: float, out: np.ndarray) -> None:
    b_n, s_n = seg_valid.shape
    r_n = ux.size
    scale = r_n / (2.0 * np.pi)
    for b in range(b_n):
        c, s = np.cos(heading[b]), np.sin(heading[b])
        ox, oy = origin[b, 0], origin[b, 1]
        out[b, :] = max_range
        for k in range(s_n):
            if not seg_valid[b, k]:
                continue
            # sensor frame: o + t u = a + s e hits iff u lies between a and b (det(a, u) ≤ 0, det(u, b) ≤ 0),
            # then 1 / t = (det(a, u) + det(u, b)) / det(a, b) with det(a, b) < 0 for a front face
            dx, dy = seg_a[b, k, 0] - ox, seg_a[b, k, 1] - oy
            ax, ay = c * dx + s * dy, -s * dx + c * dy
            dx, dy = seg_b[b, k, 0] - ox, seg_b[b, k, 1] - oy
            bx, by = c * dx + s * dy, -s * dx + c * dy
            t_num = ax * by - ay * bx
            if t_num >= -1e-9:
                continue
            th_b = np.arctan2(by, bx)
            span = (np.arctan2(ay, ax) - th_b) % (2.0 * np.pi)
            j0 = int(np.floor((th_b + np.pi) * scale))
            for j in range(j0, int(np.floor((th_b + span + np.pi) * scale)) + 2):
                kk = j % r_n
                a_u = ax * uy[kk] - ay * ux[kk]
                u_b = ux[kk] * by - uy[kk] * bx
                if a_u <= 0.0 and u_b <= 0.0:
                    inv_t = (a_u + u_b) / t_num
                    if inv_t > 0.0 and 1.0 / inv_t < out[b, kk]:
                        out[b, kk] = 1.0 / inv_t


@functools.lru_cache(maxsize=8)
def _ray_directions(n_rays: int) -> tuple[np.ndarray, np.ndarray]:
    """``[R]`` x and y components of the ray directions in the sensor frame (read-only, cached)."""
    ang = -np.pi + 2 * np.pi * np.arange(n_rays) / n_rays
    ux, uy = np.cos(ang), np.sin(ang)
    ux.flags.writeable = False
    uy.flags.writeable = False
    return ux, uy
