"""Rill's template functions and the examples of Rill's own tests and docs (rill-behaviour §3)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.templating import TemplateError, compile_template, rill_funcs
from tests.templating._util import render


def resolve(source: str, data: dict[str, Any], environment: str = "dev") -> str:
    """Like Rill's ResolveTemplate: the data map Rill builds, the functions of the environment."""
    full = {"environment": environment, "user": {}, "env": {}, "vars": {}, "state": {}, "self": {}, **data}
    return compile_template(source, funcs=rill_funcs(environment)).render(full)


AS_SQL_LIST = [  # runtime/parser/template_test.go TestAsSQLList
    ("strings", '{{ as_sql_list (list "a" "b" "c") }}', "('a', 'b', 'c')"),
    ("ints", "{{ as_sql_list (list 1 2 3) }}", "(1, 2, 3)"),
    ("mixed types", '{{ as_sql_list (list 1 "b" 3) }}', "(1, 'b', 3)"),
    ("empty list", "{{ as_sql_list (list) }}", "()"),
    ("nil input", "{{ as_sql_list nil }}", "()"),
    ("single string", '{{ as_sql_list "hello" }}', "('hello')"),
    ("string with quotes", '{{ as_sql_list "hello\'world" }}', "('hello''world')"),
    ("booleans", "{{ as_sql_list (list true false) }}", "(true, false)"),
    ("floats", "{{ as_sql_list (list 1.5 2.7 3.14) }}", "(1.5, 2.7, 3.14)"),
    ("mixed with null", '{{ as_sql_list (list "a" nil "c") }}', "('a', NULL, 'c')"),
    # beyond Rill's table: JSON numbers, missing args, typed slices, other values
    ("json floats", "{{ as_sql_list .args.ids }}", "(1, 2.5, 1e+06)"),
    ("missing arg", "{{ as_sql_list .args.nope }}", "()"),
    ("typed string slice", '{{ as_sql_list (splitList "," "a,b") }}', "('a', 'b')"),
    ("int slice", "{{ as_sql_list (until 3) }}", "(0, 1, 2)"),
    ("map is stringified", '{{ as_sql_list (dict "a" 1) }}', "('map[a:1]')"),
    ("nested list is stringified", '{{ as_sql_list (list (list "x" "y")) }}', "('[x y]')"),
    ("piped", "{{ .args.names | as_sql_list }}", "('o''brien', 'x')"),
]


@pytest.mark.parametrize(("case", "source", "want"), AS_SQL_LIST, ids=[c[0] for c in AS_SQL_LIST])
def test_as_sql_list(case: str, source: str, want: str) -> None:
    args = {"ids": [1.0, 2.5, 1e6], "names": ["o'brien", "x"]}
    assert resolve(source, {"args": args}) == want


SECURITY = [  # runtime/parser/template_test.go TestAsSQLListSecurityPolicies
    (
        "single restaurant access",
        "restaurant_id = {{ .user.restaurant_id }}",
        {"restaurant_id": "rest_123"},
        "restaurant_id = rest_123",
    ),
    (
        "multi-valued campaigns with as_sql_list",
        "campaign IN {{ .user.allowed_campaigns | as_sql_list }}",
        {"allowed_campaigns": ["campaign1", "campaign2", 'camp"ign3']},
        "campaign IN ('campaign1', 'campaign2', 'camp\"ign3')",
    ),
    (
        "mixed types with admin flag and numeric budget",
        "region = '{{ .user.region }}' AND budget > {{ .user.min_budget }}",
        {"region": "us-west", "min_budget": 1000},
        "region = 'us-west' AND budget > 1000",
    ),
    (
        "access check with len function",
        "{{ len .user.allowed_campaigns }} > 0",
        {"allowed_campaigns": ["c1", "c2"]},
        "2 > 0",
    ),
    ("boolean admin check", "{{ .user.is_admin }} == true", {"is_admin": True}, "true == true"),
    (
        "null check for access control",
        "{{ .user.restaurant_id }} IS NOT NULL",
        {"restaurant_id": "rest_456"},
        "rest_456 IS NOT NULL",
    ),
    (
        "complex security policy with quotes and mixed types",
        "user_id IN {{ .user.allowed_users | as_sql_list }} AND priority >= {{ .user.min_priority }} "
        "AND status = '{{ .user.status }}'",
        {"allowed_users": ["user'1", "user2", 123], "min_priority": 5, "status": "active"},
        "user_id IN ('user''1', 'user2', 123) AND priority >= 5 AND status = 'active'",
    ),
]


@pytest.mark.parametrize(("case", "source", "user", "want"), SECURITY, ids=[c[0] for c in SECURITY])
def test_security_policy_templates(case: str, source: str, user: dict[str, Any], want: str) -> None:
    assert resolve(source, {"user": user}) == want


RESOLVE = (
    "SELECT partner_id FROM domain_partner_mapping WHERE domain = '{{ .user.domain }}' "
    "AND groups IN ('{{ .user.groups | join \"', '\" }}') {{ if dev }}OR true{{ end }}"
)


def test_resolve_dev_and_prod() -> None:  # TestResolve
    user = {"domain": "rilldata.com", "groups": ["admin", "user"]}
    head = (
        "SELECT partner_id FROM domain_partner_mapping WHERE domain = 'rilldata.com' AND groups IN "
        "('admin', 'user') "
    )
    assert resolve(RESOLVE, {"user": user}, "dev") == head + "OR true"
    assert resolve(RESOLVE, {"user": user}, "prod") == head


