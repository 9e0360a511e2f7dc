"""Timing and memory measurement for benchmarks: interleaved medians and peak-memory growth.

Timing runs the contenders in turn (A B C A B C ...) after a warm-up so machine noise hits all of them
alike; the medians and the ratios from the same run are what to read. Memory is the growth of the peak
resident set (CPU, from /proc after ``malloc_trim`` so freed memory is not silently reused) or of
``torch.cuda.max_memory_allocated`` (GPU) while one call runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import re
import statistics
import time
from collections.abc import Callable

import torch

_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        m = re.search(rf"{field}:\s+(\d+)", f.read())
    if m is None:
        raise RuntimeError(f"/proc/self/status has no {field}")
    return int(m.group(1)) * 1024


def peak_memory(fn: Callable[[], object], device: torch.device) -> int:
    """Bytes by which peak memory grows while ``fn()`` runs (once)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    _LIBC.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    base = _status("VmRSS")
    fn()
    return max(0, _status("VmHWM") - base)


def interleaved_medians(
    fns: dict[str, Callable[[], object]], repeats: int, device: torch.device, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per call of each function, measured round-robin."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def machine_line(device: torch.device) -> str:
    """One line naming what the numbers were measured on."""
    if device.type == "cuda":
        what = torch.cuda.get_device_name(device)
    else:
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)  # type: ignore[union-attr]
        except (OSError, AttributeError):
            pass
        what = f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    return f"{what}; torch {torch.__version__}; {time.strftime('%Y-%m-%d')}"
