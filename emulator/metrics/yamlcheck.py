"""Strict decoding helpers for metrics view YAML, with Go/yaml.v3-shaped error messages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulator.errors import ProjectError
from emulator.gotypes import yaml_tag

# A "word" for Go's cases.Title: letters/digits, joined by apostrophes or dots between them.
_WORD = re.compile(r"[^\W_]+(?:['\u2019.][^\W_]+)*")


def to_display_name(name: str) -> str:
    """Rill's ``parser.ToDisplayName``: ``foo_bar`` -> ``Foo Bar``; names starting with ``_`` are kept."""
    if name.startswith("_"):
        return name
    text = name.replace("_", " ").replace("-", " ").replace(":", ": ")
    return _WORD.sub(lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), text)


class Strict:
    """Typed accessors that raise yaml.v3-style ``unmarshal errors`` with the top-level key's line."""

    def __init__(self, line_of: Callable[[str], int | None]) -> None:
        self._line_of = line_of

    def line(self, key: str) -> int | None:
        """Line of a top-level key (None when unknown or empty)."""
        return self._line_of(key) if key else None

    def unmarshal_error(self, key: str, detail: str) -> ProjectError:
        """``yaml: unmarshal errors:\\n  line N: <detail>``."""
        line = self.line(key)
        where = f"line {line}: " if line is not None else ""
        return ProjectError(f"yaml: unmarshal errors:\n  {where}{detail}", line=line)

    def type_error(self, key: str, value: Any, go_type: str) -> ProjectError:
        """A value of the wrong YAML kind for its Go field type."""
        tag = yaml_tag(value)
        if isinstance(value, (list, dict)):
            return self.unmarshal_error(key, f"cannot unmarshal {tag} into {go_type}")
        return self.unmarshal_error(key, f"cannot unmarshal {tag} `{self.scalar_text(value)}` into {go_type}")

    def scalar_text(self, value: Any) -> str:
        """A YAML scalar as the string Go would decode it to."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dt.datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, dt.date):
            return value.isoformat()
        if value is None:
            return ""
        return str(value)

    def string(self, doc: Mapping[str, Any], key: str, path: str) -> str:
        """A string field; absent/null is ``""``; any scalar is accepted as its text."""
        value = doc.get(key)
        if isinstance(value, (list, dict)):
            raise self.type_error(path, value, "string")
        return self.scalar_text(value)

    def boolean(self, doc: Mapping[str, Any], key: str, path: str) -> bool:
        """A bool field; absent/null is False."""
        value = doc.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
        raise self.type_error(path, value, "bool")

    def uint32(self, doc: Mapping[str, Any], key: str, path: str) -> int:
        """A uint32 field; absent/null is 0."""
        value = doc.get(key)
        if value is None:
            return 0
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**32:
            return value
        raise self.type_error(path, value, "uint32")

    def sequence(self, doc: Mapping[str, Any], key: str, path: str) -> list[Any]:
        """A list field; absent/null is ``[]``."""
        value = doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.type_error(path, value, "[]*struct")
        return value

    def string_list(self, doc: Mapping[str, Any], key: str, path: str) -> list[str]:
        """A ``[]string`` field."""
        value = doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.type_error(path, value, "[]string")
        out = []
        for item in value:
            if isinstance(item, (list, dict)):
                raise self.type_error(path, item, "string")
            out.append(self.scalar_text(item))
        return out

    def mapping(self, doc: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        """A struct field; absent/null is ``{}``."""
        value = doc.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.type_error(path, value, "struct")
        return value

    def time_zone(self, tz: str, path: str, *, prefix: str = "") -> None:
        """Go's ``time.LoadLocation`` check."""
        if tz in ("", "UTC", "Local"):
            return
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ProjectError(f"{prefix}unknown time zone {tz}", line=self.line(path)) from exc


def check_keys(
    doc: Mapping[str, Any], allowed: Iterable[str], strict: Strict, path: str, go_type: str
) -> None:
    """Reject unknown keys like yaml.v3's ``KnownFields(true)`` (all of them, in document order)."""
    known = set(allowed)
    unknown = [str(k) for k in doc if str(k) not in known]
    if not unknown:
        return
    lines = []
    first_line = None
    for key in unknown:
        line = strict.line(key if path == "" else path)
        first_line = first_line if first_line is not None else line
        where = f"line {line}: " if line is not None else ""
        lines.append(f"  {where}field {key} not found in type {go_type}")
    raise ProjectError("yaml: unmarshal errors:\n" + "\n".join(lines), line=first_line)
