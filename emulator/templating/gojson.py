"""Go's ``encoding/json`` as Sprig uses it: Marshal (sorted keys, HTML escaping) and Unmarshal."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.values import GoList, GoMap, format_json_float, gotype

_ESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _string(s: str, escape_html: bool) -> str:
    out = ['"']
    for c in s:
        if c in _ESC:
            out.append(_ESC[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        elif escape_html and c in _HTML:
            out.append(_HTML[c])
        elif c in ("\u2028", "\u2029"):
            out.append(f"\\u{ord(c):04x}")
        elif "\ud800" <= c <= "\udfff":
            out.append("\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def marshal(v: Any, *, escape_html: bool = True, indent: str = "", _level: int = 0) -> str:
    """json.Marshal / MarshalIndent(v, "", indent); raises GoPanic with Go's error text."""
    if _level > 1000:
        raise GoPanic("json: unsupported value: encountered a cycle")
    t = type(v)
    if v is None:
        return "null"
    if t is str:
        return _string(v, escape_html)
    if t is bool:
        return "true" if v else "false"
    if t is float:
        if math.isnan(v) or math.isinf(v):
            raise GoPanic(
                f"json: unsupported value: {'NaN' if math.isnan(v) else ('+Inf' if v > 0 else '-Inf')}"
            )
        return format_json_float(v)
    if isinstance(v, (list, tuple)):
        if isinstance(v, GoList) and v.nil:
            return "null"
        if not v:
            return "[]"
        items = [marshal(e, escape_html=escape_html, indent=indent, _level=_level + 1) for e in v]
        return _wrap("[", "]", items, indent, _level)
    if isinstance(v, Mapping):
        if isinstance(v, GoMap) and v.nil:
            return "null"
        if not v:
            return "{}"
        sep = ": " if indent else ":"
        items = [
            _string(str(k), escape_html)
            + sep
            + marshal(v[k], escape_html=escape_html, indent=indent, _level=_level + 1)
            for k in sorted(v)
        ]
        return _wrap("{", "}", items, indent, _level)
    if gotype(v) == "time.Time":
        return '"' + str(v.format("2006-01-02T15:04:05.999999999Z07:00")) + '"'
    if isinstance(v, int):
        return str(int(v))
    raise GoPanic(f"json: unsupported type: {gotype(v)}")


def _wrap(open_: str, close: str, items: list[str], indent: str, level: int) -> str:
    if not indent:
        return open_ + ",".join(items) + close
    inner = "\n" + indent * (level + 1)
    return open_ + inner + ("," + inner).join(items) + "\n" + indent * level + close


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def unmarshal(s: str) -> Any:
    """json.Unmarshal into interface{}: objects → dict, arrays → list, numbers → float64."""
    if not s.strip(" \t\r\n"):
        raise GoPanic("unexpected end of JSON input")
    try:
        return json.loads(s, parse_int=float, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(s.rstrip(" \t\r\n")):
            raise GoPanic("unexpected end of JSON input") from None
        ch = s[exc.pos]
        if exc.msg.startswith("Extra data"):
            raise GoPanic(f"invalid character {_char(ch)} after top-level value") from None
        raise GoPanic(f"invalid character {_char(ch)} looking for beginning of value") from None
    except ValueError as exc:
        raise GoPanic(str(exc)) from None
    except RecursionError:
        raise GoPanic("exceeded max depth") from None


def _char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    if ch < " ":
        return repr(ch)
    return f"'{ch}'"
