"""Lenient ("weak") decoding as Go's mapstructure does it for Rill's metrics resolver.

Scalars convert between kinds (``"10"`` -> 10, ``1`` -> True, 2.0 -> ``"2"``), a single value becomes a
one-element list, struct keys match case-insensitively and unknown keys are ignored. Errors are collected
and reported together in mapstructure's format.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Mapping
from typing import Any

from emulator.errors import BadRequest
from emulator.gotypes import go_type_name
from emulator.metrics.gostr import go_quote

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_GO_RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00"
_GO_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)$")


def _go_kind(value: Any) -> str:
    name = go_type_name(value)
    return {"[]interface {}": "slice", "map[string]interface {}": "map", "time.Time": "struct"}.get(
        name, name
    )


def format_go_float(value: float) -> str:
    """``strconv.FormatFloat(f, 'f', -1, 64)``."""
    if math.isinf(value) or math.isnan(value):
        return {math.inf: "+Inf", -math.inf: "-Inf"}.get(value, "NaN")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(decimal.Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


class WeakDecoder:
    """Collects decoding errors for one input; :meth:`finish` raises them as one BadRequest."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        """Record one error."""
        self.errors.append(message)

    def finish(self) -> None:
        """Raise the collected errors, mapstructure style."""
        if self.errors:
            points = "\n".join(f"* {e}" for e in self.errors)
            raise BadRequest(f"{len(self.errors)} error(s) decoding:\n\n{points}")

    def struct(self, value: Any, name: str) -> dict[str, Any] | None:
        """A struct: a map whose keys are lower-cased for case-insensitive field matching."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(f"'{name}' expected a map, got '{_go_kind(value)}'")
            return None
        out: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if str(key) == lowered or lowered not in out:
                out[lowered] = item
        return out

    def list(self, value: Any, name: str) -> list[Any]:
        """A slice; an empty map is empty, any other single value becomes a one-element list."""
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, Mapping) and not value:
            return []
        return [value]

    def string(self, value: Any, name: str) -> str:
        """A string field."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return format_go_float(value)
        self.fail(_unconvertible(name, "string", value))
        return ""

    def integer(self, value: Any, name: str) -> int | None:
        """An int64 field (None when absent)."""
        if value is None:
            return None
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                return 0
            return int(value)
        if isinstance(value, str):
            text = value or "0"
            if _GO_INT.match(text):
                try:
                    return int(text.replace("_", ""), 0)
                except ValueError:
                    pass
            self.fail(f"cannot parse '{name}' as int: strconv.ParseInt: parsing \"{value}\": invalid syntax")
            return None
        self.fail(_unconvertible(name, "int64", value))
        return None

    def boolean(self, value: Any, name: str) -> bool:
        """A bool field."""
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        if isinstance(value, str):
            if value == "":
                return False
            if value in ("1", "t", "T", "TRUE", "true", "True"):
                return True
            if value in ("0", "f", "F", "FALSE", "false", "False"):
                return False
            self.fail(
                f"cannot parse '{name}' as bool: strconv.ParseBool: parsing \"{value}\": invalid syntax"
            )
            return False
        self.fail(_unconvertible(name, "bool", value))
        return False

    def time(self, value: Any, name: str) -> dt.datetime | None:
        """A ``time.Time`` field: an RFC 3339 string (or a datetime already parsed by YAML)."""
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
        if isinstance(value, str):
            parsed = parse_rfc3339(value)
            if parsed is None:
                self.fail(
                    f"error decoding '{name}': parsing time {go_quote(value)} as "
                    f"{go_quote(_GO_RFC3339_NANO)}: cannot parse {go_quote(value)} as {go_quote('2006')}"
                )
            return parsed
        self.fail(f"'{name}' expected a map, got '{_go_kind(value)}'")
        return None


def _unconvertible(name: str, go_type: str, value: Any) -> str:
    got = go_type_name(value)
    return f"'{name}' expected type '{go_type}', got unconvertible type '{got}', value: '{value}'"


def parse_rfc3339(text: str) -> dt.datetime | None:
    """Parse an RFC 3339 timestamp (Go's ``time.RFC3339Nano`` layout); None if malformed."""
    m = _RFC3339.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micros = int((frac[1:] + "000000")[:6]) if frac else 0
    zone = m.group(8)
    if zone == "Z":
        tz = dt.timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = dt.timezone(sign * dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return dt.datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
    except ValueError:
        return None
