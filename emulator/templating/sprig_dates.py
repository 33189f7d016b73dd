"""Sprig v3 date functions (``date.go``) on top of ``gotime``."""

from __future__ import annotations

import time
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.funcs import IFACE, STRING, TIME, GoFunc, gofunc
from emulator.templating.gotime import (
    LOCAL,
    UTC,
    ZERO_TIME,
    GoTime,
    duration_string,
    load_location,
    parse_duration,
    parse_time,
)
from emulator.templating.strconv import SyntaxErr, parse_int


def _as_time(date: Any) -> GoTime:
    if isinstance(date, GoTime):
        return date
    if (
        isinstance(date, int)
        and type(date) is not bool
        and getattr(date, "gotype", "int") in ("int", "int64", "int32")
    ):
        return GoTime(int(date), 0, LOCAL)
    return GoTime.now()


def date_in_zone(fmt: str, date: Any, zone: str) -> str:
    """Sprig's ``dateInZone``: unknown zones fall back to UTC, non-dates mean now."""
    t = _as_time(date)
    try:
        loc = load_location(zone)
    except GoPanic:
        loc = UTC
    return t.in_loc(loc).format(fmt)


def _date_modify(fmt: str, date: GoTime) -> GoTime:
    try:
        return date.add(parse_duration(fmt))
    except GoPanic:
        return date


def _must_date_modify(fmt: str, date: GoTime) -> GoTime:
    return date.add(parse_duration(fmt))


def _since(t: GoTime) -> int:
    now = time.time_ns()
    return now - (t.sec * 1_000_000_000 + t.nsec)


def _round_seconds(ns: int) -> int:
    q, r = divmod(abs(ns), 1_000_000_000)
    if r * 2 >= 1_000_000_000:
        q += 1
    return q * 1_000_000_000 * (-1 if ns < 0 else 1)


def _date_ago(date: Any) -> str:
    t = date if isinstance(date, GoTime) else _as_time(date)
    return duration_string(_round_seconds(_since(t)))


def _duration(sec: Any) -> str:
    n = 0
    if type(sec) is str:
        try:
            n = parse_int(sec, 10)
        except SyntaxErr:
            n = 0
    elif getattr(sec, "gotype", "") == "int64":
        n = int(sec)
    return duration_string(n * 1_000_000_000)


def _duration_round(d: Any) -> str:
    ns = 0
    if type(d) is str:
        try:
            ns = parse_duration(d)
        except GoPanic:
            ns = 0
    elif getattr(d, "gotype", "") == "int64":
        ns = int(d)
    elif isinstance(d, GoTime):
        ns = _since(d)
    u = abs(ns)
    hour = 3_600_000_000_000
    for size, unit in ((hour * 24 * 365, "y"), (hour * 24 * 30, "mo"), (hour * 24, "d"), (hour, "h"),
                       (60_000_000_000, "m"), (1_000_000_000, "s")):  # fmt: skip
        if u > size:
            return f"{u // size}{'m' if unit == 'mo' else unit}"
    return "0s"


def _to_date(fmt: str, s: str) -> GoTime:
    try:
        return parse_time(fmt, s, LOCAL)
    except GoPanic:
        return ZERO_TIME


DATES: dict[str, GoFunc] = {
    "ago": gofunc(IFACE)(_date_ago),
    "date": gofunc(STRING, IFACE)(lambda fmt, d: date_in_zone(fmt, d, "Local")),
    "date_in_zone": gofunc(STRING, IFACE, STRING)(date_in_zone),
    "date_modify": gofunc(STRING, TIME)(_date_modify),
    "dateInZone": gofunc(STRING, IFACE, STRING)(date_in_zone),
    "dateModify": gofunc(STRING, TIME)(_date_modify),
    "duration": gofunc(IFACE)(_duration),
    "durationRound": gofunc(IFACE)(_duration_round),
    "htmlDate": gofunc(IFACE)(lambda d: date_in_zone("2006-01-02", d, "Local")),
    "htmlDateInZone": gofunc(IFACE, STRING)(lambda d, z: date_in_zone("2006-01-02", d, z)),
    "must_date_modify": gofunc(STRING, TIME)(_must_date_modify),
    "mustDateModify": gofunc(STRING, TIME)(_must_date_modify),
    "mustToDate": gofunc(STRING, STRING)(lambda fmt, s: parse_time(fmt, s, LOCAL)),
    "now": gofunc()(GoTime.now),
    "toDate": gofunc(STRING, STRING)(_to_date),
    "unixEpoch": gofunc(TIME)(lambda t: str(t.sec)),
}
