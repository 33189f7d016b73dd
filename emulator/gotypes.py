"""How Go names the type of a decoded JSON/YAML value in its error messages.

One place for the three vocabularies Rill's errors use: Go type names (mapstructure), JSON kinds
(``encoding/json``'s UnmarshalTypeError) and YAML tags (``yaml.v3``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any


def go_type_name(value: Any) -> str:
    """The Go type a decoded JSON/YAML value has, as mapstructure prints it (``[]interface {}``)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, dt.datetime):
        return "time.Time"
    return type(value).__name__


def json_kind(value: Any) -> str:
    """The JSON kind ``encoding/json`` names in ``cannot unmarshal <kind> into ...``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def yaml_tag(value: Any) -> str:
    """The YAML tag ``yaml.v3`` prints for a value in a decoding error (``!!map``, ``!!seq``, ...)."""
    if isinstance(value, Mapping):
        return "!!map"
    if isinstance(value, list):
        return "!!seq"
    if isinstance(value, bool):
        return "!!bool"
    if isinstance(value, int):
        return "!!int"
    if isinstance(value, float):
        return "!!float"
    if value is None:
        return "!!null"
    if isinstance(value, (dt.date, dt.datetime)):
        return "!!timestamp"
    return "!!str"


def _go_quote_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + json.dumps(c)[1:-1] + "'"


def go_json_syntax_error(exc: json.JSONDecodeError) -> str:
    """Go's ``encoding/json`` syntax error text for the failure Python's decoder found."""
    doc, pos = exc.doc, exc.pos
    if pos >= len(doc.rstrip()) and not exc.msg.startswith("Extra data"):
        return "unexpected end of JSON input"
    char = _go_quote_char(doc[pos]) if pos < len(doc) else "''"
    msg = exc.msg
    if msg.startswith("Extra data"):
        context = "after top-level value"
    elif msg.startswith("Expecting ':'"):
        context = "after object key"
    elif msg.startswith("Expecting ',' delimiter"):
        context = _after_value_context(doc, pos)
    elif msg.startswith("Expecting property name"):
        context = "looking for beginning of object key string"
    elif msg.startswith("Invalid control character"):
        context = "in string literal"
    elif msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        context = "in string escape code"
    else:
        context = "looking for beginning of value"
    return f"invalid character {char} {context}"


def _after_value_context(doc: str, pos: int) -> str:
    """Whether Python stopped inside an object or an array, by scanning brackets before ``pos``."""
    depth: list[str] = []
    in_string = escaped = False
    for ch in doc[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth.append(ch)
        elif ch in "]}" and depth:
            depth.pop()
    if depth and depth[-1] == "[":
        return "after array element"
    return "after object key:value pair"
