"""GPU benchmark of the Triton backend against dense SDPA (and FlexAttention) on the same tokens.

``bench_cuda()`` prints one table: for each case the Triton NA forward and forward+backward against
``scaled_dot_product_attention`` without a mask on the same tokens (the FLOP-heavy upper bound NA must
beat) and compiled ``flex_attention`` with the same neighborhood as a ``mask_mod`` (the realistic
competitor); useful TFLOP/s (NA counts only the ``prod(kernel)`` keys each query attends; backward
counted as 2.5× forward, the FlashAttention convention), the speed-up over SDPA next to its bound
``N / prod(kernel)``, peak memory, and the max error of the Triton output and gradients against the
torch backend in fp32. Timings interleave the contenders (A B C A B C …) and report
medians. Run: ``python -m kernels.triton_backend.bench`` on a machine with CUDA.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kernels import torch_backend
from kernels.triton_backend.neighborhood import na
from kernels.triton_backend.sets import set_attention


@dataclass(frozen=True)
class NACase:
    """One 2-D NA problem: q/k/v ``[batch, *spatial, heads, dim]``, window ``kernel``."""

    name: str
    spatial: tuple[int, int]
    kernel: tuple[int, int]
    heads: int
    dim: int
    batch: int = 1


DEFAULT_CASES = (
    NACase("na2d 64x64 7x7 4x32", (64, 64), (7, 7), 4, 32),
    NACase("na2d 128x128 7x7 4x32", (128, 128), (7, 7), 4, 32),
    NACase("na2d 2x256x256 13x13 8x64", (256, 256), (13, 13), 8, 64, batch=2),
)


def _timer(device: torch.device) -> Callable[[Callable[[], object]], float]:
    """Returns ``time_ms(fn)``: one timed call, CUDA events on a GPU, wall clock otherwise."""
    if device.type == "cuda":

        def time_cuda(fn: Callable[[], object]) -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)

        return time_cuda

    def time_wall(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        fn()
        return 1e3 * (time.perf_counter() - t0)

    return time_wall


def _interleaved_medians(contenders: Mapping[str, Callable[[], object]], device: torch.device, reps: int):
    """Median ms per contender over ``reps`` rounds of A B C …, after one warm-up round."""
    time_ms = _timer(device)
    for fn in contenders.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            samples[name].append(time_ms(fn))
    return {name: statistics.median(s) for name, s in samples.items()}


def _peak_mib(fn: Callable[[], object], device: torch.device, leaves: tuple[torch.Tensor, ...] = ()) -> float:
    """Peak memory above what was allocated before ``fn`` (CUDA only; NaN elsewhere).

    Gradients of ``leaves`` are dropped first, so a backward pays for allocating them.
    """
    if device.type != "cuda":
        return math.nan
    for t in leaves:
        t.grad = None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated(device) - base) / 2**20


def _na_mask_mod(spatial: tuple[int, int], kernel: tuple[int, int]):
    """FlexAttention ``mask_mod`` of clamped 2-D NA (NATTEN semantics, dilation 1, stride 1)."""
    (nx, ny), (kx, ky) = spatial, kernel

    def inside(qi, ki, n, k):
        centre = torch.clamp(qi, k // 2, n - 1 - k // 2)
        return (centre - ki).abs() <= k // 2

    def mask_mod(b, h, q_idx, kv_idx):
        return inside(q_idx // ny, kv_idx // ny, nx, kx) & inside(q_idx % ny, kv_idx % ny, ny, ky)

    return mask_mod


def _flex_contenders(q, k, v, grad, case: NACase) -> dict[str, Callable[[], object]]:
    """Compiled flex_attention forward / forward+backward with the NA block mask (CUDA only)."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    n = math.prod(case.spatial)
    block_mask = create_block_mask(_na_mask_mod(case.spatial, case.kernel), None, None, n, n, device=q.device.type)
    flex = torch.compile(flex_attention)
    qh, kh, vh = (t.detach().flatten(1, 2).transpose(1, 2).requires_grad_() for t in (q, k, v))
    gh = grad.flatten(1, 2).transpose(1, 2)
    return {
        "flex fwd": lambda: flex(qh, kh, vh, block_mask=block_mask),
        "flex fwd+bwd": lambda: flex(qh, kh, vh, block_mask=block_mask).backward(gh),
    }


