"""Resolving a query's ``time_range`` to start/end bounds (Rill's ``executor_rewrite_time.go``).

Fixed anchors are computed in Python with Go's calendar arithmetic; when the range is relative to the
data (no ``start``/``end``), the anchor is the watermark (``MAX`` of the time dimension) and the bounds
are SQL expressions over it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from emulator.errors import BadRequest
from emulator.metrics.dialect import Dialect
from emulator.metrics.gostr import go_quote
from emulator.metrics.query import GRAINS, TimeRange

_ISO = re.compile(
    r"^P(?:(?P<year>\d+)Y)?(?:(?P<month>\d+)M)?(?:(?P<week>\d+)W)?(?:(?P<day>\d+)D)?"
    r"(?:T(?:(?P<hour>\d+)H)?(?:(?P<minute>\d+)M)?(?:(?P<second>\d+)S)?)?$"
)
_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration; ``infinite`` is Rill's ``inf`` (an unbounded start)."""

    year: int = 0
    month: int = 0
    week: int = 0
    day: int = 0
    hour: int = 0
    minute: int = 0
    second: int = 0
    infinite: bool = False


@dataclass(frozen=True)
class SqlTime:
    """A timestamp computed in SQL (relative to the watermark)."""

    sql: str


TimeValue = dt.datetime | SqlTime


@dataclass(frozen=True)
class Bound:
    """A SQL fragment with its bound parameters."""

    sql: str
    args: tuple[Any, ...] = ()


def parse_iso_duration(text: str) -> Duration:
    """Rill's ``duration.ParseISO8601`` (standard durations and ``inf``)."""
    if text.lower() == "inf":
        return Duration(infinite=True)
    m = _ISO.match(text)
    if m is None:
        raise ValueError(f'string "{text}" is not a valid ISO 8601 duration')
    year, month, week, day, hour, minute, second = (int(m.group(unit) or 0) for unit in _UNITS)
    return Duration(year, month, week, day, hour, minute, second)


def add_date(t: dt.datetime, years: int, months: int, days: int) -> dt.datetime:
    """Go's ``time.AddDate``: calendar fields overflow into the next unit (Jan 31 + 1 month = Mar 2/3)."""
    total = t.year * 12 + (t.month - 1) + years * 12 + months
    year, month0 = divmod(total, 12)
    return t.replace(year=year, month=month0 + 1, day=1) + dt.timedelta(days=t.day - 1 + days)


def _shift(d: Duration, sign: int) -> dt.timedelta:
    return sign * dt.timedelta(hours=d.hour, minutes=d.minute, seconds=d.second)


