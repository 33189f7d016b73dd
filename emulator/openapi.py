"""The OpenAPI 3.0.3 document of a project's APIs, built as Rill builds it (§5 of the reference)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from emulator import jsonval
from emulator.project.resources import ApiSpec

_DEFS_REF = "#/$defs/"
_COMPONENTS_REF = "#/components/schemas/"

_ERROR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"error": {"type": "string"}}}


def lift_defs(schema: Mapping[str, Any], prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move ``$defs`` into components named ``<prefix><Name>`` and rewrite ``#/$defs/X`` refs to them."""
    body = copy.deepcopy(dict(schema))
    defs = body.pop("$defs", None)
    components: dict[str, Any] = {}
    if isinstance(defs, dict):
        for name, sub in defs.items():
            components[prefix + str(name)] = _rewrite_refs(sub, prefix)
    return _rewrite_refs(body, prefix), components


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_DEFS_REF):
                out[key] = _COMPONENTS_REF + prefix + value[len(_DEFS_REF) :]
            else:
                out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def path_item(api: ApiSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The path item of one API (``post`` iff it has a request schema) and the components it adds."""
    block = api.openapi
    components: dict[str, Any] = {}
    op: dict[str, Any] = {"summary": block.summary or f"Query {api.name} resolver"}
    if block.parameters:
        op["parameters"] = [dict(p) for p in block.parameters]
    if block.request_schema is not None:
        schema, comps = lift_defs(block.request_schema, block.defs_prefix)
        components.update(comps)
        op["requestBody"] = {"content": {"application/json": {"schema": schema}}}
    if block.response_schema is not None:
        item, comps = lift_defs(block.response_schema, block.defs_prefix)
        components.update(comps)
    else:
        item = {"type": "object"}
    op["responses"] = {
        "200": {
            "description": f"Successful response of {api.name} resolver",
            "content": {"application/json": {"schema": {"type": "array", "items": item}}},
        },
        "400": {
            "description": "Bad request",
            "content": {"application/json": {"schema": copy.deepcopy(_ERROR_SCHEMA)}},
        },
    }
    method = "post" if block.request_schema is not None else "get"
    return {method: op}, components


def build_document(
    apis: Iterable[ApiSpec], server_url: str, title: str = "Rill project API"
) -> dict[str, Any]:
    """The combined document: built-ins and project APIs, each under ``/<name>``."""
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for api in apis:
        item, comps = path_item(api)
        paths[f"/{api.name}"] = item
        components.update(comps)
    doc: dict[str, Any] = {
        "info": {"title": title, "version": "1.0.0"},
        "openapi": "3.0.3",
        "paths": paths,
        "servers": [{"url": server_url}],
    }
    if components:
        doc["components"] = {"schemas": components}
    return doc


def server_url(host: str, port: int, instance: str = "default") -> str:
    """Rill's server URL: ``http://localhost:<port>/v1/instances/<id>/api`` for a local runtime."""
    if host in ("127.0.0.1", "0.0.0.0", "::", "::1", "localhost", ""):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/v1/instances/{instance}/api"


def to_json(doc: Mapping[str, Any]) -> bytes:
    """Compact JSON with sorted keys and Go's escaping, as Rill marshals the document."""
    return jsonval.dumps(doc)


def to_yaml(doc: Mapping[str, Any]) -> bytes:
    """YAML with sorted keys (served for ``Accept: application/yaml``)."""
    return yaml.safe_dump(doc, sort_keys=True, allow_unicode=True, default_flow_style=False).encode()
