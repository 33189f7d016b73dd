"""Lints: warnings on load and in ``rill-emu validate``, never errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.lints import Linter, declared_args, lint_project
from emulator.olap.duckdb import DuckDBEngine
from emulator.project.loader import ProjectLoader
from emulator.project.resources import OpenAPIBlock, Problem, Project
from emulator.runtime import RuntimeBuilder

ROOT = Path(__file__).resolve().parents[1]
MOCK_USERS = """\
compiler: rillv1
mock_users:
  - email: ada@x.com
    admin: true
  - email: bo@y.com
    tenant: t1
"""


def _project(root: Path, files: dict[str, str]) -> Path:
    files = {"rill.yaml": "compiler: rillv1\n", **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _api(sql: str, *params: str) -> str:
    """An API file with ``sql`` as a block scalar, declaring ``params`` as query parameters."""
    declared = "".join(f"    - {{name: {p}, in: query}}\n" for p in params)
    return f"type: api\nopenapi:\n  parameters:\n{declared}sql: |\n  {sql}\n"


def _lints(tmp_path: Path, files: dict[str, str]) -> list[Problem]:
    project = ProjectLoader(_project(tmp_path, files)).load()
    assert not project.problems, project.problems
    return lint_project(project)


def test_an_arg_printed_inside_quotes_is_a_warning(tmp_path: Path) -> None:
    [problem] = _lints(
        tmp_path,
        {
            "apis/a.yaml": """\
                type: api
                sql: |
                  SELECT 1
                  {{ if hasKey .args "s" }} WHERE s = '{{ .args.s }}' {{ end }}
                """
        },
    )
    assert problem.severity == "warning"
    assert problem.path == "/apis/a.yaml"
    assert problem.line == 4
    assert problem.message.startswith(
        'sql: arg "s" is printed unescaped inside a SQL string literal ({{.args.s}}): a value containing \' '
        "rewrites the query (SQL injection)"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT '{{ default \"x\" .args.s }}'",
        "SELECT '%{{ .args.s | lower }}%'",
        "SELECT 'a' || '{{ printf \"%v\" .args.s }}'",
        'SELECT "{{ .args.col }}" FROM t',
        "SELECT '{{ squote .args.s }}'",
        "SELECT '{{ index .args \"s\" }}'",
        "SELECT '{{ $.args.s }}'",
    ],
)
def test_unescaped_forms(tmp_path: Path, sql: str) -> None:
    problems = _lints(tmp_path, {"apis/a.yaml": _api(sql, "s", "col")})
    assert [p.message.split(":")[1].strip().split(" is ")[0] for p in problems] in (
        ['arg "s"'],
        ['arg "col"'],
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE s IN {{ as_sql_list .args.s }}",
        "SELECT '{{ .args.s | replace \"'\" \"''\" }}'",
        "SELECT {{ default 10 .args.s }}",
        "SELECT 'it''s' AS q, {{ default 1 .args.s }}",
        "SELECT 1 -- '{{ .args.s }}'",
        "SELECT 1 /* '{{ .args.s }}' */",
        "SELECT '{{ .args.s | int }}'",
        "SELECT '{{ .user.email }}', '{{ .env.x }}'",
        "SELECT '{{ if .args.s }}x{{ end }}'",
    ],
)
def test_escaped_or_unquoted_forms_are_fine(tmp_path: Path, sql: str) -> None:
    assert _lints(tmp_path, {"apis/a.yaml": _api(sql, "s")}) == []


def test_an_arg_with_no_default_and_no_declaration_is_a_warning(tmp_path: Path) -> None:
    problems = _lints(
        tmp_path,
        {
            "apis/a.sql": """\
                -- @type: api
                SELECT * FROM t
                WHERE id = {{ .args.id }}
                LIMIT {{ default 10 .args.limit }}
                {{ if .args.period }} AND d >= {{ .args.period.start }} {{ end }}
                {{ if hasKey .args "tag" }} AND tag = {{ .args.tag }} {{ end }}
                """,
        },
    )
    assert [(p.line, p.message) for p in problems] == [
        (
            3,
            'sql: arg "id" is used without a default ({{.args.id}}) and is not declared in '
            "openapi.parameters or openapi.request_schema: a request without it renders <no value>",
        )
    ]


def test_declared_args_do_not_warn(tmp_path: Path) -> None:
    files = {
        "apis/p.yaml": """\
            type: api
            openapi:
              parameters:
                - {name: id, in: query, required: true, schema: {type: integer}}
            sql: SELECT {{ .args.id }}
            """,
        "apis/b.yaml": """\
            type: api
            openapi:
              request_schema:
                type: object
                properties: {period: {$ref: "#/$defs/P"}}
                allOf: [{properties: {id: {type: integer}}}]
                $defs:
                  P: {properties: {x: {type: string}}}
            metrics_sql: SELECT m FROM mv WHERE d = {{ .args.id }} AND e = {{ .args.period }}
            """,
    }
    assert _lints(tmp_path, files) == []


def test_declared_args_reads_parameters_and_schemas() -> None:
    block = OpenAPIBlock(
        parameters=({"name": "a", "in": "query"}, {"in": "query"}),
        request_schema={
            "properties": {"b": {}},
            "$ref": "#/$defs/X",
            "$defs": {"X": {"properties": {"c": {}}}},
        },
    )
    assert declared_args(block) == {"a", "b", "c"}


def test_security_attributes_no_mock_user_has(tmp_path: Path) -> None:
    problems = _lints(
        tmp_path,
        {
            "rill.yaml": MOCK_USERS,
            "apis/a.yaml": """\
                type: api
                sql: SELECT 1
                security:
                  access: "{{ .user.admin }} OR '{{ .user.tennant }}' = 't1'"
                """,
            "models/m.sql": "SELECT 1 AS x, 'a' AS d",
            "metrics/mv.yaml": """\
                type: metrics_view
                model: m
                dimensions: [{column: d}]
                measures: [{name: n, expression: count(*)}]
                security:
                  access: true
                  row_filter: >-
                    d = '{{ .user.tenant }}'
                    {{ if hasKey .user "region" }}AND r = '{{ .user.region }}'{{ end }}
                  exclude:
                    - if: "'{{ .user.department }}' != 'x'"
                      names: [n]
                """,
        },
    )
    assert [(p.path, p.severity, p.message.split(" (")[0]) for p in problems] == [
        ("/apis/a.yaml", "warning", 'security: user attribute "tennant"'),
        ("/metrics/mv.yaml", "warning", 'security: user attribute "department"'),
    ]
    assert "is set for no mock user of rill.yaml (ada@x.com, bo@y.com)" in problems[0].message


def test_without_mock_users_attributes_are_not_checked(tmp_path: Path) -> None:
    files = {"apis/a.yaml": "type: api\nsql: SELECT 1\nsecurity:\n  access: \"'{{ .user.tenant }}' = 'x'\"\n"}
    assert _lints(tmp_path, files) == []


def test_the_sample_project_is_lint_clean() -> None:
    assert lint_project(ProjectLoader(ROOT / "sample_project").load()) == []


def test_the_linter_lints_only_changed_specs() -> None:
    project = ProjectLoader(ROOT / "sample_project").load()
    linter = Linter()
    linter.lints(project)
    cached = dict(linter._cache)
    linter.lints(project)
    assert all(linter._cache[k] is cached[k] for k in cached)


# --- on load and in validate -------------------------------------------------------------------------


def test_warnings_reach_the_runtime_and_never_fail_the_load(tmp_path: Path) -> None:
    root = _project(tmp_path, {"apis/a.yaml": "type: api\nsql: SELECT '{{ .args.s }}' AS s\n"})
    engine = DuckDBEngine(root)
    try:
        runtime = RuntimeBuilder(root, engine).build()
        assert {p.severity for p in runtime.problems} == {"warning"}
        assert len(runtime.problems) == 2  # quoted, and used without default nor declaration
        assert "a" in runtime.project.apis
        result = runtime.resolve(runtime.project.apis["a"], {"s": "x"}, _anonymous())
        assert result.rows == [("x",)]
    finally:
        engine.close()


def _anonymous() -> object:
    from emulator.identity import Claims

    return Claims({"admin": True}, skip_checks=True)


def test_validate_prints_warnings_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, {"apis/a.yaml": "type: api\nsql: SELECT '{{ .args.s }}' AS s\n"})
    assert main(["validate", str(root)]) == 0
    out, err = capsys.readouterr()
    assert out.count('warning: apis/a.yaml:2: sql: arg "s"') == 2
    assert "0 errors, 2 warnings" in err


def test_lints_of_a_project_with_no_apis(tmp_path: Path) -> None:
    project = Project(
        root=tmp_path, environment="dev", config=ProjectLoader(_project(tmp_path, {})).load().config,
        variables={}, apis={}, models={}, metrics_views={},
    )  # fmt: skip
    assert Linter().apply(project) is project
