"""``-- @key: value`` annotations (Rill's runtime/pkg/sqlparse/annotations.go)."""

from __future__ import annotations

import pytest

from emulator.errors import ProjectError
from emulator.project.annotations import expand_annotations, extract_annotations


def test_extract_annotations() -> None:
    sql = (
        "-- @materialize: true\n"
        "--@type:api\n"
        "  -- @indented: is not an annotation\n"
        "-- @flag\n"
        "-- @name :  foo bar  \n"
        "SELECT 1 -- @trailing: is not one either\n"
        "-- @a.b-c_d: x: y\n"
    )
    assert extract_annotations(sql) == {
        "materialize": "true",
        "type": "api",
        "flag": "",
        "name": "foo bar",
        "a.b-c_d": "x: y",
    }


def test_later_annotation_wins() -> None:
    assert extract_annotations("-- @name: a\n-- @name: b\n") == {"name": "b"}


def test_expand_dotted_keys() -> None:
    assert expand_annotations({"a.b": "1", "a.c": "2", "d": "3"}) == {"a": {"b": "1", "c": "2"}, "d": "3"}


def test_expand_conflict() -> None:
    with pytest.raises(ProjectError) as err:
        expand_annotations({"a": "1", "a.b": "2"})
    assert err.value.message == 'invalid annotation "a.b": nesting incompatible with other keys'
