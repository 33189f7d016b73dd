"""Go's names for decoded values, as they appear in Rill's error messages."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator.errors import BadRequest
from emulator.gotypes import go_type_name, json_kind, yaml_tag
from emulator.resolvers.args import decode_strict


@pytest.mark.parametrize(
    ("value", "go", "json", "yaml"),
    [
        (True, "bool", "bool", "!!bool"),
        (1, "int", "number", "!!int"),
        (1.5, "float64", "number", "!!float"),
        ("x", "string", "string", "!!str"),
        ([1], "[]interface {}", "array", "!!seq"),
        ({"a": 1}, "map[string]interface {}", "object", "!!map"),
        (None, "NoneType", "null", "!!null"),
        (dt.datetime(2024, 1, 2), "time.Time", "object", "!!timestamp"),
    ],
)
def test_names(value: object, go: str, json: str, yaml: str) -> None:
    assert go_type_name(value) == go
    assert json_kind(value) == json
    assert yaml_tag(value) == yaml


def test_mapstructure_errors_name_go_types_and_aggregate() -> None:
    with pytest.raises(BadRequest) as info:
        decode_strict({"priority": "1", "sql": ["a"]}, {"priority": int, "sql": str})
    assert info.value.message == (
        "2 error(s) decoding:\n\n"
        "* 'priority' expected type 'int', got unconvertible type 'string', value: '1'\n"
        "* 'sql' expected type 'string', got unconvertible type '[]interface {}', value: '[a]'"
    )
    assert decode_strict({"priority": 2.0}, {"priority": int, "sql": str}) == {"priority": 2, "sql": ""}
