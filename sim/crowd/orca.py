"""ORCA (optimal reciprocal collision avoidance) for every agent of every scene, compiled with numba.

A transcription of RVO2's ``Agent::computeNewVelocity`` (van den Berg et al.): obstacle lines (with
RVO2's ``alreadyCovered`` pruning), agent lines and the 2D linear programs 1–3, run agent by agent over
scenes × agents in one ``@njit`` loop. Agents are indexed ``[B, M]`` (scenes, agents); obstacles are
directed convex-polygon edges ``[B, E]`` (see :class:`ObstacleEdges`). Differences from RVO2: no kd-tree
(an exact scan of all edges and agents, neighbours sorted by distance as RVO2 inserts them), all obstacle
vertices convex (the environments only build convex polygons and two-sided wall segments), float64
instead of float32. ``tests/sim/test_orca.py`` compares trajectories with the ``pyrvo`` bindings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

EPS = 1e-5  # RVO_EPSILON


@dataclass(frozen=True)
class OrcaParams:
    """RVO2 agent parameters (HEIGHT's defaults, MISSION_ANCHORS §D.3)."""

    neighbor_dist: float = 10.0
    """agents farther than this (m) are ignored"""
    max_neighbors: int = 10
    """at most this many nearest agents give constraints"""
    time_horizon: float = 5.0
    """agent-agent horizon τ (s)"""
    time_horizon_obst: float = 5.0
    """agent-obstacle horizon τ_obs (s)"""
    dt: float = 0.1
    """simulation step (s); used for the collision (overlap) case"""


@dataclass(frozen=True)
class ObstacleEdges:
    """Directed obstacle edges ``p1 → p2`` (solid side on the left, as RVO2's counter-clockwise polygons).

    Shapes ``[B, E, 2]`` (``valid``: ``[B, E]``). ``d_prev`` is the unit direction of the edge that ends at
    ``p1``, ``d`` the unit direction of this edge, ``d_next`` of the edge that starts at ``p2``.
    """

    p1: np.ndarray
    p2: np.ndarray
    d_prev: np.ndarray
    d: np.ndarray
    d_next: np.ndarray
    valid: np.ndarray

    @staticmethod
    def from_polygons(polys: np.ndarray, poly_valid: np.ndarray, segments: np.ndarray) -> ObstacleEdges:
        """Edges of convex CCW polygons ``[B, P, V, 2]`` (valid ``[B, P]``) and segments ``[B, S, 2, 2]``.

        A segment ``a–b`` becomes the two RVO2 edges ``a → b`` and ``b → a`` (a two-vertex obstacle).
        """
        b, p, v, _ = polys.shape
        nxt = np.roll(polys, -1, axis=2)
        d = _unit(nxt - polys)
        d_prev = np.roll(d, 1, axis=2)
        d_next = np.roll(d, -1, axis=2)
        pv = np.broadcast_to(poly_valid[:, :, None], (b, p, v))
        a, c = segments[:, :, 0], segments[:, :, 1]
        ds = _unit(c - a)
        s = segments.shape[1]
        cat = lambda x, y: np.concatenate([x.reshape(b, -1, 2), y.reshape(b, -1, 2)], axis=1)  # noqa: E731
        return ObstacleEdges(
            p1=cat(polys, np.concatenate([a, c], axis=1)),
            p2=cat(nxt, np.concatenate([c, a], axis=1)),
            d_prev=cat(d_prev, np.concatenate([-ds, ds], axis=1)),
            d=cat(d, np.concatenate([ds, -ds], axis=1)),
            d_next=cat(d_next, np.concatenate([-ds, ds], axis=1)),
            valid=np.concatenate([pv.reshape(b, -1), np.ones((b, 2 * s), dtype=bool)], axis=1),
        )

    def assign_rows(self, rows: np.ndarray, other: ObstacleEdges) -> None:
        """Overwrite scenes ``rows`` in place with the scenes of ``other`` (same edge count)."""
        for name in ("p1", "p2", "d_prev", "d", "d_next", "valid"):
            getattr(self, name)[rows] = getattr(other, name)


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


# ---------------------------------------------------------------- compiled kernels (scalar RVO2 code)
@njit(cache=True)
def _det(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


@njit(cache=True)
def _lp1(lp: np.ndarray, ld: np.ndarray, no: int, radius: float, ox: float, oy: float, direction_opt: bool,
         ) -> tuple[bool, float, float]:
    """RVO2 ``linearProgram1``: optimum on line ``no`` subject to lines ``< no``. Returns (ok, x, y)."""
    px, py, dx, dy = lp[no, 0], lp[no, 1], ld[no, 0], ld[no, 1]
    dotp = px * dx + py * dy
    disc = dotp * dotp + radius * radius - (px * px + py * py)
    if disc < 0.0:
        return False, 0.0, 0.0
    sq = np.sqrt(disc)
    t_left, t_right = -dotp - sq, -dotp + sq
    for i in range(no):
        den = _det(dx, dy, ld[i, 0], ld[i, 1])
        num = _det(ld[i, 0], ld[i, 1], px - lp[i, 0], py - lp[i, 1])
        if abs(den) <= EPS:
            if num < 0.0:
                return False, 0.0, 0.0
            continue
        t = num / den
        if den >= 0.0:
            t_right = min(t_right, t)
        else:
            t_left = max(t_left, t)
        if t_left > t_right:
            return False, 0.0, 0.0
    if direction_opt:
        t = t_right if ox * dx + oy * dy > 0.0 else t_left
    else:
        t = min(max(dx * (ox - px) + dy * (oy - py), t_left), t_right)
    return True, px + t * dx, py + t * dy


@njit(cache=True)
def _lp2(lp: np.ndarray, ld: np.ndarray, n: int, radius: float, ox: float, oy: float, direction_opt: bool,
         ) -> tuple[int, float, float]:
    """RVO2 ``linearProgram2`` over lines ``< n``. Returns (first failing line or ``n``, x, y)."""
    if direction_opt:
        rx, ry = ox * radius, oy * radius
    elif ox * ox + oy * oy > radius * radius:
        s = radius / np.sqrt(ox * ox + oy * oy)
        rx, ry = ox * s, oy * s
    else:
        rx, ry = ox, oy
    for i in range(n):
        if _det(ld[i, 0], ld[i, 1], lp[i, 0] - rx, lp[i, 1] - ry) > 0.0:
            ok, x, y = _lp1(lp, ld, i, radius, ox, oy, direction_opt)
            if not ok:
                return i, rx, ry
            rx, ry = x, y
    return n, rx, ry


@njit(cache=True)
def _lp3(lp: np.ndarray, ld: np.ndarray, n: int, n_obst: int, begin: int, radius: float, rx: float, ry: float,
         pp: np.ndarray, pd: np.ndarray) -> tuple[float, float]:
    """RVO2 ``linearProgram3``: least-violation velocity when the lines are infeasible (``pp, pd`` scratch)."""
    dist = 0.0
    for i in range(begin, n):
        pix, piy, dix, diy = lp[i, 0], lp[i, 1], ld[i, 0], ld[i, 1]
        if _det(dix, diy, pix - rx, piy - ry) <= dist:
            continue
        pp[:n_obst] = lp[:n_obst]
        pd[:n_obst] = ld[:n_obst]
        k = n_obst
        for j in range(n_obst, i):
            pjx, pjy, djx, djy = lp[j, 0], lp[j, 1], ld[j, 0], ld[j, 1]
            den = _det(dix, diy, djx, djy)
            if abs(den) <= EPS:
                if dix * djx + diy * djy > 0.0:
                    continue
                pp[k, 0], pp[k, 1] = 0.5 * (pix + pjx), 0.5 * (piy + pjy)
            else:
                t = _det(djx, djy, pix - pjx, piy - pjy) / den
                pp[k, 0], pp[k, 1] = pix + t * dix, piy + t * diy
            ex, ey = djx - dix, djy - diy
            en = np.sqrt(ex * ex + ey * ey)
            pd[k, 0], pd[k, 1] = ex / en, ey / en
            k += 1
        fail, x, y = _lp2(pp, pd, k, radius, -diy, dix, True)
        if fail >= k:  # otherwise a rounding failure: keep the current result, as RVO2
            rx, ry = x, y
        dist = _det(dix, diy, pix - rx, piy - ry)
    return rx, ry


@njit(cache=True)
def _obstacle_line(r1x: float, r1y: float, r2x: float, r2y: float, dpx: float, dpy: float, dx: float, dy: float,
                   dnx: float, dny: float, vx: float, vy: float, r: float, inv_t: float,
                   ) -> tuple[bool, float, float, float, float]:
    """RVO2's ORCA line of one convex obstacle edge (end points ``r1, r2`` relative to the agent).

    Returns (keep, point x, point y, direction x, direction y); keep is False when the edge adds no line.
    """
    rsq = r * r
    dsq1, dsq2 = r1x * r1x + r1y * r1y, r2x * r2x + r2y * r2y
    ox, oy = r2x - r1x, r2y - r1y
    s = (-r1x * ox - r1y * oy) / (ox * ox + oy * oy)
    lx, ly = -r1x - s * ox, -r1y - s * oy
    dsq_line = lx * lx + ly * ly
    if s < 0.0 and dsq1 <= rsq:  # collision with the left vertex
        n = np.sqrt(dsq1)
        return True, 0.0, 0.0, -r1y / n, r1x / n
    if s > 1.0 and dsq2 <= rsq:  # collision with the right vertex
        n = np.sqrt(dsq2)
        return _det(r2x, r2y, dnx, dny) >= 0.0, 0.0, 0.0, -r2y / n, r2x / n
    if s >= 0.0 and s < 1.0 and dsq_line <= rsq:  # collision with the segment
        return True, 0.0, 0.0, -dx, -dy
    # no collision: legs; viewed obliquely, one vertex defines the velocity obstacle
    same = False
    if s < 0.0 and dsq_line <= rsq:  # left vertex only (obstacle2 = obstacle1)
        same = True
        q1x, q1y, q2x, q2y = r1x, r1y, r1x, r1y
        lnx, lny, o2x, o2y = dpx, dpy, dx, dy
    elif s > 1.0 and dsq_line <= rsq:  # right vertex only (obstacle1 = obstacle2)
        same = True
        q1x, q1y, q2x, q2y = r2x, r2y, r2x, r2y
        lnx, lny, o2x, o2y = dx, dy, dnx, dny
    else:
        q1x, q1y, q2x, q2y = r1x, r1y, r2x, r2y
        lnx, lny, o2x, o2y = dpx, dpy, dnx, dny
    qs1, qs2 = q1x * q1x + q1y * q1y, q2x * q2x + q2y * q2y
    leg1, leg2 = np.sqrt(qs1 - rsq), np.sqrt(qs2 - rsq)
    llx, lly = (q1x * leg1 - q1y * r) / qs1, (q1x * r + q1y * leg1) / qs1
    rlx, rly = (q2x * leg2 + q2y * r) / qs2, (-q2x * r + q2y * leg2) / qs2
    left_foreign = _det(llx, lly, -lnx, -lny) >= 0.0
    if left_foreign:
        llx, lly = -lnx, -lny
    right_foreign = _det(rlx, rly, o2x, o2y) <= 0.0
    if right_foreign:
        rlx, rly = o2x, o2y
    lcx, lcy, rcx, rcy = inv_t * q1x, inv_t * q1y, inv_t * q2x, inv_t * q2y
    cvx, cvy = rcx - lcx, rcy - lcy
    t = 0.5 if same else ((vx - lcx) * cvx + (vy - lcy) * cvy) / (cvx * cvx + cvy * cvy)
    t_left = (vx - lcx) * llx + (vy - lcy) * lly
    t_right = (vx - rcx) * rlx + (vy - rcy) * rly
    rad = r * inv_t
    if (t < 0.0 and t_left < 0.0) or (same and t_left < 0.0 and t_right < 0.0):  # left cut-off circle
        wx, wy = vx - lcx, vy - lcy
        wn = np.sqrt(wx * wx + wy * wy)
        wx, wy = wx / wn, wy / wn
        return True, lcx + rad * wx, lcy + rad * wy, wy, -wx
    if t > 1.0 and t_right < 0.0:  # right cut-off circle
        wx, wy = vx - rcx, vy - rcy
        wn = np.sqrt(wx * wx + wy * wy)
        wx, wy = wx / wn, wy / wn
        return True, rcx + rad * wx, rcy + rad * wy, wy, -wx
    inf = np.inf
    dd_cut = inf if (t < 0.0 or t > 1.0 or same) else (vx - lcx - t * cvx) ** 2 + (vy - lcy - t * cvy) ** 2
    dd_left = inf if t_left < 0.0 else (vx - lcx - t_left * llx) ** 2 + (vy - lcy - t_left * lly) ** 2
    dd_right = inf if t_right < 0.0 else (vx - rcx - t_right * rlx) ** 2 + (vy - rcy - t_right * rly) ** 2
    if dd_cut <= dd_left and dd_cut <= dd_right:  # cut-off line
        return True, lcx + rad * dy, lcy - rad * dx, -dx, -dy
    if dd_left <= dd_right:  # left leg
        return not left_foreign, lcx - rad * lly, lcy + rad * llx, llx, lly
    return not right_foreign, rcx + rad * rly, rcy - rad * rlx, -rlx, -rly  # right leg


@njit(cache=True)
def _orca_kernel(pos, vel, pref, radius, max_speed, active, seen, p1, p2, d_prev, d, d_next, e_valid,
                 neighbor_dist, max_neighbors, tau, tau_obst, dt, out, infeasible):
    b_n, m_n = active.shape
    e_n = p1.shape[1]
    k_max = min(max_neighbors, m_n - 1)
    n_cap = e_n + max(k_max, 0) + 1
    lp, ld = np.empty((n_cap, 2)), np.empty((n_cap, 2))
    pp, pd = np.empty((n_cap, 2)), np.empty((n_cap, 2))
    ob_i, ob_d = np.empty(e_n + 1, np.int64), np.empty(e_n + 1)
    nb_i, nb_d = np.empty(k_max + 1, np.int64), np.empty(k_max + 1)
    inv_tau_obst, inv_tau, inv_dt = 1.0 / tau_obst, 1.0 / tau, 1.0 / dt
    for b in range(b_n):
        for a in range(m_n):
            out[b, a, 0], out[b, a, 1] = vel[b, a, 0], vel[b, a, 1]
            infeasible[b, a] = False
            if not active[b, a]:
                continue
            px, py, vx, vy = pos[b, a, 0], pos[b, a, 1], vel[b, a, 0], vel[b, a, 1]
            r, vmax = radius[b, a], max_speed[b, a]
            # obstacle edges in range whose outside the agent is on, nearest first (RVO2's kd-tree query)
            range_sq = (tau_obst * vmax + r) ** 2
            n_ob = 0
            for e in range(e_n):
                if not e_valid[b, e]:
                    continue
                ax, ay, bx, by = p1[b, e, 0], p1[b, e, 1], p2[b, e, 0], p2[b, e, 1]
                if _det(ax - px, ay - py, bx - ax, by - ay) >= 0.0:
                    continue
                ex, ey = bx - ax, by - ay
                s = ((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey)
                s = min(max(s, 0.0), 1.0)
                dsq = (px - ax - s * ex) ** 2 + (py - ay - s * ey) ** 2
                if dsq < range_sq:
                    j = n_ob
                    while j > 0 and dsq < ob_d[j - 1]:
                        ob_d[j], ob_i[j] = ob_d[j - 1], ob_i[j - 1]
                        j -= 1
                    ob_d[j], ob_i[j] = dsq, e
                    n_ob += 1
            n = 0
            for q in range(n_ob):
                e = ob_i[q]
                r1x, r1y = p1[b, e, 0] - px, p1[b, e, 1] - py
                r2x, r2y = p2[b, e, 0] - px, p2[b, e, 1] - py
                covered = False
                for j in range(n):
                    if (_det(inv_tau_obst * r1x - lp[j, 0], inv_tau_obst * r1y - lp[j, 1], ld[j, 0], ld[j, 1])
                            - inv_tau_obst * r >= -EPS
                            and _det(inv_tau_obst * r2x - lp[j, 0], inv_tau_obst * r2y - lp[j, 1], ld[j, 0], ld[j, 1])
                            - inv_tau_obst * r >= -EPS):
                        covered = True
                        break
                if covered:
                    continue
                keep, qx, qy, dx, dy = _obstacle_line(r1x, r1y, r2x, r2y, d_prev[b, e, 0], d_prev[b, e, 1],
                                                      d[b, e, 0], d[b, e, 1], d_next[b, e, 0], d_next[b, e, 1],
                                                      vx, vy, r, inv_tau_obst)
                if keep:
                    lp[n, 0], lp[n, 1], ld[n, 0], ld[n, 1] = qx, qy, dx, dy
                    n += 1
            n_obst = n
            # the k nearest seen agents within neighbor_dist (RVO2's insertAgentNeighbor)
            range_sq = neighbor_dist * neighbor_dist
            n_nb = 0
            for o in range(m_n):
                if o == a or not seen[b, o]:
                    continue
                dsq = (pos[b, o, 0] - px) ** 2 + (pos[b, o, 1] - py) ** 2
                if k_max > 0 and dsq < range_sq:
                    if n_nb < k_max:
                        n_nb += 1
                    j = n_nb - 1
                    while j > 0 and dsq < nb_d[j - 1]:
                        nb_d[j], nb_i[j] = nb_d[j - 1], nb_i[j - 1]
                        j -= 1
                    nb_d[j], nb_i[j] = dsq, o
                    if n_nb == k_max:
                        range_sq = nb_d[n_nb - 1]
            for q in range(n_nb):
                o = nb_i[q]
                rpx, rpy = pos[b, o, 0] - px, pos[b, o, 1] - py
                rvx, rvy = vx - vel[b, o, 0], vy - vel[b, o, 1]
                dsq = rpx * rpx + rpy * rpy
                cr = r + radius[b, o]
                crs = cr * cr
                if dsq > crs:  # no collision
                    wx, wy = rvx - inv_tau * rpx, rvy - inv_tau * rpy
                    wsq = wx * wx + wy * wy
                    dot1 = wx * rpx + wy * rpy
                    if dot1 < 0.0 and dot1 * dot1 > crs * wsq:  # cut-off circle
                        wl = np.sqrt(wsq)
                        ux, uy = wx / wl, wy / wl
                        dx, dy = uy, -ux
                        ux, uy = (cr * inv_tau - wl) * ux, (cr * inv_tau - wl) * uy
                    else:  # legs
                        leg = np.sqrt(dsq - crs)
                        if _det(rpx, rpy, wx, wy) > 0.0:
                            dx, dy = (rpx * leg - rpy * cr) / dsq, (rpx * cr + rpy * leg) / dsq
                        else:
                            dx, dy = -(rpx * leg + rpy * cr) / dsq, -(-rpx * cr + rpy * leg) / dsq
                        dot2 = rvx * dx + rvy * dy
                        ux, uy = dot2 * dx - rvx, dot2 * dy - rvy
                else:  # collision: cut-off circle of one time step
                    wx, wy = rvx - inv_dt * rpx, rvy - inv_dt * rpy
                    wl = np.sqrt(wx * wx + wy * wy)
                    ux, uy = wx / wl, wy / wl
                    dx, dy = uy, -ux
                    ux, uy = (cr * inv_dt - wl) * ux, (cr * inv_dt - wl) * uy
                lp[n, 0], lp[n, 1], ld[n, 0], ld[n, 1] = vx + 0.5 * ux, vy + 0.5 * uy, dx, dy
                n += 1
            fail, rx, ry = _lp2(lp, ld, n, vmax, pref[b, a, 0], pref[b, a, 1], False)
            if fail < n:
                infeasible[b, a] = True
                rx, ry = _lp3(lp, ld, n, n_obst, fail, vmax, rx, ry, pp, pd)
            out[b, a, 0], out[b, a, 1] = rx, ry


def orca_velocities(
    pos: np.ndarray,
    vel: np.ndarray,
    pref_vel: np.ndarray,
    radius: np.ndarray,
    max_speed: np.ndarray,
    active: np.ndarray,
    seen: np.ndarray,
    edges: ObstacleEdges | None,
    params: OrcaParams,
    infeasible: np.ndarray | None = None,
) -> np.ndarray:
    """New velocities of the ``active`` agents (others keep ``vel``).

    Args:
        pos, vel, pref_vel: ``[B, M, 2]`` world-frame positions (m), velocities, preferred velocities (m/s).
        radius, max_speed: ``[B, M]``.
        active: ``[B, M]`` bool, agents whose velocity is computed.
        seen: ``[B, M]`` bool, agents that others avoid (padding and invisible agents are False).
        edges: obstacle edges with ``[B, E]`` leading shape, or None.
        infeasible: optional ``[B, M]`` bool output, True where the constraints had no common solution and
            RVO2's ``linearProgram3`` chose the least-violating velocity.

    Returns:
        ``[B, M, 2]`` velocities.
    """
    f64 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    b, m = active.shape
    for name, x, shape in (("pos", pos, (b, m, 2)), ("vel", vel, (b, m, 2)), ("pref_vel", pref_vel, (b, m, 2)),
                           ("radius", radius, (b, m)), ("max_speed", max_speed, (b, m)), ("seen", seen, (b, m))):
        if np.shape(x) != shape:
            raise ValueError(f"orca_velocities: {name} has shape {np.shape(x)}, expected {shape}")
    if edges is None:
        z = np.zeros((b, 0, 2))
        edges = ObstacleEdges(z, z, z, z, z, np.zeros((b, 0), dtype=bool))
    out = np.empty((b, m, 2))
    flags = np.empty((b, m), dtype=bool) if infeasible is None else infeasible
    _orca_kernel(f64(pos), f64(vel), f64(pref_vel), f64(radius), f64(max_speed),
                 np.ascontiguousarray(active, dtype=bool), np.ascontiguousarray(seen, dtype=bool),
                 f64(edges.p1), f64(edges.p2), f64(edges.d_prev), f64(edges.d), f64(edges.d_next),
                 np.ascontiguousarray(edges.valid, dtype=bool), float(params.neighbor_dist),
                 int(params.max_neighbors), float(params.time_horizon), float(params.time_horizon_obst),
                 float(params.dt), out, flags)
    return out
