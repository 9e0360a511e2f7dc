"""`pernav kernels bench`: our kernels against the peers a user would otherwise pick, in one run.

na2d (7×7 window, 4 heads × 32 dims, fp32) on 64×64 and 128×128 grids, forward and forward+backward:
our `torch` backend vs dense SDPA without a mask (what it costs to ignore locality), SDPA with a
boolean neighborhood mask, compiled FlexAttention with the same mask (forward only: no CPU backward)
and natten where installed. set_attention at ~50 % padding vs padded SDPA with a key mask.
Prints one table with medians, ratios to the `torch` backend and peak-memory growth, then the targets.
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kernels import na2d, set_attention
from kernels.measure import interleaved_medians, machine_line, peak_memory
from kernels.reference import neighborhood_mask

HEADS, DIM, KERNEL = 4, 32, 7
#: (sets, max keys): agent-sized sets as HEIGHT uses them, and large sets where length buckets pay off
SET_PROBLEMS = ((2048, 32), (128, 512))


@dataclass
class Row:
    problem: str
    contender: str
    seconds: float
    peak_bytes: int


def _na_contenders(side: int, backward: bool, device: torch.device) -> dict[str, Callable[[], object]]:
    g = torch.Generator(device="cpu").manual_seed(side)
    q, k, v = (torch.randn(1, side, side, HEADS, DIM, generator=g).to(device) for _ in range(3))
    heads_first = [t.reshape(1, side * side, HEADS, DIM).transpose(1, 2).contiguous() for t in (q, k, v)]
    mask = neighborhood_mask((side, side), (KERNEL,) * 2, (1, 1), (1, 1), (False, False), device)

    def run(fn: Callable[..., torch.Tensor], inputs: list[torch.Tensor]) -> Callable[[], object]:
        if not backward:
            return lambda: fn(*inputs)

        def fwd_bwd() -> None:
            leaves = [t.detach().requires_grad_() for t in inputs]
            fn(*leaves).sum().backward()

        return fwd_bwd

    out: dict[str, Callable[[], object]] = {
        "pernav torch": run(lambda a, b, c: na2d(a, b, c, KERNEL, backend="torch"), [q, k, v]),
        "SDPA dense (no mask)": run(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), heads_first),
        "SDPA + bool NA mask": run(
            lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), heads_first
        ),
    }
    if device.type == "cuda" or not backward:
        flex = _compiled_flex(side, device)
        if flex is not None:
            out["flex_attention compiled"] = run(flex, heads_first)
    natten = _natten(side, backward, device)
    if natten is not None:
        out["natten" if device.type == "cuda" else "natten (CPU: flex eager)"] = run(natten, [q, k, v])
    if device.type == "cuda":
        out["pernav triton"] = run(lambda a, b, c: na2d(a, b, c, KERNEL, backend="triton"), [q, k, v])
    return out


def _compiled_flex(side: int, device: torch.device) -> Callable[..., torch.Tensor] | None:
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    half = KERNEL // 2

    def mask_mod(b, h, q_idx, kv_idx):
        qx, qy, kx, ky = q_idx // side, q_idx % side, kv_idx // side, kv_idx % side
        cx, cy = qx.clamp(half, side - 1 - half), qy.clamp(half, side - 1 - half)
        return ((cx - kx).abs() <= half) & ((cy - ky).abs() <= half)

    try:
        block_mask = create_block_mask(mask_mod, None, None, side * side, side * side, device=str(device))
        compiled = torch.compile(flex_attention, dynamic=False)
        return lambda a, b, c: compiled(a, b, c, block_mask=block_mask)
    except Exception as exc:  # compile toolchain missing: report, don't fail the table
        print(f"  (flex_attention unavailable: {type(exc).__name__}: {exc})")
        return None


def _natten(side: int, backward: bool, device: torch.device) -> Callable[..., torch.Tensor] | None:
    try:
        import natten
    except ImportError:
        return None
    if device.type == "cpu" and (backward or side > 64):
        # On CPU natten 0.21 runs eager FlexAttention only (its compiled path finds no CPU backend):
        # no backward, and O(N²) memory (> 4 GiB of scores at 128×128).
        return None
    return lambda a, b, c: natten.na2d(a, b, c, kernel_size=KERNEL)


def _set_contenders(
    sets: int, lmax: int, device: torch.device, backward: bool
) -> tuple[dict[str, Callable[[], object]], float]:
    g = torch.Generator(device="cpu").manual_seed(0)
    q, k, v = (torch.randn(sets, lmax, HEADS, DIM, generator=g).to(device) for _ in range(3))
    lengths = torch.randint(1, lmax + 1, (sets,), generator=g).to(device)
    pad = torch.arange(lmax, device=device)[None, :] >= lengths[:, None]
    hf = [t.transpose(1, 2) for t in (q, k, v)]
    key_mask = (~pad)[:, None, None, :]

    def wrap(fn: Callable[..., torch.Tensor], inputs: list[torch.Tensor]) -> Callable[[], object]:
        if not backward:
            return lambda: fn(*inputs)
        return lambda: fn(*[t.detach().requires_grad_() for t in inputs]).sum().backward()

    fns = {
        "pernav torch": wrap(lambda a, b, c: set_attention(a, b, c, lengths=lengths, backend="torch"), [q, k, v]),
        "padded SDPA + key mask": wrap(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=key_mask), hf),
    }
    if device.type == "cuda":
        fns["pernav triton"] = wrap(
            lambda a, b, c: set_attention(a, b, c, lengths=lengths, backend="triton"), [q, k, v]
        )
    return fns, float(pad.float().mean())


def run(repeats: int, device: torch.device, sides: tuple[int, ...] = (64, 128)) -> list[Row]:
    rows: list[Row] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for side in sides:
            for backward in (False, True):
                problem = f"na2d {side}x{side} {'fwd+bwd' if backward else 'fwd'}"
                fns = _na_contenders(side, backward, device)
                print(f"  measuring {problem}: {', '.join(fns)}", flush=True)
                times = interleaved_medians(fns, repeats, device)
                rows += [Row(problem, n, times[n], peak_memory(fn, device)) for n, fn in fns.items()]
        for (sets, lmax), backward in itertools.product(SET_PROBLEMS, (False, True)):
            fns, padding = _set_contenders(sets, lmax, device, backward)
            problem = f"set_attention {sets}x{lmax} {padding:.0%} pad {'fwd+bwd' if backward else 'fwd'}"
            print(f"  measuring {problem}", flush=True)
            times = interleaved_medians(fns, repeats * 2, device)
            rows += [Row(problem, n, times[n], peak_memory(fn, device)) for n, fn in fns.items()]
    return rows


def _time(rows: list[Row], problem: str, contender: str) -> float:
    return next(r.seconds for r in rows if r.problem == problem and r.contender == contender)


def format_table(rows: list[Row], device: torch.device) -> str:
    lines = [
        f"pernav kernels bench — {machine_line(device)}",
        "",
        "| problem | contender | median ms | × pernav torch | peak mem MiB |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        ours = _time(rows, r.problem, "pernav torch")
        mib = r.peak_bytes / 2**20
        lines.append(f"| {r.problem} | {r.contender} | {r.seconds * 1e3:.1f} | {r.seconds / ours:.2f} | {mib:.1f} |")
    return "\n".join(lines)


def targets(rows: list[Row]) -> list[tuple[str, float, float]]:
    """(target, measured ratio, limit) for the issue's CPU targets, from the rows of one run."""
    t = lambda p, c="pernav torch": _time(rows, p, c)  # noqa: E731
    set_fwd = [r.problem for r in rows if r.problem.startswith("set_attention") and r.problem.endswith(" fwd")]
    set_fwd = list(dict.fromkeys(set_fwd))
    return [
        ("na2d 64² fwd / dense SDPA fwd", t("na2d 64x64 fwd") / t("na2d 64x64 fwd", "SDPA dense (no mask)"), 0.1),
        ("na2d 128² fwd / 64² fwd", t("na2d 128x128 fwd") / t("na2d 64x64 fwd"), 4.5),
        ("na2d 64² fwd+bwd / fwd", t("na2d 64x64 fwd+bwd") / t("na2d 64x64 fwd"), 3.0),
        ("na2d 128² fwd+bwd / fwd", t("na2d 128x128 fwd+bwd") / t("na2d 128x128 fwd"), 3.0),
    ] + [(f"{p} / padded SDPA", t(p) / t(p, "padded SDPA + key mask"), 0.6) for p in set_fwd]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pernav kernels bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per contender (median reported)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None, help="also write the table (markdown) to this file")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    rows = run(args.repeats, device)
    table = format_table(rows, device)
    lines = [table, "", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for name, value, limit in targets(rows):
        lines.append(f"| {name} | {value:.3f} | ≤ {limit} | {'yes' if value <= limit else 'NO'} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        from pathlib import Path

        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 0
