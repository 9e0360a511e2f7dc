"""`pernav kernels check`: every usable backend against the float64 reference on fresh random problems.

Draws random shapes, kernel sizes, dilations, strides, causal flags and global tokens, runs forward and
backward through each backend and the reference, and prints the worst absolute error per backend.
"""

from __future__ import annotations

import argparse
import random
import time

import torch

from kernels import na1d, na2d, na3d, set_attention
from kernels.dispatch import triton_usable

OPS = {1: na1d, 2: na2d, 3: na3d}


def _random_na_problem(rng: random.Random) -> dict:
    nd = rng.choice((1, 2, 3))
    spatial = [rng.randint(2, {1: 40, 2: 14, 3: 7}[nd]) for _ in range(nd)]
    kernel = [rng.choice((1, 3, 5, 7)) for _ in range(nd)]
    return dict(
        nd=nd,
        spatial=spatial,
        kernel=tuple(kernel),
        dilation=tuple(rng.choice((1, 1, 2, 3)) for _ in range(nd)),
        stride=tuple(rng.randint(1, k) for k in kernel),
        causal=tuple(rng.random() < 0.3 for _ in range(nd)),
        extra=rng.choice((0, 0, 2)),
    )


def _max_errors(outs: list[torch.Tensor], refs: list[torch.Tensor]) -> float:
    return max(float((o - r).abs().max().detach()) for o, r in zip(outs, refs, strict=True))


def check_na(backend: str, rng: random.Random, dtype: torch.dtype) -> tuple[float, str]:
    p = _random_na_problem(rng)
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    shape = (2, *p["spatial"], 2, 8)
    q, k, v = (torch.randn(*shape, generator=g, dtype=dtype, requires_grad=True) for _ in range(3))
    ek = ev = None
    if p["extra"]:
        ek, ev = (torch.randn(2, p["extra"], 2, 8, generator=g, dtype=dtype, requires_grad=True) for _ in range(2))
    args = dict(
        dilation=p["dilation"], stride=p["stride"], is_causal=p["causal"], additional_keys=ek, additional_values=ev
    )
    leaves = [t for t in (q, k, v, ek, ev) if t is not None]
    ref_args = {
        **args,
        "additional_keys": None if ek is None else ek.double(),
        "additional_values": None if ev is None else ev.double(),
    }
    ref = OPS[p["nd"]](q.double(), k.double(), v.double(), p["kernel"], backend="reference", **ref_args)
    out = OPS[p["nd"]](q, k, v, p["kernel"], backend=backend, **args)
    grad = torch.randn(out.shape, generator=g, dtype=dtype)
    g_out = torch.autograd.grad(out, leaves, grad)
    g_ref = torch.autograd.grad(ref, leaves, grad.double())
    err = _max_errors([out.double(), *[x.double() for x in g_out]], [ref, *g_ref])
    return (
        err,
        f"na{p['nd']}d {p['spatial']} k{p['kernel']} d{p['dilation']} s{p['stride']} c{p['causal']} x{p['extra']}",
    )


def check_sets(backend: str, rng: random.Random, dtype: torch.dtype) -> tuple[float, str]:
    b, lq, lk = rng.randint(1, 40), rng.randint(1, 12), rng.randint(1, 12)
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    q = torch.randn(b, lq, 2, 8, generator=g, dtype=dtype, requires_grad=True)
    k, v = (torch.randn(b, lk, 2, 8, generator=g, dtype=dtype, requires_grad=True) for _ in range(2))
    lengths = torch.randint(0, lk + 1, (b,), generator=g)
    ref = set_attention(q.double(), k.double(), v.double(), lengths=lengths, backend="reference")
    out = set_attention(q, k, v, lengths=lengths, backend=backend)
    grad = torch.randn(out.shape, generator=g, dtype=dtype)
    g_out = torch.autograd.grad(out, (q, k, v), grad)
    g_ref = torch.autograd.grad(ref, (q, k, v), grad.double())
    return _max_errors([out.double(), *[x.double() for x in g_out]], [ref, *g_ref]), f"sets B={b} Lq={lq} Lk={lk}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pernav kernels check", description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=40, help="random problems per op and backend")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh seed, printed")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    backends = [("torch", torch.float64, 1e-9)]
    if triton_usable(torch.device("cpu"))[0]:
        backends.append(("triton", torch.float32, 2e-4))
    else:
        print(f"triton: skipped ({triton_usable(torch.device('cpu'))[1]})")
    print(f"seed {seed}; {args.problems} random problems per op and backend; errors are max |Δ| over output and grads")
    failed = False
    for backend, dtype, tol in backends:
        for op, fn in (("neighborhood", check_na), ("set_attention", check_sets)):
            rng = random.Random(seed)
            t0 = time.perf_counter()
            worst, worst_case = 0.0, ""
            for _ in range(args.problems):
                err, case = fn(backend, rng, dtype)
                if err >= worst:
                    worst, worst_case = err, case
            ok = worst <= tol
            failed |= not ok
            print(
                f"{backend:>7} {op:<13} {str(dtype).replace('torch.', ''):<8} worst {worst:.2e} (tol {tol:.0e}) "
                f"{'ok' if ok else 'FAIL'}  [{time.perf_counter() - t0:.1f} s; worst case: {worst_case}]"
            )
    return 1 if failed else 0
