"""Rill's resolver test files re-expressed (security is given directly as Restrictions).

- runtime/resolvers/testdata/metrics_sql_duckdb.yaml (AdBids_mini, a view with quoted measure names,
  ``row_filter: domain = '{{ .user.domain }}'`` and ``total volume`` excluded for non-msn users);
- runtime/resolvers/testdata/metrics_rows.yaml (``rows: true`` with a time range and an IN-subquery).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest

from emulator.errors import BadRequest
from emulator.metrics import Restrictions, build_sql, check_cap, compile_metrics_sql, parse_query
from emulator.metrics.query import MetricsQuery
from emulator.project.resources import MetricsViewSpec

METRICS_WITH_POLICY = """
type: metrics_view
model: ad_bids_mini
timeseries: timestamp
dimensions:
  - name: publisher
    expression: upper(publisher)
  - column: domain
measures:
  - name: bid's number
    expression: count(*)
  - name: total volume
    expression: sum(volume)
  - name: total impressions
    expression: sum(impressions)
  - name: total click"s
    expression: sum(clicks)
security:
  access: true
  row_filter: domain = '{{ .user.domain }}'
  exclude:
    - if: "'{{ .user.domain }}' != 'msn.com'"
      names:
        - total volume
"""

DUCKDB_METRICS = """
type: metrics_view
model: duckdb_data
timeseries: time
dimensions:
  - column: country
measures:
  - name: count
    expression: count(*)
  - name: sum
    expression: sum(val)
"""


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    # data/AdBids_mini.csv from runtime/testruntime/testdata/ad_bids
    con.execute(
        """CREATE TABLE ad_bids_mini AS SELECT * FROM (VALUES
        (0, TIMESTAMP '2022-01-01 14:49:50.459', NULL, 'msn.com', 4.0, 2, NULL),
        (2, TIMESTAMP '2022-01-03 14:49:50.459', NULL, 'msn.com', 4.5, 1, NULL),
        (1, TIMESTAMP '2022-01-02 11:58:12.475', 'Yahoo', 'yahoo.com', 4.0, 1, 1.0),
        (3, TIMESTAMP '2022-01-04 11:58:12.475', 'Yahoo', 'yahoo.com', 4.5, 2, 1.5)
        ) t(id, timestamp, publisher, domain, volume, impressions, clicks)"""
    )
    con.execute(
        """CREATE TABLE duckdb_data AS
        select '2024-01-01T00:00:00Z'::TIMESTAMP as time, 'DK' as country, 1 as val union all
        select '2024-01-02T00:00:00Z'::TIMESTAMP as time, 'US' as country, 2 as val union all
        select '2024-01-03T00:00:00Z'::TIMESTAMP as time, 'US' as country, 3 as val union all
        select '2024-01-04T00:00:00Z'::TIMESTAMP as time, 'US' as country, 4 as val union all
        select '2024-01-05T00:00:00Z'::TIMESTAMP as time, 'DK' as country, 5 as val"""
    )
    yield con
    con.close()


def user(domain: str) -> Restrictions:
    """The policy above, resolved for a user of ``domain`` (what the security module will produce)."""
    hidden = frozenset() if domain == "msn.com" else frozenset({"total volume"})
    return Restrictions(row_filter=f"domain = '{domain}'", hidden_fields=hidden)


Query = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def metrics_sql(db: duckdb.DuckDBPyConnection, load_view: Callable[[str, str], MetricsViewSpec]) -> Query:
    view = load_view("metrics_with_policy", METRICS_WITH_POLICY)

    def run(sql: str, restrictions: Restrictions) -> list[dict[str, Any]]:
        return execute(db, compile_metrics_sql(sql, {"metrics_with_policy": view}), view, restrictions)

    return run


def execute(
    db: duckdb.DuckDBPyConnection, query: MetricsQuery, view: MetricsViewSpec, restrictions: Restrictions
) -> list[dict[str, Any]]:
    compiled = build_sql(query, view, restrictions)
    cur = db.cursor().execute(compiled.sql, list(compiled.params))
    names = [d[0] for d in cur.description or ()]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    check_cap(rows, compiled.cap)
    return rows


SELECT = 'select publisher, domain, "total impressions" FROM metrics_with_policy'


def test_empty(metrics_sql: Query) -> None:
    assert metrics_sql(SELECT, user("google.com")) == []


def test_msn(metrics_sql: Query) -> None:
    assert metrics_sql(SELECT, user("msn.com")) == [
        {"publisher": None, "domain": "msn.com", "total impressions": 3}
    ]


def test_simple_without_user(metrics_sql: Query) -> None:
    # No user: the row filter renders as domain = '<no value>' and matches nothing.
    assert metrics_sql(SELECT, user("<no value>")) == []


def test_error(metrics_sql: Query) -> None:
    with pytest.raises(BadRequest) as err:
        metrics_sql('select publisher, dom1, "total impressions" from metrics_with_policy', user("msn.com"))
    assert (
        "metrics sql: selected column `dom1` not found in dimensions/measures in metrics view"
        in err.value.message
    )


def test_metrics_sql_subquery(metrics_sql: Query) -> None:
    sql = (
        'select domain, "total impressions" FROM metrics_with_policy '
        'WHERE domain IN (SELECT domain FROM metrics_with_policy HAVING "total impressions" > 2)'
    )
    assert metrics_sql(sql, user("msn.com")) == [{"domain": "msn.com", "total impressions": 3}]


def test_excluded_measure_for_other_domains(metrics_sql: Query) -> None:
    sql = 'select domain, "total volume" from metrics_with_policy'
    assert metrics_sql(sql, user("msn.com")) == [{"domain": "msn.com", "total volume": 8.5}]
    with pytest.raises(BadRequest) as err:
        metrics_sql(sql, user("yahoo.com"))
    assert err.value.message == 'invalid measure "total volume": action not allowed'


def test_quoted_names(metrics_sql: Query) -> None:
    sql = 'select domain, "bid\'s number", "total click""s" from metrics_with_policy order by domain'
    assert metrics_sql(sql, Restrictions()) == [
        {"domain": "msn.com", "bid's number": 2, 'total click"s': None},
        {"domain": "yahoo.com", "bid's number": 2, 'total click"s': 2.5},
    ]


def test_metrics_rows_with_a_measure_based_filter(
    db: duckdb.DuckDBPyConnection, load_view: Callable[[str, str], MetricsViewSpec]
) -> None:
    view = load_view("duckdb_metrics", DUCKDB_METRICS)
    props = {
        "metrics_view": "duckdb_metrics",
        "time_range": {"end": "2024-01-05T00:00:00Z", "start": "2024-01-01T00:00:00Z"},
        "where": {
            "cond": {
                "op": "in",
                "exprs": [
                    {"name": "country"},
                    {
                        "subquery": {
                            "dimension": {"name": "country"},
                            "measures": [{"name": "sum"}],
                            "having": {
                                "cond": {
                                    "op": "and",
                                    "exprs": [{"cond": {"op": "gt", "exprs": [{"name": "sum"}, {"val": 5}]}}],
                                }
                            },
                        }
                    },
                ],
            }
        },
        "rows": True,
    }
    assert execute(db, parse_query(props), view, Restrictions()) == [
        {"time": dt.datetime(2024, 1, 2), "country": "US", "val": 2},
        {"time": dt.datetime(2024, 1, 3), "country": "US", "val": 3},
        {"time": dt.datetime(2024, 1, 4), "country": "US", "val": 4},
    ]
