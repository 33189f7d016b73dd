"""Go's builtin template functions: comparisons, len, index, printing, escaping."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templating._util import render

DATA: dict[str, Any] = {
    "s": "10",
    "f": 2.5,
    "i": 3,
    "n": None,
    "l": [1.0, "b", None],
    "m": {"k": "v"},
    "strs": ["a", "b"],
}

CASES = [
    # eq: same basic kinds only, any number of alternatives, nil rules
    ("eq strings", '{{ eq "a" "a" }} {{ eq "a" "b" }}', "true false"),
    ("eq several", "{{ eq 3 1 2 3 }} {{ eq 3 1 2 }}", "true false"),
    ("eq floats", "{{ eq .f 2.5 }}", "true"),
    ("eq int64 and int", "{{ eq (add 1 2) 3 }}", "true"),
    ("eq uint8 and int", '{{ eq (index "a" 0) 97 }}', "true"),
    ("eq bools", "{{ eq true true }} {{ eq true false }}", "true false"),
    (
        "eq missing is not an error",
        '{{ eq .nope "x" }} {{ eq .nope .n }} {{ eq .n nil }} {{ eq nil nil }}',
        "false true true true",
    ),
    ("eq slice with nil", "{{ eq .l nil }} {{ eq (rest (list)) nil }}", "false true"),
    (
        "eq no alternatives",
        "{{ eq 1 }}",
        'ERR: template: t:1:3: executing "t" at <eq 1>: error calling eq: missing argument for comparison',
    ),
    (
        "eq string with number",
        "{{ eq .s 10 }}",
        'ERR: template: t:1:3: executing "t" at <eq .s 10>: error calling eq: '
        "incompatible types for comparison: string and int",
    ),
    (
        "eq map with string",
        '{{ eq .m "x" }}',
        'ERR: template: t:1:3: executing "t" at <eq .m "x">: error calling eq: '
        "incompatible types for comparison: map[string]interface {} and string",
    ),
    (
        "eq slices",
        "{{ eq .strs .strs }}",
        'ERR: template: t:1:3: executing "t" at <eq .strs .strs>: error calling eq: '
        "non-comparable type [a b]: []interface {}",
    ),
    ("ne", '{{ ne 1 2 }} {{ ne "a" "a" }}', "true false"),
    ("lt le gt ge", '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}', "true true true false"),
    ("lt int64 and int", "{{ lt (add 1 1) 3 }}", "true"),
    (
        "lt bools",
        "{{ lt true false }}",
        'ERR: template: t:1:3: executing "t" at <lt true false>: error calling lt: invalid type for '
        "comparison",
    ),
    (
        "lt missing",
        "{{ lt .nope 1 }}",
        'ERR: template: t:1:3: executing "t" at <lt .nope 1>: error calling lt: invalid type for comparison',
    ),
    (
        "lt mixed",
        "{{ lt 1 2.5 }}",
        'ERR: template: t:1:3: executing "t" at <lt 1 2.5>: error calling lt: incompatible types for '
        "comparison: int and float64",
    ),
    ("not", '{{ not 0 }} {{ not "x" }} {{ not .nope }} {{ not "false" }}', "true false true false"),
    # len: bytes of strings, collections, Go's errors
    ("len", '{{ len .l }} {{ len .m }} {{ len "héllo" }} {{ len (list) }}', "3 1 6 0"),
    (
        "len of int",
        "{{ len 3 }}",
        'ERR: template: t:1:3: executing "t" at <len 3>: error calling len: len of type int',
    ),
    (
        "len of nil",
        "{{ len .n }}",
        'ERR: template: t:1:3: executing "t" at <len .n>: error calling len: len of nil pointer',
    ),
    (
        "len of missing",
        "{{ len .nope }}",
        'ERR: template: t:1:3: executing "t" at <len .nope>: error calling len: '
        "reflect: call of reflect.Value.Type on zero Value",
    ),
    # index
    ("index list", "{{ index .l 1 }} {{ index .l 2 }}", "b <no value>"),
    ("index map", '{{ index .m "k" }}|{{ index .m "nope" }}', "v|<no value>"),
    ("index string gives a byte", '{{ index "abc" 1 }}', "98"),
    ("index nested", '{{ index (dict "a" (list 1 2)) "a" 1 }}', "2"),
    (
        "index out of range",
        "{{ index .l 5 }}",
        'ERR: template: t:1:3: executing "t" at <index .l 5>: error calling index: index out of range: 5',
    ),
    (
        "index at length",
        "{{ index .l 3 }}",
        'ERR: template: t:1:3: executing "t" at <index .l 3>: error calling index: reflect: slice index '
        "out of range",
    ),
    (
        "index negative",
        "{{ index .l -1 }}",
        'ERR: template: t:1:3: executing "t" at <index .l -1>: error calling index: index out of range: -1',
    ),
    (
        "index with float",
        "{{ index .l 1.0 }}",
        'ERR: template: t:1:3: executing "t" at <index .l 1.0>: error calling index: cannot index '
        "slice/array with type float64",
    ),
    (
        "index map with int",
        "{{ index .m 1 }}",
        'ERR: template: t:1:3: executing "t" at <index .m 1>: error calling index: value has type int; '
        "should be string",
    ),
    (
        "index of nil",
        "{{ index .nope 1 }}",
        'ERR: template: t:1:3: executing "t" at <index .nope 1>: error calling index: index of untyped nil',
    ),
    (
        "index int",
        "{{ index 5 1 }}",
        'ERR: template: t:1:3: executing "t" at <index 5 1>: error calling index: can\'t index item of '
        "type int",
    ),
    ("index piped", "{{ 1 | index .l }}", "b"),
    # slice is Sprig's, not Go's
    ("slice is sprig", "{{ slice .l 1 }} {{ slice .l 1 2 }} {{ slice (list) }}", "[b <nil>] [b] <no value>"),
    # printing
    ("print", '{{ print 1 2 "a" 3 nil }}', "1 2a3 <nil>"),
    ("println", '{{ println 1 "a" }}', "1 a\n"),
    (
        "printf verbs",
        '{{ printf "%s|%d|%v|%q|%5.2f|%x|%t" "a" 3 .l "q" 3.14159 255 true }}',
        'a|3|[1 b <nil>]|"q"| 3.14|ff|true',
    ),
    (
        "printf types",
        '{{ printf "%T %T %T %T %T" .f .i .s .l .m }}',
        "float64 int string []interface {} map[string]interface {}",
    ),
    ("printf bad verb", '{{ printf "%d" "x" }}', "%!d(string=x)"),
    ("printf missing", '{{ printf "%s %s" "a" }}', "a %!s(MISSING)"),
    ("printf extra", '{{ printf "x" 1 "a" }}', "x%!(EXTRA int=1, string=a)"),
    ("printf nil", '{{ printf "%v %s" nil nil }}', "<nil> %!s(<nil>)"),
    ("printf padding", '{{ printf "[%-4s][%4s][%04d][%+d]" "a" "b" 7 5 }}', "[a   ][   b][0007][+5]"),
    (
        "printf floats",
        '{{ printf "%v %g %e %.3g %f" 1e6 1e6 1234.5 1234.5 0.5 }}',
        "1e+06 1e+06 1.234500e+03 1.23e+03 0.500000",
    ),
    ("printf percent", '{{ printf "100%%" }}', "100%"),
    ("printf piped", '{{ "x" | printf "%s-%s" "a" }}', "a-x"),
    # escapers
    ("html", '{{ html "<a href=\'x\'>&\\"</a>" }}', "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"),
    ("html of values", "{{ html 1 2 }}", "1 2"),
    ("js", '{{ js "a\'b\\"c<d>=&" }}', "a\\'b\\\"c\\u003Cd\\u003E\\u003D\\u0026"),
    ("urlquery", '{{ urlquery "a b&c=d/é" }}', "a+b%26c%3Dd%2F%C3%A9"),
    # call: data holds no functions
    (
        "call non-function",
        "{{ call .s }}",
        'ERR: template: t:1:3: executing "t" at <call .s>: error calling call: non-function .s of type '
        "string",
    ),
    (
        "call nil",
        "{{ call .nope }}",
        'ERR: template: t:1:3: executing "t" at <call .nope>: error calling call: call of nil',
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_builtin(case: str, source: str, want: str) -> None:
    assert render(source, DATA) == want
