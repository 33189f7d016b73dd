"""How Go names the type of a decoded JSON/YAML value in its error messages.

One place for the three vocabularies Rill's errors use: Go type names (mapstructure), JSON kinds
(``encoding/json``'s UnmarshalTypeError) and YAML tags (``yaml.v3``).
"""

from __future__ import annotations

import datetime as dt
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
