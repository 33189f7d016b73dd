"""Sprig defaults, lists, dicts, reflection, paths, URLs and JSON."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templating._util import render

DATA: dict[str, Any] = {
    "zero": 0.0,
    "f": 2.5,
    "s": "0",
    "no": False,
    "n": None,
    "l": [1.0, "b", None],
    "e": [],
    "m": {"k": "v", "z": 1.0},
    "em": {},
    "html": "<a>&",
}

CASES = [
    # defaults
    (
        "default emptiness",
        '{{ default "d" "" }} {{ default "d" 0 }} {{ default "d" false }} {{ default "d" .e }} {{ default '
        '"d" .em }}',
        "d d d d d",
    ),
    (
        "default keeps values",
        '{{ default "d" .s }} {{ default "d" "false" }} {{ default "d" .f }} {{ default 25 .zero }}',
        "0 false 2.5 25",
    ),
    (
        "default missing and nil",
        "{{ default 10 .nope }} {{ default 10 .n }} {{ .nope | default 3 }}",
        "10 10 3",
    ),
    ("default without given", '{{ default "d" }}', "d"),
    (
        "empty",
        '{{ empty 0 }} {{ empty "0" }} {{ empty .nope }} {{ empty .l }} {{ empty .e }} {{ empty now }}',
        "true false true false true false",
    ),
    ("coalesce", '{{ coalesce 0 "" "z" 1 }} {{ coalesce .nope .n }}', "z <no value>"),
    ("all any", '{{ all 1 "a" }} {{ all 1 "" }} {{ any 0 "" 1 }} {{ any }}', "true false true false"),
    ("ternary", '{{ ternary "y" "n" true }} {{ false | ternary "y" "n" }}', "y n"),
    ("compact", '{{ compact (list 1 "" nil 0 "a" false) }}', "[1 a]"),
    # lists
    ("list", '{{ list 1 "a" nil 2.5 }} {{ tuple 1 2 }}', "[1 a <nil> 2.5] [1 2]"),
    ("first last", "{{ first .l }} {{ last (list 1 2) }} {{ first .e }}", "1 2 <no value>"),
    (
        "rest initial",
        "{{ rest .l }} {{ initial .l }} {{ rest .e }} {{ toJson (rest .e) }}",
        "[b <nil>] [1 b] [] null",
    ),
    (
        "append prepend",
        "{{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ push .l 4 }}",
        "[1 2] [0 1] [1 b <nil> 4]",
    ),
    ("append does not modify", "{{ $a := list 1 }}{{ $b := append $a 2 }}{{ $a }} {{ $b }}", "[1] [1 2]"),
    ("concat", '{{ concat (list 1) (list 2 3) (splitList "," "a,b") }}', "[1 2 3 a b]"),
    (
        "uniq without has",
        '{{ uniq (list 1 1 "1" 2) }} {{ without (list 1 2 3 2) 2 }} {{ has 2 (list 1 2) }} {{ has "2" '
        "(list 1 2) }}",
        "[1 1 2] [1 3] true false",
    ),
    ("has on nil haystack", "{{ has 1 .nope }}", "false"),
    ("reverse", "{{ reverse (list 1 2 3) }}", "[3 2 1]"),
    (
        "slice",
        "{{ slice (list 1 2 3 4) 1 3 }} {{ slice (list 1 2 3) 1 }} {{ slice (list 1 2) }}",
        "[2 3] [2 3] [1 2]",
    ),
    ("chunk", "{{ chunk 2 (list 1 2 3) }} {{ chunk 2 (list) }}", "[[1 2] [3]] []"),
    ("sortAlpha", '{{ sortAlpha (list "b" "a" "C") }}', "[C a b]"),
    (
        "list functions on wrong kinds",
        '{{ first "abc" }}',
        'ERR: template: t:1:3: executing "t" at <first "abc">: error calling first: Cannot find first on '
        "type string",
    ),
    (
        "list functions on nil",
        "{{ first .nope }}",
        'ERR: template: t:1:3: executing "t" at <first .nope>: error calling first: '
        "runtime error: invalid memory address or nil pointer dereference",
    ),
    (
        "slice of a map",
        "{{ slice .m 1 }}",
        'ERR: template: t:1:3: executing "t" at <slice .m 1>: error calling slice: list should be type of '
        "slice or array but map",
    ),
    # dicts
    ("dict", '{{ dict "b" 1 "a" 2 }} {{ dict "odd" }} {{ dict 1 2 }}', "map[a:2 b:1] map[odd:] map[1:2]"),
    ("get", '{{ get .m "k" }}|{{ get .m "nope" }}|{{ get .nope "x" }}', "v||"),
    ("hasKey", '{{ hasKey .m "k" }} {{ hasKey .m "x" }} {{ hasKey .nope "x" }}', "true false false"),
    (
        "set and unset modify",
        '{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $_ := unset $d "a" }}{{ $d }}',
        "map[b:2]",
    ),
    ("set returns the map", '{{ set (dict) "a" 1 }}', "map[a:1]"),
    (
        "set on nil map",
        '{{ set .nope "a" 1 }}',
        'ERR: template: t:1:3: executing "t" at <set .nope "a" 1>: error calling set: assignment to entry '
        "in nil map",
    ),
    (
        "keys values",
        '{{ keys .m | sortAlpha }} {{ values (dict "a" 1) }} {{ keys (dict "a" 1) (dict "b" 2) | sortAlpha '
        "}}",
        "[k z] [1] [a b]",
    ),
    ("pluck", '{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}', "[1 3]"),
    ("pick omit", '{{ pick .m "k" "nope" }} {{ omit .m "k" }}', "map[k:v] map[z:1]"),
    ("merge", '{{ merge (dict "a" 1 "c" "") (dict "a" 2 "b" 3 "c" 4) }}', "map[a:1 b:3 c:4]"),
    (
        "mergeOverwrite",
        '{{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "y" 2)) }}',
        "map[a:2 n:map[x:1 y:2]]",
    ),
    (
        "dig",
        '{{ dig "a" "b" "def" (dict "a" (dict "b" 1)) }} {{ dig "a" "x" "def" (dict "a" (dict "b" 1)) }}',
        "1 def",
    ),
    (
        "deepCopy",
        '{{ $a := dict "l" (list 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b "x" 1 }}{{ $a }}',
        "map[l:[1]]",
    ),
    (
        "map parameter",
        '{{ hasKey "x" "y" }}',
        'ERR: template: t:1:10: executing "t" at <"x">: can\'t handle "x" for arg of type '
        "map[string]interface {}",
    ),
    (
        "map parameter value",
        '{{ hasKey .l "y" }}',
        'ERR: template: t:1:10: executing "t" at <.l>: wrong type for value; expected map[string]interface '
        "{}; got []interface {}",
    ),
    # reflection
    (
        "typeOf",
        '{{ typeOf 1 }} {{ typeOf 1.5 }} {{ typeOf "a" }} {{ typeOf .l }} {{ typeOf .m }} {{ typeOf nil }} '
        "{{ typeOf now }}",
        "int float64 string []interface {} map[string]interface {} <nil> time.Time",
    ),
    (
        "kindOf",
        "{{ kindOf 1 }} {{ kindOf .l }} {{ kindOf .m }} {{ kindOf nil }} {{ kindOf now }} {{ kindOf (add 1 "
        "1) }}",
        "int slice map invalid struct int64",
    ),
    (
        "typeIs kindIs",
        '{{ typeIs "int" 1 }} {{ typeIsLike "int" 1 }} {{ kindIs "slice" .l }}',
        "true true true",
    ),
    (
        "deepEqual",
        '{{ deepEqual (list 1 "a") (list 1 "a") }} {{ deepEqual 1 1.0 }} {{ deepEqual (dict "a" 1) (dict '
        '"a" 1) }}',
        "true false true",
    ),
    # paths
    (
        "paths",
        '{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "a//b/../c/." }} {{ '
        'isAbs "/x" }}',
        "b.txt /a .gz a/c true",
    ),
    (
        "path edge cases",
        '{{ base "" }} {{ base "/" }} {{ dir "x" }} {{ clean "" }} {{ clean "/.." }}',
        ". / . . /",
    ),
    # URLs
    (
        "urlParse",
        '{{ $u := urlParse "https://user:pw@host.com:8080/p/a?q=1#frag" }}{{ $u.scheme }} {{ $u.host }} {{ '
        "$u.hostname }} {{ $u.path }} {{ $u.query }} {{ $u.fragment }} {{ $u.userinfo }}",
        "https host.com:8080 host.com /p/a q=1 frag user:pw",
    ),
    (
        "urlJoin",
        '{{ urlJoin (dict "scheme" "http" "host" "h:1" "path" "/x" "query" "a=b") }}',
        "http://h:1/x?a=b",
    ),
    # JSON
    (
        "toJson",
        '{{ toJson (dict "b" 1 "a" "<x>&" "c" 2.5 "d" (list 1e6 1e21 nil true)) }}',
        '{"a":"\\u003cx\\u003e\\u0026","b":1,"c":2.5,"d":[1000000,1e+21,null,true]}',
    ),
    (
        "toJson of data",
        "{{ toJson .html }} {{ toJson .n }} {{ toJson .nope }} {{ toJson .e }}",
        '"\\u003ca\\u003e\\u0026" null null []',
    ),
    (
        "toJson floats",
        "{{ toJson (list 0.000001 0.0000001 -0.0 100000000000000000000.0) }}",
        "[0.000001,1e-7,-0,100000000000000000000]",
    ),
    ("toJson escapes", r'{{ toJson "a\"b\\c\n\t\u2028" }}', '"a\\"b\\\\c\\n\\t\\u2028"'),
    (
        "toJson unsupported",
        "{{ toJson (list 1i) }}|{{ mustToJson 1i }}",
        'ERR: template: t:1:26: executing "t" at <mustToJson 1i>: error calling mustToJson: json: '
        "unsupported type: complex128",
    ),
    ("toRawJson", '{{ toRawJson (dict "a" "<x>") }}', '{"a":"<x>"}'),
    (
        "toPrettyJson",
        '{{ toPrettyJson (dict "a" (list 1 2) "b" (dict)) }}',
        '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {}\n}',
    ),
    (
        "fromJson",
        '{{ $j := fromJson "{\\"a\\": [1, 2.5, \\"x\\"], \\"b\\": null}" }}{{ $j.a }} {{ typeOf (index '
        "$j.a 0) }} {{ $j.b }}",
        "[1 2.5 x] float64 <no value>",
    ),
    ("fromJson invalid", '{{ fromJson "{" }}', "<no value>"),
    (
        "mustFromJson invalid",
        '{{ mustFromJson "{" }}',
        'ERR: template: t:1:3: executing "t" at <mustFromJson "{">: error calling mustFromJson: unexpected '
        "end of JSON input",
    ),
    # crypto functions that the emulator leaves out fail when called, not when parsed
    ("unsupported", '{{ if false }}{{ genCA "x" 1 }}{{ end }}ok', "ok"),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_data_functions(case: str, source: str, want: str) -> None:
    assert render(source, DATA) == want


def test_set_mutates_the_data_map_like_go() -> None:
    data: dict[str, Any] = {"args": {"a": 1.0}}
    assert render('{{ $_ := set .args "b" 2 }}{{ .args.b }}', data) == "2"
    assert data["args"]["b"] == 2
