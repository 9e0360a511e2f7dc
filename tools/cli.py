"""`pernav` console command.

Each subcommand lives in the package that owns it and exposes ``main(argv) -> int``; this module only
maps names to those modules, imported lazily so `pernav kernels ...` never imports the simulator.
"""

from __future__ import annotations

import importlib
import sys

#: subcommand -> (module with ``main(argv)``, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("tools.demo", "run the main job on built-in data (what `make demo` runs)"),
    "kernels": ("kernels.cli", "attention kernels: check, bench"),
    "sim": ("sim.crowd.cli", "crowd-navigation simulator: bench, render, rollout"),
    "nav": ("navigation.cli", "HEIGHT policy: train, eval, bench"),
    "occ": ("perception.occupancy.cli", "MetaOcc occupancy: make-data, train, eval, bench"),
    "pose": ("pose3d.multiview.cli", "SelfPose3d multi-view pose: make-data, train, eval, infer, bench"),
}


def _usage() -> str:
    lines = ["usage: pernav <command> [args...]", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"pernav: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _ = SUBCOMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"pernav: command {name!r} is not available yet ({module_name} missing)", file=sys.stderr)
            return 2
        raise
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
