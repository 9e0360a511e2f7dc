"""Host-side launch helpers shared by the NA and set autograd functions."""

from __future__ import annotations

import os

import torch
import triton

from kernels.triton_backend.tile_ops import delta_kernel

#: queries per program of the row-wise kernels (delta, sets) and keys per iteration
BLOCK_M = 64
BLOCK_N = 64
#: warps per attention program: 8 keeps the 64×64 tiles of every kernel within sm_90's 255 registers
#: without spilling in fp16/bf16 (4 warps spill in the NA dK/dV kernel; checked with ptxas, D = 32)
ATTN_WARPS = 8
#: warps of the row-sum (delta) kernel
ROW_WARPS = 4
#: CUDA caps the second and third grid dimensions at 65535 programs
MAX_GRID_YZ = 65535


def block(n: int) -> int:
    """Power-of-two tile extent ``>= n`` and ``>= 16`` (``tl.dot``'s minimum)."""
    return max(16, triton.next_power_of_2(n))


def dot_options(dtype: torch.dtype) -> dict[str, object]:
    """Compile-time options for a dtype: fp32 dots in IEEE precision, fp32 tiles for interpreted bf16.

    Raises ValueError for dtypes the kernels do not take.
    """
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"triton backend: dtype {dtype} unsupported (float32, float16 or bfloat16)")
    interpreted = os.environ.get("TRITON_INTERPRET") == "1"
    return {
        "UPCAST": dtype == torch.bfloat16 and interpreted,
        "PRECISION": "ieee" if dtype == torch.float32 else "tf32",
    }


def check_grid(op: str, programs: int) -> None:
    """Raise ValueError if ``programs`` exceeds what one CUDA grid dimension (y/z) can launch."""
    if programs > MAX_GRID_YZ:
        raise ValueError(f"triton backend {op}: {programs} programs exceed the CUDA grid limit {MAX_GRID_YZ}")


def row_delta(o: torch.Tensor, do: torch.Tensor) -> torch.Tensor:
    """``rowsum(dO * O)`` per (batch·head, row): o, do ``[B, N, H, DV]`` → fp32 ``[B * H, N]``."""
    b, n, h, dv = o.shape
    delta = torch.empty(b * h, n, dtype=torch.float32, device=o.device)
    check_grid("delta", triton.cdiv(n, BLOCK_M))
    delta_kernel[(b * h, triton.cdiv(n, BLOCK_M))](
        o, do, delta, n, h, dv, BLOCK_M=BLOCK_M, BLOCK_DV=block(dv), num_warps=ROW_WARPS
    )
    return delta
