"""Whatever a client sends, the code that reads it answers with a value or an ``EmuError`` (a 4xx),
never another exception (a 500): bodies, query strings, identity headers, metrics SQL and queries,
schemas for ``--validate-requests``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.errors import EmuError
from emulator.identity import Claims, IdentityContext, request_claims
from emulator.metrics.query import parse_query as parse_metrics_query
from emulator.metrics.sql_parser import compile_metrics_sql
from emulator.project.loader import ProjectLoader
from emulator.requestargs import merge_args, parse_body, parse_query
from emulator.validation import schema_errors

SAMPLE = Path(__file__).resolve().parents[2] / "sample_project"
PROJECT = ProjectLoader(SAMPLE).load()
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
json_bytes = json_values.map(lambda v: json.dumps(v).encode())
bodies = st.one_of(
    st.binary(max_size=200),
    json_bytes,
    st.lists(
        st.sampled_from([b"{", b"}", b"[", b"]", b'"', b":", b",", b"1", b"null", b"\xff", b"\\u"]),
        max_size=30,
    ).map(b"".join),
)


def _only_emu_errors(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except EmuError as exc:
        assert 400 <= exc.status < 500, exc
        return None


@FAST
@given(bodies, st.binary(max_size=100))
def test_any_body_and_query_string(body: bytes, query: bytes) -> None:
    args = _only_emu_errors(merge_args, body, query)
    assert args is None or isinstance(args, dict)
    assert isinstance(parse_query(query), dict)
    parsed = _only_emu_errors(parse_body, body)
    assert parsed is None or isinstance(parsed, dict)


def _latin1(draw_bytes: bytes) -> str:
    return draw_bytes.decode("latin-1")  # what the server hands over for any header bytes


def _jwt(payload: bytes) -> str:
    part = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"Bearer eyJhbGciOiJub25lIn0.{part}."


header_values = st.one_of(
    st.binary(max_size=80).map(_latin1),
    json_bytes.map(lambda b: b.decode()),
    json_bytes.map(_jwt),
    st.binary(max_size=80).map(_jwt),
    st.sampled_from(
        ["", " ", "Bearer", "Bearer ", "Bearer a.b.c", "Basic x", "ada@sample-shop.com", "{}", "[]"]
    ),
)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(["authorization", "x-rill-user", "x-rill-attributes"]), header_values, max_size=3
    ),
    st.booleans(),
)
def test_any_identity_headers(headers: dict[str, str], cloud: bool) -> None:
    ctx = IdentityContext(mock_users=PROJECT.config.mock_users, tokens={})
    claims = _only_emu_errors(request_claims, headers, ctx, cloud=cloud)
    assert claims is None or isinstance(claims, Claims)


metrics_sql = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "SELECT ",
                "revenue",
                ", ",
                "category",
                " FROM ",
                "orders_metrics",
                " WHERE ",
                "region",
                " = ",
                "'EMEA'",
                " IN (",
                ")",
                " LIKE ",
                "'%a",
                " ORDER BY ",
                " DESC",
                " LIMIT ",
                "10",
                " OFFSET ",
                "-1",
                " AND ",
                " OR ",
                "NOT ",
                "(",
                '"',
                "`",
                "'",
                "date_trunc('month', ordered_at)",
                " AS ",
                "total_orders",
                " HAVING ",
                " > ",
                "1e400",
                " GROUP BY ",
                ";",
                " BETWEEN ",
                "NULL",
                "*",
            ]
        ),
        max_size=16,
    ).map("".join),
)


@FAST
@given(metrics_sql)
def test_any_metrics_sql(sql: str) -> None:
    _only_emu_errors(compile_metrics_sql, sql, PROJECT.metrics_views)


metrics_bodies = st.fixed_dictionaries(
    {"metrics_view": st.sampled_from(["orders_metrics", "nope", 3])},
    optional={
        "dimensions": st.lists(st.one_of(json_values, st.fixed_dictionaries({"name": st.text(max_size=10)}))),
        "measures": st.lists(
            st.one_of(json_values, st.fixed_dictionaries({"name": st.sampled_from(["revenue", "x"])}))
        ),
        "where": json_values,
        "sort": json_values,
        "limit": json_values,
        "offset": json_values,
        "time_range": json_values,
        "time_zone": json_values,
    },
)


@FAST
@given(st.one_of(metrics_bodies, json_values))
def test_any_metrics_query(body: Any) -> None:
    if isinstance(body, dict):
        _only_emu_errors(parse_metrics_query, body)


@FAST
@given(json_values, json_values)
def test_any_schema_and_value(value: Any, schema: Any) -> None:
    if isinstance(schema, dict):
        assert isinstance(schema_errors(value, schema), list)
