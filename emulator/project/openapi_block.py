"""The ``openapi:`` block of an API (behaviour reference §1.3), validated as Rill's parser does.

Rill JSON-encodes each part and parses it with kin-openapi; a value of the wrong JSON type fails with
Go's ``json: cannot unmarshal ...`` text, prefixed with ``invalid openapi.<part>: ``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from emulator.errors import ProjectError
from emulator.gotypes import json_kind
from emulator.project.resources import OpenAPIBlock
from emulator.project.yamlutil import type_error

__all__ = ["parse_openapi", "pascal_case"]

_PARAM_LOCATIONS = ("query", "header", "path", "cookie")

# Go type of each typed field of kin-openapi's Parameter and Schema structs.
_PARAMETER_FIELDS = {
    "name": "string", "in": "string", "description": "string", "style": "string",
    "required": "bool", "deprecated": "bool", "allowEmptyValue": "bool", "explode": "bool",
    "allowReserved": "bool", "schema": "object", "content": "object", "examples": "object",
}  # fmt: skip
_SCHEMA_FIELDS = {
    "title": "string", "description": "string", "format": "string", "pattern": "string",
    "nullable": "bool", "readOnly": "bool", "writeOnly": "bool", "deprecated": "bool",
    "uniqueItems": "bool", "exclusiveMinimum": "bool", "exclusiveMaximum": "bool",
    "minimum": "float64", "maximum": "float64", "multipleOf": "float64",
    "minLength": "uint64", "maxLength": "uint64", "minItems": "uint64", "maxItems": "uint64",
    "minProperties": "uint64", "maxProperties": "uint64",
    "required": "[]string", "enum": "[]interface {}", "properties": "schemas", "$defs": "schemas",
    "items": "schema", "not": "schema", "allOf": "[]schema", "anyOf": "[]schema", "oneOf": "[]schema",
}  # fmt: skip


def pascal_case(name: str) -> str:
    """Rill's default ``defs_prefix``: words split on ``_``, ``-`` and space, each capitalised, joined."""
    words = name.replace("-", " ").replace("_", " ").split(" ")
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def parse_openapi(value: Any, api_name: str, line_of: Callable[..., int | None]) -> OpenAPIBlock:
    """Validate and convert a decoded ``openapi:`` value; raise ProjectError with Rill's messages."""
    if value is None:
        return OpenAPIBlock()
    if not isinstance(value, Mapping):
        raise type_error(value, "parser.OpenAPIYAML", line_of("openapi"))
    summary = value.get("summary")
    if isinstance(summary, (Mapping, list)):
        raise type_error(summary, "string", line_of("openapi", "summary"))

    parameters = value.get("parameters")
    params_out: tuple[Mapping[str, Any], ...] | None = None
    if parameters is not None:
        if not isinstance(parameters, list):
            raise ProjectError(
                "invalid openapi.parameters: " + _cannot_unmarshal(parameters, "[]openapi3.Parameter"),
                line=line_of("openapi", "parameters"),
            )
        for i, param in enumerate(parameters):
            _check_parameter(param, line_of("openapi", "parameters", i))
        params_out = tuple(parameters) if parameters else None

    schemas: dict[str, Mapping[str, Any] | None] = {}
    for key in ("request_schema", "response_schema"):
        schema = value.get(key)
        schemas[key] = None
        if schema is None:
            continue
        line = line_of("openapi", key)
        if not isinstance(schema, Mapping):
            raise type_error(schema, "map[string]interface {}", line)
        try:
            _check_finite(schema)
            _check_schema(schema)
        except ValueError as exc:
            raise ProjectError(f"invalid openapi.{key}: {exc}", line=line) from None
        schemas[key] = schema or None

    prefix = value.get("defs_prefix")
    if isinstance(prefix, (Mapping, list)):
        raise type_error(prefix, "string", line_of("openapi", "defs_prefix"))
    return OpenAPIBlock(
        summary=None if summary is None else _text(summary),
        parameters=params_out,
        request_schema=schemas["request_schema"],
        response_schema=schemas["response_schema"],
        defs_prefix=pascal_case(api_name) if prefix is None else _text(prefix),
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cannot_unmarshal(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type}"


def _check_parameter(param: Any, line: int | None) -> None:
    def fail(message: str) -> ProjectError:
        return ProjectError("invalid openapi.parameters: " + message, line=line)

    if not isinstance(param, Mapping):
        raise fail(_cannot_unmarshal(param, "openapi3.Parameter"))
    try:
        _check_finite(param)
        _check_fields(param, _PARAMETER_FIELDS, "Parameter")
        schema = param.get("schema")
        if isinstance(schema, Mapping):
            _check_schema(schema)
    except ValueError as exc:
        raise fail(str(exc)) from None
    name = param.get("name")
    location = param.get("in")
    if not name:
        raise fail("parameter name can't be blank")
    if location not in _PARAM_LOCATIONS:
        raise fail(f"parameter can't have 'in' value \"{location or ''}\"")
    if location == "path" and param.get("required") is not True:
        raise fail(f'path parameter "{name}" must be required')


def _check_fields(obj: Mapping[str, Any], fields: Mapping[str, str], struct: str) -> None:
    for key, go_type in fields.items():
        value = obj.get(key)
        if value is None:
            continue
        ok = {
            "string": isinstance(value, str),
            "bool": isinstance(value, bool),
            "object": isinstance(value, Mapping),
            "float64": isinstance(value, (int, float)) and not isinstance(value, bool),
            "uint64": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            "[]string": isinstance(value, list) and all(isinstance(v, str) for v in value),
            "[]interface {}": isinstance(value, list),
            "schema": isinstance(value, Mapping),
            "schemas": isinstance(value, Mapping) and all(isinstance(v, Mapping) for v in value.values()),
            "[]schema": isinstance(value, list) and all(isinstance(v, Mapping) for v in value),
        }[go_type]
        if not ok:
            shown = {
                "schema": "openapi3.Schema",
                "schemas": "openapi3.Schemas",
                "[]schema": "openapi3.SchemaRefs",
            }
            raise ValueError(
                f"json: cannot unmarshal {json_kind(value)} into Go struct field {struct}.{key} of type "
                f"{shown.get(go_type, go_type)}"
            )


def _check_schema(schema: Mapping[str, Any]) -> None:
    kind = schema.get("type")
    if kind is not None and not (
        isinstance(kind, str) or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))
    ):
        raise ValueError(
            f"json: cannot unmarshal {json_kind(kind)} into Go struct field Schema.type of type string"
        )
    _check_fields(schema, _SCHEMA_FIELDS, "Schema")
    extra = schema.get("additionalProperties")
    if extra is not None and not isinstance(extra, (bool, Mapping)):
        raise ValueError(
            f"json: cannot unmarshal {json_kind(extra)} into Go struct field "
            "Schema.additionalProperties of type openapi3.AdditionalProperties"
        )
    children: list[Any] = []
    for key in ("properties", "$defs"):
        children.extend((schema.get(key) or {}).values())
    for key in ("items", "not"):
        children.append(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        children.extend(schema.get(key) or [])
    if isinstance(extra, Mapping):
        children.append(extra)
    for child in children:
        if isinstance(child, Mapping):
            _check_schema(child)


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ValueError(
            f"json: unsupported value: {'NaN' if math.isnan(value) else '+Inf' if value > 0 else '-Inf'}"
        )
    if isinstance(value, Mapping):
        for v in value.values():
            _check_finite(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v)
