"""Triton backend against the dense reference, forward and gradients.

On CPU the kernels run under ``TRITON_INTERPRET=1``. Triton reads that variable when a function is
decorated with ``@triton.jit`` — its own library functions (``tl.sum``, ``tl.cdiv`` ...) included, and
another test may already have imported triton without it. So :class:`_Loader` sets the variable, swaps in
a fresh import of triton's Python modules (the native extension stays loaded) and of the backend, and on
teardown puts the original modules and environment back, leaving the rest of the suite unaffected.
Shapes are tiny (each interpreted program instance costs milliseconds) but cross program/iteration tile
borders (tiles: 64 in 1-D, 8×8 queries in 2-D, 4×4×4 in 3-D). ``gpu`` tests compile the kernels for CUDA
and compare in fp16/bf16.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
import torch

from kernels import na2d, reference
from kernels.windows import axis_windows, group_length

pytest.importorskip("triton")

PACKAGE = "kernels.triton_backend"


def _python_modules(prefix: str) -> list[str]:
    """Loaded modules of package ``prefix`` except native extensions (``triton._C``), which can't reload."""
    return [n for n in sys.modules if (n == prefix or n.startswith(prefix + ".")) and not n.startswith("triton._C")]


class _Loader:
    """Imports the backend either interpreted or compiled, and undoes every change on :meth:`close`."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.saved_env = os.environ.get("TRITON_INTERPRET")
        self.saved_triton: dict[str, ModuleType] = {}

    def load(self, interpret: bool) -> ModuleType:
        mode = "interpreted" if interpret else "compiled"
        if self.mode != mode:
            self.close()
            self.mode = mode
            if interpret:
                self.saved_triton = {n: sys.modules.pop(n) for n in _python_modules("triton")}
                os.environ["TRITON_INTERPRET"] = "1"
            else:
                os.environ.pop("TRITON_INTERPRET", None)
        return importlib.import_module(PACKAGE)

    def close(self) -> None:
        for name in _python_modules(PACKAGE):
            del sys.modules[name]
        if self.saved_triton:
            for name in _python_modules("triton"):
                del sys.modules[name]
            sys.modules.update(self.saved_triton)
            self.saved_triton = {}
        if self.saved_env is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = self.saved_env
        self.mode = None


@pytest.fixture(scope="module")
def loader() -> Iterator[_Loader]:
    state = _Loader()
    yield state
    state.close()


@pytest.fixture
def interpreted(loader: _Loader) -> ModuleType:
    return loader.load(interpret=True)


@pytest.fixture
def compiled(loader: _Loader) -> ModuleType:
    return loader.load(interpret=False)


def _inputs(spatial, heads, dim, dim_v, extra, dtype=torch.float32, device="cpu", batch=2, seed=0):
    g = torch.Generator(device="cpu").manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g).to(device, dtype)  # noqa: E731
    q, k = make(batch, *spatial, heads, dim), make(batch, *spatial, heads, dim)
    v = make(batch, *spatial, heads, dim_v)
    ek = make(batch, extra, heads, dim) if extra else None
    ev = make(batch, extra, heads, dim_v) if extra else None
    return [q, k, v, ek, ev]


def _run(fn, tensors, args, grad_out=None):
    """Output and gradients of ``fn(q, k, v, *args, ek, ev)``; grad_out defaults to a fixed random tensor."""
    leaves = [None if t is None else t.detach().clone().requires_grad_() for t in tensors]
    q, k, v, ek, ev = leaves
    out = fn(q, k, v, *args, ek, ev)
    if grad_out is None:
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(out)
    grads = torch.autograd.grad(out, [t for t in leaves if t is not None], grad_out.to(out.dtype))
    return out, grads, grad_out


def _assert_matches_reference(backend_na, tensors, args, atol, rtol=0.0):
    out, grads, grad_out = _run(backend_na, tensors, args)
    as64 = [None if t is None else t.double() for t in tensors]
    ref_out, ref_grads, _ = _run(reference.na, as64, args, grad_out.double())
    torch.testing.assert_close(out.double(), ref_out, atol=atol, rtol=rtol)
    names = ["dq", "dk", "dv", "d_additional_keys", "d_additional_values"]
    for name, g, rg in zip(names, grads, ref_grads, strict=False):
        torch.testing.assert_close(g.double(), rg, atol=atol, rtol=rtol, msg=lambda m, n=name: f"{n}: {m}")


# spatial, kernel, dilation, stride, causal, extra tokens
NA_CASES = {
    "1d_two_tiles": ((70,), (9,), (1,), (1,), (False,), 0),
    "1d_dilated_strided_causal_extra": ((13,), (5,), (2,), (2,), (True,), 3),
    "1d_smaller_than_kernel": ((4,), (7,), (3,), (1,), (False,), 0),
    "2d_odd_dilated_causal": ((9, 11), (3, 5), (1, 2), (1, 1), (False, True), 0),
    "2d_smaller_than_kernel": ((4, 3), (5, 7), (1, 1), (1, 1), (False, False), 0),
    "2d_blocked_extra": ((10, 9), (3, 3), (1, 1), (3, 3), (False, False), 2),
    "2d_axis_shorter_than_dilation": ((2, 9), (3, 3), (3, 2), (1, 2), (True, False), 0),
    "3d_mixed": ((5, 4, 6), (3, 3, 3), (1, 2, 1), (1, 1, 3), (False, False, True), 2),
}


@pytest.mark.parametrize("case", list(NA_CASES), ids=list(NA_CASES))
def test_na_float32_matches_reference(interpreted, case):
    spatial, kernel, dilation, stride, causal, extra = NA_CASES[case]
    tensors = _inputs(spatial, heads=2, dim=8, dim_v=12, extra=extra)
    args = (kernel, dilation, stride, causal, 0.4)
    _assert_matches_reference(interpreted.na, tensors, args, atol=2e-5)


@pytest.mark.parametrize("dtype,atol", [(torch.float16, 4e-3), (torch.bfloat16, 3e-2)], ids=["fp16", "bf16"])
def test_na_half_precision_matches_reference(interpreted, dtype, atol):
    tensors = _inputs((6, 7), heads=1, dim=16, dim_v=16, extra=1, dtype=dtype, batch=1)
    _assert_matches_reference(interpreted.na, tensors, ((3, 5), (2, 1), (1, 1), (False, False), 0.25), atol, 2e-2)


def _set_inputs(dtype=torch.float32, device="cpu"):
    q, k, v, _, _ = _inputs((66,), heads=2, dim=8, dim_v=12, extra=0, dtype=dtype, device=device, batch=4)
    k = torch.cat([k, k[:, :4]], dim=1)  # Lk = 70: two key tiles
    v = torch.cat([v, v[:, :4]], dim=1)
    return q, k, v, torch.tensor([0, 70, 3, 65], device=device)


def _assert_sets_match_reference(backend: ModuleType, dtype: torch.dtype, device: str, atol: float, rtol: float):
    """Sets of 0, 70, 3 and 65 keys (two key tiles), 66 queries (two query tiles), forward and gradients."""
    q, k, v, lengths = _set_inputs(dtype, device)
    pad = torch.arange(k.shape[1], device=device)[None, :] >= lengths[:, None]
    fused = lambda q, k, v, ek, ev: backend.set_attention(q, k, v, lengths, 0.3)  # noqa: E731
    ref = lambda q, k, v, ek, ev: reference.set_attention(q, k, v, pad, 0.3)  # noqa: E731
    out, grads, grad_out = _run(fused, [q, k, v, None, None], ())
    ref_out, ref_grads, _ = _run(ref, [q.double(), k.double(), v.double(), None, None], (), grad_out.double())
    assert torch.equal(out[0], torch.zeros_like(out[0])), "a set with no keys must give zero rows"
    for g in grads:  # nothing flows into or out of the empty set, and nothing is NaN
        assert torch.equal(g[0], torch.zeros_like(g[0])) and bool(torch.isfinite(g).all())
    torch.testing.assert_close(out.double(), ref_out, atol=atol, rtol=rtol)
    for g, rg in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g.double(), rg, atol=atol, rtol=rtol)


@pytest.mark.parametrize(
    "dtype,atol,rtol", [(torch.float32, 2e-5, 0.0), (torch.bfloat16, 3e-2, 2e-2)], ids=["fp32", "bf16"]
)
def test_set_attention_matches_reference_with_empty_sets(interpreted, dtype, atol, rtol):
    _assert_sets_match_reference(interpreted, dtype, "cpu", atol, rtol)


def test_public_api_dispatches_to_triton(interpreted):
    q, k, v, ek, ev = _inputs((9, 10), heads=2, dim=8, dim_v=8, extra=2)
    fused = na2d(q, k, v, 5, dilation=(1, 2), additional_keys=ek, additional_values=ev, backend="triton")
    ref = na2d(q, k, v, 5, dilation=(1, 2), additional_keys=ek, additional_values=ev, backend="reference")
    torch.testing.assert_close(fused, ref, atol=2e-5, rtol=0.0)


def test_unsupported_inputs_are_refused(interpreted):
    q = torch.randn(1, 5, 1, 8)
    with pytest.raises(ValueError, match="rpb"):
        interpreted.na(q, q, q, (3,), (1,), (1,), (False,), 1.0, None, None, torch.zeros(1, 5))
    with pytest.raises(ValueError, match="float64"):
        interpreted.na(q.double(), q.double(), q.double(), (3,), (1,), (1,), (False,), 1.0)


@pytest.mark.parametrize(
    "n,kernel,dilation,stride,causal", [(11, 5, 2, 1, False), (9, 3, 1, 3, True), (3, 7, 4, 2, False)]
)
def test_inverse_windows_list_exactly_the_queries_that_see_a_key(interpreted, n, kernel, dilation, stride, causal):
    from kernels.triton_backend.geometry import axis_tables

    tab = axis_tables(n, kernel, dilation, stride, causal, torch.device("cpu"))
    for g in range(dilation):
        ng = group_length(n, dilation, g)
        start, end = axis_windows(ng, kernel, stride, causal)
        for j in range(ng):
            sees = [i for i in range(ng) if start[i] <= j < end[i]]
            lo, hi = int(tab.inv_lo[g, j]), int(tab.inv_hi[g, j])
            assert sees == [i for i in range(lo, hi) if i < ng], (g, j, sees, lo, hi)


def test_grouping_round_trips(interpreted):
    from kernels.triton_backend.geometry import from_groups, na_geometry, to_groups

    x = torch.randn(2, 7, 5, 3, 4)
    geom = na_geometry((7, 5), (3, 3), (3, 2), (1, 1), (False, False), torch.device("cpu"))
    grouped = to_groups(x, geom)
    assert grouped.shape == (2 * 6, 1, 3, 3, 3, 4)
    assert torch.equal(grouped[1, 0, 0, 0], x[0, 0, 1])  # batch 0, groups (0, 1): token (0, 1)
    assert torch.equal(from_groups(grouped, geom), x)


#: GPU tolerances (atol, rtol): fp16/bf16 kernels round P and dS to the input dtype before the dots
GPU_TOLERANCE = {torch.float32: (1e-4, 1e-4), torch.float16: (1e-2, 1e-2), torch.bfloat16: (6e-2, 5e-2)}
GPU_DTYPES = pytest.mark.parametrize("dtype", list(GPU_TOLERANCE), ids=["fp32", "fp16", "bf16"])


@pytest.mark.gpu
@GPU_DTYPES
@pytest.mark.parametrize("case", ["1d_dilated_strided_causal_extra", "2d_odd_dilated_causal", "3d_mixed"])
def test_na_cuda_matches_reference(compiled, case, dtype):
    spatial, kernel, dilation, stride, causal, extra = NA_CASES[case]
    tensors = _inputs(spatial, heads=4, dim=32, dim_v=32, extra=extra, dtype=dtype, device="cuda")
    _assert_matches_reference(compiled.na, tensors, (kernel, dilation, stride, causal, 32**-0.5), *GPU_TOLERANCE[dtype])


@pytest.mark.gpu
def test_na2d_cuda_large_grid_bf16(compiled):
    tensors = _inputs((64, 48), heads=4, dim=32, dim_v=32, extra=0, dtype=torch.bfloat16, device="cuda", batch=1)
    args = ((7, 7), (1, 1), (1, 1), (False, False), 32**-0.5)
    _assert_matches_reference(compiled.na, tensors, args, *GPU_TOLERANCE[torch.bfloat16])


@pytest.mark.gpu
@GPU_DTYPES
def test_set_attention_cuda_matches_reference(compiled, dtype):
    _assert_sets_match_reference(compiled, dtype, "cuda", *GPU_TOLERANCE[dtype])


@pytest.mark.parametrize(
    "box,n,expected",
    [((1, 8, 8), (1, 2, 300), (1, 2, 32)), ((1, 1, 64), (1, 1, 3), (1, 1, 16)), ((4, 4, 8), (1, 1, 2), (1, 2, 8))],
)
def test_tiles_fit_small_axes_and_keep_dot_minimum(interpreted, box, n, expected):
    from kernels.triton_backend.geometry import fit_box

    assert fit_box(box, n) == expected


def _compile_for_sm90(kernel, dtype: str, constexprs: dict) -> object:
    """Compile ``kernel`` to a cubin for an H100 (sm_90) with triton's bundled ptxas; no GPU needed."""
    import triton
    from triton.backends.compiler import GPUTarget

    pointers = {"LSE": "*fp32", "DELTA": "*fp32", "LENGTHS": "*i32", "TAB_X": "*i32", "TAB_Y": "*i32", "TAB_Z": "*i32"}
    pointers |= {n: f"*{dtype}" for n in ("Q", "K", "V", "O", "EK", "EV", "DO", "DQ", "DK", "DV_OUT", "DEK", "DEV")}
    signature = {}
    for name, param in zip(kernel.arg_names, kernel.params, strict=True):
        if param.is_constexpr:
            signature[name] = "constexpr"
        else:
            signature[name] = pointers.get(name, "fp32" if name.endswith("scale") else "i32")
    source = triton.compiler.ASTSource(fn=kernel, signature=signature, constexprs=constexprs)
    return triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"num_warps": 8})


