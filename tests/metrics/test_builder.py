"""Structured metrics queries compiled by build_sql: SQL shape, results on DuckDB, and every error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from emulator.errors import BadRequest
from emulator.metrics import CompiledQuery, Restrictions, build_sql, check_cap, parse_query
from emulator.project.resources import MetricsViewSpec

Run = Callable[..., list[dict[str, Any]]]
MV = "ad_bids_metrics"


def q(**props: Any) -> Any:
    return parse_query({"metrics_view": MV, **props})


def fails(
    view: MetricsViewSpec, message: str, restrictions: Restrictions | None = None, **props: Any
) -> None:
    with pytest.raises(BadRequest) as err:
        build_sql(q(**props), view, restrictions or Restrictions())
    assert err.value.message == message


def test_measures_without_dimensions_have_no_group_by(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(measures=[{"name": "measure_0"}, {"name": "total_bids"}])
    compiled = build_sql(query, ad_bids_metrics)
    assert (
        compiled.sql
        == 'SELECT (count(*)) AS "measure_0", (sum(bid_price)) AS "total_bids" FROM "ad_bids" LIMIT 10001'
    )
    assert run(query) == [{"measure_0": 8, "total_bids": 22.0}]


def test_must_select_something(ad_bids_metrics: MetricsViewSpec) -> None:
    fails(ad_bids_metrics, "must specify at least one dimension or measure")


def test_sort_limit_offset(run: Run) -> None:
    query = q(
        dimensions=[{"name": "pub"}],
        measures=[{"name": "measure_0"}],
        sort=[{"name": "measure_0", "desc": True}, {"name": "pub"}],
        limit=2,
        offset=1,
    )
    assert run(query) == [{"pub": "Google", "measure_0": 2}, {"pub": None, "measure_0": 2}]


def test_row_cap(con: duckdb.DuckDBPyConnection, load_view: Callable[[str, str], MetricsViewSpec]) -> None:
    con.execute("CREATE OR REPLACE TABLE many AS SELECT range AS n FROM range(10005)")
    view = load_view("many_mv", "model: many\ndimensions: [{column: n}]\nmeasures: [{expression: count(*)}]")
    compiled = build_sql(parse_query({"metrics_view": "many_mv", "dimensions": [{"name": "n"}]}), view)
    assert compiled.cap == 10_000
    assert compiled.sql.endswith(" LIMIT 10001")
    rows = con.execute(compiled.sql).fetchall()
    assert len(rows) == 10_001
    with pytest.raises(BadRequest) as err:
        check_cap(rows, compiled.cap)
    assert err.value.message == "result cap exceeded: returned more than 10000 rows"
    check_cap(rows[:10_000], compiled.cap)
    explicit = build_sql(
        parse_query({"metrics_view": "many_mv", "dimensions": [{"name": "n"}], "limit": 10000}), view
    )
    assert explicit.cap is None
    check_cap(rows, explicit.cap)


def test_limit_above_cap_is_rejected(ad_bids_metrics: MetricsViewSpec) -> None:
    fails(
        ad_bids_metrics,
        "query limit of 10001 rows exceeds the system cap of 10000 rows",
        measures=[{"name": "measure_0"}],
        limit=10001,
    )


def test_time_floor_dimension(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(
        dimensions=[{"name": "day", "compute": {"time_floor": {"dimension": "timestamp", "grain": "day"}}}],
        measures=[{"name": "measure_0"}],
        sort=[{"name": "day"}],
        limit=3,
    )
    assert (
        '(date_trunc(\'DAY\', "timestamp"::TIMESTAMP)::TIMESTAMP) AS "day"'
        in build_sql(query, ad_bids_metrics).sql
    )
    assert run(query) == [
        {"day": dt.datetime(2022, 1, 1), "measure_0": 1},
        {"day": dt.datetime(2022, 1, 2), "measure_0": 1},
        {"day": dt.datetime(2022, 1, 3), "measure_0": 1},
    ]


def test_time_floor_in_time_zone(run: Run) -> None:
    query = q(
        dimensions=[{"name": "week", "compute": {"time_floor": {"dimension": "timestamp", "grain": "week"}}}],
        measures=[{"name": "measure_0"}],
        sort=[{"name": "week"}],
        time_zone="America/New_York",
    )
    # Weeks start on Monday 00:00 New York time (05:00 UTC); 2022-01-03 is a Monday.
    assert run(query) == [
        {"week": dt.datetime(2021, 12, 27, 5), "measure_0": 2},
        {"week": dt.datetime(2022, 1, 3, 5), "measure_0": 6},
    ]


def test_first_day_of_week_shifts_week_floor(
    run: Run, load_view: Callable[[str, str], MetricsViewSpec]
) -> None:
    view = load_view(
        "sunday_mv",
        "model: ad_bids\ntimeseries: timestamp\nfirst_day_of_week: 7\nmeasures: [{expression: count(*)}]",
    )
    query = parse_query(
        {
            "metrics_view": "sunday_mv",
            "dimensions": [
                {"name": "w", "compute": {"time_floor": {"dimension": "timestamp", "grain": "week"}}}
            ],
            "measures": [{"name": "measure_0"}],
            "sort": [{"name": "w"}],
        }
    )
    # Saturday 2022-01-01 belongs to the week of Sunday 2021-12-26; the rest to the week of 2022-01-02.
    assert run(query, view) == [
        {"w": dt.datetime(2021, 12, 26), "measure_0": 1},
        {"w": dt.datetime(2022, 1, 2), "measure_0": 7},
    ]


def test_count_and_count_distinct_computes(run: Run) -> None:
    query = q(
        dimensions=[{"name": "pub"}],
        measures=[
            {"name": "n", "compute": {"count": True}},
            {"name": "domains", "compute": {"count_distinct": {"dimension": "dom"}}},
        ],
        sort=[{"name": "pub"}],
    )
    assert run(query) == [
        {"pub": "Google", "n": 2, "domains": 2},
        {"pub": "Microsoft", "n": 1, "domains": 1},
        {"pub": "Yahoo", "n": 3, "domains": 2},
        {"pub": None, "n": 2, "domains": 1},
    ]


def test_adhoc_expression_measure(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(
        dimensions=[{"name": "pub"}],
        measures=[
            {"name": "measure_0"},
            {
                "name": "avg_price",
                "compute": {"expression": {"expression": "round(total_bids / measure_0, 2)"}},
            },
            {
                "name": "div0",
                "compute": {"expression": {"expression": "measure_0 / (measure_0 - measure_0)"}},
            },
        ],
        sort=[{"name": "pub"}],
    )
    sql = build_sql(query, ad_bids_metrics).sql
    assert 'round(("total_bids")/NULLIF(CAST("measure_0" AS DOUBLE), 0), 2)' in sql
    assert run(query) == [
        {"pub": "Google", "measure_0": 2, "avg_price": 2.5, "div0": None},
        {"pub": "Microsoft", "measure_0": 1, "avg_price": 3.0, "div0": None},
        {"pub": "Yahoo", "measure_0": 3, "avg_price": 3.17, "div0": None},
        {"pub": None, "measure_0": 2, "avg_price": 2.25, "div0": None},
    ]


def test_derived_measure_uses_a_subselect(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(
        dimensions=[{"name": "pub"}],
        measures=[{"name": "avg_from_parts"}, {"name": "m1"}],
        sort=[{"name": "pub"}],
    )
    assert build_sql(query, ad_bids_metrics).sql == (
        'SELECT ("t1"."pub") AS "pub", (total_bids / measure_0) AS "avg_from_parts", ("t1"."m1") AS "m1" '
        "FROM "
        '(SELECT ("publisher") AS "pub", (sum(bid_price)) AS "total_bids", (count(*)) AS "measure_0", '
        '(avg(bid_price)) AS "m1" FROM "ad_bids" GROUP BY 1) t1 ORDER BY "pub" NULLS LAST LIMIT 10001'
    )
    got = run(query)
    assert [(r["pub"], r["avg_from_parts"]) for r in got] == [
        ("Google", 2.5),
        ("Microsoft", 3.0),
        ("Yahoo", 9.5 / 3),
        (None, 2.25),
    ]
    assert all(r["avg_from_parts"] == pytest.approx(r["m1"]) for r in got)


def test_use_display_names(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(
        dimensions=[
            {"name": "pub"},
            {"name": "day", "compute": {"time_floor": {"dimension": "timestamp", "grain": "day"}}},
        ],
        measures=[{"name": "measure_0"}, {"name": "n", "compute": {"count": True}}],
        where={"cond": {"op": "eq", "exprs": [{"name": "pub"}, {"val": "Microsoft"}]}},
        use_display_names=True,
    )
    sql = build_sql(query, ad_bids_metrics).sql
    assert sql.startswith(
        'SELECT "pub" AS "Publisher", "day" AS "Timestamp (day)", "measure_0" AS "Number of bids", '
        '"n" AS "Count" FROM ('
    )
    assert run(query) == [
        {
            "Publisher": "Microsoft",
            "Timestamp (day)": dt.datetime(2022, 1, 6),
            "Number of bids": 1,
            "Count": 1,
        }
    ]


def test_rows_returns_underlying_rows(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    query = q(
        rows=True,
        time_range={"start": "2022-01-02T00:00:00Z", "end": "2022-01-05T00:00:00Z"},
        where={"cond": {"op": "eq", "exprs": [{"name": "pub"}, {"val": "Yahoo"}]}},
    )
    assert build_sql(query, ad_bids_metrics).sql == (
        'SELECT * FROM "ad_bids" WHERE ("timestamp" >= ? AND "timestamp" < ?) '
        'AND ((("publisher") = ?)) LIMIT 10001'
    )
    assert [r["id"] for r in run(query)] == [1, 3]


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"dimensions": [{"name": "pub"}]},
            "dimensions not supported when rows is set, all model columns will be returned",
        ),
        (
            {"measures": [{"name": "m1"}]},
            "measures not supported when rows is set, all model columns will be returned",
        ),
        ({"sort": [{"name": "pub"}]}, "sort not supported when rows is set"),
        ({"having": {"name": "m1"}}, "having not supported when rows is set"),
        (
            {"comparison_time_range": {"iso_duration": "P1D"}},
            "comparison_time_range not supported when rows is set",
        ),
        ({"pivot_on": ["pub"]}, "pivot_on not supported when rows is set"),
    ],
)
def test_rows_conflicts(ad_bids_metrics: MetricsViewSpec, props: dict[str, Any], message: str) -> None:
    fails(ad_bids_metrics, message, rows=True, **props)


def test_having_filters_after_aggregation(run: Run) -> None:
    query = q(
        dimensions=[{"name": "dom"}],
        measures=[{"name": "measure_0"}, {"name": "total_bids"}],
        having={"cond": {"op": "gt", "exprs": [{"name": "total_bids"}, {"val": 4.5}]}},
        sort=[{"name": "dom"}],
    )
    assert run(query) == [
        {"dom": "msn.com", "measure_0": 3, "total_bids": 7.5},
        {"dom": "sports.yahoo.com", "measure_0": 1, "total_bids": 5.0},
    ]


def test_unnested_dimension(run: Run) -> None:
    query = q(
        dimensions=[{"name": "domain_parts"}],
        measures=[{"name": "measure_0"}],
        sort=[{"name": "domain_parts"}],
    )
    assert run(query) == [
        {"domain_parts": "com", "measure_0": 8},
        {"domain_parts": "google", "measure_0": 2},
        {"domain_parts": "msn", "measure_0": 3},
        {"domain_parts": "news", "measure_0": 1},
        {"domain_parts": "sports", "measure_0": 1},
        {"domain_parts": "yahoo", "measure_0": 3},
    ]


def test_treat_nulls_as_and_required_dimensions(
    run: Run, load_view: Callable[[str, str], MetricsViewSpec]
) -> None:
    view = load_view(
        "extra_mv",
        """
