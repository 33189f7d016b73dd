"""Sprig numeric functions: int64 arithmetic, float (decimal) arithmetic, spf13/cast conversions."""

from __future__ import annotations

import pytest

from tests.templating._util import render

CASES = [
    ("add", "{{ add 1 2 3 }} {{ add }}", "6 0"),
    ("add truncates floats", "{{ add 1.5 1 }} {{ add 1.9 1.9 }}", "2 2"),
    ("add casts strings", '{{ add "3" 2 }} {{ add "x" 2 }} {{ add "2.0" 1 }}', "5 2 3"),
    ("add1 sub mul", "{{ add1 5 }} {{ sub 5 3 }} {{ sub 1.9 0.5 }} {{ mul 2 3 4 }}", "6 2 1 24"),
    ("div truncates toward zero", "{{ div 10 3 }} {{ div -7 2 }} {{ div 7 -2 }}", "3 -3 -3"),
    ("mod has the dividend's sign", "{{ mod 10 3 }} {{ mod -7 2 }} {{ mod 7 -2 }}", "1 -1 1"),
    ("int64 wraps", "{{ add 9223372036854775807 1 }}", "-9223372036854775808"),
    ("max min", "{{ max 1 5 3 }} {{ min 1 5 3 }} {{ biggest 2 9 }} {{ max 1.9 1.2 }}", "5 1 9 1"),
    (
        "results are int64",
        "{{ typeOf (add 1 1) }} {{ typeOf (max 1) }} {{ typeOf (int 1) }}",
        "int64 int64 int",
    ),
    (
        "float arithmetic",
        "{{ addf 1.5 2 }} {{ subf 5 1.5 }} {{ mulf 1.5 2 }} {{ divf 1 3 }} {{ add1f 1.5 }}",
        "3.5 3.5 3 0.3333333333333333 2.5",
    ),
    ("float arithmetic is decimal", "{{ addf 0.1 0.2 }} {{ mulf 0.1 3 }}", "0.3 0.3"),
    ("maxf minf", "{{ maxf 1 2.5 2 }} {{ minf 1 2.5 }}", "2.5 1"),
    (
        "floor ceil",
        "{{ floor 1.7 }} {{ ceil 1.2 }} {{ floor -1.5 }} {{ typeOf (floor 1) }}",
        "1 2 -2 float64",
    ),
    (
        "round",
        "{{ round 3.746 2 }} {{ round 3.744 2 }} {{ round 2.5 0 }} {{ round -2.5 0 }} {{ round 1.23 1 0.2 }}",
        "3.75 3.74 3 -3 1.3",
    ),
    (
        "int cast",
        '{{ int "12" }} {{ int "12abc" }} {{ int "12.0" }} {{ int "12.5" }} {{ int " 12" }}',
        "12 0 12 0 0",
    ),
    (
        "int cast of numbers",
        "{{ int 12.9 }} {{ int -12.9 }} {{ int true }} {{ int nil }} {{ int .nope }}",
        "12 -12 1 0 0",
    ),
    (
        "int cast bases",
        '{{ int "0x1F" }} {{ int "010" }} {{ int "0b11" }} {{ int "1_000" }} {{ int "08" }}',
        "31 8 3 1000 0",
    ),
    ("int64 cast", '{{ int64 "42" }} {{ typeOf (int64 "42") }}', "42 int64"),
    (
        "float64 cast",
        '{{ float64 "1.5" }} {{ float64 "abc" }} {{ float64 3 }} {{ float64 "1e3" }} {{ float64 "inf" }}',
        "1.5 0 3 1000 +Inf",
    ),
    (
        "atoi",
        '{{ atoi "42" }} {{ atoi "4.2" }} {{ atoi "-7" }} {{ atoi " 1" }} {{ atoi "+3" }}',
        "42 0 -7 0 3",
    ),
    (
        "until",
        "{{ until 3 }} {{ until -3 }} {{ until 0 }} {{ typeOf (until 1) }}",
        "[0 1 2] [0 -1 -2] [] []int",
    ),
    (
        "untilStep",
        "{{ untilStep 0 10 3 }} {{ untilStep 10 0 -3 }} {{ untilStep 0 10 -1 }}",
        "[0 3 6 9] [10 7 4 1] []",
    ),
    (
        "seq",
        "{{ seq 5 }}|{{ seq 0 }}|{{ seq -3 }}|{{ seq 2 5 }}|{{ seq 5 2 }}",
        "1 2 3 4 5|1 0|1 0 -1 -2 -3|2 3 4 5|5 4 3 2",
    ),
    (
        "seq with step",
        "{{ seq 0 2 10 }}|{{ seq 10 -2 0 }}|{{ seq 0 -2 10 }}|{{ seq }}",
        "0 2 4 6 8 10|10 8 6 4 2 0||",
    ),
    ("toDecimal", '{{ toDecimal "0777" }} {{ toDecimal 777 }} {{ toDecimal "8" }}', "511 511 0"),
    ("randInt", "{{ randInt 1 2 }}", "1"),
    (
        "divide by zero",
        "{{ div 1 0 }}",
        'ERR: template: t:1:3: executing "t" at <div 1 0>: error calling div: runtime error: integer '
        "divide by zero",
    ),
    (
        "until beyond the emulator's limit",
        "{{ until 1000000000 }}",
        'ERR: template: t:1:3: executing "t" at <until 1000000000>: error calling until: '
        "list of 1000000000 elements exceeds the emulator's limit of 1000000",
    ),
    (
        "until needs an int",
        '{{ until "3" }}',
        'ERR: template: t:1:9: executing "t" at <"3">: expected integer; found "3"',
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_numeric_functions(case: str, source: str, want: str) -> None:
    assert render(source) == want
