"""parse_query: lenient (mapstructure "weak") decoding of metrics resolver properties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from emulator.errors import BadRequest
from emulator.metrics import parse_query
from emulator.metrics.query import (
    Condition,
    DimensionCompute,
    Expression,
    MeasureCompute,
    MetricsQuery,
    QueryDimension,
    QueryMeasure,
    Sort,
    Subquery,
    TimeFloor,
    TimeRange,
)

UTC = dt.timezone.utc
ONE = "1 error(s) decoding:\n\n* "


def test_full_query() -> None:
    query = parse_query(
        {
            "metrics_view": "mv",
            "dimensions": [
                {"name": "pub"},
                {"name": "day", "compute": {"time_floor": {"dimension": "ts", "grain": "day"}}},
            ],
            "measures": [
                {"name": "m"},
                {"name": "n", "compute": {"count": True}},
                {"name": "u", "compute": {"count_distinct": {"dimension": "pub"}}},
                {"name": "e", "compute": {"expression": {"expression": "m / 2", "display_name": "Half"}}},
                {"name": "c", "compute": {"comparison_delta": {"measure": "m"}}},
            ],
            "sort": [{"name": "m", "desc": True}],
            "where": {
                "cond": {
                    "op": "in",
                    "exprs": [
                        {"name": "pub"},
                        {"subquery": {"dimension": {"name": "pub"}, "measures": [{"name": "m"}]}},
                    ],
                }
            },
            "having": {"cond": {"op": "gt", "exprs": [{"name": "m"}, {"val": 1.5}]}},
            "time_range": {
                "start": "2024-01-01T00:00:00Z",
                "end": "2024-01-02T12:00:00.5+02:00",
                "time_dimension": "ts",
            },
            "limit": 10,
            "offset": 2,
            "time_zone": "Europe/Paris",
            "use_display_names": True,
        }
    )
    assert query == MetricsQuery(
        metrics_view="mv",
        dimensions=(QueryDimension("pub"), QueryDimension("day", DimensionCompute(TimeFloor("ts", "day")))),
        measures=(
            QueryMeasure("m"),
            QueryMeasure("n", MeasureCompute(count=True)),
            QueryMeasure("u", MeasureCompute(count_distinct="pub")),
            QueryMeasure("e", MeasureCompute(expression="m / 2", expression_display_name="Half")),
            QueryMeasure("c", MeasureCompute(unsupported=("comparison_delta",))),
        ),
        sort=(Sort("m", True),),
        where=Expression(
            cond=Condition(
                "in",
                (
                    Expression(name="pub"),
                    Expression(subquery=Subquery(QueryDimension("pub"), (QueryMeasure("m"),))),
                ),
            )
        ),
        having=Expression(cond=Condition("gt", (Expression(name="m"), Expression(value=1.5)))),
        time_range=TimeRange(
            start=dt.datetime(2024, 1, 1, tzinfo=UTC),
            end=dt.datetime(2024, 1, 2, 12, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            time_dimension="ts",
        ),
        limit=10,
        offset=2,
        time_zone="Europe/Paris",
        use_display_names=True,
    )


def test_weak_conversions() -> None:
    query = parse_query(
        {
            "METRICS_VIEW": "mv",  # keys match case-insensitively
            "dimensions": {"name": "pub"},  # a single value becomes a list
            "measures": [{"name": 7}],  # numbers become strings
            "limit": "10",
            "offset": 3.0,  # JSON numbers are floats
            "use_display_names": "true",
            "rows": 1,
            "sort": [{"name": "m", "desc": "1"}],
            "unknown_key": "ignored",
        }
    )
    assert query.metrics_view == "mv"
    assert query.dimensions == (QueryDimension("pub"),)
    assert query.measures == (QueryMeasure("7"),)
    assert (query.limit, query.offset, query.use_display_names, query.rows) == (10, 3, True, True)
    assert query.sort == (Sort("m", True),)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0x10", 16), ("", 0), (True, 1), (2.9, 2), ("1_000", 1000)],
)
def test_weak_ints(value: Any, expected: int) -> None:
    assert parse_query({"metrics_view": "mv", "limit": value}).limit == expected


def test_yaml_timestamps_are_accepted() -> None:
    query = parse_query(
        {"metrics_view": "mv", "time_range": {"start": dt.datetime(2024, 1, 1), "end": dt.date(2024, 2, 1)}}
    )
    assert query.time_range == TimeRange(
        dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 2, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"limit": "ten"},
            ONE + "cannot parse 'limit' as int: strconv.ParseInt: parsing \"ten\": invalid syntax",
        ),
        (
            {"rows": "maybe"},
            ONE + "cannot parse 'rows' as bool: strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
        ({"dimensions": ["pub"]}, "1 error(s) decoding:\n\n* 'dimensions[0]' expected a map, got 'string'"),
        (
            {"metrics_view": ["a"]},
            ONE + "'metrics_view' expected type 'string', got unconvertible type '[]interface {}', "
            "value: '['a']'",
        ),
        (
            {"time_range": {"start": "yesterday"}},
            "1 error(s) decoding:\n\n* error decoding 'time_range.start': parsing time \"yesterday\" as "
            '"2006-01-02T15:04:05.999999999Z07:00": cannot parse "yesterday" as "2006"',
        ),
        (
            {"limit": "x", "offset": "y"},
            "2 error(s) decoding:\n\n"
            "* cannot parse 'limit' as int: strconv.ParseInt: parsing \"x\": invalid syntax\n"
            "* cannot parse 'offset' as int: strconv.ParseInt: parsing \"y\": invalid syntax",
        ),
        (
            {"where": {"cond": {"op": "and", "exprs": [{"name": ["x"]}]}}},
            ONE + "'where.cond.exprs[0].name' expected type 'string', "
            "got unconvertible type '[]interface {}', value: '['x']'",
        ),
    ],
)
def test_decoding_errors(props: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as err:
        parse_query({"metrics_view": "mv", **props})
    assert err.value.message == message


def test_not_a_map() -> None:
    with pytest.raises(BadRequest) as err:
        parse_query(["x"])  # type: ignore[arg-type]
    assert err.value.message == "1 error(s) decoding:\n\n* '' expected a map, got 'slice'"
