"""Resources parsed from real project trees: naming, kinds, companions, APIs, models, problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.project.loader import load_project
from emulator.project.resources import Project

from .conftest import messages, problem_at

Load = Callable[..., Project]


# --- naming and kinds -------------------------------------------------------------------------------


def test_name_is_the_file_stem_whatever_the_folder(load: Load) -> None:
    project = load(
        {
            "apis/top.yaml": "type: api\nsql: SELECT 1\n",
            "x/y/deep.yaml": "type: api\nsql: SELECT 2\n",
        }
    )
    assert project.problems == ()
    assert sorted(project.apis) == ["deep", "top"]
    assert project.apis["deep"].path == "/x/y/deep.yaml"


def test_name_key_annotation_and_namespace(load: Load) -> None:
    project = load(
        {
            "apis/a.yaml": "type: api\nname: Renamed\nsql: SELECT 1\n",
            "apis/b.yaml": "type: api\nname: b2\nnamespace: team\nsql: SELECT 1\n",
            "queries/c.sql": "-- @type: api\n-- @name: from_comment\nSELECT 1\n",
        }
    )
    assert project.problems == ()
    assert set(project.apis) == {"renamed", "team:b2", "from_comment"}
    assert project.apis["renamed"].name == "Renamed"  # keys are lower-cased, names keep their spelling


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [
        ("models/m.sql", "SELECT 1", "model"),
        ("anywhere/m.sql", "SELECT 1", "model"),
        ("models/m.yaml", "sql: SELECT 1", "model"),
        ("sources/m.yaml", "connector: local_file\npath: data/x.csv", "source"),
        ("other/m.yaml", "type: model\nsql: SELECT 1", "model"),
        ("other/m.yaml", "kind: model\nsql: SELECT 1", "model"),
        ("other/m.yaml", "type: ' Model '\nsql: SELECT 1", "model"),
    ],
)
def test_model_kinds(load: Load, path: str, text: str, kind: str) -> None:
    project = load({path: text})
    assert project.problems == ()
    assert project.models["m"].kind == kind


def test_other_kinds_are_recorded(load: Load) -> None:
    project = load(
        {
            "connectors/pg.yaml": "driver: postgres\n",
            "themes/t.yaml": "type: theme\ncolors: {primary: red}\n",
            "explores/e.yaml": "type: explore\nmetrics_view: mv\n",
            "init.sql": "INSTALL httpfs",
        }
    )
    assert project.problems == ()
    assert {(o.kind, o.name) for o in project.others} == {
        ("Connector", "pg"),
        ("Theme", "t"),
        ("Explore", "e"),
        ("Migration", "init"),
    }
    assert project.config.connectors == ("duckdb", "pg")


def test_apis_folder_does_not_imply_the_type(load: Load) -> None:
    project = load({"apis/top.yaml": "sql: SELECT 1\n"})
    assert messages(project) == [
        ("/apis/top.yaml", "resource type not specified and could not be inferred from context")
    ]
    assert project.apis == {}


def test_invalid_type(load: Load) -> None:
    project = load({"apis/top.yaml": "# comment\ntype: apii\nsql: SELECT 1\n"})
    problem = problem_at(project, "/apis/top.yaml")
    assert problem.message == 'invalid resource type "apii"'
    assert problem.line == 2


def test_legacy_source_type_is_its_connector(load: Load) -> None:
    project = load({"sources/s.yaml": "type: https\nuri: https://example.com/a.parquet\n"})
    assert project.problems == ()
    assert project.models["s"].sql == "SELECT * FROM 'https://example.com/a.parquet'"
    assert project.models["s"].connector == "duckdb"


# --- files, companions, collisions ---------------------------------------------------------------------


def test_yaml_and_sql_companions_merge(load: Load) -> None:
    project = load(
        {
            "apis/top.yaml": "type: api\nopenapi: {summary: Top}\n",
            "apis/top.sql": "SELECT 1 AS n",
        }
    )
    assert project.problems == ()
    api = project.apis["top"]
    assert api.paths == ("/apis/top.sql", "/apis/top.yaml")
    assert api.path == "/apis/top.yaml"
    assert api.props == {"sql": "SELECT 1 AS n", "connector": "duckdb"}
    assert api.openapi.summary == "Top"


def test_sql_in_both_companions(load: Load) -> None:
    project = load(
        {
            "apis/top.yaml": "type: api\nsql: SELECT 2\n",
            "apis/top.sql": "SELECT 1",
        }
    )
    assert messages(project) == [
        ("/apis/top.sql", "skipping file due to error in companion SQL/YAML file"),
        ("/apis/top.yaml", "SQL provided using both a YAML key and a companion file"),
    ]
    assert problem_at(project, "/apis/top.yaml").line == 2
    assert project.apis == {}


def test_yaml_and_yml_with_one_stem(load: Load) -> None:
    project = load(
        {
            "apis/top.yaml": "type: api\nsql: SELECT 1\n",
            "apis/top.yml": "type: api\nsql: SELECT 2\n",
        }
    )
    assert messages(project) == [
        (
            "/apis/top.yml",
            "skipping file because another YAML file has already been parsed for this path stem",
        )
    ]
    assert project.apis["top"].props["sql"] == "SELECT 1"


def test_name_collisions_are_case_insensitive_per_kind(load: Load) -> None:
    project = load(
        {
            "a/top.yaml": "type: api\nsql: SELECT 1\n",
            "b/TOP.yaml": "type: api\nsql: SELECT 2\n",
            "models/top.sql": "SELECT 3",  # a model may share an API's name
            "sources/top.yaml": "connector: local_file\npath: x.csv\n",  # sources are models
        }
    )
    assert messages(project) == [
        ("/b/TOP.yaml", 'name collision: another resource of type "API" is also named "TOP"'),
        ("/sources/top.yaml", 'name collision: another resource of type "Model" is also named "top"'),
    ]
    assert project.apis["top"].path == "/a/top.yaml"
    assert project.models["top"].path == "/models/top.sql"


def test_file_size_limit(load: Load) -> None:
    big = "SELECT 1 -- " + "x" * (128 * 1024)
    project = load({"models/big.sql": big, "models/ok.sql": "SELECT 1"})
    assert messages(project) == [
        ("/models/big.sql", f"size {len(big)} bytes exceeds max size of 131072 bytes"),
    ]
    assert list(project.models) == ["ok"]


def test_ignore_paths_from_rill_yaml(load: Load) -> None:
    project = load(
        {
            "rill.yaml": "ignore_paths: [/scratch, /apis/old.yaml]\n",
            "scratch/broken.yaml": "not: [valid",
            "apis/old.yaml": "type: api\n",
            "apis/new.yaml": "type: api\nsql: SELECT 1\n",
        }
    )
    assert project.problems == ()
    assert list(project.apis) == ["new"]


def test_a_broken_file_beside_working_ones(load: Load) -> None:
    project = load(
        {
            "apis/a.yaml": "type: api\nsql: SELECT 1\n",
            "apis/b.yaml": "type: api\nsql: [oops\n",
            "apis/c.yaml": "type: api\nmetrics_sql: SELECT x FROM mv\n",
        }
    )
    problem = problem_at(project, "/apis/b.yaml")
    assert problem.message.startswith("yaml: line ")
    assert problem.line is not None
    assert sorted(project.apis) == ["a", "c"]


def test_missing_rill_yaml_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    (root / "models").mkdir(parents=True)
    (root / "models" / "m.sql").write_text("SELECT 1")
    project = load_project(root)
    assert messages(project) == [("/rill.yaml", "rill.yaml not found")]
    assert list(project.models) == ["m"]


def test_wrong_value_type_names_its_line(load: Load) -> None:
    project = load({"apis/a.yaml": "type: api\nsql: SELECT 1\nargs:\n  - 1\napi: b\n"})
    assert project.apis == {}
    problem = problem_at(project, "/apis/a.yaml")
    assert (
        problem.message
        == "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into map[string]interface {}"
    )
    assert problem.line == 3
