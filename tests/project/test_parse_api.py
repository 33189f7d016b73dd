"""``type: api`` resources: resolvers and their stored props, openapi, security, refs, defaults (§1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator.project.resources import OpenAPIBlock, Project, ResourceRef

from .conftest import messages, problem_at

Load = Callable[..., Project]


@pytest.mark.parametrize(
    ("body", "resolver", "props", "refs"),
    [
        ("sql: SELECT 1", "sql", {"sql": "SELECT 1", "connector": "duckdb"}, ()),
        ("sql: SELECT 1\nconnector: other", "sql", {"sql": "SELECT 1", "connector": "other"}, ()),
        ("metrics_sql: SELECT a FROM mv\nconnector: x", "metrics_sql", {"sql": "SELECT a FROM mv"}, ()),
        (
            "metrics:\n  metrics_view: mv\n  dimensions: [{name: region}]\n  limit: 10",
            "metrics",
            {"metrics_view": "mv", "dimensions": [{"name": "region"}], "limit": 10.0},
            (ResourceRef("mv", "MetricsView"),),
        ),
        (
            "api: top\nargs: {limit: 3, ratio: 0.5, flag: true, names: [a, 1]}",
            "api",
            {"api": "top", "args": {"limit": 3.0, "ratio": 0.5, "flag": True, "names": ["a", 1.0]}},
            (ResourceRef("top", "API"),),
        ),
        ("api: top", "api", {"api": "top"}, (ResourceRef("top", "API"),)),
        ('glob: "s3://bucket/*.csv"', "glob", {"path": "s3://bucket/*.csv"}, ()),
        (
            "glob:\n  connector: s3\n  path: s3://b/*.csv\n  partition: hive",
            "glob",
            {"connector": "s3", "path": "s3://b/*.csv", "partition": "hive"},
            (),
        ),
        ("resource_status: {where_error: true}", "resource_status", {"where_error": True}, ()),
        ("resource_status: {}", "resource_status", {}, ()),
    ],
)
def test_resolvers_and_stored_props(
    load: Load, body: str, resolver: str, props: dict[str, Any], refs: tuple[ResourceRef, ...]
) -> None:
    project = load({"apis/a.yaml": "type: api\n" + body + "\n"})
    assert project.problems == ()
    api = project.apis["a"]
    assert api.resolver == resolver
    assert api.props == props
    assert api.refs == refs
    if resolver in ("sql", "metrics_sql"):
        assert api.template is not None
    else:
        assert api.template is None


def test_numbers_in_props_are_floats(load: Load) -> None:
    api = load({"apis/a.yaml": "type: api\nmetrics:\n  metrics_view: mv\n  limit: 10\n"}).apis["a"]
    assert type(api.props["limit"]) is float


def test_sql_connector_defaults_to_the_olap_connector(load: Load) -> None:
    project = load({"rill.yaml": "olap_connector: motherduck\n", "apis/a.yaml": "type: api\nsql: SELECT 1\n"})
    assert project.apis["a"].props == {"sql": "SELECT 1", "connector": "motherduck"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "openapi: {summary: x}",
            'the API definition does not specify a resolver (for example, "sql:", "metrics_sql:", ...)',
        ),
        (
            "metrics: {}",
            'the API definition does not specify a resolver (for example, "sql:", "metrics_sql:", ...)',
        ),
        ("sql: SELECT 1\nmetrics_sql: SELECT 2", "the API definition specifies more than one resolver"),
        ("api: x\nglob: a/*", "the API definition specifies more than one resolver"),
        ("metrics:\n  dimensions: [{name: a}]", "metrics resolver requires a metrics_view to be specified"),
    ],
)
def test_resolver_errors(load: Load, body: str, message: str) -> None:
    project = load({"apis/a.yaml": "type: api\n" + body + "\n"})
    assert messages(project) == [("/apis/a.yaml", message)]
    assert project.apis == {}


def test_a_second_resolver_key_is_named_by_line(load: Load) -> None:
    project = load({"apis/a.yaml": "type: api\napi: x\nopenapi: {summary: s}\nsql: SELECT 1\n"})
    assert problem_at(project, "/apis/a.yaml").line == 4


def test_sql_file_with_type_annotation_is_an_api(load: Load) -> None:
    sql = "-- @type: api\n-- @connector: other\nSELECT 1;\n"
    project = load({"queries/q.sql": sql})
    assert project.problems == ()
    api = project.apis["q"]
    assert api.resolver == "sql"
    assert api.props == {"sql": sql, "connector": "other"}
    assert api.path == "/queries/q.sql"


def test_annotations_in_a_companion_sql_override_yaml(load: Load) -> None:
    project = load(
        {
            "x/a.yaml": "type: model\nname: from_yaml\n",
            "x/a.sql": "-- @type: api\n-- @name: from_sql\n-- @skip_nested_security: true\nSELECT 1",
        }
    )
    assert project.problems == ()
    assert project.apis["from_sql"].skip_nested_security is True


def test_templating_false_disables_annotations(load: Load) -> None:
    project = load(
        {"x/a.yaml": "type: api\nparser: {templating: false}\nsql: |\n  -- @name: other\n  SELECT 1\n"}
    )
    assert list(project.apis) == ["a"]


def test_openapi_block(load: Load) -> None:
    project = load(
        {
            "apis/top_publishers.yaml": """
                type: api
                sql: SELECT 1
                openapi:
                  summary: Top publishers
                  parameters:
                    - {name: domain, in: query, required: true, schema: {type: string}}
                  request_schema:
                    type: object
                    required: [domain]
                    properties: {domain: {type: string}}
                  response_schema:
                    type: object
                    properties: {n: {type: integer}}
                    $defs: {X: {type: string}}
            """,
            "apis/plain.yaml": "type: api\nsql: SELECT 1\n",
            "apis/hello-world x.yaml": "type: api\nsql: SELECT 1\nopenapi: {defs_prefix: Custom}\n",
            "apis/empty_parts.yaml": "type: api\nsql: SELECT 1\n"
            "openapi: {parameters: [], request_schema: {}}\n",
        }
    )
    assert project.problems == ()
    assert project.apis["top_publishers"].openapi == OpenAPIBlock(
        summary="Top publishers",
        parameters=({"name": "domain", "in": "query", "required": True, "schema": {"type": "string"}},),
        request_schema={
            "type": "object",
            "required": ["domain"],
            "properties": {"domain": {"type": "string"}},
        },
        response_schema={
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "$defs": {"X": {"type": "string"}},
        },
        defs_prefix="TopPublishers",
    )
    assert project.apis["plain"].openapi == OpenAPIBlock()
    assert project.apis["hello-world x"].openapi.defs_prefix == "Custom"
    assert project.apis["empty_parts"].openapi == OpenAPIBlock(defs_prefix="EmptyParts")


@pytest.mark.parametrize(
    ("openapi", "message", "line"),
    [
        (
            "  parameters: {a: 1}",
            "invalid openapi.parameters: json: cannot unmarshal object into Go value of type "
            "[]openapi3.Parameter",
            4,
        ),
        (
            "  parameters: [x]",
            "invalid openapi.parameters: json: cannot unmarshal string into Go value of type "
            "openapi3.Parameter",
            4,
        ),
        ("  parameters:\n    - {in: query}", "invalid openapi.parameters: parameter name can't be blank", 5),
        (
            "  parameters:\n    - {name: a, in: body}",
            "invalid openapi.parameters: parameter can't have 'in' value \"body\"",
            5,
        ),
        (
            "  parameters:\n    - {name: a, in: path}",
            'invalid openapi.parameters: path parameter "a" must be required',
            5,
        ),
        (
            "  parameters:\n    - {name: 5, in: query}",
            "invalid openapi.parameters: json: cannot unmarshal number into Go struct field "
            "Parameter.name of type string",
            5,
        ),
        (
            "  request_schema: {type: object, properties: {a: 1}}",
            "invalid openapi.request_schema: json: cannot unmarshal object into Go struct field "
            "Schema.properties of type openapi3.Schemas",
            4,
        ),
        (
            "  response_schema: {type: object, required: yes}",
            "invalid openapi.response_schema: json: cannot unmarshal string into Go struct field "
            "Schema.required of type []string",
            4,
        ),
    ],
)
def test_openapi_errors(load: Load, openapi: str, message: str, line: int) -> None:
    project = load({"apis/a.yaml": "type: api\nsql: SELECT 1\nopenapi:\n" + openapi + "\n"})
    problem = problem_at(project, "/apis/a.yaml")
    assert (problem.message, problem.line) == (message, line)
    assert project.apis == {}


def test_security_on_apis(load: Load) -> None:
    project = load(
        {
            "apis/open.yaml": "type: api\nsql: SELECT 1\n",
            "apis/admins.yaml": "type: api\nsql: SELECT 1\nsecurity:\n  access: '{{ .user.admin }}'\n",
            "apis/nobody.yaml": "type: api\nsql: SELECT 1\nsecurity: {}\n",
            "apis/rules.yaml": "type: api\nsql: SELECT 1\nsecurity: {rules: [{type: access, action: deny}]}",
            "apis/bad.yaml": "type: api\nsql: SELECT 1\nsecurity:\n  access: true\n  row_filter: a = 1\n",
            "apis/bad2.yaml": "type: api\nsql: SELECT 1\nsecurity:\n  rules: [{type: nope}]\n",
        }
    )
    apis = project.apis
    assert apis["open"].security is None
    admins = apis["admins"].security
    assert admins is not None and [(r.type, r.allow, r.condition_source) for r in admins.rules] == [
        ("access", True, "{{ .user.admin }}")
    ]
    nobody = apis["nobody"].security
    assert nobody is not None and [(r.type, r.allow, r.condition) for r in nobody.rules] == [
        ("access", False, None)
    ]
    rules = apis["rules"].security
    assert rules is not None and [(r.type, r.allow) for r in rules.rules] == [
        ("access", False),
        ("access", False),
    ]
    assert messages(project) == [
        ("/apis/bad.yaml", "the 'api' resource type only supports 'access' security rules"),
        ("/apis/bad2.yaml", 'failed to parse security rules: invalid security rule type "nope"'),
    ]


def test_skip_nested_security_and_explicit_refs(load: Load) -> None:
    project = load(
        {
            "apis/a.yaml": """
                type: api
                metrics_sql: SELECT a FROM mv
                skip_nested_security: true
                refs:
                  - m1
                  - Model/m2
                  - source/m3
                  - {type: metrics_view, name: mv}
                  - {name: plain}
            """
        }
    )
    assert project.problems == ()
    api = project.apis["a"]
    assert api.skip_nested_security is True
    assert api.refs == (
        ResourceRef("m1"),
        ResourceRef("m2", "Model"),
        ResourceRef("m3", "Model"),
        ResourceRef("mv", "MetricsView"),
        ResourceRef("plain"),
    )


@pytest.mark.parametrize(
    ("refs", "message"),
    [
        ("[a/b/c]", 'invalid refs: invalid identifier "a/b/c"'),
        ("[nope/x]", 'invalid refs: invalid resource type "nope"'),
        ("[{type: model}]", 'an object ref must provide the properties "type" and "name" properties'),
    ],
)
def test_invalid_refs(load: Load, refs: str, message: str) -> None:
    project = load({"apis/a.yaml": f"type: api\nsql: SELECT 1\nrefs: {refs}\n"})
    assert messages(project) == [("/apis/a.yaml", message)]


def test_rill_yaml_defaults_apply_before_the_file(load: Load) -> None:
    project = load(
        {
            "rill.yaml": """
                apis:
                  skip_nested_security: true
                  connector: from_defaults
                  openapi:
                    summary: Default summary
                    defs_prefix: Def
            """,
            "apis/a.yaml": "type: api\nsql: SELECT 1\nopenapi:\n  summary: Mine\n",
            "apis/b.yaml": "type: api\nsql: SELECT 1\nconnector: mine\nskip_nested_security: false\n",
        }
    )
    assert project.problems == ()
    a, b = project.apis["a"], project.apis["b"]
    assert a.skip_nested_security is True
    assert a.props["connector"] == "from_defaults"
    assert a.openapi.summary == "Mine"
    assert a.openapi.defs_prefix == "Def"  # nested maps merge field by field
    assert b.skip_nested_security is False
    assert b.props["connector"] == "mine"


@pytest.mark.parametrize(("environment", "expected"), [("dev", "SELECT 'dev'"), ("prod", "SELECT 'prod'")])
def test_environment_overrides(load: Load, environment: str, expected: str) -> None:
    project = load(
        {
            "apis/a.yaml": """
                type: api
                sql: SELECT 'base'
                dev:
                  sql: SELECT 'dev'
                environment_overrides:
                  prod:
                    sql: SELECT 'prod'
                    security: {access: false}
            """
        },
        environment=environment,
    )
    assert project.problems == ()
    api = project.apis["a"]
    assert api.props["sql"] == expected
    assert (api.security is not None) is (environment == "prod")
