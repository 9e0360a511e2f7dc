"""Replay of real pedestrian tracks in the ETH/UCY format.

File format (as distributed with Social-LSTM / Social-GAN): one annotation per line, whitespace-separated
``frame ped_id x y``; positions in metres; annotated at 2.5 fps (frame numbers usually step by 10). An
optional homography file holds a 3×3 matrix ``H`` (whitespace-separated) mapping the file's (x, y, 1) to
world coordinates, ``[X, Y, W] = H [x, y, 1]``, metres ``(X / W, Y / W)``.

Tracks are put on one time grid (one row per annotated frame), re-centred on the middle of their bounding
box, and linearly interpolated to the simulation step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.atomic import write_bytes_atomic
from sim.crowd.config import CrowdSimConfig
from sim.crowd.scenarios import SceneLayout, robot_start_goal


def load_homography(path: str | Path) -> np.ndarray:
    """A 3×3 homography from a whitespace-separated text file."""
    try:
        h = np.loadtxt(path, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read a homography matrix ({exc})") from exc
    if h.shape != (3, 3):
        raise ValueError(f"{path}: homography has shape {h.shape}, expected 3×3")
    return h


def read_eth_ucy(path: str | Path, homography: np.ndarray | None = None) -> np.ndarray:
    """Rows ``[frame, ped_id, x, y]`` ``[N, 4]`` float64 of an ETH/UCY file (homography applied)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 4:
                raise ValueError(f"{path}:{lineno}: {len(parts)} columns, expected 4 (frame ped_id x y)")
            try:
                rows.append([float(v) for v in parts])
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a number ({exc})") from exc
    if not rows:
        raise ValueError(f"{path}: no annotations")
    data = np.array(rows)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{path}: non-finite values")
    if homography is not None:
        xyw = np.concatenate([data[:, 2:4], np.ones((len(data), 1))], axis=1) @ homography.T
        if np.any(np.abs(xyw[:, 2]) < 1e-12):
            raise ValueError(f"{path}: homography maps a point to infinity")
        data[:, 2:4] = xyw[:, :2] / xyw[:, 2:3]
    return data


