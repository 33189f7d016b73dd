"""metrics_sql and metrics APIs, and the built-in metrics / metrics-sql / sql APIs, over HTTP.

Uses the project's own pytest plugin: ``rill_emu`` serves sample_project for the session.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.testing import EmuCallError, EmuClient

API = "/v1/instances/default/api"


def _post(rill_emu: EmuClient, name: str, body: dict[str, Any], **headers: str) -> Any:
    with rill_emu.client() as http:
        return http.post(f"{API}/{name}", json=body, headers=headers)


def test_metrics_sql_api_groups_sorts_and_limits(rill_emu: EmuClient) -> None:
    rows = rill_emu.call("top_categories", limit=3)
    assert [set(r) for r in rows] == [{"category", "revenue", "total_orders"}] * 3
    revenues = [r["revenue"] for r in rows]
    assert revenues == sorted(revenues, reverse=True)
    # the same numbers as the plain SQL over the model, through the built-in sql API
    expected = rill_emu.call(
        "sql",
        sql="SELECT category, SUM(revenue) AS revenue, COUNT(*) AS total_orders FROM order_facts "
        "WHERE status != 'cancelled' GROUP BY 1 ORDER BY revenue DESC NULLS LAST LIMIT 3",
    )
    assert rows == expected


def test_metrics_resolver_api(rill_emu: EmuClient) -> None:
    rows = rill_emu.call("revenue_by_region")
    assert {r["region"] for r in rows} == {"EMEA", "AMER", "APAC", None}
    assert rows[0]["revenue"] >= rows[-1]["revenue"]
    assert sum(r["total_orders"] for r in rows) == 3000


def test_metrics_sql_time_floor_output_is_rfc3339(rill_emu: EmuClient) -> None:
    rows = rill_emu.call("monthly_revenue")
    assert rows[0]["month"] == "2024-01-01T00:00:00Z"
    assert len(rows) == 12


def test_builtin_metrics_takes_a_json_query(rill_emu: EmuClient) -> None:
    body = {
        "metrics_view": "orders_metrics",
        "dimensions": [{"name": "category"}],
        "measures": [{"name": "total_orders"}],
        "where": {"cond": {"op": "eq", "exprs": [{"name": "status"}, {"val": "cancelled"}]}},
        "sort": [{"name": "category"}],
    }
    resp = _post(rill_emu, "metrics", body)
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert [r["category"] for r in rows] == sorted(r["category"] for r in rows)
    assert all(set(r) == {"category", "total_orders"} for r in rows)


def test_builtin_metrics_sql(rill_emu: EmuClient) -> None:
    rows = rill_emu.call("metrics-sql", sql="SELECT status, total_orders FROM orders_metrics ORDER BY status")
    assert [r["status"] for r in rows] == sorted(r["status"] for r in rows)


def test_metrics_sql_errors_are_400_with_rills_text(rill_emu: EmuClient) -> None:
    with pytest.raises(EmuCallError) as info:
        rill_emu.call("metrics-sql", sql="SELECT nope FROM orders_metrics")
    assert info.value.status == 400
    assert info.value.message == (
        "metrics sql: selected column `nope` not found in dimensions/measures in metrics view"
    )
    with pytest.raises(EmuCallError) as info:
        rill_emu.call("metrics-sql", sql="SELECT * FROM orders_metrics")
    assert info.value.message == "metrics sql: unsupported expression in select field"


def test_builtin_metrics_limit_over_the_cap(rill_emu: EmuClient) -> None:
    body = {"metrics_view": "orders_metrics", "dimensions": [{"name": "product"}], "limit": 20000}
    resp = _post(rill_emu, "metrics", body)
    assert resp.status_code == 400
    assert resp.json() == {"error": "query limit of 20000 rows exceeds the system cap of 10000 rows"}


def test_builtin_sql_and_metrics_sql_are_admin_only(rill_emu: EmuClient) -> None:
    for name, sql in (("sql", "SELECT 1"), ("metrics-sql", "SELECT total_orders FROM orders_metrics")):
        with pytest.raises(EmuCallError) as info:
            rill_emu.call(name, user="emilie@sample-shop.eu", sql=sql)
        assert info.value.status == 400
        assert info.value.message == "must be an admin to run arbitrary SQL queries"
    assert rill_emu.call("sql", user="ada@sample-shop.com", sql="SELECT 1 AS one") == [{"one": 1}]


def test_builtins_are_in_the_openapi_document_with_request_schemas(rill_emu: EmuClient) -> None:
    doc = rill_emu.openapi()
    for name in ("metrics", "metrics-sql", "sql"):
        assert "requestBody" in doc["paths"][f"/{name}"]["post"]
    metrics_body = doc["paths"]["/metrics"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert metrics_body["properties"]["where"] == {"$ref": "#/components/schemas/Expression"}
    assert "Expression" in doc["components"]["schemas"]
    # the sample API with $defs gets its components under its PascalCase prefix
    assert "CustomerOrdersPeriod" in doc["components"]["schemas"]


def test_the_sample_document_is_valid_openapi(rill_emu: EmuClient) -> None:
    from openapi_spec_validator import validate

    validate(rill_emu.openapi())
