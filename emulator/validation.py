"""``serve --validate-requests``: args checked against the API's ``openapi`` block before resolving.

Rill never validates args (§3.6); this opt-in check answers 400 with JSON-schema-style messages
(``limit: "ten" is not of type "integer"``) instead of letting a wrong arg reach the SQL.

- each ``openapi.parameters`` entry ``in: query`` (or with no ``in``): required ones must be present,
  and the value must match the parameter's schema;
- ``openapi.request_schema``: the args (body and query merged, as the template sees them) must match.

Query args are strings: for validation only, a query value is converted to the type its schema
names (``integer``, ``number``, ``boolean``; an ``array`` gets the one value Rill keeps); the args
given to the template stay as Rill gives them.

The validator is written here rather than taken from ``jsonschema``: the schemas are OpenAPI 3.0
Schema Objects (``nullable``, boolean ``exclusiveMinimum``), which a JSON Schema validator reads
differently, and the subset APIs use is small. Supported keywords: ``type`` (a name or a list),
``nullable``, ``enum``, ``const``, ``format`` (``date``, ``date-time``, ``time``, ``uuid``; others are
annotations), ``minimum``, ``maximum``, ``exclusiveMinimum``/``exclusiveMaximum`` (boolean or
number), ``multipleOf``, ``minLength``, ``maxLength``, ``pattern``, ``items``, ``minItems``,
``maxItems``, ``uniqueItems``, ``properties``, ``required``, ``additionalProperties``,
``minProperties``, ``maxProperties``, ``allOf``, ``anyOf``, ``oneOf``, ``not`` and local ``$ref``
(``#/$defs/...``, ``#/definitions/...``, ``#/components/schemas/...``). Unknown keywords are ignored,
so a schema using them never rejects a request wrongly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.errors import BadRequest
from emulator.memo import Memo
from emulator.project.resources import ApiSpec
from emulator.requestargs import parse_query

__all__ = ["RequestValidationError", "RequestValidator", "check_request", "schema_errors"]

#: Errors listed in one answer at most.
MAX_ERRORS = 10
_MAX_REF_HOPS = 32
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)  # RFC 3339
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class RequestValidationError(BadRequest):
    """Args that do not match the API's ``openapi`` block (``--validate-requests``): 400."""


