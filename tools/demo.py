"""`pernav demo` / `make demo`: the main job on built-in data, one step per capability.

Each step is a `pernav` subcommand run in-process; a step whose package is not installed is
reported and skipped, a failing step fails the demo.
"""

from __future__ import annotations

import sys
import time

from tools.cli import main as pernav

#: (title, pernav argv) in the order they run
STEPS: list[tuple[str, list[str]]] = [
    ("attention kernels: correctness against the float64 reference", ["kernels", "check"]),
    ("attention kernels: benchmark", ["kernels", "bench", "--repeats", "3", "--out", "outputs/kernels/bench.md"]),
    ("crowd simulator: ORCA-as-robot rollouts in the default scenario (video + metrics)", ["sim", "rollout"]),
    (
        "navigation: HEIGHT checkpoint vs DS-RNN, ORCA, social force, DWA, MPC (report, trajectories, video)",
        ["nav", "eval", "--policy", "height=navigation/checkpoints/height_cpu.pt",
         "--policy", "dsrnn=navigation/checkpoints/dsrnn_cpu.pt", "--policy", "orca",
         "--policy", "social_force", "--policy", "dwa", "--policy", "mpc", "--episodes", "16", "--trajectories", "2",
         "--video",
         "--out", "outputs/nav/demo", "--no-progress"],
    ),  # fmt: skip
    ("occupancy: MetaOcc on a held-out generated clip (shipped checkpoint)", ["occ", "demo"]),
    ("multi-view 3D pose: SelfPose3d on a generated sequence", ["pose", "demo", "--out", "outputs/pose_demo"]),
]


def main(argv: list[str] | None = None) -> int:
    failed = []
    for title, step in STEPS:
        print(f"\n=== {title}  (pernav {' '.join(step)}) ===", flush=True)
        t0 = time.perf_counter()
        rc = pernav(step)
        print(f"--- {'ok' if rc == 0 else f'FAILED rc={rc}'} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(title)
    if failed:
        print(f"\ndemo: {len(failed)} step(s) failed: {failed}", file=sys.stderr)
        return 1
    print("\ndemo: all steps passed")
    return 0
