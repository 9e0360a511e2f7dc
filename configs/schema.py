"""Typed configs from YAML: dataclass trees built from nested dicts, with `a.b=value` overrides.

Every entry point (``pernav occ|pose|nav ...``) keeps its own dataclasses next to the code they
configure; this module is the one loader they share. Errors name the dotted key and the value:
``ppo.bogus: unknown key (expected one of [...])``, ``ppo.lr='fast': expected float``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (empty file → ``{}``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """Set each ``a.b.c=value`` (value parsed as YAML) in the nested dict ``data``; returns it."""
    for item in overrides or []:
        if "=" not in item:
            raise ValueError(f"override {item!r}: expected dotted.key=value")
        key, raw = item.split("=", 1)
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(raw)
    return data


def from_dict(cls: type, data: dict[str, Any] | None, where: str = "") -> Any:
    """Dataclass ``cls`` from a nested dict, checking every key and value against the field types."""
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"{where or cls.__name__}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = sorted(f.name for f in dataclasses.fields(cls))
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in known:
            raise ValueError(f"{path}: unknown key (expected one of {known})")
        kwargs[key] = _coerce(hints[key], value, path)
    return cls(**kwargs)


def _coerce(kind: Any, value: Any, path: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value, path)  # type: ignore[arg-type]
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{path}={value!r}: expected a list")
        item = args[0] if args and (origin is list or args[-1] is Ellipsis or len(set(args)) == 1) else Any
        items = [_coerce(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict or kind is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{path}={value!r}: expected a mapping")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}={value!r}: expected true or false")
        return value
    if kind in (int, float):
        try:
            number = kind(value)  # YAML reads 3e-4 as a string: numeric strings are accepted
        except (TypeError, ValueError):
            raise ValueError(f"{path}={value!r}: expected {kind.__name__}") from None
        if kind is int and number != float(value):
            raise ValueError(f"{path}={value!r}: expected an integer")
        return number
    if kind is str and not isinstance(value, str):
        raise ValueError(f"{path}={value!r}: expected a string")
    if origin in (typing.Union, types.UnionType) and value is not None:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return _coerce(inner[0], value, path)
    return value


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (tuples as lists) of a config dataclass, for YAML, JSON and checkpoints."""

    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        return x

    return plain(dataclasses.asdict(cfg))
