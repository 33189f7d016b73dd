"""Stem groups turned into nodes: SQL templates compiled once, errors mapped to file lines."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.project.loader import load_project
from emulator.project.node import sql_template_source
from emulator.project.resources import Project, ResourceRef

from .conftest import WriteTree, problem_at

Load = Callable[..., Project]


@pytest.mark.parametrize(
    ("sql", "trimmed", "offset"),
    [
        ("SELECT 1;", "SELECT 1", 0),
        ("\n\n  SELECT 1 ;;\n", "SELECT 1 ;", 2),
        ("SELECT 1 -- x;\n", "SELECT 1 -- x", 0),
        ("   ", "", 0),
    ],
)
def test_sql_template_source(sql: str, trimmed: str, offset: int) -> None:
    assert sql_template_source(sql) == (trimmed, offset)


def test_template_syntax_error_in_a_yaml_block_names_the_file_line(load: Load) -> None:
    project = load(
        {
            "apis/a.yaml": (
                "type: api\n"  # 1
                "sql: |\n"  # 2
                "  SELECT *\n"  # 3
                "  FROM t\n"  # 4
                "  WHERE x = {{ .args.x }\n"  # 5
                "openapi: {summary: s}\n"
            ),
            "apis/ok.yaml": "type: api\nsql: SELECT {{ .args.x }}\n",
        }
    )
    problem = problem_at(project, "/apis/a.yaml")
    assert problem.message.startswith("template: ")
    assert problem.line == 5
    assert list(project.apis) == ["ok"]


def test_template_syntax_error_in_a_sql_file_counts_leading_blank_lines(write_tree: WriteTree) -> None:
    root = write_tree({"apis/a.yaml": "type: api\n"})
    (root / "apis" / "a.sql").write_text("\n\nSELECT 1\nWHERE x = {{ .args.x }\nLIMIT 1\n")
    project = load_project(root)
    problem = problem_at(project, "/apis/a.sql")
    assert problem.message.startswith("template: :4:")  # Rill analyses the untrimmed file
    assert problem.line == 4
    assert (
        problem_at(project, "/apis/a.yaml").message == "skipping file due to error in companion SQL/YAML file"
    )


def test_metrics_sql_syntax_error(load: Load) -> None:
    project = load({"apis/a.yaml": "type: api\nmetrics_sql: SELECT a FROM mv WHERE {{ .args.x ) }}\n"})
    problem = problem_at(project, "/apis/a.yaml")
    assert problem.message.startswith("template: ")
    assert problem.line == 2


def test_security_template_error(load: Load) -> None:
    project = load({"apis/a.yaml": "type: api\nsql: SELECT 1\nsecurity:\n  access: '{{ .user.admin'\n"})
    problem = problem_at(project, "/apis/a.yaml")
    assert problem.message.startswith(
        "failed to parse security rules: invalid 'security': 'access' templating is not valid: template: "
    )
    assert problem.line == 4


def test_ref_calls_become_refs(load: Load) -> None:
    project = load(
        {
            "apis/a.yaml": 'type: api\nsql: SELECT * FROM {{ ref "m" }} JOIN {{ ref "model" "n" }}\n',
        }
    )
    assert project.problems == ()
    assert project.apis["a"].refs == (ResourceRef("m"), ResourceRef("n", "Model"))