model: ad_bids
dimensions: [{name: pub, column: publisher}, {name: dom, column: domain}]
measures:
  - {name: pub_count, expression: "count(publisher) FILTER (WHERE publisher = 'Yahoo')", treat_nulls_as: "-1"}
  - {name: yahoo_bids, expression: "sum(bid_price) FILTER (WHERE publisher = 'Yahoo')", treat_nulls_as: "0"}
  - {name: per_domain, type: simple, expression: count(*), requires: [], format_d3: ".2f"}
  - {name: needs_dom, type: derived, expression: "yahoo_bids", requires: [dom, yahoo_bids]}
""",
    )
    query = parse_query(
        {
            "metrics_view": "extra_mv",
            "dimensions": [{"name": "dom"}],
            "measures": [{"name": "yahoo_bids"}, {"name": "needs_dom"}],
            "sort": [{"name": "dom"}],
        }
    )
    assert [r["yahoo_bids"] for r in run(query, view)] == [0, 0, 0, 5.0, 4.5]
    missing = parse_query(
        {"metrics_view": "extra_mv", "dimensions": [{"name": "pub"}], "measures": [{"name": "needs_dom"}]}
    )
    with pytest.raises(BadRequest) as err:
        build_sql(missing, view)
    assert err.value.message == 'can\'t query measure "needs_dom": missing required dimension "dom"'


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"dimensions": [{"name": "nope"}]}, 'invalid dimension "nope": dimension "nope" not found'),
        ({"dimensions": [{"name": ""}]}, 'invalid dimension "": received empty dimension name'),
        ({"measures": [{"name": "nope"}]}, 'invalid measure "nope": measure "nope" not found'),
        ({"measures": [{"name": "MEASURE_0"}]}, 'invalid measure "MEASURE_0": measure "MEASURE_0" not found'),
        (
            {"dimensions": [{"name": "d", "compute": {}}]},
            'invalid dimension "d": unsupported "compute"',
        ),
        (
            {
                "dimensions": [
                    {"name": "d", "compute": {"time_floor": {"dimension": "timestamp", "grain": "decade"}}}
                ]
            },
            'invalid dimension "d": invalid "grain"',
        ),
        (
            {"dimensions": [{"name": "d", "compute": {"time_floor": {"dimension": "timestamp"}}}]},
            'invalid dimension "d": "grain" must be specified for time floor',
        ),
        (
            {
                "dimensions": [
                    {"name": "pub", "compute": {"time_floor": {"dimension": "timestamp", "grain": "day"}}}
                ]
            },
            'invalid dimension "pub": name for computed field collides with an existing dimension name',
        ),
        (
            {
                "dimensions": [
                    {"name": "d", "compute": {"time_floor": {"dimension": "timestamp", "grain": "day"}}}
                ],
                "time_zone": "Mars/Base",
            },
            'invalid dimension "d": failed to compute time floor: invalid time zone "Mars/Base": '
            "unknown time zone Mars/Base",
        ),
        (
            {"measures": [{"name": "x", "compute": {}}]},
            'invalid measure "x": invalid "compute": must specify a compute operation',
        ),
        (
            {"measures": [{"name": "x", "compute": {"count": True, "count_distinct": {"dimension": "pub"}}}]},
            'invalid measure "x": invalid "compute": must specify only one compute operation',
        ),
        (
            {"measures": [{"name": "m1", "compute": {"count": True}}]},
            'invalid measure "m1": name for computed field collides with an existing measure name',
        ),
        (
            {"measures": [{"name": "timestamp", "compute": {"count": True}}]},
            'invalid measure "timestamp": name for computed field collides with the time dimension name',
        ),
        (
            {"measures": [{"name": "x", "compute": {"comparison_value": {"measure": "m1"}}}]},
            'invalid measure "x": "compute.comparison_value" is not supported by rill-emu',
        ),
        (
            {"measures": [{"name": "x", "compute": {"expression": {"expression": "sum(m1)"}}}]},
            'invalid measure "x": invalid "compute": aggregate function "sum" is not allowed; '
            "expressions combine measures that are already aggregated",
        ),
        (
            {"measures": [{"name": "x", "compute": {"expression": {"expression": "m1 + nope"}}}]},
            'invalid measure "x": measure "nope" not found',
        ),
        (
            {"measures": [{"name": "m1"}], "sort": [{"name": "pub"}]},
            'can\'t sort by "pub": name not present in context',
        ),
        (
            {
                "measures": [{"name": "m1"}],
                "having": {"cond": {"op": "gt", "exprs": [{"name": "total_bids"}, {"val": 1}]}},
            },
            "failed to compile 'having': name \"total_bids\" in expression is not a dimension or measure "
            "available in the current context",
        ),
        ({"measures": [{"name": "m1"}], "pivot_on": ["pub"]}, '"pivot_on" is not supported by rill-emu'),
        ({"measures": [{"name": "m1"}], "spine": {"where": {}}}, '"spine" is not supported by rill-emu'),
        (
            {"measures": [{"name": "m1"}], "comparison_time_range": {"iso_duration": "P1D"}},
            '"comparison_time_range" is not supported by rill-emu',
        ),
    ],
)
def test_query_errors(ad_bids_metrics: MetricsViewSpec, props: dict[str, Any], message: str) -> None:
    fails(ad_bids_metrics, message, **props)


def test_measure_types_needing_the_full_executor(load_view: Callable[[str, str], MetricsViewSpec]) -> None:
    view = load_view(
        "adv_mv",
        """
model: ad_bids
dimensions: [{name: pub, column: publisher}]
measures:
  - {name: n, expression: count(*)}
  - {name: prev, type: time_comparison, expression: "comparison.n", requires: [n]}
  - {name: share, expression: "n", requires: [n], per: [pub]}
""",
    )
    for name, message in (
        ("prev", 'can\'t query measure "prev": comparison time range not provided'),
        ("share", 'can\'t query measure "share": support for "per" not implemented'),
    ):
        with pytest.raises(BadRequest) as err:
            build_sql(
                parse_query(
                    {"metrics_view": "adv_mv", "dimensions": [{"name": "pub"}], "measures": [{"name": name}]}
                ),
                view,
            )
        assert err.value.message == message


def test_compiled_query_is_plain_data(ad_bids_metrics: MetricsViewSpec) -> None:
    compiled = build_sql(q(measures=[{"name": "m1"}], limit=5), ad_bids_metrics)
    assert compiled == CompiledQuery('SELECT (avg(bid_price)) AS "m1" FROM "ad_bids" LIMIT 5', (), None)
