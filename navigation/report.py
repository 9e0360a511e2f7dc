"""Evaluation report: markdown and HTML tables comparing policies side by side, and trajectory pictures."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from navigation.evaluate import Trajectory
from sim.atomic import atomic_path, write_bytes_atomic

COLUMNS = [("success", "success", "{:.3f}"), ("collision", "collision", "{:.3f}"),
           ("collision_human", "coll. human", "{:.3f}"), ("collision_obstacle", "coll. obstacle", "{:.3f}"),
           ("collision_wall", "coll. wall", "{:.3f}"), ("timeout", "timeout", "{:.3f}"),
           ("nav_time", "nav time (s)", "{:.2f}"), ("path_length", "path (m)", "{:.2f}"),
           ("intrusion_ratio", "intrusion", "{:.3f}"), ("min_distance", "min dist (m)", "{:.3f}"),
           ("return", "return", "{:.2f}")]


def _cell(value: Any, fmt: str) -> str:
    return "–" if isinstance(value, float) and math.isnan(value) else fmt.format(value)


def table_rows(results: dict[str, dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one scenario's results ``{policy: summary dict | error string}``."""
    header = ["policy", "episodes"] + [title for _, title, _ in COLUMNS]
    rows = []
    for name, summary in results.items():
        if isinstance(summary, str):
            rows.append([name, "–", f"not run: {summary}"] + [""] * (len(COLUMNS) - 1))
        else:
            rows.append([name, str(int(summary["episodes"]))] + [_cell(summary[k], f) for k, _, f in COLUMNS])
    return header, rows


def plot_trajectories(trajs: dict[str, list[Trajectory]], path: Path, arena_half_size: float) -> None:
    """One row per policy, one column per episode: obstacles, walls, human tracks, robot path, goal."""
    names = [n for n, t in trajs.items() if t]
    cols = max(len(trajs[n]) for n in names)
    fig, axes = plt.subplots(len(names), cols, figsize=(3.2 * cols, 3.2 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        for c in range(cols):
            ax = axes[r, c]
            ax.set_xlim(-arena_half_size - 0.5, arena_half_size + 0.5)
            ax.set_ylim(-arena_half_size - 0.5, arena_half_size + 0.5)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(trajs[name]):
                ax.axis("off")
                continue
            t = trajs[name][c]
            a = arena_half_size
            ax.plot([-a, a, a, -a, -a], [-a, -a, a, a, -a], color="black", lw=1.5)
            for poly in t.obstacles if t.obstacles is not None else []:
                ax.fill(poly[:, 0], poly[:, 1], color="0.6")
            for h in t.humans:
                if len(h):
                    ax.scatter(h[:, 0], h[:, 1], s=1, color="tab:orange", alpha=0.25)
            xs, ys = zip(*t.robot, strict=True)
            ax.plot(xs, ys, color="tab:blue", lw=1.5)
            ax.plot(xs[0], ys[0], "o", color="tab:blue")
            ax.plot(*t.goal, "*", color="tab:red", ms=12)
            if c == 0:
                ax.set_ylabel(name)
    fig.suptitle("robot (blue), humans (orange), goal (red star), obstacles (grey)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def write_report(out: Path, results: dict[str, dict[str, Any]], meta: dict[str, Any],
                 pictures: dict[str, str]) -> tuple[Path, Path]:
    """``report.md``, ``report.html`` and ``results.json`` in ``out``; ``results`` is ``{scenario: {policy: …}}``,
    ``pictures`` ``{scenario: png file name}``. Returns the markdown and HTML paths."""
    md = ["# Navigation evaluation", "", *(f"- {k}: {v}" for k, v in meta.items()), ""]
    body = ["<h1>Navigation evaluation</h1>", "<ul>",
            *(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in meta.items()), "</ul>"]
    for scenario, res in results.items():
        header, rows = table_rows(res)
        md += [f"## {scenario}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        body += [f"<h2>{html.escape(scenario)}</h2>", "<table border='1' cellspacing='0' cellpadding='4'>",
                 "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
        body += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows]
        body.append("</table>")
        if scenario in pictures:
            md += ["", f"![trajectories]({pictures[scenario]})"]
            body.append(f"<p><img src='{html.escape(pictures[scenario])}' style='max-width:100%'></p>")
        md.append("")
    page = "<!doctype html><html><head><meta charset='utf-8'><title>pernav navigation evaluation</title>" \
           "<style>body{font-family:sans-serif} td,th{text-align:right}</style></head><body>" \
           + "\n".join(body) + "</body></html>"
    write_bytes_atomic(out / "report.md", ("\n".join(md) + "\n").encode())
    write_bytes_atomic(out / "report.html", page.encode())
    write_bytes_atomic(out / "results.json", json.dumps({"meta": meta, "results": results}, indent=2).encode())
    return out / "report.md", out / "report.html"
