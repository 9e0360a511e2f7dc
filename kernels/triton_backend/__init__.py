"""Triton backend: fused online-softmax kernels for neighborhood and set attention, forward and backward.

Same contract as :mod:`kernels.torch_backend` (heads-last ``[B, *spatial, heads, dim]``, per-axis tuples
already normalised by :mod:`kernels.functional`). Runs on CUDA, or on CPU under ``TRITON_INTERPRET=1``
(slow; for tests). Triton reads ``TRITON_INTERPRET`` when this package is imported.
"""

from kernels.triton_backend.neighborhood import na
from kernels.triton_backend.sets import set_attention

__all__ = ["na", "set_attention"]
