"""Models and sources: SQL, file reads DuckDB understands, refs; metrics views with security."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.project.resources import ModelSpec, Project, ResourceRef

from .conftest import messages

Load = Callable[..., Project]


def _model(project: Project, name: str) -> ModelSpec:
    assert project.problems == (), project.problems
    return project.models[name]


def test_sql_file_model(load: Load) -> None:
    model = _model(load({"models/m.sql": "\n  SELECT 1 AS x\n\n"}), "m")
    assert model.kind == "model"
    assert model.sql == "SELECT 1 AS x"
    assert model.connector == "duckdb"
    assert model.paths == ("/models/m.sql",)
    assert model.line == 1


def test_yaml_model_with_sql_key(load: Load) -> None:
    model = _model(load({"models/m.yaml": "type: model\nmaterialize: true\nsql: |\n  SELECT 2\n"}), "m")
    assert model.sql == "SELECT 2"
    assert model.line == 4


@pytest.mark.parametrize(
    ("path", "text", "sql"),
    [
        (
            "sources/s.yaml",
            "connector: local_file\npath: data/ad_bids.csv",
            "SELECT * FROM 'data/ad_bids.csv'",
        ),
        (
            "sources/s.yaml",
            "type: source\nconnector: local_file\npath: data/it's.csv",
            "SELECT * FROM 'data/it''s.csv'",
        ),
        (
            "x/s.yaml",
            "type: source\nconnector: s3\nuri: s3://bucket/a/*.parquet",
            "SELECT * FROM 's3://bucket/a/*.parquet'",
        ),
        ("x/s.yaml", "type: source\nconnector: gcs\npath: gs://b/x.json", "SELECT * FROM 'gs://b/x.json'"),
        (
            "models/s.yaml",
            "connector: https\npath: https://x.org/d.csv",
            "SELECT * FROM 'https://x.org/d.csv'",
        ),
        (
            "sources/s.yaml",
            "type: duckdb\nsql: SELECT * FROM read_csv('data/x.csv')",
            "SELECT * FROM read_csv('data/x.csv')",
        ),
    ],
)
def test_sources_and_file_models(load: Load, path: str, text: str, sql: str) -> None:
    model = _model(load({path: text}), "s")
    assert model.sql == sql
    assert model.connector == "duckdb"  # file reads run on the OLAP connector


def test_sources_need_a_connector(load: Load) -> None:
    project = load({"sources/s.yaml": "path: data/x.csv\n", "sources/t.sql": "SELECT 1"})
    assert messages(project) == [
        ("/sources/s.yaml", "must explicitly specify a connector for sources"),
        ("/sources/t.sql", "must explicitly specify a connector for sources"),
    ]


def test_a_model_needs_sql_or_a_path(load: Load) -> None:
    project = load({"models/m.yaml": "type: model\nconnector: duckdb\n"})
    assert project.models == {}
    assert len(project.problems) == 1
    assert "has no SQL" in project.problems[0].message


def test_model_refs_from_sql(load: Load) -> None:
    model = _model(
        load(
            {
                "models/m.yaml": """
                    refs: [explicit]
                    sql: |
                      WITH recent AS (SELECT * FROM events)
                      SELECT * FROM recent
                      JOIN users u ON true
                      JOIN main.orders ON true
                      JOIN other_db.s.t ON true
                      JOIN read_csv('x.csv') ON true
                      JOIN 'data/file.parquet' ON true
                      WHERE id IN (SELECT id FROM m)
                """
            }
        ),
        "m",
    )
    assert model.refs[0] == ResourceRef("explicit")
    assert set(model.refs[1:]) == {ResourceRef("events"), ResourceRef("users"), ResourceRef("orders")}


def test_unparseable_sql_just_has_no_extra_refs(load: Load) -> None:
    model = _model(load({"models/m.sql": "SELEC nonsense FROM ((("}), "m")
    assert model.refs == ()


def test_metrics_view_with_security(load: Load) -> None:
    project = load(
        {
            "models/ad_bids.sql": "SELECT 'a' AS domain, 1 AS n",
            "dashboards/ad_bids_metrics.yaml": """
                model: ad_bids
                dimensions:
                  - column: domain
                measures:
                  - name: total
                    expression: SUM(n)
                security:
                  access: true
                  row_filter: "domain = '{{ .user.domain }}'"
            """,
            "metrics/plain.yaml": "type: metrics_view\nmodel: ad_bids\nmeasures: [{expression: COUNT(*)}]\n",
        }
    )
    assert project.problems == ()
    view = project.metrics_views["ad_bids_metrics"]
    assert view.model == "ad_bids"
    assert view.security is not None
    assert [r.type for r in view.security.rules] == ["access", "row_filter"]
    assert project.metrics_views["plain"].security is None


def test_metrics_view_errors_are_problems(load: Load) -> None:
    project = load(
        {
            "dashboards/bad.yaml": "model: m\nmeasures: [{expression: COUNT(*)}]\nnot_a_key: 1\n",
            "dashboards/bad_security.yaml": (
                "model: m\nmeasures: [{expression: COUNT(*)}]\nsecurity:\n  rules: [{type: x}]\n"
            ),
        }
    )
    assert project.metrics_views == {}
    found = dict(messages(project))
    assert "not_a_key" in found["/dashboards/bad.yaml"]
    assert found["/dashboards/bad_security.yaml"] == 'invalid security rule type "x"'


def test_model_sql_is_rendered_once_at_load(load: Load) -> None:
    project = load(
        {
            "rill.yaml": "env:\n  limit: '5'\n  a.b: nested\n",
            "models/m.sql": (
                'SELECT * FROM {{ ref "events" }}\n'
                "WHERE env = '{{ .environment }}' AND b = '{{ .env.a.b }}' AND x = '{{ .vars.limit }}'\n"
                "{{ if dev }}LIMIT {{ .env.limit }}{{ end }}"
            ),
        }
    )
    model = _model(project, "m")
    assert model.sql == ("SELECT * FROM \"events\"\nWHERE env = 'dev' AND b = 'nested' AND x = '5'\nLIMIT 5")
    assert model.refs == (ResourceRef("events"),)


def test_model_render_error_is_a_problem(load: Load) -> None:
    project = load({"models/m.sql": 'SELECT 1\n{{ eq 1 "a" }}'})
    assert project.models == {}
    (problem,) = project.problems
    assert problem.path == "/models/m.sql"
    assert problem.message.startswith("template: ")
    assert problem.line == 2
