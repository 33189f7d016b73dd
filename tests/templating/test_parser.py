"""Parse errors: Go's messages, with the line and the (byte) column of the offending token."""

from __future__ import annotations

import pytest

from emulator.templating import TemplateError, compile_template
from emulator.templating.lexer import go_quote

PARSE_ERRORS = [
    ("env is removed", '{{ env "HOME" }}', 'template: t:1:3: function "env" not defined'),
    ("expandenv is removed", '{{ expandenv "$HOME" }}', 'template: t:1:3: function "expandenv" not defined'),
    ("unknown function", "{{ 1 }}{{ nope }}", 'template: t:1:10: function "nope" not defined'),
    (
        "unknown function on line 3",
        "a\nb\n  {{ .x | frob }}",
        'template: t:3:10: function "frob" not defined',
    ),
    ("missing value", "{{ if }}", "template: t:1:6: missing value for if"),
    ("empty action", "{{ }}", "template: t:1:3: missing value for command"),
    ("unclosed if", "{{ if .a }}x", "template: t:1:12: unexpected EOF"),
    ("stray end", "{{ end }}", "template: t:1:7: unexpected {{end}}"),
    ("stray else", "{{ else }}", "template: t:1:8: unexpected {{else}}"),
    ("unclosed action", "{{ .a", "template: t:1:5: unclosed action"),
    ("unclosed action across lines", "{{ if\n .a\n", "template: t:3:0: unclosed action started at t:1"),
    ("unterminated string", '{{ "abc }}', "template: t:1:3: unterminated quoted string"),
    ("unterminated raw string", "{{ `abc }}", "template: t:1:3: unterminated raw quoted string"),
    ("bad char constant", "{{ 'ab' }}", "template: t:1:3: malformed character constant: 'ab'"),
    ("bad escape", r'{{ "\q" }}', "template: t:1:3: invalid syntax"),
    ("undefined variable", "{{ $x }}", 'template: t:1:6: undefined variable "$x"'),
    (
        "variable out of scope",
        "{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}",
        'template: t:1:41: undefined variable "$x"',
    ),
    ("break outside range", "{{ break }}", "template: t:1:9: {{break}} outside {{range}}"),
    ("continue outside range", "{{ continue }}", "template: t:1:12: {{continue}} outside {{range}}"),
    (
        "too many range variables",
        "{{ range $i, $j, $k := .l }}{{ end }}",
        "template: t:1:15: too many declarations in range",
    ),
    ("too many variables", "{{ $x, $y := 1 }}", "template: t:1:5: too many declarations in command"),
    ("literal in pipeline", '{{ .a | "x" }}', "template: t:1:12: non executable command in pipeline stage 2"),
    ("unclosed paren", "{{ ( .a }}", "template: t:1:8: unclosed left paren"),
    ("unexpected right paren", "{{ .a ) }}", 'template: t:1:6: unexpected ")" in command'),
    ("unclosed comment", "{{/* x }}", "template: t:1:2: unclosed comment"),
    ("comment before delimiter", "{{/* x */ }}", "template: t:1:2: comment ends before closing delimiter"),
    ("bad number", "{{ 3x }}", 'template: t:1:3: bad number syntax: "3x"'),
    ("bad character", "{{ .a# }}", "template: t:1:3: bad character U+0023 '#'"),
    ("expected :=", "{{ $x := 1 }}{{ $x :1 }}", "template: t:1:19: expected :="),
    (
        "integer overflow",
        "{{ 99999999999999999999 }}",
        'template: t:1:3: integer overflow: "99999999999999999999"',
    ),
    ("dot after literal", "{{ true.x }}", 'template: t:1:9: unexpected . after term "true"'),
    ("dangling minus", "{{- -}}", 'template: t:1:4: illegal number syntax: "-"'),
    (
        "define inside if",
        '{{ if true }}{{ define "x" }}{{ end }}{{ end }}',
        "template: t:1:16: unexpected <define> in command",
    ),
    (
        "double definition",
        '{{ define "a" }}a{{ end }}{{ define "a" }}b{{ end }}',
        'template: t:1:50: template: multiple definition of template "a"',
    ),
    ("unexpected token", "{{ .a = 1 }}", 'template: t:1:6: unexpected "=" in operand'),
    (
        "long token is truncated",
        '{{ if true }}{{ else "abcdefghijklmnop" }}',
        'template: t:1:21: unexpected "\\"abcdefghi"... in else',
    ),
    (
        "max depth",
        "{{ " + "(" * 101 + "1" + ")" * 101 + " }}",
        "template: t:1:103: max expression depth exceeded",
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS])
def test_parse_errors(case: str, source: str, want: str) -> None:
    with pytest.raises(TemplateError) as info:
        compile_template(source, name="t")
    assert str(info.value) == want
    line, col = want.split(":")[2:4]
    assert (info.value.line, info.value.col) == (int(line), int(col))


def test_trailing_pipe_is_accepted_as_in_go() -> None:
    assert compile_template("{{ .a | }}").render({"a": "x"}) == "x"


def test_parse_errors_are_raised_at_compile_time_only() -> None:
    # an unknown function inside a branch that would never run still fails to compile
    with pytest.raises(TemplateError):
        compile_template("{{ if false }}{{ nope }}{{ end }}")
    # while execution errors only fail when reached
    assert compile_template("{{ if false }}{{ fail `x` }}{{ end }}ok").render({}) == "ok"


def test_custom_functions_are_known_to_the_parser() -> None:
    t = compile_template("{{ shout .a }}", funcs={"shout": lambda s: str(s).upper() + "!"})
    assert t.render({"a": "hi"}) == "HI!"
    with pytest.raises(TemplateError, match='function "shout" not defined'):
        compile_template("{{ shout .a }}")


def test_item_descriptions_quote_like_go() -> None:
    assert go_quote('a"b\n\x00é\u2028') == '"a\\"b\\n\\x00é\\u2028"'
