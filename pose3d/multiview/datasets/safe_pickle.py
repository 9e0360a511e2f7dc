"""A restricted unpickler for VoxelPose/SelfPose3d ``.pkl`` files: plain data and numpy arrays only.

Plain ``pickle.load`` runs arbitrary code from the file; this one refuses every global except the
few needed to rebuild dicts, lists, numbers, strings and numpy arrays.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

_ALLOWED = {
    ("collections", "OrderedDict"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
}


class _PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, source: str) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"{self._source}: refuses to load {module}.{name}: only plain data "
            "(dicts, lists, numbers, strings, numpy arrays) is accepted"
        )


def load_plain_pickle(path: str | Path) -> Any:
    """Load a pickle that may contain only plain data; raises ``ValueError`` naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        with path.open("rb") as f:
            return _PlainDataUnpickler(f, str(path)).load()
    except pickle.UnpicklingError as exc:
        raise ValueError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"{path}: corrupt or truncated pickle ({type(exc).__name__}: {exc})") from None