def test_variables_with_dots() -> None:  # TestVariables: "b.a" is both flat and nested
    env = {"a": "1", "b.a": "2", "b": {"a": "2"}}
    source = 'a={{ .env.a }} b.a={{ .env.b.a }} b.a={{ get .env "b.a" }}'
    assert resolve(source, {"env": env}) == "a=1 b.a=2 b.a=2"


DOCS = [  # rill-behaviour §3.7 and §3.4
    (
        "optional filter present",
        "{{ if hasKey .args \"publisher\" }} WHERE publisher = '{{ .args.publisher }}' {{ end }}",
        {"args": {"publisher": "Yahoo"}},
        " WHERE publisher = 'Yahoo' ",
    ),
    (
        "optional filter absent",
        "{{ if hasKey .args \"publisher\" }} WHERE publisher = '{{ .args.publisher }}' {{ end }}",
        {"args": {}},
        "",
    ),
    (
        "pagination defaults",
        "LIMIT {{ default 25 .args.limit }} OFFSET {{ default 0 .args.offset }}",
        {"args": {}},
        "LIMIT 25 OFFSET 0",
    ),
    ("query string zero is kept", "LIMIT {{ default 25 .args.limit }}", {"args": {"limit": "0"}}, "LIMIT 0"),
    ("json zero is empty", "LIMIT {{ default 25 .args.limit }}", {"args": {"limit": 0.0}}, "LIMIT 25"),
    ("json number prints like Go", "LIMIT {{ .args.limit }}", {"args": {"limit": 1e6}}, "LIMIT 1e+06"),
    (
        "admin columns",
        "{{ if .user.admin }} , SUM(revenue) AS total_revenue {{ end }}",
        {"user": {"admin": True}},
        " , SUM(revenue) AS total_revenue ",
    ),
    (
        "export aware",
        "{{ if (not .export) }} LIMIT {{ default 20 .args.pageSize }} {{ end }}",
        {"export": False, "args": {}},
        " LIMIT 20 ",
    ),
    (
        "groups",
        "groups IN ('{{ .user.groups | join \"', '\" }}')",
        {"user": {"groups": ["g1", "g2"]}},
        "groups IN ('g1', 'g2')",
    ),
    ("nil groups", "groups IN ('{{ .user.groups | join \"', '\" }}')", {"user": {}}, "groups IN ('')"),
    ("missing attribute", "'{{ .user.domain }}' = 'x'", {"user": {}}, "'<no value>' = 'x'"),
    (
        "flag false from query string is true",
        "{{ if .args.flag }}on{{ end }}",
        {"args": {"flag": "false"}},
        "on",
    ),
    ("environment", "{{ .environment }} {{ dev }} {{ prod }} {{ incremental }}", {}, "dev true false false"),
]


@pytest.mark.parametrize(("case", "source", "data", "want"), DOCS, ids=[c[0] for c in DOCS])
def test_documented_examples(case: str, source: str, data: dict[str, Any], want: str) -> None:
    assert resolve(source, data) == want


def test_query_string_number_is_not_comparable_with_int() -> None:
    with pytest.raises(TemplateError) as info:
        resolve("{{ if eq .args.limit 10 }}x{{ end }}", {"args": {"limit": "10"}})
    assert "error calling eq: incompatible types for comparison: string and int" in str(info.value)


def test_ref() -> None:
    assert render('{{ ref "m" }} {{ ref "model" "my_model" }} {{ ref "source" "s" }} {{ ref "a\\"b" }}') == (
        '"m" "my_model" "s" "a""b"'
    )
    assert render('{{ ref "bad" "m" }}').endswith(
        'error calling ref: invalid "ref" input: invalid resource kind "bad"'
    )
    assert render("{{ ref }}").endswith(
        'error calling ref: invalid "ref" input: expected one or two args, but got 0'
    )
    assert render("{{ ref 1 }}").endswith("expected string; found 1")


def test_ref_resolver() -> None:
    seen: list[tuple[str | None, str]] = []

    def resolve_ref(kind: str | None, name: str) -> str:
        seen.append((kind, name))
        if name == "missing":
            raise LookupError(f"resource {name!r} not found")
        return f"main.{name}"

    funcs = rill_funcs("dev", resolve_ref=resolve_ref)
    t = compile_template('{{ ref "a" }} {{ ref "source" "b" }}', funcs=funcs)
    assert t.render({}) == "main.a main.b"
    assert seen == [(None, "a"), ("model", "b")]
    with pytest.raises(
        TemplateError, match="error calling ref: function \"ref\" failed: resource 'missing' not found"
    ):
        compile_template('{{ ref "missing" }}', funcs=funcs).render({})


def test_lookup_configure_dependency() -> None:
    assert render('{{ lookup "x" }}').endswith(
        'error calling lookup: function "lookup" is not supported in this context'
    )
    # resolve-time no-ops return a nil error, which Go prints as <nil>
    assert (
        render('{{ configure "a" "b" }}|{{ dependency "m" }}|{{ if configure "a" }}t{{ else }}f{{ end }}')
        == "<nil>|<nil>|f"
    )
    assert render('{{ configure "a" 1 }}').endswith("expected string; found 1")


def test_rill_funcs_shape() -> None:
    funcs = rill_funcs("prod")
    assert set(funcs) == {
        "dev",
        "prod",
        "incremental",
        "as_sql_list",
        "ref",
        "lookup",
        "configure",
        "dependency",
    }
    assert funcs["prod"]() is True
    assert funcs["dev"]() is False
    assert funcs["as_sql_list"](["a", None]) == "('a', NULL)"