@pytest.mark.parametrize(
    "dtype,precision", [("bf16", "tf32"), pytest.param("fp32", "ieee", marks=pytest.mark.slow)], ids=["bf16", "fp32"]
)
def test_kernels_compile_for_h100(compiled, monkeypatch, tmp_path, dtype, precision):
    """The compiled path is stricter than the interpreter (types, shapes, constexpr use): build every kernel."""
    monkeypatch.setenv("TRITON_CACHE_DIR", str(tmp_path))
    from kernels.triton_backend import na_kernels, set_kernels, tile_ops

    common = {"BLOCK_D": 32, "BLOCK_DV": 32, "UPCAST": False, "PRECISION": precision}
    tiles = {"PX": 1, "PY": 8, "PZ": 8, "IX": 1, "IY": 8, "IZ": 8, "ACT_X": False, "ACT_Y": True}
    rows = {"BLOCK_M": 64, "BLOCK_N": 64}
    builds = [
        (na_kernels.na_fwd_kernel, {**common, **tiles, "BLOCK_E": 16}),
        (na_kernels.na_bwd_dq_kernel, {**common, **tiles, "BLOCK_E": 16}),
        (na_kernels.na_bwd_dkdv_kernel, {**common, **tiles}),
        (na_kernels.extra_bwd_dkdv_kernel, {**common, "BLOCK_M": 64, "BLOCK_E": 16}),
        (set_kernels.set_fwd_kernel, {**common, **rows}),
        (set_kernels.set_bwd_dq_kernel, {**common, **rows}),
        (set_kernels.set_bwd_dkdv_kernel, {**common, **rows}),
        (tile_ops.delta_kernel, {"BLOCK_M": 64, "BLOCK_DV": 32}),
    ]
    for kernel, constexprs in builds:
        binary = _compile_for_sm90(kernel, dtype, constexprs)
        assert len(binary.asm["cubin"]) > 0, kernel.__name__


def test_bench_table_runs_and_checks_errors(interpreted, capsys):
    from kernels.triton_backend.bench import NACase, run_bench

    rows = run_bench((NACase("tiny", (9, 10), (3, 3), 1, 16),), torch.device("cpu"), torch.float32, reps=1, n_sets=2)
    ours = [r for r in rows if r["impl"] == "triton fwd+bwd"]
    assert len(ours) == 1 and ours[0]["max_err_vs_torch_fp32"] < 1e-5 and ours[0]["max_grad_err_vs_torch_fp32"] < 1e-5
    assert "sdpa padded+mask fwd" in capsys.readouterr().out