def _plain(value: Any) -> Any:
    """JSON numbers as a client wrote them: integral floats (every body number) as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    """A value as JSON, shortened."""
    try:
        text = json.dumps(_plain(value), ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    if name == "null":
        return value is None
    return True  # an unknown type name constrains nothing


def _format_ok(value: Any, fmt: str) -> bool:
    if not isinstance(value, str):
        return True
    try:
        if fmt == "date":
            if not _DATE.fullmatch(value):
                return False
            dt.date.fromisoformat(value)
        elif fmt == "date-time":
            match = _DATE_TIME.fullmatch(value)
            if match is None:
                return False
            dt.date.fromisoformat(match.group(1))
            hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
            return hour < 24 and minute < 60 and second < 61
        elif fmt == "time":
            match = _TIME.fullmatch(value)
            if match is None:
                return False
            return int(match.group(1)) < 24 and int(match.group(2)) < 60 and int(match.group(3)) < 61
        elif fmt == "uuid":
            return _UUID.fullmatch(value) is not None
    except ValueError:
        return False
    return True


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{path}: {message}" if path else message)

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
        hops = 0
        while isinstance(schema.get("$ref"), str):
            ref = str(schema["$ref"])
            hops += 1
            if hops > _MAX_REF_HOPS or not ref.startswith("#/"):
                return None
            node: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                node = node.get(part) if isinstance(node, Mapping) else None
            if not isinstance(node, Mapping):
                return None
            schema = node
        return schema

    def valid(self, value: Any, schema: Any) -> bool:
        """Whether ``value`` matches (errors not recorded)."""
        sub = _Validator(self.root)
        sub.check(value, schema, "")
        return not sub.errors

    def check(self, value: Any, schema: Any, path: str) -> None:
        if not isinstance(schema, Mapping):
            return  # true/false schemas and garbage constrain nothing here
        resolved = self.resolve(schema)
        if resolved is None:
            return
        s = resolved
        if value is None and s.get("nullable") is True:
            return
        types = s.get("type")
        if isinstance(types, str):
            types = [types]
        if isinstance(types, list) and types and not any(_is_type(value, str(t)) for t in types):
            names = " or ".join(f'"{t}"' for t in types)
            self.error(path, f"{_show(value)} is not of type {names}")
            return
        if "enum" in s and isinstance(s["enum"], list) and not any(_equal(value, e) for e in s["enum"]):
            self.error(path, f"{_show(value)} is not one of {_show(s['enum'])}")
        if "const" in s and not _equal(value, s["const"]):
            self.error(path, f"{_show(s['const'])} was expected")
        fmt = s.get("format")
        if isinstance(fmt, str) and not _format_ok(value, fmt):
            self.error(path, f'{_show(value)} is not a "{fmt}"')
        number = _number(value)
        if number is not None:
            self.check_number(number, s, path)
        elif isinstance(value, str):
            self.check_string(value, s, path)
        elif isinstance(value, list):
            self.check_array(value, s, path)
        elif isinstance(value, dict):
            self.check_object(value, s, path)
        self.check_combinators(value, s, path)

    def check_number(self, value: float | int, s: Mapping[str, Any], path: str) -> None:
        low, high = _number(s.get("minimum")), _number(s.get("maximum"))
        ex_low, ex_high = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if low is not None:
            if ex_low is True and value <= low:
                self.error(path, f"{_show(value)} is less than or equal to the minimum of {_show(low)}")
            elif value < low:
                self.error(path, f"{_show(value)} is less than the minimum of {_show(low)}")
        if high is not None:
            if ex_high is True and value >= high:
                self.error(path, f"{_show(value)} is greater than or equal to the maximum of {_show(high)}")
            elif value > high:
                self.error(path, f"{_show(value)} is greater than the maximum of {_show(high)}")
        for bound, below in ((_number(ex_low), True), (_number(ex_high), False)):
            if bound is None:
                continue
            if below and value <= bound:
                self.error(path, f"{_show(value)} is less than or equal to the minimum of {_show(bound)}")
            elif not below and value >= bound:
                self.error(path, f"{_show(value)} is greater than or equal to the maximum of {_show(bound)}")
        step = _number(s.get("multipleOf"))
        if step is not None and step > 0 and math.isfinite(value):
            quotient = value / step
            if not math.isclose(quotient, round(quotient), rel_tol=1e-9, abs_tol=1e-9):
                self.error(path, f"{_show(value)} is not a multiple of {_show(step)}")

    def check_string(self, value: str, s: Mapping[str, Any], path: str) -> None:
        low, high = _number(s.get("minLength")), _number(s.get("maxLength"))
        if low is not None and len(value) < low:
            self.error(path, f"{_show(value)} is too short")
        if high is not None and len(value) > high:
            self.error(path, f"{_show(value)} is too long")
        pattern = s.get("pattern")
        if isinstance(pattern, str):
            try:
                matched = re.search(pattern, value) is not None
            except re.error:
                matched = True  # a pattern Python cannot read constrains nothing
            if not matched:
                self.error(path, f"{_show(value)} does not match {_show(pattern)}")

    def check_array(self, value: list[Any], s: Mapping[str, Any], path: str) -> None:
        low, high = _number(s.get("minItems")), _number(s.get("maxItems"))
        if low is not None and len(value) < low:
            self.error(path, f"{_show(value)} is too short")
        if high is not None and len(value) > high:
            self.error(path, f"{_show(value)} is too long")
        if s.get("uniqueItems") is True:
            seen: list[Any] = []
            for item in value:
                if any(_equal(item, other) for other in seen):
                    self.error(path, f"{_show(value)} has non-unique elements")
                    break
                seen.append(item)
        items = s.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                self.check(item, items, f"{path}[{i}]")

    def check_object(self, value: dict[str, Any], s: Mapping[str, Any], path: str) -> None:
        required = s.get("required")
        if isinstance(required, list):
            for name in required:
                if isinstance(name, str) and name not in value:
                    self.error(path, f'"{name}" is a required property')
        low, high = _number(s.get("minProperties")), _number(s.get("maxProperties"))
        if low is not None and len(value) < low:
            self.error(path, f"{_show(value)} does not have enough properties")
        if high is not None and len(value) > high:
            self.error(path, f"{_show(value)} has too many properties")
        props = s.get("properties")
        props = props if isinstance(props, Mapping) else {}
        extra = s.get("additionalProperties")
        unexpected = []
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in props:
                self.check(item, props[key], sub)
            elif extra is False:
                unexpected.append(key)
            elif isinstance(extra, Mapping):
                self.check(item, extra, sub)
        if unexpected:
            names = ", ".join(f'"{k}"' for k in unexpected)
            self.error(path, f"additional properties are not allowed ({names} unexpected)")

    def check_combinators(self, value: Any, s: Mapping[str, Any], path: str) -> None:
        all_of = s.get("allOf")
        if isinstance(all_of, list):
            for part in all_of:
                self.check(value, part, path)
        any_of = s.get("anyOf")
        if isinstance(any_of, list) and any_of and not any(self.valid(value, p) for p in any_of):
            self.error(path, f"{_show(value)} is not valid under any of the given schemas")
        one_of = s.get("oneOf")
        if isinstance(one_of, list) and one_of:
            matches = sum(1 for p in one_of if self.valid(value, p))
            if matches == 0:
                self.error(path, f"{_show(value)} is not valid under any of the given schemas")
            elif matches > 1:
                self.error(path, f"{_show(value)} is valid under more than one of the given schemas")
        not_schema = s.get("not")
        if isinstance(not_schema, Mapping) and self.valid(value, not_schema):
            self.error(path, f"{_show(value)} should not be valid under {_show(not_schema)}")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(type(a) is type(b) or (_number(a) is not None and _number(b) is not None)) and bool(a == b)


def schema_errors(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> list[str]:
    """Why ``value`` does not match ``schema`` (an OpenAPI 3.0 Schema Object); [] when it does.

    ``root`` is the document ``$ref`` pointers are resolved in (default: ``schema`` itself).
    """
    validator = _Validator(schema if root is None else root)
    try:
        validator.check(value, schema, "")
    except RecursionError:
        return ["the value is nested too deeply to validate"]
    return validator.errors


def _coerce(text: str, schema: Any, root: Mapping[str, Any]) -> Any:
    """A query string as the type its schema names (for validation only)."""
    if not isinstance(schema, Mapping):
        return text
    resolved = _Validator(root).resolve(schema)
    if resolved is None:
        return text
    types = resolved.get("type")
    names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    for name in names:
        if name == "integer" and _INTEGER.fullmatch(text):
            return int(text)
        if name == "number":
            try:
                number = float(text)
            except ValueError:
                continue
            if math.isfinite(number):
                return number
        if name == "boolean" and text in _GO_TRUE | _GO_FALSE:
            return text in _GO_TRUE
        if name == "array":
            return [_coerce(text, resolved.get("items"), root)]
        if name == "string":
            return text
    return text


@dataclass(frozen=True)
class _Param:
    name: str
    required: bool
    schema: Mapping[str, Any] | None


class RequestValidator:
    """The ``openapi`` checks of one API, prepared once (per snapshot) and used for every request."""

    def __init__(self, api: ApiSpec) -> None:
        block = api.openapi
        params = []
        for p in block.parameters or ():
            where = p.get("in", "query")
            name = p.get("name")
            if where != "query" or not isinstance(name, str):
                continue  # headers, paths and cookies are not args
            schema = p.get("schema")
            params.append(
                _Param(name, p.get("required") is True, schema if isinstance(schema, Mapping) else None)
            )
        self.params = tuple(params)
        body = block.request_schema
        self.body: Mapping[str, Any] | None = body if isinstance(body, Mapping) else None
        self.checks_anything = bool(self.params) or self.body is not None

    def errors(self, args: Mapping[str, Any], query_keys: Collection[str]) -> list[str]:
        """Why ``args`` (with ``query_keys`` the names that came from the query string) are invalid."""
        out: list[str] = []
        for param in self.params:
            if param.name not in args:
                if param.required:
                    out.append(f'query parameter "{param.name}" is required')
                continue
            if param.schema is None:
                continue
            value = args[param.name]
            if param.name in query_keys and isinstance(value, str):
                value = _coerce(value, param.schema, param.schema)
            for message in schema_errors(value, param.schema):
                out.append(f'query parameter "{param.name}": {message}')
        if self.body is not None:
            instance = dict(args)
            props = self.body.get("properties")
            if isinstance(props, Mapping):
                for key in query_keys:
                    if key in props and isinstance(instance.get(key), str):
                        instance[key] = _coerce(instance[key], props[key], self.body)
            out.extend(schema_errors(instance, self.body))
        return out[:MAX_ERRORS]

    def check(self, args: Mapping[str, Any], query_keys: Collection[str]) -> None:
        """Raise :class:`RequestValidationError` (400) listing what is wrong, if anything is."""
        if not self.checks_anything:
            return
        errors = self.errors(args, query_keys)
        if errors:
            raise RequestValidationError("invalid request: " + "; ".join(errors))


def check_request(api: ApiSpec, args: Mapping[str, Any], query_string: bytes | str, memo: Memo) -> None:
    """Validate a request's args for ``api`` (the validator is built once per snapshot, in ``memo``)."""
    validator = memo.get(("rill-emu.validator", api.name), lambda: RequestValidator(api))
    if validator.checks_anything:
        validator.check(args, parse_query(query_string).keys())
