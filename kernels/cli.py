"""`pernav kernels {check,bench}`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {"check": "kernels.check", "bench": "kernels.bench"}
    if not args or args[0] not in commands:
        print("usage: pernav kernels {check,bench} [--help]", file=sys.stderr if args else sys.stdout)
        return 0 if not args else 2
    import importlib

    return int(importlib.import_module(commands[args[0]]).main(args[1:]))
