"""``--validate-requests``: the OpenAPI schema subset, query-string coercion, and the 400 answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.memo import Memo
from emulator.project.resources import ApiSpec, OpenAPIBlock
from emulator.testing import EmuServer
from emulator.validation import RequestValidationError, RequestValidator, check_request, schema_errors

ROOT = Path(__file__).resolve().parents[1]
API = "/v1/instances/default/api"


@pytest.mark.parametrize(
    ("value", "schema", "errors"),
    [
        ("x", {"type": "integer"}, ['"x" is not of type "integer"']),
        (2.0, {"type": "integer"}, []),
        (2.5, {"type": "integer"}, ['2.5 is not of type "integer"']),
        (True, {"type": "number"}, ['true is not of type "number"']),
        (None, {"type": "string"}, ['null is not of type "string"']),
        (None, {"type": "string", "nullable": True}, []),
        (None, {"type": ["string", "null"]}, []),
        (1, {"type": ["string", "boolean"]}, ['1 is not of type "string" or "boolean"']),
        ("c", {"enum": ["a", "b"]}, ['"c" is not one of ["a", "b"]']),
        (1, {"enum": [True]}, ["1 is not one of [true]"]),
        (1.0, {"enum": [1]}, []),
        ("b", {"const": "a"}, ['"a" was expected']),
        (0, {"minimum": 1}, ["0 is less than the minimum of 1"]),
        (1, {"minimum": 1, "exclusiveMinimum": True}, ["1 is less than or equal to the minimum of 1"]),
        (1, {"exclusiveMinimum": 1}, ["1 is less than or equal to the minimum of 1"]),
        (11, {"maximum": 10}, ["11 is greater than the maximum of 10"]),
        (10, {"maximum": 10, "exclusiveMaximum": True}, ["10 is greater than or equal to the maximum of 10"]),
        (0.3, {"multipleOf": 0.1}, []),
        (7, {"multipleOf": 2}, ["7 is not a multiple of 2"]),
        ("ab", {"minLength": 3}, ['"ab" is too short']),
        ("abcd", {"maxLength": 3}, ['"abcd" is too long']),
        ("ab1", {"pattern": "^[a-z]+$"}, ['"ab1" does not match "^[a-z]+$"']),
        ("x", {"pattern": "("}, []),  # a pattern Python cannot compile constrains nothing
        ("2024-02-30", {"format": "date"}, ['"2024-02-30" is not a "date"']),
        ("2024-02-29", {"format": "date"}, []),
        ("2024-02-29T10:00:00Z", {"format": "date-time"}, []),
        ("2024-02-29 10:00", {"format": "date-time"}, ['"2024-02-29 10:00" is not a "date-time"']),
        ("nope", {"format": "uuid"}, ['"nope" is not a "uuid"']),
        ("anything", {"format": "email"}, []),
        ([1, 1], {"uniqueItems": True}, ["[1, 1] has non-unique elements"]),
        ([1, True], {"uniqueItems": True}, []),
        ([], {"minItems": 1}, ["[] is too short"]),
        ([1, "a"], {"items": {"type": "integer"}}, ['[1]: "a" is not of type "integer"']),
        ({}, {"required": ["a"]}, ['"a" is a required property']),
        (
            {"a": {"b": "x"}},
            {"properties": {"a": {"properties": {"b": {"type": "integer"}}}}},
            ['a.b: "x" is not of type "integer"'],
        ),
        (
            {"a": 1, "z": 2},
            {"properties": {"a": {}}, "additionalProperties": False},
            ['additional properties are not allowed ("z" unexpected)'],
        ),
        ({"z": "x"}, {"additionalProperties": {"type": "integer"}}, ['z: "x" is not of type "integer"']),
        ({}, {"minProperties": 1}, ["{} does not have enough properties"]),
        (5, {"allOf": [{"minimum": 1}, {"maximum": 3}]}, ["5 is greater than the maximum of 3"]),
        (
            "x",
            {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
            ['"x" is not valid under any of the given schemas'],
        ),
        (
            1,
            {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
            ["1 is valid under more than one of the given schemas"],
        ),
        (1, {"not": {"type": "integer"}}, ['1 should not be valid under {"type": "integer"}']),
        (
            {"p": {"d": 1}},
            {"properties": {"p": {"$ref": "#/$defs/P"}}, "$defs": {"P": {"required": ["e"]}}},
            ['p: "e" is a required property'],
        ),
        (1, {"$ref": "#/$defs/Loop", "$defs": {"Loop": {"$ref": "#/$defs/Loop"}}}, []),
        (1, {"$ref": "https://example.com/schema"}, []),
        (1, {"x-unknown": True, "type": "integer"}, []),
        ("x" * 100, {"type": "integer"}, ['"' + "x" * 56 + '... is not of type "integer"']),
    ],
)
def test_schema_errors(value: Any, schema: dict[str, Any], errors: list[str]) -> None:
    assert schema_errors(value, schema) == errors


def test_errors_are_capped_and_deep_values_do_not_crash() -> None:
    assert (
        len(schema_errors({str(i): "x" for i in range(50)}, {"additionalProperties": {"type": "integer"}}))
        == 10
    )
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    recursive = {"$ref": "#/$defs/L", "$defs": {"L": {"type": "array", "items": {"$ref": "#/$defs/L"}}}}
    assert schema_errors(deep, recursive) in ([], ["the value is nested too deeply to validate"])


# --- differential: the subset where OpenAPI 3.0 and JSON Schema agree, against jsonschema ---------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from([0.5, 2.0, -1.5])
    | st.sampled_from(["", "a", "ab", "abc", "1"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=3)
    ),
    max_leaves=8,
)
_type = st.sampled_from(["string", "integer", "number", "boolean", "array", "object", "null"])
_leaf_schema = st.fixed_dictionaries(
    {},
    optional={
        "type": _type,
        "enum": st.lists(_json, min_size=1, max_size=3),
        "minimum": st.integers(-3, 3),
        "maximum": st.integers(-3, 3),
        "minLength": st.integers(0, 3),
        "maxLength": st.integers(0, 3),
        "pattern": st.sampled_from(["^a", "b$", "[0-9]"]),
        "minItems": st.integers(0, 2),
        "maxItems": st.integers(0, 2),
        "uniqueItems": st.booleans(),
        "required": st.lists(st.sampled_from(["a", "b"]), max_size=2, unique=True),
        "minProperties": st.integers(0, 2),
        "multipleOf": st.sampled_from([1, 2, 0.5]),
    },
)
_schema = st.recursive(
    _leaf_schema,
    lambda children: st.fixed_dictionaries(
        {},
        optional={
            "properties": st.dictionaries(st.sampled_from(["a", "b", "c"]), children, max_size=2),
            "additionalProperties": st.booleans() | children,
            "items": children,
            "allOf": st.lists(children, min_size=1, max_size=2),
            "anyOf": st.lists(children, min_size=1, max_size=2),
            "oneOf": st.lists(children, min_size=1, max_size=2),
            "not": children,
            "type": _type,
        },
    ),
    max_leaves=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json, _schema)
def test_agrees_with_jsonschema_on_the_common_subset(value: Any, schema: dict[str, Any]) -> None:
    expected = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert (schema_errors(value, schema) == []) == expected, schema_errors(value, schema)


# --- requests -------------------------------------------------------------------------------------------


def _api(**openapi: Any) -> ApiSpec:
    return ApiSpec(name="a", path="/apis/a.yaml", paths=("/apis/a.yaml",), resolver="sql", props={},
                   openapi=OpenAPIBlock(**openapi))  # fmt: skip


def test_query_parameters_are_coerced_for_validation_only() -> None:
    params = (
        {"name": "n", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}},
        {"name": "f", "in": "query", "schema": {"type": "number"}},
        {"name": "b", "in": "query", "schema": {"type": "boolean"}},
        {"name": "l", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
        {"name": "h", "in": "header", "required": True, "schema": {"type": "integer"}},
        {"name": "free", "in": "query"},
    )
    validator = RequestValidator(_api(parameters=params))
    args = {"n": "3", "f": "2.5", "b": "T", "l": "4", "free": "x"}
    assert validator.errors(args, set(args)) == []
    assert args["n"] == "3"  # untouched
    assert validator.errors({"n": 3.0}, set()) == []  # a JSON body number
    assert validator.errors({"n": "3"}, set()) == ['query parameter "n": "3" is not of type "integer"']
    assert validator.errors({}, set()) == ['query parameter "n" is required']
    bad = {"n": "0", "f": "nan", "b": "yes", "l": "x"}
    assert validator.errors(bad, set(bad)) == [
        'query parameter "n": 0 is less than the minimum of 1',
        'query parameter "f": "nan" is not of type "number"',
        'query parameter "b": "yes" is not of type "boolean"',
        'query parameter "l": [0]: "x" is not of type "integer"',
    ]


def test_the_request_schema_sees_body_and_query_args_merged() -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "additionalProperties": False,
    }
    validator = RequestValidator(_api(request_schema=schema))
    assert validator.errors({"id": "7"}, {"id"}) == []
    assert validator.errors({"id": 7.0, "tags": ["a"]}, set()) == []
    assert validator.errors({"id": "seven", "x": 1}, {"id"}) == [
        'id: "seven" is not of type "integer"',
        'additional properties are not allowed ("x" unexpected)',
    ]
    with pytest.raises(RequestValidationError) as info:
        validator.check({}, set())
    assert info.value.status == 400
    assert info.value.message == 'invalid request: "id" is a required property'


def test_an_api_without_openapi_checks_nothing() -> None:
    memo = Memo()
    check_request(_api(), {"anything": object()}, b"x=1", memo)
    assert len(memo) == 1


def test_the_validator_is_built_once_per_snapshot() -> None:
    memo = Memo()
    api = _api(parameters=({"name": "n", "in": "query", "schema": {"type": "integer"}},))
    check_request(api, {"n": "1"}, b"n=1", memo)
    [validator] = memo._items.values()
    with pytest.raises(RequestValidationError):
        check_request(api, {"n": "x"}, b"n=x", memo)
    assert list(memo._items.values()) == [validator]


# --- end to end -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validating() -> Any:
    with EmuServer(ROOT / "sample_project", watch=False, validate_requests=True) as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "answer"),
    [
        ("GET", "/top_products?limit=3", None, 200, None),
        (
            "GET",
            "/top_products?limit=three",
            None,
            400,
            'invalid request: query parameter "limit": "three" is not of type "integer"',
        ),
        (
            "GET",
            "/orders_by_status?status=lost",
            None,
            400,
            'invalid request: query parameter "status": "lost" is not one of '
            '["placed", "shipped", "delivered", "cancelled", "returned"]',
        ),
        ("GET", "/customer_orders", None, 400, 'invalid request: "customer_id" is a required property'),
        ("GET", "/customer_orders?customer_id=144", None, 200, None),
        (
            "POST",
            "/customer_orders",
            {"customer_id": 144, "period": {"start_date": "2024-01-01"}},
            400,
            'invalid request: period: "end_date" is a required property',
        ),
        (
            "POST",
            "/customer_orders",
            {"customer_id": 144, "period": {"start_date": "2024-01-01", "end_date": "2024-06-31"}},
            400,
            'invalid request: period.end_date: "2024-06-31" is not a "date"',
        ),
        (
            "POST",
            "/sales_by_category",
            {"categories": ["Books", 3]},
            400,
            'invalid request: categories[1]: 3 is not of type "string"',
        ),
        ("POST", "/sql", {}, 400, 'invalid request: "sql" is a required property'),
        ("POST", "/sql", {"sql": "SELECT 1 AS one"}, 200, None),
        (
            "POST",
            "/metrics",
            {"metrics_view": "orders_metrics", "measures": [{"name": "revenue"}], "limit": 1.5},
            400,
            'invalid request: limit: 1.5 is not of type "integer"',
        ),
        (
            "POST",
            "/metrics",
            {"metrics_view": "orders_metrics", "measures": [{"name": "total_orders"}]},
            200,
            None,
        ),
    ],
)
def test_validate_requests_answers_400_with_what_is_wrong(
    validating: EmuServer, method: str, path: str, body: Any, status: int, answer: str | None
) -> None:
    resp = httpx.request(method, f"{validating.url}{API}{path}", json=body, timeout=30)
    assert resp.status_code == status, resp.text
    if answer is not None:
        assert resp.json() == {"error": answer}


def test_without_the_flag_nothing_is_validated(rill_emu: Any) -> None:
    resp = httpx.get(f"{rill_emu.url}{API}/orders_by_status?status=lost", timeout=30)
    assert resp.status_code == 200 and resp.json() == []
