"""ORCA (optimal reciprocal collision avoidance) vectorised in numpy over scenes × agents.

A transcription of RVO2's ``Agent::computeNewVelocity`` (van den Berg et al.), including the static
obstacle lines and the 2D linear programs, evaluated for every agent of every scene at once. Agents are
indexed ``[B, M]`` (scenes, agents); obstacles are directed convex-polygon edges ``[B, E]`` (see
:class:`ObstacleEdges`). Differences from RVO2, all of which only drop constraints that RVO2 itself
treats as redundant: no kd-tree (exact neighbour search by sorting), no ``alreadyCovered`` pruning of
obstacle lines, all obstacle vertices convex (the environments only build convex polygons and
two-sided wall segments). ``tests/sim/test_orca.py`` compares trajectories with the ``pyrvo`` bindings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5  # RVO_EPSILON
_SCAN_LIMIT = 4096  # rows × lines below which _lp2 scans all remaining lines at once (same result)
_CHUNK_ELEMENTS = 1 << 14  # [scenes, agents, edges] elements per block of the obstacle range query
_PAIR_CHUNK = 2048  # (agent, edge) pairs per block of obstacle-line construction


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


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def _det(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1]


def _perp(a: np.ndarray) -> np.ndarray:
    """Rotate by +90°: (x, y) → (−y, x)."""
    return np.stack([-a[..., 1], a[..., 0]], axis=-1)


def _leg_left(rel: np.ndarray, dist_sq: np.ndarray, r: np.ndarray) -> np.ndarray:
    leg = np.sqrt(np.maximum(dist_sq - r * r, 0.0))
    x, y = rel[..., 0], rel[..., 1]
    return np.stack([x * leg - y * r, x * r + y * leg], axis=-1) / dist_sq[..., None]


def _leg_right(rel: np.ndarray, dist_sq: np.ndarray, r: np.ndarray) -> np.ndarray:
    leg = np.sqrt(np.maximum(dist_sq - r * r, 0.0))
    x, y = rel[..., 0], rel[..., 1]
    return np.stack([x * leg + y * r, -x * r + y * leg], axis=-1) / dist_sq[..., None]


def _edges_in_range(
    pos: np.ndarray, radius: np.ndarray, max_speed: np.ndarray, active: np.ndarray, edges: ObstacleEdges,
    tau_obst: float,
) -> np.ndarray:
    """RVO2's kd-tree query as a mask ``[B, M, E]``: the agent is on the edge's outside and within range.

    Evaluated in blocks of scenes so the ``[b, M, E]`` temporaries stay in cache (x / y kept apart).
    """
    b_n, m_n = active.shape
    use = np.zeros((b_n, m_n, edges.valid.shape[1]), dtype=bool)
    step = max(1, _CHUNK_ELEMENTS // max(use[0].size, 1))
    rng = tau_obst * max_speed + radius
    for i in range(0, b_n, step):
        sl = slice(i, i + step)
        px, py = pos[sl, :, 0][..., None], pos[sl, :, 1][..., None]  # [b, M, 1]
        ax, ay = edges.p1[sl, :, 0][:, None], edges.p1[sl, :, 1][:, None]  # [b, 1, E]
        ox, oy = edges.p2[sl, :, 0][:, None] - ax, edges.p2[sl, :, 1][:, None] - ay
        seg_len_sq = np.maximum(ox * ox + oy * oy, 1e-12)  # padded (invalid) edges have zero length
        rx, ry = ax - px, ay - py
        s_all = np.clip(-(rx * ox + ry * oy) / seg_len_sq, 0.0, 1.0)
        dx, dy = rx + s_all * ox, ry + s_all * oy
        r2 = (rng[sl] * rng[sl])[..., None]
        use[sl] = (rx * oy - ry * ox < 0.0) & (dx * dx + dy * dy < r2) & edges.valid[sl, None] & active[sl, :, None]
    return use


def _edge_lines(
    r1: np.ndarray, r2: np.ndarray, o: np.ndarray, d_prev: np.ndarray, d1: np.ndarray, d_next: np.ndarray,
    v: np.ndarray, r: np.ndarray, tau_obst: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RVO2's obstacle-line construction for ``[P]`` (agent, edge) pairs, all vertices convex.

    ``r1, r2 [P, 2]``: edge end points relative to the agent; ``o = p2 − p1``; ``d_prev, d1, d_next``: unit
    directions of the previous, this and the next edge; ``v [P, 2]`` agent velocity, ``r [P]`` radius.
    Returns line ``point, direction [P, 2]`` and ``keep [P]`` (False: no constraint from this edge).
    """
    dsq1, dsq2, rsq = _dot(r1, r1), _dot(r2, r2), r * r
    s = _dot(-r1, o) / _dot(o, o)
    dl = -r1 - s[:, None] * o
    dsq_line = _dot(dl, dl)
    inv_t = 1.0 / tau_obst
    n = r.size
    pt = np.zeros((n, 2))
    dr = np.zeros((n, 2))
    keep = np.ones(n, dtype=bool)
    done = np.zeros(n, dtype=bool)
    # collisions with the left vertex, the right vertex, the segment
    c1 = (s < 0) & (dsq1 <= rsq)
    dr[c1] = _unit(_perp(r1[c1]))
    c2 = ~c1 & (s > 1) & (dsq2 <= rsq)
    keep[c2] = _det(r2[c2], d_next[c2]) >= 0.0
    dr[c2] = _unit(_perp(r2[c2]))
    c3 = ~c1 & ~c2 & (s >= 0) & (s <= 1) & (dsq_line <= rsq)
    dr[c3] = -d1[c3]
    done |= c1 | c2 | c3
    # no collision: legs; oblique views where one vertex defines the velocity obstacle
    obl_l = ~done & (s < 0) & (dsq_line <= rsq)
    obl_r = ~done & ~obl_l & (s > 1) & (dsq_line <= rsq)
    same = obl_l | obl_r
    q1 = np.where(obl_r[:, None], r2, r1)  # left vertex (relative)
    q2 = np.where(obl_l[:, None], r1, r2)  # right vertex (relative)
    qs1, qs2 = _dot(q1, q1), _dot(q2, q2)
    left_leg = _leg_left(q1, np.where(done, 1.0, qs1), r)
    right_leg = _leg_right(q2, np.where(done, 1.0, qs2), r)
    # neighbours of the (possibly collapsed) vertex pair; all vertices convex
    left_nb_dir = np.where(obl_r[:, None], d1, d_prev)  # previous edge of obstacle1
    o2_dir = np.where(obl_l[:, None], d1, d_next)  # direction of obstacle2
    left_foreign = _det(left_leg, -left_nb_dir) >= 0.0
    left_leg = np.where(left_foreign[:, None], -left_nb_dir, left_leg)
    right_foreign = _det(right_leg, o2_dir) <= 0.0
    right_leg = np.where(right_foreign[:, None], o2_dir, right_leg)
    lc, rc = inv_t * q1, inv_t * q2
    cv = rc - lc
    cv_sq = np.where(same, 1.0, _dot(cv, cv))
    t = np.where(same, 0.5, _dot(v - lc, cv) / cv_sq)
    t_left = _dot(v - lc, left_leg)
    t_right = _dot(v - rc, right_leg)
    rad_t = (r * inv_t)[:, None]
    m_lc = ~done & (((t < 0) & (t_left < 0)) | (same & (t_left < 0) & (t_right < 0)))
    uw = _unit(v - lc)
    dr[m_lc] = np.stack([uw[:, 1], -uw[:, 0]], axis=-1)[m_lc]
    pt[m_lc] = (lc + rad_t * uw)[m_lc]
    done |= m_lc
    m_rc = ~done & (t > 1) & (t_right < 0)
    uw = _unit(v - rc)
    dr[m_rc] = np.stack([uw[:, 1], -uw[:, 0]], axis=-1)[m_rc]
    pt[m_rc] = (rc + rad_t * uw)[m_rc]
    done |= m_rc
    inf = np.inf
    dd_cut = np.where((t < 0) | (t > 1) | same, inf, _sq(v - (lc + t[:, None] * cv)))
    dd_left = np.where(t_left < 0, inf, _sq(v - (lc + t_left[:, None] * left_leg)))
    dd_right = np.where(t_right < 0, inf, _sq(v - (rc + t_right[:, None] * right_leg)))
    m_cut = ~done & (dd_cut <= dd_left) & (dd_cut <= dd_right)
    dr[m_cut] = -d1[m_cut]
    pt[m_cut] = (lc + rad_t * _perp(-d1))[m_cut]
    done |= m_cut
    m_left = ~done & (dd_left <= dd_right)
    keep[m_left] = ~left_foreign[m_left]
    dr[m_left] = left_leg[m_left]
    pt[m_left] = (lc + rad_t * _perp(left_leg))[m_left]
    m_right = ~done & ~m_left
    keep[m_right] = ~right_foreign[m_right]
    dr[m_right] = -right_leg[m_right]
    pt[m_right] = (rc + rad_t * _perp(-right_leg))[m_right]
    return pt, dr, keep


