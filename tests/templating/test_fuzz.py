"""Property: any text compiles or raises TemplateError; any template renders or raises TemplateError."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.templating import Template, TemplateError, compile_template
from emulator.templating.library import default_funcs

FUNCS = sorted(default_funcs())
PIECES = [
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/*",
    "*/}}",
    " ",
    "\n",
    ".",
    ".args",
    ".args.a",
    ".args.l",
    ".args.m",
    ".args.n",
    ".user",
    "$",
    "$x",
    "$i",
    ":=",
    "=",
    ",",
    "|",
    "(",
    ")",
    '"',
    '"s"',
    "`r`",
    "'c'",
    "1",
    "-2",
    "2.5",
    "1e6",
    "0x1F",
    "nil",
    "true",
    "false",
    "if ",
    "else ",
    "end",
    "range ",
    "with ",
    "define ",
    'template "T"',
    "block ",
    "break",
    "continue",
    "and ",
    "or ",
    "not ",
    "eq ",
    "lt ",
    "index ",
    "len ",
    "printf ",
    '"%v"',
    "print ",
    "default ",
    "list ",
    "dict ",
    "until ",
    "add ",
    "join ",
    "quote ",
    "slice ",
    "toJson ",
    "as_sql_list ",
    "ref ",
    "x",
    "é",
    "\\",
    "%",
]

DATA: dict[str, Any] = {
    "args": {"a": "x", "l": [1.0, "b", None, {"k": [2]}], "m": {"k": "v"}, "n": None, "f": 2.5},
    "user": {"groups": ["g"], "admin": True},
    "env": {},
    "environment": "dev",
    "export": False,
}

fragments = st.lists(st.sampled_from(PIECES + [f"{name} " for name in FUNCS]), max_size=24).map("".join)
sources = st.one_of(
    fragments,
    st.text(max_size=40),
    st.lists(st.sampled_from(["{{", "}}", "{{-", "-}}", " ", "a", "("]), max_size=12).map("".join),
)


def _compile(source: str) -> Template | None:
    try:
        return compile_template(source, name="fuzz")
    except TemplateError:
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources)
def test_any_text_compiles_or_raises_template_error(source: str) -> None:
    _compile(source)


# Templates that parse: an action with a random pipeline around well-formed skeletons.
operands = st.sampled_from(
    [
        ".args.a",
        ".args.l",
        ".args.m",
        ".args.n",
        ".args.f",
        ".nope",
        ".",
        "$",
        "1",
        "2.5",
        '"s"',
        "nil",
        "true",
        "(list 1 2)",
        '(dict "k" 1)',
        "(until 3)",
        ".args.m.k",
        ".args.a.b",
    ]
)
commands = (
    st.builds(
        lambda fn, args: f"{fn} {' '.join(args)}", st.sampled_from(FUNCS), st.lists(operands, max_size=3)
    )
    | operands
)
pipelines = st.lists(commands, min_size=1, max_size=3).map(" | ".join)
skeletons = st.sampled_from(
    [
        "{{ %s }}",
        "{{ if %s }}a{{ else }}b{{ end }}",
        "{{ range $i, $e := %s }}[{{ $e }}]{{ end }}",
        "{{ with %s }}{{ . }}{{ end }}",
        "{{ $x := %s }}{{ $x }}",
        "{{ range %s }}{{ break }}{{ end }}",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(skeletons, pipelines)
def test_any_template_renders_or_raises_template_error(skeleton: str, pipeline: str) -> None:
    template = _compile(skeleton % pipeline)
    if template is None:
        return
    try:
        out = template.render(DATA)
    except TemplateError as exc:
        assert str(exc).startswith("template: fuzz")
    else:
        assert isinstance(out, str)