def _errors_vs_torch_backend(q, k, v, grad, args) -> tuple[float, float]:
    """Max |error| of the Triton output and of its q/k/v gradients against the torch backend in fp32."""
    leaves = [t.detach().requires_grad_() for t in (q, k, v)]
    ours = na(*leaves, *args)
    ours_grads = torch.autograd.grad(ours, leaves, grad)
    leaves32 = [t.detach().float().requires_grad_() for t in (q, k, v)]
    ref = torch_backend.na(*leaves32, *args)
    ref_grads = torch.autograd.grad(ref, leaves32, grad.float())
    err = (ours.float() - ref).abs().max().item()
    grad_err = max((a.float() - b).abs().max().item() for a, b in zip(ours_grads, ref_grads, strict=True))
    return err, grad_err


def _na_row(case: NACase, device: torch.device, dtype: torch.dtype, reps: int, with_flex: bool) -> list[dict]:
    g = torch.Generator(device="cpu").manual_seed(0)
    shape = (case.batch, *case.spatial, case.heads, case.dim)
    q, k, v = (torch.randn(shape, generator=g).to(device, dtype).requires_grad_() for _ in range(3))
    grad = torch.randn(shape, generator=g).to(device, dtype)
    args = (case.kernel, (1, 1), (1, 1), (False, False), case.dim**-0.5)
    qh, kh, vh = (t.detach().flatten(1, 2).transpose(1, 2).requires_grad_() for t in (q, k, v))
    gh = grad.flatten(1, 2).transpose(1, 2)
    contenders: dict[str, Callable[[], object]] = {
        "triton fwd": lambda: na(q, k, v, *args),
        "triton fwd+bwd": lambda: na(q, k, v, *args).backward(grad),
        "sdpa fwd": lambda: F.scaled_dot_product_attention(qh, kh, vh),
        "sdpa fwd+bwd": lambda: F.scaled_dot_product_attention(qh, kh, vh).backward(gh),
    }
    notes = {}
    if with_flex:
        try:
            contenders.update(_flex_contenders(q, k, v, grad, case))
        except Exception as exc:  # flex needs a compiler toolchain; report instead of aborting the table
            notes["flex"] = f"unavailable: {type(exc).__name__}: {exc}"[:120]
    medians = _interleaved_medians(contenders, device, reps)
    leaves = (q, k, v, qh, kh, vh)
    peaks = {name: _peak_mib(fn, device, leaves) for name, fn in contenders.items()}

    err, grad_err = _errors_vs_torch_backend(q, k, v, grad, args)

    n = math.prod(case.spatial)
    fwd_flops = {"triton": 4.0 * case.batch * case.heads * n * math.prod(case.kernel) * case.dim}
    fwd_flops["flex"] = fwd_flops["triton"]
    fwd_flops["sdpa"] = 4.0 * case.batch * case.heads * n * n * case.dim
    rows = []
    for name, ms in medians.items():
        impl, mode = name.split(" ")
        flops = fwd_flops[impl] * (3.5 if mode == "fwd+bwd" else 1.0)
        sdpa_ms = medians[f"sdpa {mode}"]
        rows.append(
            {
                "case": case.name,
                "impl": name,
                "ms": ms,
                "useful_tflops": flops / (ms * 1e-3) / 1e12,
                "speedup_vs_sdpa": sdpa_ms / ms,
                "flop_bound": n / math.prod(case.kernel),
                "peak_mib": peaks[name],
                "max_err_vs_torch_fp32": err if impl == "triton" else math.nan,
                "max_grad_err_vs_torch_fp32": grad_err if impl == "triton" else math.nan,
                "note": notes.get(impl, ""),
            }
        )
    rows.extend({"case": case.name, "impl": impl, "note": note} for impl, note in notes.items())
    return rows