def obstacle_lines(
    pos: np.ndarray, vel: np.ndarray, radius: np.ndarray, max_speed: np.ndarray, active: np.ndarray,
    edges: ObstacleEdges, tau_obst: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ORCA half-planes of the obstacle edges ``[B, E]`` for the ``active [B, M]`` agents ``pos, vel [B, M, 2]``.

    Returns ``point, direction [A, L, 2]`` and ``valid [A, L]`` for the ``A`` active agents in
    ``np.nonzero(active)`` order, each row's lines first (edge order), ``L`` the most lines of any agent.
    Allowed velocities lie left of ``direction``.
    """
    use = _edges_in_range(pos, radius, max_speed, active, edges, tau_obst)
    row_of = np.cumsum(active.ravel()).reshape(active.shape) - 1
    n_rows = int(active.sum())
    bi, mi, ei = np.nonzero(use)
    n_lines = np.bincount(row_of[bi, mi], minlength=n_rows) if bi.size else np.zeros(n_rows, dtype=np.int64)
    width = max(int(n_lines.max(initial=0)), 1)
    point = np.zeros((n_rows, width, 2))
    direction = np.zeros((n_rows, width, 2))
    valid = np.zeros((n_rows, width), dtype=bool)
    if bi.size == 0:
        return point, direction, valid
    rows = row_of[bi, mi]
    slot = np.arange(bi.size) - np.concatenate([[0], np.cumsum(n_lines)])[rows]  # rank within the row
    ai = (bi, mi)
    r = radius[ai]
    v = vel[ai]
    p_agent = pos[bi, mi]
    pt, dr, keep = np.empty((bi.size, 2)), np.empty((bi.size, 2)), np.empty(bi.size, dtype=bool)
    for i in range(0, bi.size, _PAIR_CHUNK):  # blocks of pairs keep the many temporaries in cache
        sl = slice(i, i + _PAIR_CHUNK)
        b_, e_ = bi[sl], ei[sl]
        pt[sl], dr[sl], keep[sl] = _edge_lines(
            edges.p1[b_, e_] - p_agent[sl], edges.p2[b_, e_] - p_agent[sl], edges.p2[b_, e_] - edges.p1[b_, e_],
            edges.d_prev[b_, e_], edges.d[b_, e_], edges.d_next[b_, e_], v[sl], r[sl], tau_obst,
        )
    point[rows, slot] = pt
    direction[rows, slot] = dr
    valid[rows, slot] = keep
    return point, direction, valid


def _sq(x: np.ndarray) -> np.ndarray:
    return _dot(x, x)


def agent_lines(
    rel_pos: np.ndarray, rel_vel: np.ndarray, comb_r: np.ndarray, vel: np.ndarray, tau: float, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal ORCA half-planes; ``rel_pos = p_other − p``, ``rel_vel = v − v_other`` ``[A, K, 2]``.

    ``comb_r [A, K]`` summed radii, ``vel [A, 2]``. Returns ``point, direction [A, K, 2]``.
    """
    dist_sq = _sq(rel_pos)
    crs = comb_r * comb_r
    inv_tau = 1.0 / tau
    w = rel_vel - inv_tau * rel_pos
    w_sq = _sq(w)
    dotp = _dot(w, rel_pos)
    apart = dist_sq > crs
    on_cut = apart & (dotp < 0) & (dotp * dotp > crs * w_sq)
    legs = apart & ~on_cut
    # cut-off circle of the time horizon (no collision) or of one step (collision)
    inv = np.where(apart, inv_tau, 1.0 / dt)
    wc = rel_vel - inv[..., None] * rel_pos
    wl = np.sqrt(_sq(wc))
    uw = wc / np.where(wl > 0, wl, 1.0)[..., None]
    direction = np.stack([uw[..., 1], -uw[..., 0]], axis=-1)
    u = (comb_r * inv - wl)[..., None] * uw
    leg_l = _leg_left(rel_pos, np.where(legs, dist_sq, 1.0), comb_r)
    leg_r = -_leg_right(rel_pos, np.where(legs, dist_sq, 1.0), comb_r)
    leg_dir = np.where((_det(rel_pos, w) > 0)[..., None], leg_l, leg_r)
    u_leg = _dot(rel_vel, leg_dir)[..., None] * leg_dir - rel_vel
    direction = np.where(legs[..., None], leg_dir, direction)
    u = np.where(legs[..., None], u_leg, u)
    return vel[:, None] + 0.5 * u, direction


def _lp1(
    point: np.ndarray, direction: np.ndarray, valid: np.ndarray, i: int, radius: np.ndarray,
    opt: np.ndarray, direction_opt: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """RVO2 ``linearProgram1`` on line ``i`` against lines ``< i``; rows ``[A]``. Returns (ok, result)."""
    p, d = point[:, i], direction[:, i]
    dotp = _dot(p, d)
    disc = dotp * dotp + radius * radius - _sq(p)
    ok = disc >= 0
    sq = np.sqrt(np.maximum(disc, 0.0))
    t_left, t_right = -dotp - sq, -dotp + sq
    if i > 0:
        pj, dj, vj = point[:, :i], direction[:, :i], valid[:, :i]
        den = _det(d[:, None], dj)
        num = _det(dj, p[:, None] - pj)
        par = np.abs(den) <= EPS
        ok &= ~np.any(vj & par & (num < 0), axis=1)
        t = num / np.where(par, 1.0, den)
        right = vj & ~par & (den >= 0)
        left = vj & ~par & (den < 0)
        t_right = np.minimum(t_right, np.min(np.where(right, t, np.inf), axis=1))
        t_left = np.maximum(t_left, np.max(np.where(left, t, -np.inf), axis=1))
        ok &= t_left <= t_right
    if direction_opt:
        tt = np.where(_dot(opt, d) > 0, t_right, t_left)
    else:
        tt = np.clip(_dot(d, opt - p), t_left, t_right)
    return ok, p + tt[:, None] * d


def _lp2(
    point: np.ndarray, direction: np.ndarray, valid: np.ndarray, radius: np.ndarray, opt: np.ndarray,
    direction_opt: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """RVO2 ``linearProgram2`` for rows ``[A]`` over lines ``[A, L]``. Returns (result [A, 2], fail [A])."""
    a_n, n_lines = valid.shape
    if direction_opt:
        result = opt * radius[:, None]
    else:
        on = np.sqrt(_sq(opt))
        scale = np.where(on > radius, radius / np.where(on > 0, on, 1.0), 1.0)
        result = opt * scale[:, None]
    fail = np.full(a_n, n_lines)
    i = 0
    while i < n_lines:
        if a_n * (n_lines - i) <= _SCAN_LIMIT:
            # few rows: jump straight to the next line that some still-running row violates
            running = (fail == n_lines)[:, None]
            viol = valid[:, i:] & running & (_det(direction[:, i:], point[:, i:] - result[:, None]) > 0)
            cols = np.flatnonzero(viol.any(axis=0))
            if cols.size == 0:
                break
            i += int(cols[0])
            rows = np.flatnonzero(viol[:, cols[0]])
        else:
            rows = np.flatnonzero(valid[:, i] & (fail == n_lines))
            rows = rows[_det(direction[rows, i], point[rows, i] - result[rows]) > 0]
        if rows.size:
            ok, res = _lp1(point[rows], direction[rows], valid[rows], i, radius[rows], opt[rows], direction_opt)
            result[rows[ok]] = res[ok]
            fail[rows[~ok]] = i
        i += 1
    return result, fail


def _lp3(
    point: np.ndarray, direction: np.ndarray, valid: np.ndarray, n_obst: int, begin: np.ndarray,
    radius: np.ndarray, result: np.ndarray,
) -> np.ndarray:
    """RVO2 ``linearProgram3``: least-violation velocity when constraints are infeasible (rows ``[A]``)."""
    a_n, n_lines = valid.shape
    dist = np.zeros(a_n)
    result = result.copy()
    for i in range(int(begin.min()), n_lines):
        act = (i >= begin) & valid[:, i] & (_det(direction[:, i], point[:, i] - result) > dist)
        rows = np.flatnonzero(act)
        if rows.size == 0:
            continue
        pi, di = point[rows, i], direction[rows, i]
        proj_p, proj_d, proj_v = point[rows].copy(), direction[rows].copy(), valid[rows].copy()
        if i > n_obst:
            pj, dj = point[rows, n_obst:i], direction[rows, n_obst:i]
            den = _det(di[:, None], dj)
            par = np.abs(den) <= EPS
            same_dir = par & (_dot(di[:, None], dj) > 0)
            t = _det(dj, pi[:, None] - pj) / np.where(par, 1.0, den)
            cross = pi[:, None] + t[..., None] * di[:, None]
            proj_p[:, n_obst:i] = np.where(par[..., None], 0.5 * (pi[:, None] + pj), cross)
            proj_d[:, n_obst:i] = _unit(dj - di[:, None])
            proj_v[:, n_obst:i] &= ~same_dir
        proj_v[:, i:] = False
        res, fail = _lp2(proj_p, proj_d, proj_v, radius[rows], _perp(di), direction_opt=True)
        good = fail >= n_lines
        res = np.where(good[:, None], res, result[rows])
        result[rows] = res
        dist[rows] = _det(di, pi - res)
    return result


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
) -> np.ndarray:
    """New velocities of the ``active`` agents (others keep ``vel``).

    Args:
        pos, vel, pref_vel: ``[B, M, 2]`` world-frame positions (m), velocities, preferred velocities (m/s).
        radius, max_speed: ``[B, M]``.
        active: ``[B, M]`` bool, agents whose velocity is computed.
        seen: ``[B, M]`` bool, agents that others avoid (padding and invisible agents are False).
        edges: obstacle edges with ``[B, E]`` leading shape, or None.

    Returns:
        ``[B, M, 2]`` velocities.
    """
    b, m = active.shape
    bi, mi = np.nonzero(active)
    out = vel.copy()
    if bi.size == 0:
        return out
    p, v = pos[bi, mi], vel[bi, mi]
    r, vmax = radius[bi, mi], max_speed[bi, mi]
    # k nearest seen neighbours within neighbor_dist (excluding self)
    rel = pos[bi] - p[:, None]  # [A, M, 2]
    dsq = _sq(rel)
    ok = seen[bi] & (dsq < params.neighbor_dist**2)
    ok[np.arange(bi.size), mi] = False
    k = min(params.max_neighbors, m - 1)
    key = np.where(ok, dsq, np.inf)
    nb = np.argsort(key, axis=1, kind="stable")[:, :k]
    nb_ok = np.take_along_axis(ok, nb, axis=1)
    k_used = max(int(nb_ok.sum(axis=1).max()), 1)  # invalid neighbours sort last
    nb, nb_ok = nb[:, :k_used], nb_ok[:, :k_used]
    rows = np.arange(bi.size)[:, None]
    a_pt, a_dir = agent_lines(
        rel[rows, nb], v[:, None] - vel[bi[:, None], nb], r[:, None] + radius[bi[:, None], nb], v,
        params.time_horizon, params.dt,
    )
    if edges is not None and edges.valid.shape[1] > 0:
        o_pt, o_dir, o_ok = obstacle_lines(pos, vel, radius, max_speed, active, edges, params.time_horizon_obst)
        point = np.concatenate([o_pt, a_pt], axis=1)
        direction = np.concatenate([o_dir, a_dir], axis=1)
        valid = np.concatenate([o_ok, nb_ok], axis=1)
        n_obst = o_ok.shape[1]
    else:
        point, direction, valid, n_obst = a_pt, a_dir, nb_ok, 0
    new_v, fail = _lp2(point, direction, valid, vmax, pref_vel[bi, mi], direction_opt=False)
    bad = fail < valid.shape[1]
    if bad.any():
        idx = np.flatnonzero(bad)
        new_v[idx] = _lp3(point[idx], direction[idx], valid[idx], n_obst, fail[idx], vmax[idx], new_v[idx])
    out[bi, mi] = new_v
    return out
