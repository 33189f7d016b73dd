"""Go time layouts ("2006-01-02 15:04:05"): Go's ``nextStdChunk``, ``Format`` and ``Parse``."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from emulator.templating.errors import GoPanic

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]  # fmt: skip
DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


class Parsed(NamedTuple):
    """What a layout read: the wall clock, nanoseconds, and the zone information found."""

    wall: dt.datetime
    nsec: int
    zulu: bool
    offset: int | None
    zone_name: str


_STD_0X = {"1": "01", "2": "02", "3": "03", "4": "04", "5": "05", "6": "06"}


def next_chunk(layout: str) -> tuple[str, str, str]:
    """Go's ``nextStdChunk``: (literal prefix, std code, rest); std is "" when none is left."""
    n = len(layout)
    i = 0
    while i < n:
        c = layout[i]
        rest = layout[i:]
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                return layout[:i], "January", layout[i + 7 :]
            if not rest[3:4].islower():
                return layout[:i], "Jan", layout[i + 3 :]
        elif c == "M" and len(rest) >= 3:
            if rest.startswith("Mon"):
                if rest.startswith("Monday"):
                    return layout[:i], "Monday", layout[i + 6 :]
                if not rest[3:4].islower():
                    return layout[:i], "Mon", layout[i + 3 :]
            if rest.startswith("MST"):
                return layout[:i], "MST", layout[i + 3 :]
        elif c == "0":
            if len(rest) >= 2 and "1" <= rest[1] <= "6":
                return layout[:i], _STD_0X[rest[1]], layout[i + 2 :]
            if rest.startswith("002"):
                return layout[:i], "002", layout[i + 3 :]
        elif c == "1":
            if rest.startswith("15"):
                return layout[:i], "15", layout[i + 2 :]
            return layout[:i], "1", layout[i + 1 :]
        elif c == "2":
            if rest.startswith("2006"):
                return layout[:i], "2006", layout[i + 4 :]
            return layout[:i], "2", layout[i + 1 :]
        elif c == "_":
            if rest.startswith("_2"):
                if rest.startswith("_2006"):
                    return layout[: i + 1], "2006", layout[i + 5 :]
                return layout[:i], "_2", layout[i + 2 :]
            if rest.startswith("__2"):
                return layout[:i], "__2", layout[i + 3 :]
        elif c in "345":
            return layout[:i], c, layout[i + 1 :]
        elif c == "P" and rest.startswith("PM"):
            return layout[:i], "PM", layout[i + 2 :]
        elif c == "p" and rest.startswith("pm"):
            return layout[:i], "pm", layout[i + 2 :]
        elif c in "-Z":
            for code in ("070000", "07:00:00", "0700", "07:00", "07"):
                if rest[1:].startswith(code):
                    return layout[:i], c + code, layout[i + 1 + len(code) :]
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            ch = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == ch:
                j += 1
            if not (j < n and layout[j].isdigit()):
                return layout[:i], c + ch * (j - i - 1), layout[j:]
        i += 1
    return layout, "", ""


def format_civil(c: dt.datetime, nsec: int, zone: str, off: int, layout: str) -> str:
    """Go's ``Time.Format`` of a wall clock ``c`` in a zone named ``zone`` at offset ``off``."""
    out: list[str] = []
    while layout:
        prefix, std, layout = next_chunk(layout)
        out.append(prefix)
        if not std:
            break
        out.append(_format_std(std, c, nsec, zone, off))
    return "".join(out)


def _tz(off: int, colon: bool, seconds: bool, short: bool) -> str:
    sign = "-" if off < 0 else "+"
    a = abs(off)
    h, m, s = a // 3600, a // 60 % 60, a % 60
    sep = ":" if colon else ""
    if short:
        return f"{sign}{h:02d}"
    out = f"{sign}{h:02d}{sep}{m:02d}"
    if seconds:
        out += f"{sep}{s:02d}"
    return out


def _format_std(std: str, c: dt.datetime, nsec: int, zone: str, off: int) -> str:
    hour12 = c.hour % 12 or 12
    simple = {
        "2006": f"{c.year:04d}", "06": f"{c.year % 100:02d}", "January": MONTHS[c.month - 1],
        "Jan": MONTHS[c.month - 1][:3], "1": str(c.month), "01": f"{c.month:02d}",
        "Monday": DAYS[(c.weekday() + 1) % 7], "Mon": DAYS[(c.weekday() + 1) % 7][:3],
        "2": str(c.day), "_2": f"{c.day:2d}", "02": f"{c.day:02d}",
        "__2": f"{c.timetuple().tm_yday:3d}", "002": f"{c.timetuple().tm_yday:03d}",
        "15": f"{c.hour:02d}", "3": str(hour12), "03": f"{hour12:02d}", "4": str(c.minute),
        "04": f"{c.minute:02d}", "5": str(c.second), "05": f"{c.second:02d}",
        "PM": "PM" if c.hour >= 12 else "AM", "pm": "pm" if c.hour >= 12 else "am",
    }  # fmt: skip
    if std in simple:
        return simple[std]
    if std == "MST":
        return zone if zone else _tz(off - off % 60, False, False, False)
    if std[0] in "-Z":
        if std[0] == "Z" and off == 0:
            return "Z"
        code = std[1:]
        return _tz(off, ":" in code, code in ("070000", "07:00:00"), code == "07")
    # fractional seconds
    digits = len(std) - 1
    frac = f"{nsec:09d}"[:digits]
    if std[1] == "9":
        frac = frac.rstrip("0")
        return std[0] + frac if frac else ""
    return std[0] + frac