@dataclass
class ReplayTracks:
    """Tracks on the annotation grid: ``pos [P, T, 2]`` (m), ``present [P, T]``; row t at time t / fps."""

    pos: np.ndarray
    present: np.ndarray
    fps: float

    @staticmethod
    def from_rows(rows: np.ndarray, fps: float, source: str = "tracks") -> ReplayTracks:
        frames = np.unique(rows[:, 0])
        step = np.min(np.diff(frames)) if len(frames) > 1 else 1.0
        t_idx = np.rint((rows[:, 0] - frames[0]) / step).astype(np.int64)
        if not np.allclose(t_idx * step + frames[0], rows[:, 0]):
            raise ValueError(f"{source}: frame numbers are not on a regular grid of step {step}")
        ids, p_idx = np.unique(rows[:, 1], return_inverse=True)
        pos = np.zeros((len(ids), t_idx.max() + 1, 2))
        present = np.zeros(pos.shape[:2], dtype=bool)
        pos[p_idx, t_idx] = rows[:, 2:4]
        present[p_idx, t_idx] = True
        # fill gaps inside a track by linear interpolation
        for p in range(len(ids)):
            t = np.flatnonzero(present[p])
            full = np.arange(t[0], t[-1] + 1)
            for k in range(2):
                pos[p, full, k] = np.interp(full, t, pos[p, t, k])
            present[p, full] = True
        lo = np.array([pos[..., 0][present].min(), pos[..., 1][present].min()])
        hi = np.array([pos[..., 0][present].max(), pos[..., 1][present].max()])
        pos = np.where(present[..., None], pos - (lo + hi) / 2, 0.0)
        return ReplayTracks(pos, present, fps)

    @property
    def duration(self) -> float:
        return (self.pos.shape[1] - 1) / self.fps

    @property
    def half_extent(self) -> float:
        return float(np.abs(self.pos[self.present]).max())

    def sample(self, idx: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pedestrians ``idx [H]`` at file time ``t`` (s): positions ``[H, 2]``, velocities, present ``[H]``."""
        f = t * self.fps
        last = self.pos.shape[1] - 1
        i0 = int(np.clip(np.floor(f), 0, last))
        i1 = min(i0 + 1, last)
        a = np.clip(f - i0, 0.0, 1.0)
        p0, p1 = self.pos[idx, i0], self.pos[idx, i1]
        ok0, ok1 = self.present[idx, i0], self.present[idx, i1]
        present = (ok0 & ok1) | (ok0 & (a < 1e-9)) | (ok1 & (a > 1 - 1e-9))
        both = ok0 & ok1
        pos = np.where(both[:, None], (1 - a) * p0 + a * p1, np.where(ok0[:, None], p0, p1))
        vel = np.where(both[:, None], (p1 - p0) * self.fps, 0.0)
        return pos, vel, present & (0 <= f <= last)


class ReplayScene:
    """The replay scenario: each episode replays a random time window of the file."""

    def __init__(self, tracks: ReplayTracks, source: str = "tracks") -> None:
        self.tracks, self.source = tracks, source

    def check(self, cfg: CrowdSimConfig) -> None:
        """Raise ``ValueError`` when the tracks do not fit inside the arena of ``cfg``."""
        if self.tracks.half_extent + cfg.human_radius > cfg.arena_half_size:
            raise ValueError(f"{self.source}: tracks reach {self.tracks.half_extent:.1f} m from their centre; "
                             f"arena_half_size={cfg.arena_half_size} is too small")

    def layout(self, cfg: CrowdSimConfig, rng: np.random.Generator) -> SceneLayout:
        tr = self.tracks
        t0 = float(rng.uniform(0.0, max(tr.duration - cfg.time_limit, 0.0)))
        f0 = int(np.floor(t0 * tr.fps))
        f1 = min(int(np.ceil((t0 + cfg.time_limit) * tr.fps)), tr.pos.shape[1] - 1)
        active = np.flatnonzero(tr.present[:, f0: f1 + 1].any(axis=1))
        first = np.array([np.argmax(tr.present[p, f0: f1 + 1]) for p in active], dtype=np.int64)
        idx = active[np.argsort(first, kind="stable")][: cfg.max_humans]
        pos, _, _ = tr.sample(idx, t0)
        goals = np.array([tr.pos[p][tr.present[p]][-1] for p in idx]).reshape(-1, 2)
        s, g = robot_start_goal(cfg, rng, np.zeros((0, 4, 2)))
        return SceneLayout(np.zeros((0, 4, 2)), pos.reshape(-1, 2), goals, np.zeros(len(idx), dtype=bool),
                           s, g, float(rng.uniform(-np.pi, np.pi)), "free", [], (t0, idx))

    def sample(self, lay: SceneLayout, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions, velocities ``[H, 2]`` and presence ``[H]`` of the layout's pedestrians at episode time t."""
        t0, idx = lay.replay_window
        return self.tracks.sample(idx, t0 + t)


def load_replay(cfg: CrowdSimConfig) -> ReplayScene:
    """The :class:`ReplayScene` of ``cfg.replay_file`` (and ``cfg.replay_homography`` when set)."""
    path = Path(cfg.replay_file)
    if not path.is_file():
        raise ValueError(f"replay_file={str(path)!r}: no such file")
    h = load_homography(cfg.replay_homography) if cfg.replay_homography else None
    return ReplayScene(ReplayTracks.from_rows(read_eth_ucy(path, h), cfg.replay_fps, str(path)), str(path))


def write_synthetic_eth_ucy(path: str | Path, num_peds: int = 12, duration: float = 40.0, seed: int = 0,
                            half_extent: float = 5.0) -> Path:
    """Write a small ETH/UCY-format file (``frame ped_id x y``, tab-separated, frames step 10 at 2.5 fps).

    Pedestrians walk straight between two random points on the border of a ``2·half_extent`` square at
    1.0–1.4 m/s, entering at random times. Written atomically.
    """
    rng = np.random.default_rng(seed)
    fps, lines = 2.5, []
    for ped in range(1, num_peds + 1):
        side = rng.integers(4)
        a = rng.uniform(-half_extent, half_extent)
        start = [np.array([-half_extent, a]), np.array([half_extent, a]), np.array([a, -half_extent]),
                 np.array([a, half_extent])][side]
        end = -start + rng.uniform(-1.0, 1.0, 2)
        end = np.clip(end, -half_extent, half_extent)
        speed = rng.uniform(1.0, 1.4)
        n = max(int(np.linalg.norm(end - start) / speed * fps), 2)
        t0 = int(rng.integers(0, max(int((duration - n / fps) * fps), 1)))
        for k in range(n + 1):
            p = start + (end - start) * k / n
            lines.append((10 * (t0 + k), ped, p[0], p[1]))
    lines.sort()
    path = Path(path)
    write_bytes_atomic(path, "".join(f"{f:.1f}\t{p:.1f}\t{x:.4f}\t{y:.4f}\n" for f, p, x, y in lines).encode())
    return path
