"""The OpenAPI document, as Rill builds it (§5)."""

from __future__ import annotations

import json

import yaml
from openapi_spec_validator import validate

from emulator import openapi
from emulator.project.resources import ApiSpec, OpenAPIBlock


def _api(name: str, block: OpenAPIBlock | None = None) -> ApiSpec:
    return ApiSpec(
        name=name,
        path=f"/apis/{name}.yaml",
        paths=(f"/apis/{name}.yaml",),
        resolver="sql",
        props={"sql": "SELECT 1"},
        openapi=block or OpenAPIBlock(),
    )


def test_lift_defs_as_rills_openapiutil_test() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "expression": {"$ref": "#/$defs/Expression"},
            "metadata": {"$ref": "#/$defs/Metadata"},
        },
        "$defs": {
            "Expression": {
                "type": "object",
                "properties": {
                    "operator": {"type": "string"},
                    "left": {"$ref": "#/$defs/Expression"},
                    "right": {"$ref": "#/$defs/Expression"},
                },
            },
            "Metadata": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }
    body, components = openapi.lift_defs(schema, "Prefix")
    assert body == {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "expression": {"$ref": "#/components/schemas/PrefixExpression"},
            "metadata": {"$ref": "#/components/schemas/PrefixMetadata"},
        },
    }
    assert components["PrefixExpression"]["properties"]["left"] == {
        "$ref": "#/components/schemas/PrefixExpression"
    }
    assert set(components) == {"PrefixExpression", "PrefixMetadata"}
    assert "$defs" in schema  # the input is not modified


def test_get_without_request_schema_and_default_texts() -> None:
    doc = openapi.build_document([_api("top")], "http://localhost:9009/v1/instances/default/api")
    assert doc["paths"]["/top"] == {
        "get": {
            "summary": "Query top resolver",
            "responses": {
                "200": {
                    "description": "Successful response of top resolver",
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}
                    },
                },
                "400": {
                    "description": "Bad request",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
                        }
                    },
                },
            },
        }
    }
    assert "components" not in doc
    assert doc["info"] == {"title": "Rill project API", "version": "1.0.0"}
    assert doc["openapi"] == "3.0.3"
    assert doc["servers"] == [{"url": "http://localhost:9009/v1/instances/default/api"}]


def test_post_with_request_schema_example_of_the_reference() -> None:
    block = OpenAPIBlock(
        summary="Top publishers for a domain",
        request_schema={
            "type": "object",
            "required": ["domain"],
            "properties": {"domain": {"type": "string"}},
        },
        response_schema={
            "type": "object",
            "properties": {"publisher": {"type": "string"}, "n": {"type": "integer"}},
        },
        defs_prefix="TopPublishers",
    )
    doc = openapi.build_document(
        [_api("top_publishers", block)], "http://localhost:9009/v1/instances/default/api"
    )
    text = openapi.to_json(doc).decode()
    expected_item = (
        '"/top_publishers":{"post":{"requestBody":{"content":{"application/json":{"schema":'
        '{"properties":{"domain":{"type":"string"}},"required":["domain"],"type":"object"}}}},'
        '"responses":{"200":{"content":{"application/json":{"schema":{"items":'
        '{"properties":{"n":{"type":"integer"},"publisher":{"type":"string"}},"type":"object"},'
        '"type":"array"}}},"description":"Successful response of top_publishers resolver"},'
        '"400":{"content":{"application/json":{"schema":'
        '{"properties":{"error":{"type":"string"}},"type":"object"}}},"description":"Bad request"}},'
        '"summary":"Top publishers for a domain"}}'
    )
    assert expected_item in text
    assert list(json.loads(text)) == ["info", "openapi", "paths", "servers"]


def test_defs_become_components_and_the_document_validates() -> None:
    block = OpenAPIBlock(
        parameters=({"name": "limit", "in": "query", "schema": {"type": "integer"}},),
        request_schema={
            "type": "object",
            "properties": {"f": {"$ref": "#/$defs/Filter"}},
            "$defs": {"Filter": {"type": "object", "properties": {"op": {"type": "string"}}}},
        },
        response_schema={
            "type": "object",
            "properties": {"v": {"$ref": "#/$defs/Val"}},
            "$defs": {"Val": {"type": "number"}},
        },
        defs_prefix="Q",
    )
    doc = openapi.build_document(
        [_api("q", block), _api("plain")], "http://localhost:1/v1/instances/default/api"
    )
    assert doc["components"]["schemas"] == {
        "QFilter": {"type": "object", "properties": {"op": {"type": "string"}}},
        "QVal": {"type": "number"},
    }
    post = doc["paths"]["/q"]["post"]
    assert post["parameters"] == [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]
    assert post["requestBody"]["content"]["application/json"]["schema"]["properties"]["f"] == {
        "$ref": "#/components/schemas/QFilter"
    }
    validate(json.loads(openapi.to_json(doc)))


def test_yaml_has_sorted_keys() -> None:
    doc = openapi.build_document([_api("a")], "http://localhost:9009/v1/instances/default/api")
    text = openapi.to_yaml(doc).decode()
    assert yaml.safe_load(text) == doc
    assert text.index("info:") < text.index("openapi:") < text.index("paths:") < text.index("servers:")


def test_server_url() -> None:
    assert openapi.server_url("127.0.0.1", 9009) == "http://localhost:9009/v1/instances/default/api"
    assert openapi.server_url("10.1.2.3", 80) == "http://10.1.2.3:80/v1/instances/default/api"
