"""Rill's metricssql TestCompile (runtime/metricsview/metricssql/parser_test.go), re-expressed.

Each case checks the exact SQL and arguments Rill generates, then runs it on DuckDB and checks rows.
Queries without a LIMIT get the interactive row cap (`LIMIT 10001`), as Rill's executor adds it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from emulator.metrics import CompiledQuery, build_sql, compile_metrics_sql
from emulator.project.resources import MetricsViewSpec

Rows = Callable[[str], list[dict[str, Any]]]
CAP = " LIMIT 10001"
TLD = r"(regexp_extract(domain, '(.*\.)?(.*\.com)', 2))"
BASE = 'SELECT ("publisher") AS "pub", ("domain") AS "dom"'

CASES: list[tuple[str, str, list[Any]]] = [
    ("select pub, dom from ad_bids_metrics", f'{BASE} FROM "ad_bids" GROUP BY 1, 2{CAP}', []),
    ("select pub, dom from ad_bids_metrics LIMIT 5", f'{BASE} FROM "ad_bids" GROUP BY 1, 2 LIMIT 5', []),
    (
        "select pub, dom from ad_bids_metrics order by pub desc",
        f'{BASE} FROM "ad_bids" GROUP BY 1, 2 ORDER BY "pub" DESC NULLS LAST{CAP}',
        [],
    ),
    (
        "select pub, dom from ad_bids_metrics order by pub desc, dom asc limit 10",
        f'{BASE} FROM "ad_bids" GROUP BY 1, 2 ORDER BY "pub" DESC NULLS LAST, "dom" NULLS LAST LIMIT 10',
        [],
    ),
    (
        "select pub, dom from ad_bids_metrics where tld = 'Yahoo'",
        f'{BASE} FROM "ad_bids" WHERE ({TLD} = ?) GROUP BY 1, 2{CAP}',
        ["Yahoo"],
    ),
    (
        "select pub, dom from ad_bids_metrics where dom like '%google%'",
        f'{BASE} FROM "ad_bids" WHERE (("domain") ILIKE ?) GROUP BY 1, 2{CAP}',
        ["%google%"],
    ),
    (
        "select pub, dom, measure_0, measure_1 from ad_bids_metrics",
        f'{BASE}, (count(*)) AS "measure_0", (avg(bid_price)) AS "measure_1" '
        f'FROM "ad_bids" GROUP BY 1, 2{CAP}',
        [],
    ),
    (
        "select pub, dom,measure_0 from ad_bids_metrics  where tld = 'Yahoo' having measure_0 > 10 "
        "order by pub desc, dom asc limit 10",
        'SELECT ("t1"."pub") AS "pub", ("t1"."dom") AS "dom", ("t1"."measure_0") AS "measure_0" FROM '
        f'({BASE}, (count(*)) AS "measure_0" FROM "ad_bids" WHERE ({TLD} = ?) GROUP BY 1, 2) t1 '
        'WHERE (("t1"."measure_0") > ?) ORDER BY "pub" DESC NULLS LAST, "dom" NULLS LAST LIMIT 10',
        ["Yahoo", 10],
    ),
    (
        "select pub, dom from ad_bids_metrics where tld = '{{.user.domain}}'",
        f'{BASE} FROM "ad_bids" WHERE ({TLD} = ?) GROUP BY 1, 2{CAP}',
        ["{{.user.domain}}"],
    ),
    (
        "select pub, dom, date_trunc('SECOND', timestamp) from ad_bids_metrics",
        f"{BASE}, (date_trunc('SECOND', \"timestamp\"::TIMESTAMP)::TIMESTAMP) AS "
        f'"DATE_TRUNC(\'SECOND\', ""timestamp"")" FROM "ad_bids" GROUP BY 1, 2, 3{CAP}',
        [],
    ),
    (
        'select pub, dom, measure_0 as "click rate" from ad_bids_metrics '
        "where (pub is not null and dom is null) or (pub = '__default__')",
        f'{BASE}, (count(*)) AS "measure_0" FROM "ad_bids" WHERE (((("publisher") IS NOT NULL) AND '
        f'(("domain") IS NULL)) OR (("publisher") = ?)) GROUP BY 1, 2{CAP}',
        ["__default__"],
    ),
    (
        "select pub, dom from ad_bids_metrics where pub in ('Yahoo', 'Google')",
        f'{BASE} FROM "ad_bids" WHERE (("publisher") IN (?,?)) GROUP BY 1, 2{CAP}',
        ["Yahoo", "Google"],
    ),
    (
        "select pub, dom from ad_bids_metrics where timestamp > '30-07-2024' - INTERVAL 90 DAY",
        f'{BASE} FROM "ad_bids" WHERE (("timestamp") > ?) GROUP BY 1, 2{CAP}',
        ["2024-05-01T00:00:00Z"],
    ),
    (
        "select pub, dom from ad_bids_metrics where timestamp > '30-07-2024' + INTERVAL 90 HOUR",
        f'{BASE} FROM "ad_bids" WHERE (("timestamp") > ?) GROUP BY 1, 2{CAP}',
        ["2024-08-02T18:00:00Z"],
    ),
    (
        "select timestamp, bids_1day_rolling from ad_bids_metrics",
        'SELECT ("t1"."timestamp") AS "timestamp", (SUM(measure_0) OVER (ORDER BY "t1"."timestamp" '
        'RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW)) AS "bids_1day_rolling" FROM '
        '(SELECT ("timestamp") AS "timestamp", (count(*)) AS "measure_0" FROM "ad_bids" GROUP BY 1) t1'
        f"{CAP}",
        [],
    ),
]


@pytest.mark.parametrize(("metrics_sql", "expected_sql", "expected_args"), CASES)
def test_compile_matches_rill(
    execute: Execute,
    ad_bids_metrics: MetricsViewSpec,
    metrics_sql: str,
    expected_sql: str,
    expected_args: list[Any],
) -> None:
    query = compile_metrics_sql(metrics_sql, {"ad_bids_metrics": ad_bids_metrics})
    compiled = build_sql(query, ad_bids_metrics)
    assert compiled.sql == expected_sql
    assert list(compiled.params) == expected_args
    execute(compiled)  # runs on DuckDB


Execute = Callable[[CompiledQuery], list[dict[str, Any]]]


@pytest.fixture
def rows(execute: Execute, ad_bids_metrics: MetricsViewSpec) -> Callable[[str], list[dict[str, Any]]]:
    return lambda sql: execute(
        build_sql(compile_metrics_sql(sql, {"ad_bids_metrics": ad_bids_metrics}), ad_bids_metrics)
    )


def test_results_group_and_sort(rows: Rows) -> None:
    got = rows("select pub, measure_0 from ad_bids_metrics order by pub desc")
    assert got == [
        {"pub": "Yahoo", "measure_0": 3},
        {"pub": "Microsoft", "measure_0": 1},
        {"pub": "Google", "measure_0": 2},
        {"pub": None, "measure_0": 2},  # NULLS LAST even when descending
    ]


def test_results_where_expression_dimension(rows: Rows) -> None:
    got = rows("select dom, measure_0 from ad_bids_metrics where tld = 'yahoo.com' order by dom")
    assert got == [{"dom": "sports.yahoo.com", "measure_0": 1}, {"dom": "yahoo.com", "measure_0": 2}]


def test_results_like_is_case_insensitive(rows: Rows) -> None:
    got = rows("select dom from ad_bids_metrics where dom like '%GOOGLE%' order by dom")
    assert got == [{"dom": "google.com"}, {"dom": "news.google.com"}]


def test_results_having(rows: Rows) -> None:
    got = rows(
        "select pub, dom, measure_0 from ad_bids_metrics having measure_0 > 1 order by pub desc",
    )
    assert got == [
        {"pub": "Yahoo", "dom": "yahoo.com", "measure_0": 2},
        {"pub": None, "dom": "msn.com", "measure_0": 2},
    ]


def test_results_null_conditions(rows: Rows) -> None:
    got = rows(
        "select pub, measure_0 from ad_bids_metrics where (pub is null) or (pub = 'Microsoft') order by pub",
    )
    assert got == [{"pub": "Microsoft", "measure_0": 1}, {"pub": None, "measure_0": 2}]


def test_results_date_trunc_and_interval(rows: Rows) -> None:
    got = rows(
        "select date_trunc('day', timestamp) as day, measure_0 from ad_bids_metrics "
        "where timestamp >= '2022-01-10' - INTERVAL 1 WEEK order by day",
    )
    assert got == [
        {"day": dt.datetime(2022, 1, 3), "measure_0": 1},
        {"day": dt.datetime(2022, 1, 4), "measure_0": 2},
        {"day": dt.datetime(2022, 1, 5), "measure_0": 1},
        {"day": dt.datetime(2022, 1, 6), "measure_0": 1},
        {"day": dt.datetime(2022, 1, 8), "measure_0": 1},
    ]


def test_results_window_measure(rows: Rows) -> None:
    got = rows(
        "select date_trunc('day', timestamp) as timestamp, bids_1day_rolling from ad_bids_metrics "
        "order by timestamp limit 3",
    )
    assert [r["bids_1day_rolling"] for r in got] == [1, 2, 2]


def test_results_null_handling_of_negations(rows: Rows) -> None:
    base = "select pub from ad_bids_metrics where {} order by pub"
    assert rows(base.format("pub != 'Yahoo'")) == [{"pub": "Google"}, {"pub": "Microsoft"}]
    assert rows(base.format("pub not in ('Yahoo')")) == [
        {"pub": "Google"},
        {"pub": "Microsoft"},
        {"pub": None},
    ]
    assert rows(base.format("pub not like '%o%'")) == [{"pub": None}]


def test_results_boolean_dimension(rows: Rows) -> None:
    got = rows("select null_publisher, measure_0 from ad_bids_metrics where null_publisher is true")
    assert got == [{"null_publisher": True, "measure_0": 2}]


def test_results_between(rows: Rows) -> None:
    got = rows(
        "select dom from ad_bids_metrics "
        "where timestamp between '2022-01-04' and '2022-01-05 09:30:00' order by dom"
    )
    assert got == [{"dom": "google.com"}, {"dom": "news.google.com"}, {"dom": "yahoo.com"}]


def test_results_in_subquery(rows: Rows) -> None:
    got = rows(
        "select pub, measure_0 from ad_bids_metrics "
        "where pub in (select pub from ad_bids_metrics where dom != 'msn.com' having measure_0 > 2)"
    )
    assert got == [{"pub": "Yahoo", "measure_0": 3}]
