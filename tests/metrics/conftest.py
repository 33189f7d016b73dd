"""Fixtures: a small ad-bids dataset in an in-memory DuckDB and metrics views over it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
import yaml

from emulator.metrics import (
    CompiledQuery,
    MetricsQuery,
    Restrictions,
    build_sql,
    check_cap,
    parse_metrics_view,
)
from emulator.project.resources import MetricsViewSpec

# Rill's runtime/testruntime/testdata/ad_bids/dashboards/ad_bids_metrics.yaml (dimensions and measures).
AD_BIDS_METRICS = r"""
model: ad_bids
display_name: Ad bids
description:

timeseries: timestamp
smallest_time_grain: ""

dimensions:
  - name: pub
    display_name: Publisher
    property: publisher
    description: ""
    uri: concat('http://localhost/', publisher)
  - name: dom
    display_name: Domain
    property: domain
    description: ""
  - name: nolabel_pub
    property: publisher
  - name: space_label
    display_name: Space Label
    expression: "publisher"
  - name: domain_parts
    display_name: Domain Parts
    expression: "string_split(domain, '.')"
    unnest: true
  - name: tld
    display_name: TLD
    expression: "regexp_extract(domain, '(.*\\.)?(.*\\.com)', 2)"
  - name: null_publisher
    display_name: Null Publisher
    expression: case when publisher is null then true else false end

measures:
  - display_name: "Number of bids"
    expression: count(*)
    description: ""
    format_preset: humanize
  - display_name: "Average bid price"
    expression: avg(bid_price)
    description: ""
    format_preset: humanize
  - name: m1
    expression: avg(bid_price)
    description: ""
    format_preset: humanize
  - name: bid_price
    expression: avg(bid_price)
    description: ""
    format_preset: humanize
  - name: total_bids
    expression: sum(bid_price)
  - name: avg_from_parts
    type: derived
    expression: total_bids / measure_0
    requires: [total_bids, measure_0]
  - name: bids_1day_rolling
    expression: SUM(measure_0)
    requires: [measure_0]
    window:
      order: timestamp
      frame: RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW
"""

# id, timestamp, publisher, domain, bid_price
AD_BIDS_ROWS = [
    (0, "2022-01-01 14:49:50.459", None, "msn.com", 2.0),
    (1, "2022-01-02 11:58:12.475", "Yahoo", "yahoo.com", 2.0),
    (2, "2022-01-03 14:49:50.459", None, "msn.com", 2.5),
    (3, "2022-01-04 11:58:12.475", "Yahoo", "yahoo.com", 2.5),
    (4, "2022-01-04 18:00:00", "Google", "google.com", 4.0),
    (5, "2022-01-05 09:30:00", "Google", "news.google.com", 1.0),
    (6, "2022-01-06 23:59:59", "Microsoft", "msn.com", 3.0),
    (7, "2022-01-08 00:00:00", "Yahoo", "sports.yahoo.com", 5.0),
]

Runner = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB holding ``ad_bids`` (8 rows, NULL publishers)."""
    db = duckdb.connect()
    db.execute(
        "CREATE TABLE ad_bids "
        "(id INTEGER, timestamp TIMESTAMP, publisher VARCHAR, domain VARCHAR, bid_price DOUBLE)"
    )
    db.executemany("INSERT INTO ad_bids VALUES (?, ?, ?, ?, ?)", AD_BIDS_ROWS)
    yield db
    db.close()


def _load_view(name: str, text: str) -> MetricsViewSpec:
    path = f"/metrics/{name}.yaml"
    return parse_metrics_view(name, path, (path,), yaml.safe_load(text))


@pytest.fixture(scope="session")
def load_view() -> Callable[[str, str], MetricsViewSpec]:
    """Parse a metrics view YAML document (name, text)."""
    return _load_view


@pytest.fixture(scope="session")
def ad_bids_metrics() -> MetricsViewSpec:
    """Rill's ad_bids_metrics test view, plus a derived and a window measure."""
    return _load_view("ad_bids_metrics", AD_BIDS_METRICS)


def _execute(con: duckdb.DuckDBPyConnection, compiled: CompiledQuery) -> list[dict[str, Any]]:
    cur = con.cursor()
    cur.execute(compiled.sql, list(compiled.params))
    names = [d[0] for d in cur.description or ()]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    check_cap(rows, compiled.cap)
    return rows


@pytest.fixture
def execute(con: duckdb.DuckDBPyConnection) -> Callable[[CompiledQuery], list[dict[str, Any]]]:
    """Run compiled SQL on the test database, returning rows as dicts (and checking the row cap)."""
    return lambda compiled: _execute(con, compiled)


@pytest.fixture
def run(con: duckdb.DuckDBPyConnection, ad_bids_metrics: MetricsViewSpec) -> Runner:
    """Build and execute a query against ad_bids_metrics."""

    def runner(
        query: MetricsQuery, view: MetricsViewSpec | None = None, restrictions: Restrictions | None = None
    ) -> list[dict[str, Any]]:
        return _execute(con, build_sql(query, view or ad_bids_metrics, restrictions or Restrictions()))

    return runner
