"""Go value printing (fmt %v, strconv floats, JSON floats), truthiness and Go's strconv parsing."""

from __future__ import annotations

import math
from typing import Any

import pytest

from emulator.templating import go_print
from emulator.templating.gofmt import sprint, sprintf, sprintln
from emulator.templating.strconv import SyntaxErr, atoi, parse_float, parse_int, unquote
from emulator.templating.values import (
    NOVALUE,
    GoList,
    GoMap,
    Int64,
    format_float,
    format_json_float,
    print_value,
    truth,
)

FLOATS = [
    (10.0, "10", "10"),
    (2.5, "2.5", "2.5"),
    (123456.0, "123456", "123456"),
    (1000000.0, "1e+06", "1000000"),
    (1234567.0, "1.234567e+06", "1234567"),
    (0.0001, "0.0001", "0.0001"),
    (0.00001, "1e-05", "0.00001"),
    (0.000001, "1e-06", "0.000001"),
    (0.0000001, "1e-07", "1e-7"),
    (1e20, "1e+20", "100000000000000000000"),
    (1e21, "1e+21", "1e+21"),
    (-0.0, "-0", "-0"),
    (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
    (5e-324, "5e-324", "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"),
]


@pytest.mark.parametrize(("value", "v", "json"), FLOATS)
def test_float_formats(value: float, v: str, json: str) -> None:
    assert format_float(value) == v
    assert go_print(value) == v
    assert format_json_float(value) == json


def test_special_floats() -> None:
    assert [go_print(x) for x in (math.nan, math.inf, -math.inf)] == ["NaN", "+Inf", "-Inf"]


PRINTS: list[tuple[Any, str]] = [
    ("s", "s"),
    (True, "true"),
    (7, "7"),
    (Int64(-3), "-3"),
    (None, "<nil>"),
    ([1, "a", None, [2.5]], "[1 a <nil> [2.5]]"),
    ({"b": 1, "a": {"c": None}}, "map[a:map[c:<nil>] b:1]"),
    (GoList(["x"], elem="string"), "[x]"),
    (GoMap({"_0": "a"}, elem="string"), "map[_0:a]"),
    (1 + 2j, "(1+2i)"),
]


@pytest.mark.parametrize(("value", "want"), PRINTS)
def test_go_print(value: Any, want: str) -> None:
    assert go_print(value) == want


def test_print_value_of_actions() -> None:
    assert print_value(NOVALUE) == "<no value>"
    assert print_value(None) == "<no value>"
    assert print_value([None]) == "[<nil>]"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("", False),
        ("false", True),
        (0, False),
        (0.0, False),
        (-1, True),
        ([], False),
        ({}, False),
        (None, False),
        (NOVALUE, False),
        (False, False),
        ([0], True),
    ],
)
def test_truth(value: Any, want: bool) -> None:
    assert truth(value) is want


def test_fmt_functions() -> None:
    assert sprint((1, 2, "a", "b", 3)) == "1 2ab3"
    assert sprintln((1, "a")) == "1 a\n"
    assert sprintf(
        "%5.1f|%-3d|%03d|%x|%X|%o|%b|%c|%U|%e", (3.14159, 7, 7, 255, 255, 8, 5, 65, 0x1F600, 1e6)
    ) == ("  3.1|7  |007|ff|FF|10|101|A|U+1F600|1.000000e+06")
    assert sprintf("%[2]s %[1]s", ("a", "b")) == "b a"
    assert sprintf("%*d|%.*f", (4, 7, 2, 1.0)) == "   7|1.00"
    assert sprintf("%!", ()) == "%!!(MISSING)"
    assert sprintf("%", ()) == "%!(NOVERB)"
    assert sprintf("%s %v %d", ([1, "a"], {"k": 1.5}, [1, 2])) == "[%!s(int=1) a] map[k:1.5] [1 2]"
    assert sprintf("%#v %#v", ("a", [1, "b"])) == '"a" []interface {}{1, "b"}'


def test_strconv() -> None:
    assert [parse_int(s) for s in ("0x1f", "017", "0o17", "0b11", "1_000", "-8", "+3")] == [
        31,
        15,
        15,
        3,
        1000,
        -8,
        3,
    ]
    for bad in ("", "08", "1__0", "_1", "0x", "9223372036854775808", "1.5"):
        with pytest.raises(SyntaxErr):
            parse_int(bad)
    assert parse_float("1e3") == 1000.0 and parse_float("0x1p-2") == 0.25 and parse_float("Inf") == math.inf
    for bad in ("1e", "0x1.8", "1_", "abc", "1e400"):
        with pytest.raises(SyntaxErr):
            parse_float(bad)
    assert atoi("-42") == -42
    with pytest.raises(SyntaxErr):
        atoi("1_0")
    assert unquote(r'"a\tb\x41\u00e9\101\""') == 'a\tbAéA"'
    assert unquote("`a\r\\n`") == "a\\n"
    with pytest.raises(SyntaxErr):
        unquote(r'"\'"')
