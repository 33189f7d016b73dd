"""The engine: Go text/template syntax and execution semantics (outputs as Go produces them)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from emulator.errors import BadRequest
from emulator.templating import Template, TemplateError, compile_template
from tests.templating._util import error, render

DATA: dict[str, Any] = {
    "args": {
        "a": "x",
        "s": "10",
        "f": 2.5,
        "i": 3,
        "z": 0.0,
        "n": None,
        "t": True,
        "no": "false",
        "l": [1.0, "b", None],
        "m": {"k": "v", "z": 1.0},
        "e": [],
    },
    "user": {"groups": ["g1", "g2"], "admin": True},
    "export": False,
}

SYNTAX = [
    ("plain text", "SELECT 1", "SELECT 1"),
    ("empty", "", ""),
    ("field", "{{ .args.a }}", "x"),
    ("field chain missing", "{{ .args.nope.deeper }}", "<no value>"),
    ("missing key", "{{ .nope }}", "<no value>"),
    ("present nil", "{{ .args.n }}", "<no value>"),
    ("dot", "{{ .args.m.k }}|{{ with .args.m }}{{ .k }}{{ end }}", "v|v"),
    ("root variable", "{{ with .args }}{{ $.args.a }}{{ end }}", "x"),
    ("declare", "{{ $x := .args.a }}{{ $x }}", "x"),
    ("assign", "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
    ("declaration prints nothing", "a{{ $x := 5 }}b", "ab"),
    ("variable field", "{{ $m := .args.m }}{{ $m.k }}", "v"),
    ("variable missing field", "{{ $x := .args.nope }}{{ $x.y }}", "<no value>"),
    ("shadowing ends with scope", "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", "21"),
    ("assignment crosses scope", "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", "2"),
    ("pipeline last argument", '{{ "a" | printf "%s-%s" "b" }}', "b-a"),
    ("pipeline chain", '{{ "x" | upper | printf "<%s>" }}', "<X>"),
    ("parenthesised", '{{ printf "%s" (upper "a") }}', "A"),
    ("parenthesised field", '{{ (.args.m).k }}|{{ (dict "a" (dict "b" 1)).a.b }}', "v|1"),
    ("comment", "a{{/* a comment */}}b", "ab"),
    ("trim both", "a  {{- 1 -}}  b", "a1b"),
    ("trim newlines", "a\n\t {{- 1 -}} \n b", "a1b"),
    ("trim around comment", "a {{- /* c */ -}} b", "ab"),
    ("minus number is not a trim", "{{-3}}", "-3"),
    ("multi-line action", '{{ printf\n  "%s"\n  "a" }}', "a"),
    ("string escapes", r'{{ "a\tb\n\"c\" \x41\u00e9\101" }}', 'a\tb\n"c" AéA'),
    ("raw string", '{{ `a\\n"b` }}', 'a\\n"b'),
    ("raw string drops CR", "{{ `a\r\nb` }}", "a\nb"),
    ("bools and nil", "{{ true }} {{ false }} {{ print nil }}", "true false <nil>"),
    ("numbers", "{{ 10 }} {{ -5 }} {{ +3 }} {{ 2.50 }} {{ 1e3 }} {{ 1.5e6 }}", "10 -5 3 2.5 1000 1.5e+06"),
    (
        "number bases",
        "{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 0x1p4 }}",
        "31 15 15 5 1000 16",
    ),
    ("char constants", "{{ 'a' }} {{ '\\n' }} {{ '\\u00e9' }}", "97 10 233"),
    ("complex", "{{ 1i }} {{ 1+2i }}", "(0+1i) (1+2i)"),
    ("negative zero", "{{ -0 }} {{ -0.0 }}", "0 -0"),
]

CONTROL = [
    ("if true", "{{ if .args.t }}yes{{ end }}", "yes"),
    ("if else", "{{ if .args.z }}yes{{ else }}no{{ end }}", "no"),
    (
        "else if chain",
        "{{ if .args.z }}1{{ else if .args.n }}2{{ else if .args.i }}3{{ else }}4{{ end }}",
        "3",
    ),
    ("else if falls to else", "{{ if .args.z }}1{{ else if .args.n }}2{{ else }}4{{ end }}", "4"),
    ("explicit nested else", "{{ if .args.z }}1{{ else }}{{ if .args.t }}2{{ end }}{{ end }}", "2"),
    ("truthiness: 'false' string is true", "{{ if .args.no }}T{{ else }}F{{ end }}", "T"),
    ("truthiness: zero", "{{ if .args.z }}T{{ else }}F{{ end }}", "F"),
    ("truthiness: empty list", "{{ if .args.e }}T{{ else }}F{{ end }}", "F"),
    ("truthiness: empty map", "{{ if dict }}T{{ else }}F{{ end }}", "F"),
    (
        "truthiness: nil and missing",
        "{{ if .args.n }}T{{ else }}F{{ end }}{{ if .nope }}T{{ else }}F{{ end }}",
        "FF",
    ),
    ("truthiness: empty string", '{{ if "" }}T{{ else }}F{{ end }}', "F"),
    ("if declares for its else", "{{ if $x := .args.z }}{{ else }}{{ $x }}{{ end }}", "0"),
    ("with sets dot", "{{ with .args.m }}{{ .k }}{{ end }}", "v"),
    ("with else", "{{ with .args.e }}x{{ else }}empty{{ end }}", "empty"),
    ("else with", "{{ with .args.n }}a{{ else with .args.a }}{{ . }}{{ else }}c{{ end }}", "x"),
    ("with variable", "{{ with $y := .args.m }}{{ $y.k }}{{ end }}", "v"),
    ("range list", "{{ range .args.l }}[{{ . }}]{{ end }}", "[1][b][<no value>]"),
    (
        "range index and value",
        "{{ range $i, $v := .args.l }}{{ $i }}={{ $v }};{{ end }}",
        "0=1;1=b;2=<no value>;",
    ),
    ("range one variable is the element", "{{ range $v := .args.l }}{{ $v }};{{ end }}", "1;b;<no value>;"),
    (
        "range map in key order",
        '{{ range $k, $v := dict "b" 2 "a" 1 "c" 3 }}{{ $k }}{{ $v }}{{ end }}',
        "a1b2c3",
    ),
    ("range map values", "{{ range .args.m }}{{ . }};{{ end }}", "v;1;"),
    ("range int", "{{ range 3 }}{{ . }}{{ end }}", "012"),
    ("range int variable", "{{ range $i := 2 }}{{ $i }}{{ end }}", "01"),
    ("range zero int is empty", "{{ range 0 }}x{{ else }}none{{ end }}", "none"),
    ("range else", "{{ range .args.e }}x{{ else }}none{{ end }}", "none"),
    ("range missing", "{{ range .nope }}x{{ else }}none{{ end }}", "none"),
    ("range nil", "{{ range .args.n }}x{{ else }}none{{ end }}", "none"),
    ("break", "{{ range .args.l }}{{ if not . }}{{ break }}{{ end }}{{ . }};{{ end }}", "1;b;"),
    (
        "continue",
        "{{ range $i, $e := .args.l }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $e }};{{ end }}",
        "1;<no value>;",
    ),
    (
        "nested ranges",
        "{{ range until 2 }}{{ $o := . }}{{ range until 2 }}{{ $o }}{{ . }} {{ end }}{{ end }}",
        "00 01 10 11 ",
    ),
    ("assignment in range", "{{ $n := 0 }}{{ range .args.l }}{{ $n = add $n 1 }}{{ end }}{{ $n }}", "3"),
    (
        "range assigns outer variable",
        '{{ $v := "a" }}{{ range $v = .args.l }}{{ end }}{{ $v }}',
        "<no value>",
    ),
    ("and returns the falsy operand", "{{ and 1 0 2 }}|{{ and 1 2 }}", "0|2"),
    ("or returns the truthy operand", '{{ or 0 "" "x" }}|{{ or 0 "" }}|', "x||"),
    ("and/or short-circuit", '{{ or 1 (fail "boom") }} {{ and 0 (fail "boom") }}', "1 0"),
    ("and/or missing operands", "{{ or .nope .args.n }}|{{ and .args.a .nope }}", "<no value>|<no value>"),
    ("piped and", "{{ 5 | and 1 }}|{{ 0 | or 0 }}", "5|0"),
    (
        "define and template",
        '{{ define "T" }}[{{ . }}]{{ end }}{{ template "T" 5 }}{{ template "T" .args.a }}',
        "[5][x]",
    ),
    ("template without data", '{{ define "T" }}[{{ . }}]{{ end }}{{ template "T" }}', "[<no value>]"),
    ("template does not see variables", '{{ define "T" }}{{ $ }}{{ end }}{{ template "T" 1 }}', "1"),
    ("block", '{{ block "B" .args }}{{ .a }}{{ end }}', "x"),
    ("empty define replaced", '{{ define "x" }}{{ end }}{{ define "x" }}y{{ end }}{{ template "x" }}', "y"),
]


@pytest.mark.parametrize(("case", "source", "want"), SYNTAX + CONTROL, ids=[c[0] for c in SYNTAX + CONTROL])
def test_render(case: str, source: str, want: str) -> None:
    assert render(source, DATA) == want


PRINTING = [
    ("float integral", 10.0, "10"),
    ("float fraction", 2.5, "2.5"),
    ("float six digits", 123456.0, "123456"),
    ("float million", 1000000.0, "1e+06"),
    ("float exponent", 1234567.0, "1.234567e+06"),
    ("float small", 0.0001, "0.0001"),
    ("float smaller", 0.00001, "1e-05"),
    ("float shortest", 0.1 + 0.2, "0.30000000000000004"),
    ("float negative", -1.5e-7, "-1.5e-07"),
    ("float huge", 1e21, "1e+21"),
    ("nan and inf", [float("nan"), float("inf"), float("-inf")], "[NaN +Inf -Inf]"),
    ("int", 42, "42"),
    ("bool", True, "true"),
    ("string", "a b", "a b"),
    ("list", ["a", 1.0, None, True], "[a 1 <nil> true]"),
    ("nested list", [["a", "b"], []], "[[a b] []]"),
    ("map sorted", {"b": 1.0, "a": "x", "c": None}, "map[a:x b:1 c:<nil>]"),
    ("map in list", [{"k": [1.0]}], "[map[k:[1]]]"),
    ("nil", None, "<no value>"),
]


@pytest.mark.parametrize(("case", "value", "want"), PRINTING, ids=[c[0] for c in PRINTING])
def test_values_print_like_go(case: str, value: Any, want: str) -> None:
    assert render("{{ .v }}", {"v": value}) == want


ERRORS = [
    (
        "eq mixed kinds",
        "{{ eq .args.s 10 }}",
        'template: t:1:3: executing "t" at <eq .args.s 10>: error calling eq: '
        "incompatible types for comparison: string and int",
    ),
    (
        "eq float and int",
        "{{ if eq .args.f 10 }}x{{ end }}",
        'template: t:1:6: executing "t" at <eq .args.f 10>: error calling eq: '
        "incompatible types for comparison: float64 and int",
    ),
    (
        "wrong arity",
        "{{ default }}",
        'template: t:1:3: executing "t" at <default>: wrong number of args for default: want at least 1 '
        "got 0",
    ),
    (
        "too many args",
        '{{ upper "a" "b" }}',
        'template: t:1:3: executing "t" at <upper>: wrong number of args for upper: want 1 got 2',
    ),
    (
        "literal of wrong type",
        "{{ upper 10 }}",
        'template: t:1:9: executing "t" at <10>: expected string; found 10',
    ),
    (
        "value of wrong type",
        "{{ upper .args.f }}",
        'template: t:1:14: executing "t" at <.args.f>: wrong type for value; expected string; got float64',
    ),
    (
        "missing value for typed parameter",
        "{{ upper .args.nope }}",
        'template: t:1:14: executing "t" at <.args.nope>: invalid value; expected string',
    ),
    (
        "nil interface for typed parameter",
        "{{ upper .args.n }}",
        'template: t:1:14: executing "t" at <.args.n>: wrong type for value; expected string; got '
        "interface {}",
    ),
    (
        "piped value of wrong type",
        "{{ .args.f | upper }}",
        'template: t:1:13: executing "t" at <upper>: wrong type for value; expected string; got float64',
    ),
    (
        "nil literal",
        "{{ upper nil }}",
        'template: t:1:9: executing "t" at <nil>: cannot assign nil to string',
    ),
    (
        "bool parameter",
        '{{ ternary "a" "b" "true" }}',
        'template: t:1:19: executing "t" at <"true">: expected bool; found "true"',
    ),
    (
        "error calling index",
        "{{ index .args.l 5 }}",
        'template: t:1:3: executing "t" at <index .args.l 5>: error calling index: index out of range: 5',
    ),
    (
        "nil pointer evaluating",
        "{{ .args.n.x }}",
        'template: t:1:8: executing "t" at <.args.n.x>: nil pointer evaluating interface {}.x',
    ),
    (
        "field of a string",
        "{{ .args.a.b }}",
        'template: t:1:8: executing "t" at <.args.a.b>: can\'t evaluate field b in type interface {}',
    ),
    (
        "field of a concrete value",
        "{{ $x := .args.a }}{{ $x.b }}",
        'template: t:1:24: executing "t" at <$x.b>: can\'t evaluate field b in type string',
    ),
    (
        "field with arguments",
        "{{ .args.a 1 }}",
        'template: t:1:8: executing "t" at <.args.a>: a is not a method but has arguments',
    ),
    (
        "argument to non-function",
        '{{ "a" "b" }}',
        'template: t:1:3: executing "t" at <"a">: can\'t give argument to non-function "a"',
    ),
    ("nil command", "{{ nil }}", 'template: t:1:3: executing "t" at <nil>: nil is not a command'),
    (
        "range over a string",
        "{{ range .args.a }}{{ end }}",
        'template: t:1:14: executing "t" at <.args.a>: range can\'t iterate over x',
    ),
    (
        "range int with two variables",
        "{{ range $i, $v := 3 }}{{ end }}",
        'template: t:1:19: executing "t" at <3>: can\'t use 3 to iterate over more than one variable',
    ),
    (
        "assignment to undeclared variable",
        "{{ $x = 1 }}",
        'template: t:1:8: executing "t" at <1>: undefined variable: $x',
    ),
    (
        "int overflow",
        "{{ 9223372036854775808 }}",
        'template: t:1:3: executing "t" at <9223372036854775808>: 9223372036854775808 overflows int',
    ),
    (
        "template not defined",
        '{{ template "nope" }}',
        'template: t:1:12: executing "t" at <{{template "nope"}}>: template "nope" not defined',
    ),
    (
        "error inside a defined template names it",
        '{{ define "T" }}{{ fail "boom" }}{{ end }}{{ template "T" }}',
        'template: t:1:19: executing "T" at <fail "boom">: error calling fail: boom',
    ),
    (
        "lookup",
        '{{ (lookup "x").spec }}',
        'template: t:1:4: executing "t" at <lookup "x">: error calling lookup: function "lookup" is not '
        "supported in this context",
    ),
    (
        "second line",
        'SELECT\n  {{ eq 1 "a" }}',
        'template: t:2:5: executing "t" at <eq 1 "a">: error calling eq: incompatible types for '
        "comparison: int and string",
    ),
    (
        "column counts bytes",
        'é {{ fail "x" }}',
        'template: t:1:6: executing "t" at <fail "x">: error calling fail: x',
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), ERRORS, ids=[c[0] for c in ERRORS])
def test_execution_errors(case: str, source: str, want: str) -> None:
    exc = error(source, DATA)
    assert str(exc) == want
    assert exc.status == 400
    assert exc.line is not None and exc.col is not None


def test_rill_name_is_empty_by_default() -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("{{ eq 1 1.5 }}").render({})
    assert str(info.value).startswith('template: :1:3: executing "" at <eq 1 1.5>:')


def test_template_error_is_a_bad_request() -> None:
    assert issubclass(TemplateError, BadRequest)


def test_template_is_immutable_and_reports_its_source() -> None:
    t = compile_template("a {{ .x }}", name="n")
    assert isinstance(t, Template)
    assert (t.source, t.name) == ("a {{ .x }}", "n")
    with pytest.raises(AttributeError):
        t.name = "other"


def test_refs_are_collected_from_literal_calls() -> None:
    t = compile_template(
        '{{ ref "a" }} {{ ref "model" "b" }} {{ ref "source" "c" }} {{ ref "MetricsView" "d" }} '
        '{{ if .x }}{{ ref "a" }}{{ end }} {{ ref .dynamic }} {{ define "T" }}{{ ref "e" }}{{ end }}'
    )
    assert t.refs == ((None, "a"), ("model", "b"), ("model", "c"), ("metrics_view", "d"), (None, "e"))


def test_render_does_not_mutate_between_calls() -> None:
    t = compile_template("{{ range .l }}{{ . }}{{ end }}{{ .x }}")
    assert t.render({"l": [1, 2], "x": "a"}) == "12a"
    assert t.render({"l": [], "x": "b"}) == "b"


def test_mapping_data_other_than_dict() -> None:
    from types import MappingProxyType

    data = MappingProxyType({"args": MappingProxyType({"a": "x"})})
    assert render("{{ .args.a }}|{{ .args.b }}", data) == "x|<no value>"


def test_concurrent_renders_are_independent() -> None:
    t = compile_template("{{ range $i := until 200 }}{{ $.k }}{{ end }}")
    results: dict[int, str] = {}

    def work(k: int) -> None:
        results[k] = t.render({"k": str(k % 10)})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(results[k] == str(k % 10) * 200 for k in range(8))


def test_python_exceptions_in_functions_become_template_errors() -> None:
    def boom(*_: Any) -> Any:
        raise KeyError("nope")

    t = compile_template("{{ boom 1 }}", funcs={"boom": boom, "div0": lambda: 1 // 0})
    with pytest.raises(
        TemplateError, match=r"^template: :1:3: executing \"\" at <boom 1>: error calling boom: 'nope'$"
    ):
        t.render({})
    with pytest.raises(TemplateError, match="error calling div0: runtime error: integer divide by zero"):
        compile_template("{{ div0 }}", funcs={"div0": lambda: 1 // 0}).render({})


HOSTILE = [
    ("huge range", "{{ range 100000000 }}{{ end }}", "range iterations and template calls (emulator limit)"),
    (
        "nested ranges",
        "{{ range 2000 }}{{ range 2000 }}{{ end }}{{ end }}",
        "range iterations and template calls",
    ),
    (
        "recursive template",
        '{{ define "a" }}{{ template "a" }}{{ end }}{{ template "a" }}',
        "maximum template depth",
    ),
    ("huge list", "{{ until 1000000000 }}", "exceeds the emulator's limit of 1000000"),
    ("doubling string", '{{ $s := "ab" }}{{ range 100 }}{{ $s = cat $s $s }}{{ end }}', "16777216 bytes"),
    ("huge printf width", '{{ printf "%999999999d" 1 }}', "exceeds the emulator's limit"),
]


@pytest.mark.parametrize(("case", "source", "needle"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_templates_fail_fast(case: str, source: str, needle: str) -> None:
    exc = error(source)
    assert needle in str(exc)


def test_slow_renders_hit_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.templating import runtime

    monkeypatch.setattr(runtime, "MAX_RENDER_SECONDS", 0.01)
    exc = error("{{ $l := list }}{{ range 500000 }}{{ $l = append $l 1 }}{{ end }}")
    assert "render took longer than 0.01s (emulator limit)" in str(exc)


def test_structures_too_deep_for_python_fail_to_compile() -> None:
    with pytest.raises(TemplateError, match="too deeply nested"):
        compile_template("{{ range 1 }}" * 25 + "{{ end }}" * 25)
    assert compile_template("{{ if true }}" * 40 + "x" + "{{ end }}" * 40).render({}) == "x"
