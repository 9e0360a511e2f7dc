"""Fast lidar and distance code against plain per-ray / per-edge references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.crowd.geometry import lidar_scan, point_polygon_distance, rect_polygon, wall_segments


def _ray_reference(o, ang, segs, max_range):
    """One ray at a time, both sides of every segment: the textbook parametric intersection."""
    best = max_range
    u = np.array([math.cos(ang), math.sin(ang)])
    for a, b in segs:
        e = b - a
        den = u[0] * e[1] - u[1] * e[0]
        if abs(den) < 1e-12:
            continue
        ao = a - o
        t = (ao[0] * e[1] - ao[1] * e[0]) / den
        s = (ao[0] * u[1] - ao[1] * u[0]) / den
        if t >= 0 and 0 <= s <= 1:
            best = min(best, t)
    return best


def test_lidar_matches_reference():
    rng = np.random.default_rng(0)
    b, n_rays = 3, 90
    polys = np.array([[rect_polygon(*rng.uniform(-3, 3, 2), *rng.uniform(0.3, 1.5, 2)) for _ in range(5)]
                      for _ in range(b)])
    walls = wall_segments(4.5)
    seg_a = np.concatenate([polys.reshape(b, -1, 2), np.broadcast_to(walls[:, 0], (b, 4, 2))], axis=1)
    seg_b = np.concatenate([np.roll(polys, -1, axis=2).reshape(b, -1, 2), np.broadcast_to(walls[:, 1], (b, 4, 2))],
                           axis=1)
    valid = np.ones(seg_a.shape[:2], bool)
    valid[1, :4] = False  # one missing obstacle
    origin = np.array([[4.0, 4.0], [-4.2, 0.0], [0.0, -4.3]])
    heading = np.array([0.3, -2.0, 1.0])
    fast = lidar_scan(origin, heading, seg_a, seg_b, valid, n_rays, 25.0)
    for i in range(b):
        inside = point_polygon_distance(origin[i][None], polys[i])[0] == 0
        if inside.any():
            continue
        segs = list(zip(seg_a[i][valid[i]], seg_b[i][valid[i]], strict=True))
        ref = [_ray_reference(origin[i], heading[i] - math.pi + 2 * math.pi * k / n_rays, segs, 25.0)
               for k in range(n_rays)]
        np.testing.assert_allclose(fast[i], ref, rtol=1e-5, atol=1e-5)
        assert fast[i].max() < 4.5 * 2 * math.sqrt(2) + 1e-3  # walls close every ray


def test_point_polygon_distance():
    sq = rect_polygon(0, 0, 2, 2)[None]
    pts = np.array([[0.0, 0.0], [3.0, 0.0], [2.0, 2.0], [0.5, -1.5]])
    d = point_polygon_distance(pts, sq)[:, 0]
    np.testing.assert_allclose(d, [0.0, 2.0, math.sqrt(2), 0.5])


def test_lidar_sensor_in_line_with_an_edge():
    """A sensor on the extension of a box edge (edge seen exactly edge-on) still gets finite, correct ranges."""
    box = rect_polygon(2.0, 1.0, 1.0, 2.0)  # x 1.5..2.5, y 0..2: bottom edge on the line y = 0
    walls = wall_segments(4.5)
    seg_a = np.concatenate([box, walls[:, 0]])[None]
    seg_b = np.concatenate([np.roll(box, -1, axis=0), walls[:, 1]])[None]
    origin, heading = np.array([[0.0, 0.0]]), np.array([0.0])
    fast = lidar_scan(origin, heading, seg_a, seg_b, np.ones((1, 8), bool), 360, 25.0)[0]
    segs = list(zip(seg_a[0], seg_b[0], strict=True))
    ref = [_ray_reference(origin[0], -math.pi + 2 * math.pi * k / 360, segs, 25.0) for k in range(360)]
    assert np.all(np.isfinite(fast)) and fast.min() > 1.0
    np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-5)


def test_point_polygon_distance_batched_and_bad_shapes():
    rng = np.random.default_rng(3)
    polys = np.array([[rect_polygon(*rng.uniform(-3, 3, 2), *rng.uniform(0.3, 1.5, 2)) for _ in range(4)]
                      for _ in range(2)])
    pts = rng.uniform(-4, 4, (2, 5, 2))
    both = point_polygon_distance(pts, polys)
    assert both.shape == (2, 5, 4)
    for i in range(2):
        np.testing.assert_array_equal(both[i], point_polygon_distance(pts[i], polys[i]))
    with pytest.raises(ValueError, match="do not match"):
        point_polygon_distance(pts, polys[0])
