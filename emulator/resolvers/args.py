"""Decoding of the args a resolver consumes itself, with Rill's (mapstructure's) error text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.errors import BadRequest
from emulator.gotypes import go_type_name

_GO_TARGET = {int: "int", str: "string"}


def decode_strict(args: Mapping[str, Any], fields: Mapping[str, type]) -> dict[str, Any]:
    """Decode ``fields`` (name → int or str) from ``args`` as ``mapstructure.Decode`` does.

    Numbers convert to int (floats truncate); strings, bools and collections do not. Absent keys and
    nil give the zero value. Every failure is listed, as mapstructure aggregates them.
    """
    out: dict[str, Any] = {}
    errors: list[str] = []
    for key, typ in fields.items():
        value = args.get(key)
        if value is None:
            out[key] = typ()
            continue
        ok = (typ is int and isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            typ is str and isinstance(value, str)
        )
        if not ok:
            kind = go_type_name(value)
            errors.append(
                f"'{key}' expected type '{_GO_TARGET[typ]}', got unconvertible type '{kind}', "
                f"value: '{_go_value(value)}'"
            )
            continue
        out[key] = typ(value)
    if errors:
        lines = "\n".join(f"* {e}" for e in sorted(errors))
        raise BadRequest(f"{len(errors)} error(s) decoding:\n\n{lines}")
    return out


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_value(v)}" for k, v in sorted(value.items())) + "]"
    return str(value)
