"""An mmengine file backend that writes atomically, so a crash mid-save never leaves a truncated checkpoint.

mmengine 0.10.7's `LocalBackend.put` opens the target with `open(path, "wb")` and writes into it, so a
crash while saving corrupts the previous checkpoint of the same name. `AtomicLocalBackend` writes a
temporary file in the same folder and `os.replace`s it (through `perception.occupancy.atomic`). Select it
with `backend_args={"backend": ATOMIC_BACKEND}` (CheckpointHook, Runner.save_checkpoint).
"""

from __future__ import annotations

from pathlib import Path

from mmengine.fileio import LocalBackend, register_backend

from perception.occupancy.atomic import save_text_atomic, write_atomic

ATOMIC_BACKEND = "pernav_atomic_local"
"""name under which the backend is registered in mmengine's file backends"""


class AtomicLocalBackend(LocalBackend):
    """`LocalBackend` whose `put` / `put_text` write a temporary file and rename it over the target."""

    def put(self, obj: bytes, filepath: str | Path) -> None:
        write_atomic(filepath, lambda f: f.write(obj))

    def put_text(self, obj: str, filepath: str | Path, encoding: str = "utf-8") -> None:
        if encoding.lower().replace("-", "") != "utf8":
            raise ValueError(f"{filepath}: AtomicLocalBackend writes UTF-8 text only, got encoding {encoding!r}")
        save_text_atomic(filepath, obj)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
