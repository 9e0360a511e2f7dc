"""Frames of a scene (matplotlib, offscreen by default) and episode videos (imageio).

Rendering only reads the state: nothing here changes what ``step`` computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.atomic import atomic_path
from sim.crowd.config import CrowdSimConfig
from sim.crowd.engine import CrowdBatch


class FrameRenderer:
    """Draws scene ``i`` of a :class:`CrowdBatch` into an ``[H, W, 3]`` uint8 frame."""

    def __init__(self, cfg: CrowdSimConfig, size_px: int = 480, interactive: bool = False) -> None:
        import matplotlib

        if not interactive:
            matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.cfg, self.interactive = cfg, interactive
        if interactive:
            import matplotlib.pyplot as plt

            self.fig = plt.figure(figsize=(size_px / 100, size_px / 100), dpi=100)
        else:
            self.fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100)
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0, 0, 1, 1))

    def draw(self, batch: CrowdBatch, i: int, obs: dict[str, np.ndarray] | None = None) -> np.ndarray:
        from matplotlib.patches import Circle, Polygon, Wedge

        cfg, ax = self.cfg, self.ax
        ax.clear()
        h = cfg.arena_half_size
        ax.set_xlim(-h - 0.3, h + 0.3)
        ax.set_ylim(-h - 0.3, h + 0.6)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.add_patch(Polygon([[-h, -h], [h, -h], [h, h], [-h, h]], closed=True, fill=False, lw=2, ec="k"))
        for poly in batch.obstacles[i][batch.obstacle_valid[i]]:
            ax.add_patch(Polygon(poly, closed=True, fc="0.55", ec="0.3"))
        rp, th = batch.robot_pos[i], batch.robot_theta[i]
        if obs is not None:  # lidar end points
            r = obs["point_clouds"][0]
            ang = th - np.pi + 2 * np.pi * np.arange(len(r)) / len(r)
            ends = rp + r[:, None] * np.stack([np.cos(ang), np.sin(ang)], axis=-1)
            ax.plot(ends[:, 0], ends[:, 1], ".", ms=2, color="tab:red", alpha=0.6)
        if cfg.fov < 2 * np.pi - 1e-9:
            deg = np.degrees
            ax.add_patch(Wedge(tuple(rp), min(cfg.sensor_range, 2 * h), deg(th - cfg.fov / 2), deg(th + cfg.fov / 2),
                               fc="gold", alpha=0.12))
        for j in np.flatnonzero(batch.human_valid[i]):
            p, v = batch.human_pos[i, j], batch.human_vel[i, j]
            color = "tab:gray" if batch.human_static[i, j] else "tab:blue"
            ax.add_patch(Circle(tuple(p), cfg.human_radius, fc=color, alpha=0.8))
            if np.hypot(*v) > 1e-3:
                ax.arrow(p[0], p[1], v[0], v[1], width=0.03, color="navy", length_includes_head=True)
        ax.plot(*batch.robot_goal[i], marker="*", ms=16, color="tab:green")
        ax.add_patch(Circle(tuple(rp), cfg.robot_radius, fc="tab:orange", ec="k"))
        ax.plot([rp[0], rp[0] + 0.4 * np.cos(th)], [rp[1], rp[1] + 0.4 * np.sin(th)], "k-", lw=2)
        ax.text(-h, h + 0.05, f"t = {batch.steps[i] * cfg.dt:4.1f} s", fontsize=9, va="bottom")
        self.fig.canvas.draw()
        if self.interactive:
            import matplotlib.pyplot as plt

            plt.pause(cfg.dt)
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        if self.interactive:
            import matplotlib.pyplot as plt

            plt.close(self.fig)


def save_video(frames: Sequence[np.ndarray], path: str | Path, fps: float) -> Path:
    """Write frames ``[H, W, 3]`` uint8 as mp4 (or gif, by suffix) atomically; returns the path."""
    import imageio.v3 as iio

    path = Path(path)
    if path.suffix not in (".mp4", ".gif"):
        raise ValueError(f"{path}: video must end in .mp4 or .gif")
    if not frames:
        raise ValueError(f"{path}: no frames to write")
    with atomic_path(path, suffix=path.suffix) as tmp:
        if path.suffix == ".mp4":
            iio.imwrite(tmp, np.stack(frames), fps=fps, codec="libx264", macro_block_size=1)
        else:
            iio.imwrite(tmp, np.stack(frames), duration=1000.0 / fps, loop=0)
    return path
