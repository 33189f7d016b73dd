"""Go's ``time`` package, the parts Sprig exposes: ``time.Time`` with Go layouts, durations, zones."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.golayout import DAYS, MONTHS, format_civil, parse_layout

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MONO_START = time.monotonic()


class GoMonth(int):
    """time.Month: prints its English name."""

    __slots__ = ()
    gotype = "time.Month"
    gokind = "int"

    def go_string(self) -> str:
        return MONTHS[self - 1] if 1 <= self <= 12 else f"%!Month({int(self)})"


class GoWeekday(int):
    """time.Weekday: prints its English name."""

    __slots__ = ()
    gotype = "time.Weekday"
    gokind = "int"

    def go_string(self) -> str:
        return DAYS[self] if 0 <= self <= 6 else f"%!Weekday({int(self)})"


class GoDuration(int):
    """time.Duration (nanoseconds): prints like ``1h2m3.5s``."""

    __slots__ = ()
    gotype = "time.Duration"
    gokind = "int64"

    def go_string(self) -> str:
        return duration_string(int(self))


def duration_string(d: int) -> str:
    """Go's ``Duration.String``."""
    if d == 0:
        return "0s"
    neg = d < 0
    u = -d if neg else d
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                s = _frac(u, size) + unit
                break
    else:
        secs, frac = divmod(u, 1_000_000_000)
        s = _trim_frac(str(secs % 60), frac) + "s"
        mins = secs // 60
        if mins:
            s = f"{mins % 60}m" + s
            if mins // 60:
                s = f"{mins // 60}h" + s
    return ("-" if neg else "") + s


def _frac(v: int, size: int) -> str:
    whole, frac = divmod(v, size)
    if size == 1:
        return str(whole)
    digits = len(str(size)) - 1
    return _trim_frac(str(whole), frac, digits)


def _trim_frac(whole: str, frac: int, digits: int = 9) -> str:
    if not frac:
        return whole
    return whole + "." + str(frac).rjust(digits, "0").rstrip("0")


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
          "m": 60_000_000_000, "h": 3_600_000_000_000}  # fmt: skip