def _skip(value: str, prefix: str) -> str | None:
    """Go's ``skip``: match a literal layout prefix, a space matching any run of spaces."""
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                return None
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            return None
        prefix, value = prefix[1:], value[1:]
    return value


def parse_layout(layout: str, value: str) -> Parsed:
    """The fields of ``value`` read with a Go layout (``time.Parse``); raises GoPanic with Go's message."""
    orig_layout, orig_value = layout, value
    year, month, day, hour, minute, sec, nsec = 1, 1, 1, 0, 0, 0, 0
    pm: bool | None = None
    off: int | None = None
    zulu = False
    zname = ""

    def fail(v_elem: str, l_elem: str, extra: str = "") -> GoPanic:
        if extra:
            return GoPanic(f'parsing time "{orig_value}": {extra}')
        return GoPanic(
            f'parsing time "{orig_value}" as "{orig_layout}": cannot parse "{v_elem}" as "{l_elem}"'
        )

    def num(v: str, lo: int, hi: int, std: str) -> tuple[int, str]:
        j = 0
        while j < len(v) and j < hi and v[j].isdigit():
            j += 1
        if j < lo:
            raise fail(v, std)
        return int(v[:j]), v[j:]

    while True:
        prefix, std, rest = next_chunk(layout)
        skipped = _skip(value, prefix)
        if skipped is None:
            raise fail(value, prefix)
        value = skipped
        if not std:
            if value:
                raise fail("", "", f'extra text: "{value}"')
            break
        layout = rest
        elem = value
        if std == "2006":
            if len(value) < 4 or not value[:4].isdigit():
                raise fail(elem, std)
            year, value = int(value[:4]), value[4:]
        elif std == "06":
            if len(value) < 2 or not value[:2].isdigit():
                raise fail(elem, std)
            y = int(value[:2])
            year, value = (y + 1900 if y >= 69 else y + 2000), value[2:]
        elif std in ("January", "Jan"):
            names = MONTHS if std == "January" else [m[:3] for m in MONTHS]
            for i, name in enumerate(names):
                if value.lower().startswith(name.lower()):
                    month, value = i + 1, value[len(name) :]
                    break
            else:
                raise fail(elem, std)
        elif std in ("Monday", "Mon"):
            names = DAYS if std == "Monday" else [d[:3] for d in DAYS]
            for name in names:
                if value.lower().startswith(name.lower()):
                    value = value[len(name) :]
                    break
            else:
                raise fail(elem, std)
        elif std in ("1", "01"):
            month, value = num(value, 1 if std == "1" else 2, 2, std)
            if not 1 <= month <= 12:
                raise fail("", "", "month out of range")
        elif std in ("2", "_2", "02"):
            if std == "_2" and value[:1] == " ":
                value = value[1:]
            day, value = num(value, 1 if std != "02" else 2, 2, std)
        elif std in ("__2", "002"):
            _, value = num(value.lstrip(" "), 1, 3, std)
        elif std in ("15", "3", "03"):
            hour, value = num(value, 2 if std[0] == "0" or std == "15" else 1, 2, std)
        elif std in ("4", "04"):
            minute, value = num(value, 2 if std == "04" else 1, 2, std)
        elif std in ("5", "05"):
            sec, value = num(value, 2 if std == "05" else 1, 2, std)
            nxt_prefix, nxt_std, _ = next_chunk(layout)
            if value[:1] in ".," and value[1:2].isdigit() and not (nxt_prefix == "" and nxt_std[:1] in ".,"):
                j = 1
                while j < len(value) and value[j].isdigit():
                    j += 1
                nsec = int((value[1:j] + "000000000")[:9])
                value = value[j:]
        elif std in ("PM", "pm"):
            tok = value[:2]
            if tok.upper() not in ("AM", "PM"):
                raise fail(elem, std)
            pm, value = tok.upper() == "PM", value[2:]
        elif std == "MST":
            j = 0
            while j < len(value) and value[j].isupper():
                j += 1
            if j < 3 and value[:1] != "Z":
                raise fail(elem, std)
            zname, value = value[:j], value[j:]
        elif std[0] in "-Z":
            if std[0] == "Z" and value[:1] == "Z":
                zulu, value = True, value[1:]
            else:
                code = std[1:]
                width = {"070000": 7, "07:00:00": 9, "0700": 5, "07:00": 6, "07": 3}[code]
                tok = value[:width]
                digits = tok[1:].replace(":", "")
                if len(tok) < width or tok[0] not in "+-" or not digits.isdigit():
                    raise fail(elem, std)
                h, m, s = int(digits[0:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
                off = (h * 3600 + m * 60 + s) * (-1 if tok[0] == "-" else 1)
                value = value[width:]
        else:  # fractional seconds in the layout
            if value[:1] != std[0]:
                if std[1] == "9":
                    continue
                raise fail(elem, std)
            j = 1
            while j < len(value) and value[j].isdigit():
                j += 1
            if std[1] == "0" and j - 1 != len(std) - 1:
                raise fail(elem, std)
            nsec = int((value[1:j] + "000000000")[:9])
            value = value[j:]
    if pm is not None:
        if hour > 12:
            raise GoPanic(f'parsing time "{orig_value}": hour out of range')
        if pm and hour < 12:
            hour += 12
        elif not pm and hour == 12:
            hour = 0
    try:
        wall = dt.datetime(year, month, day, hour, minute, sec)
    except ValueError:
        raise GoPanic(f'parsing time "{orig_value}": day out of range') from None
    return Parsed(wall, nsec, zulu, off, zname)
