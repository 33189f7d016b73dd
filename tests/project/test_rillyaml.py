"""rill.yaml, .env files and variable precedence (behaviour reference §2, §3.2, §8)."""

from __future__ import annotations

import pytest

from emulator.errors import ProjectError
from emulator.project.resources import Problem
from emulator.project.rillyaml import parse_dotenv, parse_rill_yaml, project_variables


def test_env_vars_and_project_settings() -> None:
    config, problems = parse_rill_yaml(
        "/rill.yaml",
        """
display_name: Ad bids
title: Old title
olap_connector: duckdb
env:
  limit: 10
  ratio: 1e3
  flag: yes
  a.b: x
vars:
  old: v
connectors:
  - {type: s3, name: my_s3}
ignore_paths: [/scratch]
apis:
  security: {access: true}
models:
  materialize: true
dashboards:
  first_day_of_week: 1
""",
        "dev",
    )
    assert problems == []
    assert config.title == "Ad bids"
    # yaml.v3 keeps the source text of scalars decoded into strings.
    assert config.variables == {"limit": "10", "ratio": "1e3", "flag": "yes", "a.b": "x", "old": "v"}
    assert config.ignore_paths == ("/scratch",)
    assert config.defaults == {
        "api": {"security": {"access": True}},
        "model": {"materialize": True},
        "metrics_view": {"first_day_of_week": 1},
    }
    assert config.connectors == ("duckdb", "my_s3")


def test_title_falls_back_to_deprecated_keys() -> None:
    assert parse_rill_yaml("/rill.yaml", "title: T\nname: N\n", "dev")[0].title == "T"
    assert parse_rill_yaml("/rill.yaml", "name: N\n", "dev")[0].title == "N"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_environment_overrides(environment: str) -> None:
    text = """
olap_connector: duckdb
env:
  a: base
  dev:
    b: from-env-dev
environment_overrides:
  prod:
    env: {a: prod}
dev:
  olap_connector: motherduck
  env: {a: dev}
"""
    config, problems = parse_rill_yaml("/rill.yaml", text, environment)
    assert problems == []
    if environment == "dev":
        # "dev:" wins over the deprecated "env: {dev: ...}" form.
        assert config.olap_connector == "motherduck"
        assert config.variables == {"a": "dev"}
        assert config.connectors == ("duckdb", "motherduck")
    else:
        assert config.olap_connector == "duckdb"
        assert config.variables == {"a": "prod"}


def test_mock_users_attributes_like_the_dev_jwt() -> None:
    config, _ = parse_rill_yaml(
        "/rill.yaml",
        """
mock_users:
  - email: john@yourcompany.com
    name: John Doe
    admin: true
    groups: [partners]
  - email: embed@rilldata.com
    tenant_id: acme
    seats: 5
  - email: x@a.com
    domain: custom.org
  - email: nodomain
""",
        "dev",
    )
    users = config.mock_users
    assert [u.email for u in users] == ["john@yourcompany.com", "embed@rilldata.com", "x@a.com", "nodomain"]
    assert users[0].attributes == {
        "name": "John Doe",
        "email": "john@yourcompany.com",
        "groups": ["partners"],
        "admin": True,
        "domain": "yourcompany.com",
    }
    assert users[1].attributes == {
        "name": "Mock User",
        "email": "embed@rilldata.com",
        "groups": [],
        "admin": False,
        "tenant_id": "acme",
        "seats": 5.0,  # custom attributes go through a protobuf Struct
        "domain": "rilldata.com",
    }
    assert users[2].attributes["domain"] == "custom.org"
    assert users[3].attributes["domain"] == "nodomain"


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("env:\n  1x: a\n", 'invalid variable name "1x": must start with a letter or underscore', 2),
        ("env:\n  nested: {a: 1}\n", 'invalid property "env": must be a map of strings', 2),
        ("connectors:\n  - {type: x, name: admin}\n", 'connector name "admin" is reserved', 2),
        ("apis: [1]\n", "cannot unmarshal !!seq into parser.APIYAML", 1),
        ("mock_users:\n  - email: a@b\n    admin: maybe\n", "cannot unmarshal !!str `maybe` into bool", 3),
        ("env: [\n", "yaml: line", None),
    ],
)
def test_errors(text: str, message: str, line: int | None) -> None:
    config, problems = parse_rill_yaml("/rill.yaml", text, "dev")
    assert len(problems) == 1
    assert message in problems[0].message
    assert problems[0].path == "/rill.yaml"
    if line is not None:
        assert problems[0].line == line
    assert config.defaults == {}
    assert config.variables == {}


def test_an_error_keeps_ignore_paths() -> None:
    config, problems = parse_rill_yaml("/rill.yaml", "ignore_paths: [/x]\nenv:\n  9: a\n", "dev")
    assert problems and config.ignore_paths == ("/x",)


def test_unknown_keys_are_warnings() -> None:
    config, problems = parse_rill_yaml("/rill.yaml", "olap_connector: duckdb\nfoo: 1\n", "dev")
    assert problems == [
        Problem(
            "/rill.yaml",
            "yaml: unmarshal errors:\n  line 2: field foo not found in type parser.rillYAML",
            2,
            severity="warning",
        )
    ]
    assert config.olap_connector == "duckdb"


def test_parse_dotenv() -> None:
    text = (
        "# comment\n"
        "A=1\n"
        "export B = two words  # trailing comment\n"
        "C='single $A # kept'\n"
        'D="line\\nbreak ${A} \\"q\\""\n'
        "E=$A-x\n"
        "F:colon\n"
        "G=\n"
        "H=a#b\n"
    )
    assert parse_dotenv(text) == {
        "A": "1",
        "B": "two words",
        "C": "single $A # kept",
        "D": 'line\nbreak 1 "q"',
        "E": "1-x",
        "F": "colon",
        "G": "",
        "H": "a#b",
    }


def test_parse_dotenv_rejects_garbage() -> None:
    with pytest.raises(ProjectError, match="unexpected character"):
        parse_dotenv("JUSTAKEY\n")


def test_variable_precedence() -> None:
    dotenvs = {
        "/.env": {"a": "env", "b": "env", "c": "env"},
        "/sub/.env": {"b": "deeper"},
        "/.dev.env": {"c": "dev-specific"},
        "/.prod.env": {"c": "prod-specific"},
    }
    variables = project_variables({"a": "yaml", "z": "yaml"}, dotenvs, "dev", {"b": "flag"})
    assert variables == {"a": "env", "b": "flag", "c": "dev-specific", "z": "yaml"}
    assert project_variables({}, dotenvs, "prod")["c"] == "prod-specific"
    assert project_variables({}, dotenvs, "dev")["b"] == "deeper"
