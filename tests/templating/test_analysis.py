"""Static analysis of templates: which ``.args`` keys are read, guarded, printed inside SQL quotes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from emulator.templating import FieldUse, arg_uses, compile_template, field_uses, presence_checks
from tests.templating.test_fuzz import pipelines, skeletons, sources


def _summary(source: str) -> list[tuple[str, str | None, str | None]]:
    return [(".".join(u.path), u.guard, u.quote) for u in arg_uses(source)]


def test_plain_reads() -> None:
    assert _summary('SELECT {{ .args.a }}, {{ $.args.b.c }}, {{ index .args "d" }}, {{ get .args "e" }}') == [
        ("a", None, None),
        ("b.c", None, None),
        ("d", None, None),
        ("e", None, None),
    ]


def test_guards() -> None:
    source = (
        "{{ default 1 .args.a }} {{ .args.b | default 2 }} {{ coalesce .args.c 3 }} {{ if .args.d }}"
        '{{ .args.d }}{{ .args.x }}{{ else }}{{ .args.d }}{{ end }} {{ if hasKey .args "e" }}{{ .args.e }}'
        '{{ end }} {{ with .args.f }}{{ . }}{{ end }} {{ .args.g | toString | default "z" }}'
        ' {{ if and (hasKey .args "h") (gt (len .args.h) 0) }}{{ .args.h }}{{ end }}'
    )
    assert _summary(source) == [
        ("a", "default", None),
        ("b", "default", None),
        ("c", "default", None),
        ("d", "condition", None),
        ("d", "branch", None),
        ("x", None, None),
        ("d", None, None),  # the else branch runs when d is missing
        ("e", "branch", None),
        ("f", "condition", None),
        ("g", "default", None),
        ("h", "condition", None),
        ("h", "branch", None),
    ]


def test_quotes() -> None:
    source = (
        "SELECT '{{ .args.a }}', \"{{ .args.b }}\", '{{ .args.c | replace \"'\" \"''\" }}', "
        "{{ as_sql_list .args.d }}, 'it''s {{ .args.e }}', 'x' || {{ .args.f }} -- '{{ .args.g }}'\n"
        "/* '{{ .args.h }}' */ '{{ printf \"%s-%s\" .args.i .args.j | upper }}' '{{ len .args.k }}'"
    )
    assert [(p, q) for p, _, q in _summary(source)] == [
        ("a", "'"),
        ("b", '"'),
        ("c", None),
        ("d", None),
        ("e", "'"),
        ("f", None),
        ("g", None),
        ("h", None),
        ("i", "'"),
        ("j", "'"),
        ("k", None),
    ]


def test_positions_and_context() -> None:
    [use] = arg_uses(compile_template("SELECT 1\nWHERE x = '{{ .args.x }}'"))
    assert use == FieldUse("args", "x", ("x",), None, "'", 2, use.col, "{{.args.x}}")
    assert 14 <= use.col <= 20  # Go's position of the field chain, inside the action
    assert use.guarded is False


def test_other_roots_and_presence_checks() -> None:
    source = '{{ .user.a }} {{ if hasKey .user "b" }}{{ .user.b }}{{ end }} {{ .args.c }}'
    assert [u.name for u in field_uses(source, "user")] == ["a", "b"]
    assert presence_checks(source, "user") == {"b"}
    assert presence_checks(source, "args") == frozenset()


def test_dot_changes_are_not_followed_but_root_variables_are() -> None:
    source = "{{ range .args.l }}{{ .x }}{{ $.args.y }}{{ end }}{{ with .args }}{{ .z }}{{ end }}"
    assert [u.name for u in arg_uses(source)] == ["l", "y"]


def test_defined_templates_are_walked() -> None:
    assert [u.name for u in arg_uses('{{ define "t" }}{{ .args.a }}{{ end }}{{ template "t" . }}')] == ["a"]


def test_text_that_does_not_parse_has_no_uses() -> None:
    assert arg_uses("{{ if }}") == ()
    assert arg_uses("{{ .args.a") == ()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources)
def test_any_text_analyses_without_crashing(source: str) -> None:
    for use in arg_uses(source):
        assert use.root == "args" and use.path[0] == use.name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(skeletons, pipelines)
def test_any_template_analyses_without_crashing(skeleton: str, pipeline: str) -> None:
    source = "SELECT '" + skeleton % pipeline + "'"
    uses = arg_uses(source)
    assert all(u.line >= 1 and u.col >= 0 and u.quote in (None, "'") for u in uses)