def _set_rows(device: torch.device, dtype: torch.dtype, reps: int, b: int = 2048) -> list[dict]:
    """set_attention over ``b`` sets of up to 64 keys (about 50% padding), 8 heads × 32, vs padded SDPA."""
    lmax, h, d = 64, 8, 32
    g = torch.Generator(device="cpu").manual_seed(0)
    q, k, v = (torch.randn(b, lmax, h, d, generator=g).to(device, dtype) for _ in range(3))
    lengths = torch.randint(1, lmax + 1, (b,), generator=g).to(device)
    pad_mask = torch.arange(lmax, device=device)[None, :] < lengths[:, None]  # True = attend
    qh, kh, vh = (t.transpose(1, 2) for t in (q, k, v))
    contenders = {
        "triton set fwd": lambda: set_attention(q, k, v, lengths, d**-0.5),
        "sdpa padded+mask fwd": lambda: F.scaled_dot_product_attention(qh, kh, vh, attn_mask=pad_mask[:, None, None]),
    }
    medians = _interleaved_medians(contenders, device, reps)
    padding = 1.0 - lengths.float().mean().item() / lmax
    base = medians["sdpa padded+mask fwd"]
    return [
        {
            "case": f"sets {b}x<={lmax} ({padding:.0%} padding) {h}x{d}",
            "impl": name,
            "ms": ms,
            "speedup_vs_sdpa": base / ms,
            "peak_mib": _peak_mib(fn, device),
        }
        for (name, ms), fn in zip(medians.items(), contenders.values(), strict=True)
    ]


def _format(rows: list[dict], device: torch.device, dtype: torch.dtype) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (TRITON_INTERPRET)"
    lines = [
        f"device {name}, torch {torch.__version__}, dtype {dtype}, medians of interleaved runs",
        f"{'case':34s} {'impl':22s} {'ms':>9s} {'TFLOP/s':>8s} {'vs sdpa':>8s} {'bound':>7s} {'peak MiB':>9s} "
        f"{'err':>8s} {'grad err':>8s}",
    ]
    fmt = lambda r, k, spec: format(r[k], spec) if k in r and not math.isnan(r[k]) else "-"  # noqa: E731
    for r in rows:
        if "ms" not in r:
            lines.append(f"{r['case']:34s} {r['impl']:22s} {r['note']}")
            continue
        lines.append(
            f"{r['case']:34s} {r['impl']:22s} {fmt(r, 'ms', '9.3f'):>9s} {fmt(r, 'useful_tflops', '8.2f'):>8s} "
            f"{fmt(r, 'speedup_vs_sdpa', '7.2f') + 'x':>8s} {fmt(r, 'flop_bound', '7.0f'):>7s} "
            f"{fmt(r, 'peak_mib', '9.1f'):>9s} {fmt(r, 'max_err_vs_torch_fp32', '8.1e'):>8s} "
            f"{fmt(r, 'max_grad_err_vs_torch_fp32', '8.1e'):>8s}"
        )
    return "\n".join(lines)


def run_bench(
    cases: tuple[NACase, ...], device: torch.device, dtype: torch.dtype, reps: int, n_sets: int = 2048
) -> list[dict]:
    """Benchmark ``cases`` (and ``n_sets`` sets) on ``device``; prints the table, returns one dict per row."""
    rows: list[dict] = []
    for case in cases:
        rows += _na_row(case, device, dtype, reps, with_flex=device.type == "cuda")
    if n_sets:
        rows += _set_rows(device, dtype, reps, n_sets)
    print(_format(rows, device, dtype))
    return rows


def bench_cuda(cases: tuple[NACase, ...] = DEFAULT_CASES, reps: int = 20) -> list[dict]:
    """The GPU table in bf16 (raises RuntimeError without CUDA)."""
    if not torch.cuda.is_available():
        raise RuntimeError("bench_cuda: no CUDA device (the Triton kernels' CPU path is the slow interpreter)")
    return run_bench(cases, torch.device("cuda"), torch.bfloat16, reps)


if __name__ == "__main__":
    bench_cuda()