def parse_duration(s: str) -> int:
    """Go's ``time.ParseDuration``; raises GoPanic with Go's message."""
    orig = s
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise GoPanic(f'time: invalid duration "{orig}"')
    total = 0.0
    while s:
        i = 0
        while i < len(s) and (s[i].isdigit() or s[i] == "."):
            i += 1
        num = s[:i]
        if not num or num == "." or num.count(".") > 1:
            raise GoPanic(f'time: invalid duration "{orig}"')
        s = s[i:]
        j = 0
        while j < len(s) and not (s[j].isdigit() or s[j] == "."):
            j += 1
        unit = s[:j]
        s = s[j:]
        if not unit:
            raise GoPanic(f'time: missing unit in duration "{orig}"')
        if unit not in _UNITS:
            raise GoPanic(f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(num) * _UNITS[unit]
    if total > 2**63 - 1:
        raise GoPanic(f'time: invalid duration "{orig}"')
    v = round(total)
    return -v if neg else v


# -- locations ------------------------------------------------------------------------------------


class Loc:
    """A time zone: UTC, Local (the machine's), an IANA zone, or a fixed offset."""

    __slots__ = ("name", "offset", "zone")

    def __init__(self, name: str, zone: zoneinfo.ZoneInfo | None = None, offset: int | None = None) -> None:
        self.name = name
        self.zone = zone
        self.offset = offset

    def lookup(self, sec: int) -> tuple[str, int]:
        """Zone abbreviation and UTC offset (seconds) in effect at unix time ``sec``."""
        if self.offset is not None:
            return self.name, self.offset
        if self.name == "UTC":
            return "UTC", 0
        if self.zone is None:  # Local
            try:
                tm = time.localtime(sec)
                return tm.tm_zone, tm.tm_gmtoff
            except (OverflowError, OSError, ValueError):
                return "UTC", 0
        try:
            d = (_EPOCH + dt.timedelta(seconds=sec)).astimezone(self.zone)
        except (OverflowError, ValueError):
            return "UTC", 0
        off = d.utcoffset()
        return d.tzname() or "", int(off.total_seconds()) if off else 0


UTC = Loc("UTC")
LOCAL = Loc("Local")


def load_location(name: str) -> Loc:
    """Go's ``time.LoadLocation``; raises GoPanic for unknown zones."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return LOCAL
    try:
        return Loc(name, zoneinfo.ZoneInfo(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise GoPanic(f"unknown time zone {name}") from None


# -- time.Time ------------------------------------------------------------------------------------


class GoTime:
    """A Go ``time.Time``: unix seconds + nanoseconds, a location, optional monotonic reading."""

    __slots__ = ("loc", "mono", "nsec", "sec")
    gotype = "time.Time"
    gokind = "struct"

    def __init__(self, sec: int, nsec: int = 0, loc: Loc = UTC, mono: int | None = None) -> None:
        self.sec = sec
        self.nsec = nsec
        self.loc = loc
        self.mono = mono

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, GoTime)
            and (self.sec, self.nsec, self.loc.name) == (other.sec, other.nsec, other.loc.name)
            and self.mono == other.mono
        )

    def __hash__(self) -> int:
        return hash((self.sec, self.nsec))

    @staticmethod
    def now() -> GoTime:
        ns = time.time_ns()
        mono = int((time.monotonic() - _MONO_START) * 1e9) + 1
        return GoTime(ns // 1_000_000_000, ns % 1_000_000_000, LOCAL, mono)

    def civil(self) -> tuple[dt.datetime, str, int]:
        """The wall clock in the time's zone, the zone abbreviation and the offset."""
        name, off = self.loc.lookup(self.sec)
        return _EPOCH + dt.timedelta(seconds=self.sec + off), name, off

    def in_loc(self, loc: Loc) -> GoTime:
        return GoTime(self.sec, self.nsec, loc)

    def add(self, ns: int) -> GoTime:
        total = self.nsec + ns
        mono = None if self.mono is None else self.mono + ns
        return GoTime(self.sec + total // 1_000_000_000, total % 1_000_000_000, self.loc, mono)

    def format(self, layout: str) -> str:
        return format_time(self, layout)

    def go_string(self) -> str:
        s = format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")
        if self.mono is not None:
            m = abs(self.mono)
            sign = "-" if self.mono < 0 else "+"
            s += f" m={sign}{m // 1_000_000_000}.{m % 1_000_000_000:09d}"
        return s

    # methods reachable from templates ({{ now.Year }}, {{ (now).Format "2006" }})
    def method(self, name: str) -> Any:
        return _TIME_METHODS.get(name)


def _ymd(t: GoTime) -> dt.datetime:
    return t.civil()[0]


def _add_date(t: GoTime, years: int, months: int, days: int) -> GoTime:
    c = _ymd(t)
    m = c.month - 1 + months
    y = c.year + years + m // 12
    m = m % 12 + 1
    base = dt.datetime(y, m, 1) + dt.timedelta(days=c.day - 1 + days)
    base = base.replace(hour=c.hour, minute=c.minute, second=c.second)
    return date_in(base, t.nsec, t.loc)


def date_in(wall: dt.datetime, nsec: int, loc: Loc) -> GoTime:
    """The instant whose wall clock in ``loc`` is ``wall`` (naive)."""
    naive_sec = int((wall.replace(tzinfo=dt.timezone.utc) - _EPOCH).total_seconds())
    _, off = loc.lookup(naive_sec)
    sec = naive_sec - off
    _, off2 = loc.lookup(sec)
    if off2 != off:
        sec = naive_sec - off2
    return GoTime(sec, nsec, loc)


_TIME_METHODS: dict[str, tuple[tuple[str, ...], Any]] = {
    "Year": ((), lambda t: _ymd(t).year),
    "Month": ((), lambda t: GoMonth(_ymd(t).month)),
    "Day": ((), lambda t: _ymd(t).day),
    "Hour": ((), lambda t: _ymd(t).hour),
    "Minute": ((), lambda t: _ymd(t).minute),
    "Second": ((), lambda t: _ymd(t).second),
    "Nanosecond": ((), lambda t: t.nsec),
    "YearDay": ((), lambda t: _ymd(t).timetuple().tm_yday),
    "Weekday": ((), lambda t: GoWeekday((_ymd(t).weekday() + 1) % 7)),
    "Unix": ((), lambda t: t.sec),
    "UnixMilli": ((), lambda t: t.sec * 1000 + t.nsec // 1_000_000),
    "UnixMicro": ((), lambda t: t.sec * 1_000_000 + t.nsec // 1000),
    "UnixNano": ((), lambda t: t.sec * 1_000_000_000 + t.nsec),
    "IsZero": ((), lambda t: t.sec == -62135596800 and t.nsec == 0),
    "UTC": ((), lambda t: t.in_loc(UTC)),
    "Local": ((), lambda t: t.in_loc(LOCAL)),
    "String": ((), lambda t: t.go_string()),
    "Format": (("string",), lambda t, layout: format_time(t, layout)),
    "AddDate": (("int", "int", "int"), _add_date),
    "Add": (("int64",), lambda t, d: t.add(d)),
}

ZERO_TIME = GoTime(-62135596800, 0, UTC)


def format_time(t: GoTime, layout: str) -> str:
    """Go's ``Time.Format``."""
    c, zone, off = t.civil()
    return format_civil(c, t.nsec, zone, off, layout)


def parse_time(layout: str, value: str, loc: Loc) -> GoTime:
    """Go's ``time.ParseInLocation``; raises GoPanic with Go's message."""
    wall, nsec, zulu, off, zname = parse_layout(layout, value)
    if zulu:
        return date_in(wall, nsec, UTC)
    if off is not None:
        t = date_in(wall, nsec, Loc("", offset=off))
        _, loc_off = loc.lookup(t.sec)
        if loc_off == off:
            return GoTime(t.sec, nsec, loc)
        return GoTime(t.sec, nsec, Loc("", offset=off))
    if zname:
        if zname == "UTC":
            return date_in(wall, nsec, UTC)
        t = date_in(wall, nsec, loc)
        if loc.lookup(t.sec)[0] == zname:
            return t
        return date_in(wall, nsec, Loc(zname, offset=0))
    return date_in(wall, nsec, loc)
