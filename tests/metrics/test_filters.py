"""WHERE expressions of structured queries: SQL shape and results on DuckDB (Rill's astexpr.go rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator.errors import BadRequest
from emulator.metrics import build_sql, parse_query
from emulator.project.resources import MetricsViewSpec

Run = Callable[..., list[dict[str, Any]]]


def by_pub(where: dict[str, Any]) -> dict[str, Any]:
    return {
        "metrics_view": "ad_bids_metrics",
        "dimensions": [{"name": "pub"}],
        "measures": [{"name": "measure_0"}],
        "where": where,
        "sort": [{"name": "pub"}],
    }


def cond(op: str, *exprs: dict[str, Any] | None) -> dict[str, Any]:
    return {"cond": {"op": op, "exprs": list(exprs)}}


PUB = {"name": "pub"}


def pubs(run: Run, where: dict[str, Any]) -> list[Any]:
    return [r["pub"] for r in run(parse_query(by_pub(where)))]


def where_sql(view: MetricsViewSpec, where: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    compiled = build_sql(parse_query(by_pub(where)), view)
    sql = compiled.sql
    return sql[sql.index(" WHERE ") + 7 : sql.rindex(" GROUP BY")], compiled.params


@pytest.mark.parametrize(
    ("where", "expected_sql", "expected_pubs"),
    [
        (cond("eq", PUB, {"val": "Yahoo"}), '(("publisher") = ?)', ["Yahoo"]),
        (cond("eq", PUB, {"val": None}), '(("publisher") IS NULL)', [None]),
        (cond("neq", PUB, {"val": None}), '(("publisher") IS NOT NULL)', ["Google", "Microsoft", "Yahoo"]),
        # "!=" drops NULL rows ...
        (cond("neq", PUB, {"val": "Yahoo"}), '(("publisher") != ?)', ["Google", "Microsoft"]),
        # ... but NOT IN and NOT ILIKE keep them.
        (
            cond("nin", PUB, {"val": ["Yahoo"]}),
            '(("publisher") NOT IN (?) OR ("publisher") IS NULL)',
            ["Google", "Microsoft", None],
        ),
        (
            cond("nilike", PUB, {"val": "%OO%"}),
            '(("publisher") NOT ILIKE ? OR ("publisher") IS NULL)',
            ["Microsoft", None],
        ),
        (cond("ilike", PUB, {"val": "%OO%"}), '(("publisher") ILIKE ?)', ["Google", "Yahoo"]),
        (cond("in", PUB, {"val": ["Yahoo", "Google"]}), '(("publisher") IN (?,?))', ["Google", "Yahoo"]),
        (
            cond("in", PUB, {"val": ["Yahoo", None]}),
            '(("publisher") IN (?) OR ("publisher") IS NULL)',
            ["Yahoo", None],
        ),
        (
            cond("nin", PUB, {"val": ["Yahoo", None]}),
            '(("publisher") NOT IN (?) AND ("publisher") IS NOT NULL)',
            ["Google", "Microsoft"],
        ),
        # A single value or a flattened list on the right of IN (backwards compatibility).
        (cond("in", PUB, {"val": "Yahoo"}), '(("publisher") IN (?))', ["Yahoo"]),
        (
            cond("in", PUB, {"val": "Yahoo"}, {"val": "Google"}),
            '(("publisher") IN (?,?))',
            ["Google", "Yahoo"],
        ),
        (
            cond("or", cond("eq", PUB, {"val": "Yahoo"}), cond("eq", {"name": "dom"}, {"val": "msn.com"})),
            '((("publisher") = ?) OR (("domain") = ?))',
            ["Microsoft", "Yahoo", None],
        ),
        (
            cond(
                "and",
                cond("gte", {"name": "timestamp"}, {"val": "2022-01-04"}),
                cond("lt", {"name": "timestamp"}, {"val": "2022-01-06"}),
            ),
            '((("timestamp") >= ?) AND (("timestamp") < ?))',
            ["Google", "Yahoo"],
        ),
        (
            cond("lte", {"name": "timestamp"}, {"val": "2022-01-02 11:58:12.475"}),
            '(("timestamp") <= ?)',
            ["Yahoo", None],
        ),
        (
            cond("gt", {"name": "timestamp"}, {"val": "2022-01-06"}),
            '(("timestamp") > ?)',
            ["Microsoft", "Yahoo"],
        ),
        # Any dimension can be filtered on, selected or not; expression dimensions are inlined.
        (
            cond("eq", {"name": "tld"}, {"val": "google.com"}),
            r"""((regexp_extract(domain, '(.*\.)?(.*\.com)', 2)) = ?)""",
            ["Google"],
        ),
        # Values may come first.
        (cond("eq", {"val": "Microsoft"}, PUB), '(? = ("publisher"))', ["Microsoft"]),
    ],
)
def test_operator(
    run: Run,
    ad_bids_metrics: MetricsViewSpec,
    where: dict[str, Any],
    expected_sql: str,
    expected_pubs: list[Any],
) -> None:
    sql, _ = where_sql(ad_bids_metrics, where)
    assert sql == expected_sql
    assert pubs(run, where) == expected_pubs


def test_empty_in_is_false_and_empty_not_in_is_true(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    assert where_sql(ad_bids_metrics, cond("in", PUB, {"val": []})) == ("FALSE", ())
    assert pubs(run, cond("in", PUB, {"val": []})) == []
    assert where_sql(ad_bids_metrics, cond("nin", PUB, {"val": []})) == ("TRUE", ())
    assert pubs(run, cond("nin", PUB, {"val": []})) == ["Google", "Microsoft", "Yahoo", None]


def test_empty_and_adds_no_where(ad_bids_metrics: MetricsViewSpec) -> None:
    sql = build_sql(parse_query(by_pub(cond("and"))), ad_bids_metrics).sql
    assert " WHERE " not in sql


def test_literals_are_bound_parameters(ad_bids_metrics: MetricsViewSpec) -> None:
    sql, params = where_sql(ad_bids_metrics, cond("eq", PUB, {"val": "x' OR 1=1 --"}))
    assert "OR 1=1" not in sql
    assert params == ("x' OR 1=1 --",)


def test_in_subquery_over_the_same_view(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    subquery = {
        "subquery": {
            "dimension": {"name": "pub"},
            "measures": [{"name": "measure_0"}],
            "where": cond("neq", {"name": "dom"}, {"val": "msn.com"}),
            "having": cond("gte", {"name": "measure_0"}, {"val": 2}),
        }
    }
    where = cond("in", PUB, subquery)
    sql, params = where_sql(ad_bids_metrics, where)
    assert sql == (
        '(("publisher") IN (SELECT "pub" FROM '
        '(SELECT ("t1"."pub") AS "pub", ("t1"."measure_0") AS "measure_0" '
        'FROM (SELECT ("publisher") AS "pub", (count(*)) AS "measure_0" FROM "ad_bids" '
        'WHERE (("domain") != ?) GROUP BY 1) t1 WHERE (("t1"."measure_0") >= ?))))'
    )
    assert params[:2] == ("msn.com", 2)
    assert pubs(run, where) == ["Google", "Yahoo"]


def test_unnested_dimension_filter_uses_exists(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    where = cond("eq", {"name": "domain_parts"}, {"val": "news"})
    sql, _ = where_sql(ad_bids_metrics, where)
    assert sql == (
        """EXISTS (SELECT 1 FROM LATERAL UNNEST(string_split(domain, '.')) t0("domain_parts") """
        """WHERE (("t0"."domain_parts") = ?))"""
    )
    assert pubs(run, where) == ["Google"]


def test_unnested_dimension_not_equal_moves_not_outside(run: Run) -> None:
    where = cond("neq", {"name": "domain_parts"}, {"val": "msn"})
    assert pubs(run, where) == ["Google", "Yahoo"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (cond("foo", PUB, {"val": 1}), "failed to compile 'where': invalid expression operator \"foo\""),
        (cond("eq", PUB), "failed to compile 'where': binary condition must have exactly 2 expressions"),
        (cond("eq", PUB, None), "failed to compile 'where': right expression is nil"),
        ({}, "failed to compile 'where': invalid expression"),
        (
            cond("eq", {"name": "measure_0"}, {"val": 1}),
            "failed to compile 'where': invalid dimension reference "
            '"measure_0": dimension "measure_0" not found',
        ),
        (
            cond("eq", {"name": "Pub"}, {"val": 1}),
            'failed to compile \'where\': invalid dimension reference "Pub": dimension "Pub" not found',
        ),
        (
            cond("eq", {"val": 1}, {"name": "domain_parts"}),
            "failed to compile 'where': cannot apply expression to dimension \"domain_parts\" because it "
            "requires unnesting, which is only supported for the left side of an operation",
        ),
    ],
)
def test_where_errors(ad_bids_metrics: MetricsViewSpec, where: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as err:
        build_sql(parse_query(by_pub(where)), ad_bids_metrics)
    assert err.value.message == message
    assert err.value.status == 400