def truncate(t: dt.datetime, grain: str, tz: dt.tzinfo, first_day: int, first_month: int) -> dt.datetime:
    """Floor ``t`` to ``grain`` in time zone ``tz`` (Rill's ``timeutil.TruncateTime``)."""
    local = t.astimezone(tz)
    if grain == "millisecond":
        local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    elif grain == "second":
        local = local.replace(microsecond=0)
    elif grain == "minute":
        local = local.replace(second=0, microsecond=0)
    elif grain == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    else:
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        if grain == "week":
            back = (day.isoweekday() - first_day) % 7
            day -= dt.timedelta(days=back)
        elif grain == "month":
            day = day.replace(day=1)
        elif grain == "quarter":
            day = day.replace(day=1, month=(day.month - 1) // 3 * 3 + 1)
        elif grain == "year":
            year = day.year if day.month >= first_month else day.year - 1
            day = day.replace(year=year, month=first_month, day=1)
        local = day.replace(tzinfo=tz)
    return local.astimezone(dt.timezone.utc)


class TimeRangeResolver:
    """Turns a :class:`TimeRange` into SQL bounds for ``time_expr`` (start inclusive, end exclusive)."""

    def __init__(
        self, dialect: Dialect, watermark_sql: str, time_zone: str, first_day: int, first_month: int
    ):
        self.dialect = dialect
        self.watermark_sql = watermark_sql
        self.time_zone = time_zone
        self.first_day = first_day if 1 <= first_day <= 7 else 1
        self.first_month = first_month if 1 <= first_month <= 12 else 1

    def resolve(self, tr: TimeRange) -> tuple[Bound | None, Bound | None]:
        """The start and end bounds; raises BadRequest with Rill's messages."""
        try:
            return self._resolve(tr)
        except BadRequest as exc:
            raise BadRequest(f"failed to resolve time range: {exc.message}") from exc

    def _resolve(self, tr: TimeRange) -> tuple[Bound | None, Bound | None]:
        if tr.expression:
            raise BadRequest('"expression" time ranges (Rill time syntax) are not supported by rill-emu')
        tz = self._tz()
        start: TimeValue | None = tr.start
        end: TimeValue | None = tr.end
        if start is None and end is None:
            end = SqlTime(self.watermark_sql)
        is_iso = False
        if tr.iso_duration:
            try:
                d = parse_iso_duration(tr.iso_duration)
            except ValueError as exc:
                raise BadRequest(f"invalid iso_duration {go_quote(tr.iso_duration)}: {exc}") from exc
            if start is not None and end is not None:
                raise BadRequest(
                    'cannot resolve "iso_duration" for a time range with fixed "start" and "end" timestamps'
                )
            if start is not None:
                end = None if d.infinite else self._add(start, d, 1)
            elif end is not None:
                start = None if d.infinite else self._add(end, d, -1)
            is_iso = True
        if tr.iso_offset:
            try:
                off = parse_iso_duration(tr.iso_offset)
            except ValueError as exc:
                raise BadRequest(f"invalid iso_offset {go_quote(tr.iso_offset)}: {exc}") from exc
            start = None if start is None or off.infinite else self._add(start, off, -1)
            end = None if end is None or off.infinite else self._add(end, off, -1)
            is_iso = True
        if is_iso and tr.round_to_grain:
            if tr.round_to_grain not in GRAINS:
                raise BadRequest(f"invalid time grain {go_quote(tr.round_to_grain)}")
            start = None if start is None else self._truncate(start, tr.round_to_grain, tz)
            end = None if end is None else self._truncate(end, tr.round_to_grain, tz)
        return self._bound(start), self._bound(end)

    def _tz(self) -> dt.tzinfo:
        if not self.time_zone:
            return dt.timezone.utc
        try:
            return ZoneInfo(self.time_zone)
        except (ValueError, KeyError) as exc:
            raise BadRequest(
                f"invalid time zone {go_quote(self.time_zone)}: unknown time zone {self.time_zone}"
            ) from exc

    def _add(self, t: TimeValue, d: Duration, sign: int) -> TimeValue:
        if isinstance(t, dt.datetime):
            moved = add_date(t, sign * d.year, sign * d.month, sign * (7 * d.week + d.day))
            return moved + _shift(d, sign)
        op = "+" if sign > 0 else "-"
        parts = [
            f" {op} {self.dialect.interval(amount, unit)}"
            for unit, amount in (
                ("year", d.year),
                ("month", d.month),
                ("day", 7 * d.week + d.day),
                ("hour", d.hour),
                ("minute", d.minute),
                ("second", d.second),
            )
            if amount
        ]
        return SqlTime(f"({t.sql}{''.join(parts)})")

    def _truncate(self, t: TimeValue, grain: str, tz: dt.tzinfo) -> TimeValue:
        if isinstance(t, dt.datetime):
            return truncate(t, grain, tz, self.first_day, self.first_month)
        return SqlTime(
            "("
            + self.dialect.date_trunc(f"({t.sql})", grain, self.time_zone, self.first_day, self.first_month)
            + ")"
        )

    def _bound(self, t: TimeValue | None) -> Bound | None:
        if t is None:
            return None
        if isinstance(t, SqlTime):
            return Bound(t.sql)
        # Bound as a naive UTC timestamp, which DuckDB compares with TIMESTAMP columns directly.
        return Bound(self.dialect.param, (t.astimezone(dt.timezone.utc).replace(tzinfo=None),))
