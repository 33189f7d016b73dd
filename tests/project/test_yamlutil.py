"""YAML decoding the way Go's yaml.v3 decodes Rill files, with line numbers."""

from __future__ import annotations

import math

import pytest

from emulator.project.yamlutil import YamlError, deep_merge, load_yaml


def test_scalars_follow_yaml_1_2_like_yaml_v3() -> None:
    doc = load_yaml(
        """
a: yes
b: off
c: true
d: False
e: 0755
f: 1_000
g: 0x1F
h: 2.5
i: 1e3
j: 2024-01-02
k: ~
l:
m: .inf
n: "10"
"""
    )
    assert doc.value == {
        "a": "yes",
        "b": "off",
        "c": True,
        "d": False,
        "e": 493,
        "f": 1000,
        "g": 31,
        "h": 2.5,
        "i": 1000.0,
        "j": "2024-01-02",
        "k": None,
        "l": None,
        "m": math.inf,
        "n": "10",
    }
    assert doc.raw("i") == "1e3"


def test_lines_of_keys_items_and_block_scalars() -> None:
    doc = load_yaml(
        """type: api
sql: |
  SELECT 1
  FROM t
security:
  access: true
list:
  - a
  - {k: v}
"""
    )
    assert doc.line("type") == 1
    assert doc.line("sql") == 2
    assert doc.value_line("sql") == 3  # block scalar content starts below the indicator
    assert doc.line("security", "access") == 6
    assert doc.value_line("security", "access") == 6
    assert doc.line("list", 1) == 9
    assert doc.line("list", 1, "k") == 9
    assert doc.line("security", "missing") == 5  # falls back to the nearest known ancestor


def test_merge_keys_and_overrides() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc.value["use"] == {"x": 1, "y": 3}


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(YamlError) as err:
        load_yaml("a: 1\nb: 2\na: 3\n")
    assert err.value.message == 'yaml: unmarshal errors:\n  line 3: mapping key "a" already defined at line 1'
    assert err.value.line == 3


def test_syntax_error_names_the_line() -> None:
    with pytest.raises(YamlError) as err:
        load_yaml("type: api\nsql: a: b\n")
    assert err.value.message == "yaml: line 2: mapping values are not allowed in this context"
    assert err.value.line == 2


def test_empty_document_is_none() -> None:
    assert load_yaml("").value is None
    assert load_yaml("# just a comment\n").value is None


def test_only_the_first_document_is_read() -> None:
    assert load_yaml("a: 1\n---\nb: 2\n").value == {"a": 1}


def test_deep_merge_merges_maps_and_replaces_lists() -> None:
    base = {"security": {"access": "x", "row_filter": "y"}, "l": [1, 2], "s": "a"}
    overlay = {"security": {"access": "z"}, "l": [3], "t": None}
    assert deep_merge(base, overlay) == {
        "security": {"access": "z", "row_filter": "y"},
        "l": [3],
        "s": "a",
        "t": None,
    }
    assert base["security"] == {"access": "x", "row_filter": "y"}  # inputs are not mutated
