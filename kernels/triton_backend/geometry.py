"""Host-side geometry for the fused neighborhood-attention kernels.

The kernels see every problem as 3-D and non-dilated: 1-D and 2-D inputs get leading axes of length 1
(kernel 1), and dilation is removed by regrouping tokens so that each dilation group is a separate batch
entry (``[B, *spatial, H, D]`` → ``[B * G, N0, N1, N2, H, D]`` with ``G = prod(dilation)`` and
``N_a = ceil(L_a / d_a)``; an axis is padded to a multiple of its dilation first).

Per axis, the key window of every query comes from :func:`kernels.windows.axis_windows` as int32 tables
``start, end`` of shape ``[d_a, N_a]`` (one row per dilation group). Positions past a group's true length
(padding) repeat the group's last window, so the tables stay non-decreasing; those queries produce
outputs that are sliced away and receive zero gradient. The backward over keys uses the inverse tables
(for key ``j``, the queries whose window contains it form the contiguous range ``[inv_lo[j], inv_hi[j])``
because both window ends are non-decreasing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import triton

from kernels.windows import axis_windows, group_length

#: query (program) tile and key (iteration) tile per spatial rank, both as 3-D boxes (axis 0 first)
TILES: dict[int, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    1: ((1, 1, 64), (1, 1, 64)),
    2: ((1, 8, 8), (1, 8, 8)),
    3: ((4, 4, 4), (4, 4, 4)),
}


#: smallest tile volume (``tl.dot`` needs 16 rows)
MIN_TILE = 16


@dataclass(frozen=True)
class AxisTables:
    """Window tables of one axis: int32 ``[4, dilation, n]`` rows start, end, inv_lo, inv_hi."""

    table: torch.Tensor

    @property
    def start(self) -> torch.Tensor:
        return self.table[0]

    @property
    def end(self) -> torch.Tensor:
        return self.table[1]

    @property
    def inv_lo(self) -> torch.Tensor:
        return self.table[2]

    @property
    def inv_hi(self) -> torch.Tensor:
        return self.table[3]

    @property
    def n(self) -> int:
        return self.table.shape[2]

    @property
    def groups(self) -> int:
        return self.table.shape[1]


def axis_tables(length: int, kernel: int, dilation: int, stride: int, causal: bool, device: torch.device) -> AxisTables:
    """Forward and inverse window tables of one axis of ``length`` tokens, one row per dilation group."""
    n = math.ceil(length / dilation)
    start = torch.zeros(dilation, n, dtype=torch.long)
    end = torch.zeros(dilation, n, dtype=torch.long)
    for g in range(dilation):
        ng = group_length(length, dilation, g)
        if ng == 0:
            continue  # axis shorter than its dilation: this group holds padding only (empty windows)
        s, e = axis_windows(ng, kernel, stride, causal)
        start[g, :ng], end[g, :ng] = s, e
        start[g, ng:], end[g, ng:] = s[-1], e[-1]
    keys = torch.arange(n).expand(dilation, n).contiguous()
    inv_lo = torch.searchsorted(end, keys, right=True)  # first query whose window ends after key j
    inv_hi = torch.searchsorted(start, keys, right=True)  # one past the last query whose window starts <= j
    table = torch.stack([start, end, inv_lo, inv_hi]).to(device=device, dtype=torch.int32)
    return AxisTables(table.contiguous())


@dataclass(frozen=True)
class NAGeometry:
    """Everything the NA kernels need besides the tensors, for one call.

    ``spatial`` is the caller's spatial shape; ``axes`` are the three lifted axes (leading length-1 axes
    for 1-D/2-D); ``ptile`` / ``itile`` are the program and iteration tile boxes.
    """

    spatial: tuple[int, ...]
    dilation: tuple[int, int, int]
    axes: tuple[AxisTables, AxisTables, AxisTables]
    ptile: tuple[int, int, int]
    itile: tuple[int, int, int]

    @property
    def groups(self) -> int:
        return math.prod(self.dilation)

    @property
    def n(self) -> tuple[int, int, int]:
        return (self.axes[0].n, self.axes[1].n, self.axes[2].n)

    def tiles(self, box: tuple[int, int, int]) -> tuple[int, int, int]:
        """Number of ``box`` tiles along each (grouped) axis."""
        return tuple(math.ceil(n / t) for n, t in zip(self.n, box, strict=True))  # type: ignore[return-value]


def fit_box(box: tuple[int, int, int], n: tuple[int, int, int]) -> tuple[int, int, int]:
    """Reshape a power-of-two tile ``box`` to the grouped extents ``n``, keeping its volume where possible.

    An axis shorter than its tile side gives the surplus to the longest axis that still has room, e.g.
    an ``8 × 8`` query tile on a ``2 × 300`` grid becomes ``2 × 32``.
    """
    fitted = list(box)
    room = [triton.next_power_of_2(x) for x in n]
    for a in range(3):
        while fitted[a] > room[a]:
            growable = [b for b in range(3) if fitted[b] * 2 <= room[b] and b != a]
            if not growable and math.prod(fitted) <= MIN_TILE:
                break  # keep tl.dot's minimum extent; the extra rows are masked
            fitted[a] //= 2
            if growable:
                b = max(growable, key=lambda i: room[i] // fitted[i])
                fitted[b] *= 2
    return fitted[0], fitted[1], fitted[2]


def _lift(values: tuple, fill, ndim: int) -> tuple:
    return (fill,) * (3 - ndim) + tuple(values)


def na_geometry(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
    causal: tuple[bool, ...],
    device: torch.device,
) -> NAGeometry:
    """Window tables and tiles for an ``len(spatial)``-D problem (per-axis arguments already validated)."""
    nd = len(spatial)
    lengths = _lift(spatial, 1, nd)
    ks, ds, ss, cs = _lift(kernel, 1, nd), _lift(dilation, 1, nd), _lift(stride, 1, nd), _lift(causal, False, nd)
    axes = tuple(axis_tables(lengths[a], ks[a], ds[a], ss[a], cs[a], device) for a in range(3))
    n = (axes[0].n, axes[1].n, axes[2].n)
    ptile, itile = (fit_box(box, n) for box in TILES[nd])
    return NAGeometry(tuple(spatial), ds, axes, ptile, itile)  # type: ignore[arg-type]


def to_groups(x: torch.Tensor, geom: NAGeometry) -> torch.Tensor:
    """``[B, *spatial, H, D]`` → contiguous ``[B * G, N0, N1, N2, H, D]`` (differentiable)."""
    b, h, d = x.shape[0], x.shape[-2], x.shape[-1]
    x = x.reshape(b, *_lift(geom.spatial, 1, len(geom.spatial)), h, d)
    pads = []
    for a in reversed(range(3)):
        pads += [0, geom.axes[a].n * geom.dilation[a] - x.shape[1 + a]]
    if any(pads):
        x = F.pad(x, [0, 0, 0, 0, *pads])
    (n0, n1, n2), (d0, d1, d2) = geom.n, geom.dilation
    x = x.reshape(b, n0, d0, n1, d1, n2, d2, h, d).permute(0, 2, 4, 6, 1, 3, 5, 7, 8)
    return x.reshape(b * geom.groups, n0, n1, n2, h, d).contiguous()


def from_groups(x: torch.Tensor, geom: NAGeometry) -> torch.Tensor:
    """Inverse of :func:`to_groups`: ``[B * G, N0, N1, N2, H, D]`` → ``[B, *spatial, H, D]``."""
    h, d = x.shape[-2], x.shape[-1]
    (n0, n1, n2), (d0, d1, d2) = geom.n, geom.dilation
    b = x.shape[0] // geom.groups
    x = x.reshape(b, d0, d1, d2, n0, n1, n2, h, d).permute(0, 4, 1, 5, 2, 6, 3, 7, 8)
    x = x.reshape(b, n0 * d0, n1 * d1, n2 * d2, h, d)
    lengths = _lift(geom.spatial, 1, len(geom.spatial))
    x = x[:, : lengths[0], : lengths[1], : lengths[2]]
    return x.reshape(b, *geom.spatial, h, d)
