"""time_range: start inclusive, end exclusive, ISO durations against fixed anchors or the watermark."""
# ruff: noqa: E501  (tables of inputs and messages read best one case per line)

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from emulator.errors import BadRequest
from emulator.metrics import build_sql, parse_query
from emulator.metrics.timerange import Duration, add_date, parse_iso_duration, truncate
from emulator.project.resources import MetricsViewSpec

Run = Callable[..., list[dict[str, Any]]]
UTC = dt.timezone.utc


def ids(run: Run, time_range: dict[str, Any], **extra: Any) -> list[int]:
    query = parse_query({"metrics_view": "ad_bids_metrics", "rows": True, "time_range": time_range, **extra})
    return [r["id"] for r in run(query)]


def test_start_inclusive_end_exclusive(run: Run) -> None:
    assert ids(run, {"start": "2022-01-04T11:58:12.475Z", "end": "2022-01-05T09:30:00Z"}) == [3, 4]


def test_start_only_and_end_only(run: Run) -> None:
    assert ids(run, {"start": "2022-01-06T00:00:00Z"}) == [6, 7]
    assert ids(run, {"end": "2022-01-02T00:00:00+01:00"}) == [0]


def test_iso_duration_from_start_and_to_end(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    assert ids(run, {"start": "2022-01-03T00:00:00Z", "iso_duration": "P1DT12H"}) == [2, 3]
    assert ids(run, {"end": "2022-01-03T00:00:00Z", "iso_duration": "P1D"}) == [1]
    query = parse_query(
        {
            "metrics_view": "ad_bids_metrics",
            "rows": True,
            "time_range": {"start": "2022-01-03T00:00:00Z", "iso_duration": "P1W"},
        }
    )
    assert build_sql(query, ad_bids_metrics).params[:2] == (dt.datetime(2022, 1, 3), dt.datetime(2022, 1, 10))


def test_iso_duration_against_the_watermark(run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
    # The watermark is MAX(timestamp) = 2022-01-08 00:00; the range is [watermark - P2D, watermark).
    time_range = {"iso_duration": "P2D"}
    query = parse_query({"metrics_view": "ad_bids_metrics", "rows": True, "time_range": time_range})
    assert build_sql(query, ad_bids_metrics).sql == (
        'SELECT * FROM "ad_bids" WHERE ("timestamp" >= ((SELECT max("timestamp") FROM "ad_bids") - INTERVAL 2 DAY) '
        'AND "timestamp" < (SELECT max("timestamp") FROM "ad_bids")) LIMIT 10001'
    )
    assert ids(run, time_range) == [6]
    assert ids(run, {"iso_duration": "inf"}) == [0, 1, 2, 3, 4, 5, 6]


def test_iso_offset_and_round_to_grain(run: Run) -> None:
    # [2022-01-05 12:00, +1D) shifted back by 1 day, then floored to days: [2022-01-04, 2022-01-05).
    time_range = {
        "start": "2022-01-05T12:00:00Z",
        "iso_duration": "P1D",
        "iso_offset": "P1D",
        "round_to_grain": "day",
    }
    assert ids(run, time_range) == [3, 4]
    assert ids(run, {"iso_duration": "P2D", "iso_offset": "PT12H"}) == [6]
    assert ids(run, {"iso_duration": "P2D", "iso_offset": "PT12H", "round_to_grain": "day"}) == [5, 6]


def test_watermark_respects_the_row_filter(con: Any, ad_bids_metrics: MetricsViewSpec) -> None:
    from emulator.metrics import Restrictions

    query = parse_query(
        {"metrics_view": "ad_bids_metrics", "rows": True, "time_range": {"iso_duration": "P3D"}}
    )
    compiled = build_sql(query, ad_bids_metrics, Restrictions(row_filter="publisher = 'Google'"))
    rows = con.execute(compiled.sql, list(compiled.params)).fetchall()
    assert [r[0] for r in rows] == [4]  # watermark 2022-01-05 09:30 (Google's last row), which is excluded


def test_time_range_on_a_view_without_time_dimension_is_ignored(
    load_view: Callable[[str, str], MetricsViewSpec],
) -> None:
    view = load_view("untimed", "model: ad_bids\nmeasures: [{expression: count(*)}]")
    query = parse_query(
        {
            "metrics_view": "untimed",
            "measures": [{"name": "measure_0"}],
            "time_range": {"iso_duration": "P1D"},
        }
    )
    assert " WHERE " not in build_sql(query, view).sql


def test_time_dimension_override(run: Run, load_view: Callable[[str, str], MetricsViewSpec]) -> None:
    view = load_view(
        "untimed2",
        "model: ad_bids\ndimensions: [{name: ts, column: timestamp}]\nmeasures: [{expression: count(*)}]",
    )
    query = parse_query(
        {
            "metrics_view": "untimed2",
            "rows": True,
            "time_range": {"end": "2022-01-02T00:00:00Z", "time_dimension": "ts"},
        }
    )
    assert [r["id"] for r in run(query, view)] == [0]


@pytest.mark.parametrize(
    ("time_range", "message"),
    [
        (
            {"iso_duration": "P1X"},
            'failed to resolve time range: invalid iso_duration "P1X": string "P1X" is not a valid ISO 8601 duration',
        ),
        (
            {"start": "2022-01-01T00:00:00Z", "iso_offset": "1D"},
            'failed to resolve time range: invalid iso_offset "1D": string "1D" is not a valid ISO 8601 duration',
        ),
        (
            {"start": "2022-01-01T00:00:00Z", "end": "2022-01-02T00:00:00Z", "iso_duration": "P1D"},
            'failed to resolve time range: cannot resolve "iso_duration" for a time range with fixed "start" and "end" timestamps',
        ),
        (
            {"iso_duration": "P1D", "round_to_grain": "fortnight"},
            'failed to resolve time range: invalid time grain "fortnight"',
        ),
        (
            {"expression": "7D as of watermark"},
            'failed to resolve time range: "expression" time ranges (Rill time syntax) are not supported by rill-emu',
        ),
        (
            {"time_dimension": "nope", "iso_duration": "P1D"},
            'failed to add time range: time dimension "nope" not found: dimension "nope" not found',
        ),
    ],
)
def test_errors(ad_bids_metrics: MetricsViewSpec, time_range: dict[str, Any], message: str) -> None:
    query = parse_query(
        {"metrics_view": "ad_bids_metrics", "measures": [{"name": "m1"}], "time_range": time_range}
    )
    with pytest.raises(BadRequest) as err:
        build_sql(query, ad_bids_metrics)
    assert err.value.message == message


def test_parse_iso_duration() -> None:
    assert parse_iso_duration("P1Y2M3W4DT5H6M7S") == Duration(1, 2, 3, 4, 5, 6, 7)
    assert parse_iso_duration("PT36H") == Duration(hour=36)
    assert parse_iso_duration("INF") == Duration(infinite=True)
    with pytest.raises(ValueError, match="is not a valid ISO 8601 duration"):
        parse_iso_duration("P1.5D")


def test_add_date_overflows_like_go() -> None:
    jan31 = dt.datetime(2024, 1, 31, 10, tzinfo=UTC)
    assert add_date(jan31, 0, 1, 0) == dt.datetime(2024, 3, 2, 10, tzinfo=UTC)
    assert add_date(jan31, 0, -2, 0) == dt.datetime(2023, 12, 1, 10, tzinfo=UTC)
    assert add_date(dt.datetime(2024, 2, 29, tzinfo=UTC), 1, 0, 0) == dt.datetime(2025, 3, 1, tzinfo=UTC)
    assert add_date(jan31, 0, 0, -31) == dt.datetime(2023, 12, 31, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("grain", "expected"),
    [
        ("millisecond", dt.datetime(2024, 5, 15, 13, 45, 30, 123000, tzinfo=UTC)),
        ("second", dt.datetime(2024, 5, 15, 13, 45, 30, tzinfo=UTC)),
        ("minute", dt.datetime(2024, 5, 15, 13, 45, tzinfo=UTC)),
        ("hour", dt.datetime(2024, 5, 15, 13, tzinfo=UTC)),
        ("day", dt.datetime(2024, 5, 15, tzinfo=UTC)),
        ("week", dt.datetime(2024, 5, 13, tzinfo=UTC)),
        ("month", dt.datetime(2024, 5, 1, tzinfo=UTC)),
        ("quarter", dt.datetime(2024, 4, 1, tzinfo=UTC)),
        ("year", dt.datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_truncate(grain: str, expected: dt.datetime) -> None:
    t = dt.datetime(2024, 5, 15, 13, 45, 30, 123456, tzinfo=UTC)
    assert truncate(t, grain, UTC, 1, 1) == expected


def test_truncate_with_time_zone_and_calendar_settings() -> None:
    from zoneinfo import ZoneInfo

    t = dt.datetime(2024, 5, 15, 2, 0, tzinfo=UTC)  # 2024-05-14 22:00 in New York, a Tuesday
    ny = ZoneInfo("America/New_York")
    assert truncate(t, "day", ny, 1, 1) == dt.datetime(2024, 5, 14, 4, tzinfo=UTC)
    assert truncate(t, "week", UTC, 7, 1) == dt.datetime(2024, 5, 12, tzinfo=UTC)  # weeks start on Sunday
    assert truncate(t, "year", UTC, 1, 4) == dt.datetime(2024, 4, 1, tzinfo=UTC)
    assert truncate(dt.datetime(2024, 2, 1, tzinfo=UTC), "year", UTC, 1, 4) == dt.datetime(
        2023, 4, 1, tzinfo=UTC
    )
