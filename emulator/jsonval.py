"""DuckDB results and plain values to JSON bytes, exactly as Rill (Go) writes them.

Rill scans each row into a ``map[string]any``, converts the values with ``runtime/pkg/jsonval.ToValue`` and
marshals the rows with Go's ``encoding/json``: keys sorted by bytes, compact, ``<`` ``>`` ``&`` U+2028 U+2029
escaped, floats in Go's text. Here converters are compiled once per column type; they turn DuckDB's Python
values into what orjson writes the Go way (ints, strings, lists, dicts, dates, datetimes without a trailing
zero in their fraction, ``orjson.Fragment`` holding Go number text), and the HTML-unsafe characters are
escaped afterwards on the bytes: they can only occur inside JSON strings there.

Where DuckDB's Python client loses what the Go driver sees, this module picks (see the converters):
TIMESTAMP_NS keeps microseconds only; an INTERVAL mixing signs inside (``1 day -1.5 ms``) may be off by one
millisecond; ``infinity`` is only recognised where it cannot be a real value (TIMESTAMPTZ,
TIMESTAMP_S/_MS/_NS); UNION tags are inferred from the value; BIT prints as its ``'0101'`` text.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import duckdb
import orjson

from emulator.errors import EmuError

__all__ = ["EncodeError", "dumps", "encode_result", "format_float", "make_encoder"]

Conv = Callable[[Any], Any]
Encoder = Callable[[Sequence[tuple[Any, ...]]], bytes]

_Fragment = orjson.Fragment
_NEG_ZERO = _Fragment("-0")
_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
_DT = dt.datetime
_UTC = dt.timezone.utc
_I53 = 2**53
_INF = math.inf
#: orjson writes non-integral floats in this magnitude range exactly as Go does (shortest digits, plain).
_PLAIN_LO, _PLAIN_HI = 1e-5, 1e15


class EncodeError(EmuError):
    """A value Go's encoder refuses (e.g. a year beyond 9999): Rill answers 500 (400 on its cached path)."""

    status = 500


class _InitError(Exception):
    """A column type the Go driver refuses when it reads the first chunk (raised only if there are rows)."""


# -- floats -----------------------------------------------------------------------------------------------


def format_float(x: float) -> str:
    """Go ``encoding/json`` text of a float64: shortest digits, plain if 1e-6 <= |x| < 1e21, else ``1e-7``."""
    if x != x or x in (_INF, -_INF):
        raise ValueError(f"json: unsupported value: {_go_nonfinite(x)}")
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    r = repr(x)
    a = abs(x)
    if a < 1e-6 or a >= 1e21:  # repr is in exponent form here too, same digits, >= 2 exponent digits
        mant, _, exp = r.partition("e")
        return f"{mant}e-{exp[2:]}" if exp.startswith("-0") else f"{mant}e{exp}"
    if "e" not in r:
        return r[:-2] if r.endswith(".0") else r
    sign = "-" if r[0] == "-" else ""
    mant, _, exp = r.lstrip("-").partition("e")
    digits = mant.replace(".", "")
    point = int(exp) + 1  # the mantissa has one digit before its point
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _go_nonfinite(x: float) -> str:
    return "NaN" if x != x else ("+Inf" if x > 0 else "-Inf")


def _f64(x: Any) -> Any:
    """A float64 as jsonval leaves it (NaN/±Inf → null), in a form orjson prints as Go does."""
    if x is None:
        return None
    if x.is_integer():
        if -_I53 < x < _I53:
            if x == 0 and math.copysign(1.0, x) < 0:
                return _NEG_ZERO
            return int(x)
        return _Fragment(format_float(x))
    if _PLAIN_LO <= x < _PLAIN_HI or -_PLAIN_HI < x <= -_PLAIN_LO:
        return x
    if x != x or x in (_INF, -_INF):
        return None
    return _Fragment(format_float(x))


def _big(x: Any) -> Any:
    """HUGEINT/UHUGEINT/BIGNUM/DECIMAL: jsonval's "evil cast" to float64 (correctly rounded)."""
    if x is None or (type(x) is int and -_I53 < x < _I53):  # exact as a float64, and integral
        return x
    try:
        f = float(int(x) if isinstance(x, str) else x)
    except OverflowError:
        raise EncodeError(f"json: unsupported value: {'-' if str(x).startswith('-') else '+'}Inf") from None
    return _f64(f)


# -- dates and times --------------------------------------------------------------------------------------

_YEAR_RANGE = (
    "json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: year outside of range [0,9999]"
)
# date [(BC)] [time[.fraction]] [offset]: the text DuckDB's Python client gives for what datetime cannot hold
_TS_RE = re.compile(
    r"(-?\d+)-(\d+)-(\d+)( \(BC\))?(?:[ T](\d+):(\d+):(\d+)(?:\.(\d+))?)?"
    r"(?:([+-])(\d+)(?::?(\d\d))?(?::?(\d\d))?)?"
)
#: What the Go driver prints for TIMESTAMP_NS ±infinity (±int64 max nanoseconds since the epoch).
_NS_INF = {_DT.max: "2262-04-11T23:47:16.854775807Z", _DT.min: "1677-09-21T00:12:43.145224193Z"}


def _ts(v: Any) -> Any:
    """TIMESTAMP/_S/_MS: RFC 3339 in UTC, fraction trimmed (Go ``time.Time`` JSON).

    A naive datetime is left to orjson (``_OPTS``: naive is UTC, written with ``Z``) unless its fraction
    ends in a zero, which orjson would keep and Go trims.
    """
    if type(v) is _DT:
        return v if v.microsecond % 10 or not v.microsecond else v.isoformat().rstrip("0") + "Z"
    return None if v is None else _ts_text(v)


def _ts_exact(v: Any) -> Any:
    """TIMESTAMP_S/_MS: datetime.max cannot be a value of theirs, so it is +infinity (a Go error)."""
    if v == _DT.max:
        raise EncodeError(_YEAR_RANGE)
    return _ts(v)


def _ts_ns(v: Any) -> Any:
    """TIMESTAMP_NS (microseconds only: the Python client drops the rest); datetime.max/min are ±infinity."""
    return _NS_INF[v] if type(v) is _DT and v in _NS_INF else _ts(v)


def _tstz(v: Any) -> Any:
    """TIMESTAMPTZ comes back aware in the session time zone: print it in UTC; naive means ±infinity."""
    if type(v) is _DT and v.tzinfo is not None:
        try:
            return _ts(v.astimezone(_UTC).replace(tzinfo=None))
        except OverflowError:  # year 0 or 10000 in UTC
            return _ts_text(v.isoformat())
    if v is None or isinstance(v, str):
        return _ts(v)
    raise EncodeError(_YEAR_RANGE)


def _ts_text(text: str) -> str:
    """A timestamp DuckDB handed over as text (BC or beyond year 9999): Go's text, or its error."""
    m = _TS_RE.fullmatch(text)
    if not m:
        raise EncodeError(f"cannot read timestamp {text!r}")
    year = int(m[1]) if not m[4] else 1 - int(m[1])  # 1 BC is year 0
    if not -1 <= year <= 10000:  # an offset moves it by less than a day
        raise EncodeError(_YEAR_RANGE)
    # Shift by 400 years (one Gregorian cycle: same calendar) so that datetime can do the arithmetic.
    shift = 400 if year < 2 else -400 if year > 9998 else 0
    t = dt.datetime(year + shift, int(m[2]), int(m[3]), int(m[5] or 0), int(m[6] or 0), int(m[7] or 0))
    t -= dt.timedelta(seconds=_offset(m))
    if not 0 <= t.year - shift <= 9999:
        raise EncodeError(_YEAR_RANGE)
    frac = (m[8] or "").rstrip("0")
    return f"{t.year - shift:04d}{t.isoformat()[4:]}{'.' + frac if frac else ''}Z"


def _offset(m: re.Match[str]) -> int:
    if not m[9]:
        return 0
    off = int(m[10]) * 3600 + int(m[11] or 0) * 60 + int(m[12] or 0)
    return -off if m[9] == "-" else off


def _date(v: Any) -> Any:
    """DATE: ``2024-01-02`` (jsonval formats it with ``time.DateOnly``; orjson writes a date the same)."""
    if isinstance(v, str):  # BC or beyond 9999
        m = _TS_RE.fullmatch(v)
        if not m:
            raise EncodeError(f"cannot read date {v!r}")
        year = int(m[1]) if not m[4] else 1 - int(m[1])
        return f"{'-' if year < 0 else ''}{abs(year):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    return v


def _time(v: Any) -> Any:
    """TIME: a Go time on 0001-01-01 UTC (``24:00:00`` wraps to midnight, as the driver's arithmetic does)."""
    if v is None:
        return None
    if isinstance(v, str):
        h, mi, s = v.split(":")
        v = dt.time(int(h) % 24, int(mi), int(float(s)))
    s = v.isoformat()
    return "0001-01-01T" + (s.rstrip("0") if v.microsecond else s) + "Z"


def _timetz(v: Any) -> Any:
    """TIMETZ: 0001-01-01 local time with its offset (Go prints ±hh:mm, seconds dropped; 0 is ``Z``)."""
    if v is None:
        return None
    if isinstance(v, str):  # 24:00:00+hh: Go's time.Date rolls it over to 0001-01-02
        m = _TS_RE.fullmatch("1-1-1 " + v)
        if not m:
            raise EncodeError(f"cannot read time {v!r}")
        frac = (m[8] or "").rstrip("0")
        day, hour = divmod(int(m[5]), 24)
        base = f"0001-01-{1 + day:02d}T{hour:02d}:{m[6]}:{m[7]}{'.' + frac if frac else ''}"
        return base + _go_zone(_offset(m))
    s = v.replace(tzinfo=None).isoformat()
    zone = _go_zone(int(v.utcoffset().total_seconds()))
    return "0001-01-01T" + (s.rstrip("0") if v.microsecond else s) + zone


def _go_zone(off: int) -> str:
    if off == 0:
        return "Z"
    zone = -(-off // 60) if off < 0 else off // 60  # Go divides toward zero
    sign, zone = ("-", -zone) if zone < 0 else ("+", zone)
    return f"{sign}{zone // 60:02d}:{zone % 60:02d}"


def _interval(v: Any) -> Any:
    """INTERVAL: whole milliseconds, a month being 30 days (DuckDB's Python client already counts so)."""
    if v is None:
        return None
    us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    return us // 1000 if us >= 0 else -(-us // 1000)  # Go truncates toward zero


# -- other scalars ----------------------------------------------------------------------------------------


def _blob(v: Any) -> Any:
    """BLOB (and GEOMETRY's WKB): Go marshals ``[]byte`` as standard base64."""
    return None if v is None else binascii.b2a_base64(v, newline=False).decode("ascii")


def _json(v: Any) -> Any:
    """JSON: the driver decodes it (numbers kept as written, ``json.Number``) and it is re-encoded sorted."""
    return None if v is None else json.loads(v, parse_float=_Fragment, parse_int=_Fragment)


# -- nested types -----------------------------------------------------------------------------------------


def _list_conv(conv: Conv) -> Conv:
    return lambda v: None if v is None else [conv(e) for e in v]


def _struct_conv(fields: list[tuple[str, Conv | None]]) -> Conv:
    return lambda v: None if v is None else {k: v[k] if c is None else c(v[k]) for k, c in fields}


def _map_conv(key_id: str, key_conv: Conv | None, val_conv: Conv | None) -> Conv:
    def key_text(k: Any) -> str:
        # Go keeps string keys; others go through ToValue and json.Marshal, quotes trimmed. The strings
        # converters make (UUIDs, base64, times...) hold nothing Marshal would escape, so they are kept too.
        if key_conv is not None:
            k = key_conv(k)
        if isinstance(k, str):
            return k
        text = dumps(k).decode()
        return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text

    def conv(v: Any) -> Any:
        if v is None:
            return None
        if key_id == "uuid" and v:  # []byte keys are not comparable in Go: the driver fails on them
            raise EncodeError("MAP key type not supported")
        if val_conv is None:
            return {key_text(k): x for k, x in v.items()}
        return {key_text(k): val_conv(x) for k, x in v.items()}

    return conv


def _union_conv(members: list[tuple[str, Any]]) -> Conv:
    """UNION: the driver's ``Union{Value, Tag}`` struct, fields in declaration order (Go does not sort them).

    Python gives only the value, so the tag is the first member whose Python type matches. The value is
    converted like a column of the member's type (Go marshals the scanned value itself; see the report).
    """
    kinds = [(name, _PY_KIND.get(t.id, object), _compile(t)) for name, t in members]

    def conv(v: Any) -> Any:
        if v is None:
            return None
        name, _, c = next((k for k in kinds if type(v) is k[1]), kinds[0])
        value = dumps(v if c is None else c(v)).decode()
        return _Fragment(f'{{"value":{value},"tag":{dumps(name).decode()}}}')

    return conv


_PY_KIND: dict[str, type] = {
    **dict.fromkeys(["tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint", "uinteger",
                     "ubigint", "hugeint", "uhugeint"], int),
    "boolean": bool, "double": float, "float": float, "decimal": Decimal, "varchar": str, "enum": str,
    "blob": bytes, "date": dt.date, "time": dt.time, "interval": dt.timedelta, "uuid": UUID,
    **dict.fromkeys(["timestamp", "timestamp with time zone", "timestamp_s", "timestamp_ms", "timestamp_ns"],
                    _DT),
    "time with time zone": dt.time, "bit": str, "bignum": str, "list": list, "array": tuple, "struct": dict,
    "map": dict,
}  # fmt: skip


# -- compiling converters from DuckDB types ----------------------------------------------------------------

_SCALARS: dict[str, Conv | None] = {
    **dict.fromkeys(["boolean", "tinyint", "smallint", "integer", "bigint", "utinyint", "usmallint",
                     "uinteger", "ubigint", "varchar", "enum", "null", "bit"]),
    "float": _f64, "double": _f64, "hugeint": _big, "uhugeint": _big, "bignum": _big, "decimal": _big,
    "timestamp": _ts, "timestamp_s": _ts_exact, "timestamp_ms": _ts_exact, "timestamp_ns": _ts_ns,
    "timestamp with time zone": _tstz, "date": _date, "time": _time, "time_ns": _time,
    "time with time zone": _timetz, "interval": _interval, "blob": _blob, "geometry": _blob,
    "uuid": lambda v: None if v is None else str(v),
}  # fmt: skip
_BAD_MAP_KEYS = {"union", "list", "struct", "map", "array", "blob", "bit", "geometry"}


def _compile(t: Any) -> Conv | None:
    """The converter for one DuckDB type (``None`` when values pass unchanged)."""
    tid = t.id
    if tid == "varchar" and str(t) == "JSON":
        return _json
    if tid in _SCALARS:
        return _SCALARS[tid]
    children = t.children
    if tid in ("list", "array"):
        elem = _compile(children[0][1])
        return None if elem is None else _list_conv(elem)
    if tid == "struct":
        fields = [(name, _compile(ft)) for name, ft in children]
        return None if all(c is None for _, c in fields) else _struct_conv(fields)
    if tid == "map":
        kt, vt = children[0][1], children[1][1]
        if kt.id in _BAD_MAP_KEYS:
            raise _InitError("MAP key type not supported")
        return _map_conv(kt.id, _compile(kt), _compile(vt))
    if tid == "union":
        return _union_conv(children[1:])  # the first child is the tag
    raise _InitError(f"unsupported data type: {t!s}")


_COLUMN_CACHE: dict[str, tuple[Conv | None, str | None]] = {}


def _compile_column(type_code: Any) -> tuple[Conv | None, str | None]:
    """The converter of a column type, or the error the Go driver would raise for it; cached by type text."""
    key = str(type_code)
    hit = _COLUMN_CACHE.get(key)
    if hit is None:
        try:
            hit = (_compile(duckdb.sqltype(type_code) if isinstance(type_code, str) else type_code), None)
        except _InitError as exc:
            hit = (None, str(exc))
        if len(_COLUMN_CACHE) > 1024:
            _COLUMN_CACHE.clear()
        _COLUMN_CACHE[key] = hit
    return hit


# -- encoding ---------------------------------------------------------------------------------------------


def _escape(out: bytes) -> bytes:
    """Go's HTML-safe escaping; outside strings orjson writes none of these bytes."""
    if b"<" in out:
        out = out.replace(b"<", b"\\u003c")
    if b">" in out:
        out = out.replace(b">", b"\\u003e")
    if b"&" in out:
        out = out.replace(b"&", b"\\u0026")
    if not out.isascii():
        out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return out


def _orjson(data: Any) -> bytes:
    try:
        return orjson.dumps(data, option=_OPTS)
    except orjson.JSONEncodeError as exc:  # only lone surrogates are worth a second try
        return orjson.dumps(_no_surrogates(data) if "surrogates" in str(exc) else data, option=_OPTS)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _no_surrogates(v: Any) -> Any:
    """Lone surrogates (not encodable in UTF-8) become U+FFFD, as Go replaces invalid UTF-8."""
    if isinstance(v, str):
        return _SURROGATES.sub("\ufffd", v)
    if isinstance(v, dict):
        return {_no_surrogates(k): _no_surrogates(x) for k, x in v.items()}
    return [_no_surrogates(x) for x in v] if isinstance(v, (list, tuple)) else v


def make_encoder(description: Sequence[tuple[Any, ...]]) -> Encoder:
    """An encoder for rows shaped by ``description`` (a DuckDB ``cursor.description``), compiled once.

    Duplicate column names collapse, the last column winning (with its own type's conversion). A column
    type the Go driver rejects (e.g. a MAP keyed by LIST/STRUCT/BLOB) raises :class:`EncodeError` when rows
    are encoded, like Rill's failure while reading the first chunk; zero rows still encode as ``[]``.
    """
    last = {str(col[0]): i for i, col in enumerate(description)}
    keep = sorted(last.values())
    names = [str(description[i][0]) for i in keep]
    convs: list[tuple[int, Conv, bool]] = []
    init_error: str | None = None
    for pos, i in enumerate(keep):
        type_code = description[i][1]
        conv, err = _compile_column(type_code)
        if err is not None and init_error is None:
            init_error = f"{err}: index {i}"
        if conv is not None:
            convs.append((pos, conv, conv is _date))
    trimmed = len(keep) != len(description)

    def encode(rows: Sequence[tuple[Any, ...]]) -> bytes:
        if not rows:
            return b"[]"
        if init_error is not None:
            raise EncodeError(init_error)
        if trimmed:
            rows = [tuple(r[i] for i in keep) for r in rows]
        if convs:
            cols: list[Any] = list(zip(*rows, strict=True))
            for pos, conv, is_date in convs:
                if not (is_date and str not in set(map(type, cols[pos]))):  # dates need no call
                    cols[pos] = list(map(conv, cols[pos]))
            rows = list(zip(*cols, strict=True))
        return _escape(_orjson([dict(zip(names, r, strict=True)) for r in rows]))

    return encode


_ENCODER_CACHE: dict[tuple[tuple[str, str], ...], Encoder] = {}


def encode_result(description: Sequence[tuple[Any, ...]], rows: Sequence[tuple[Any, ...]]) -> bytes:
    """The JSON array of row objects Rill returns for a query result (``[]`` for no rows, no newline)."""
    key = tuple((str(c[0]), str(c[1])) for c in description)
    encoder = _ENCODER_CACHE.get(key)
    if encoder is None:
        if len(_ENCODER_CACHE) > 256:
            _ENCODER_CACHE.clear()
        encoder = _ENCODER_CACHE[key] = make_encoder(description)
    return encoder(rows)


def _go_value(v: Any) -> Any:
    """``v`` with floats in Go's text and keys as Go writes them (map[int]T keys are decimal strings)."""
    if isinstance(v, float):
        if v != v or v in (_INF, -_INF):
            raise ValueError(f"json: unsupported value: {_go_nonfinite(v)}")
        return _f64(v)
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else _go_key(k)): _go_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_go_value(x) for x in v]
    if type(v) is int and not -(2**63) <= v < 2**64:
        return _Fragment(str(v))  # a big.Int marshals exactly
    return v


def _go_key(k: Any) -> str:
    if type(k) is not int:
        raise TypeError(f"json: unsupported map key type: {type(k).__name__}")
    return str(k)


def dumps(value: Any) -> bytes:
    """Go ``json.Marshal`` of a plain value (dict/list/tuple/str/int/float/bool/None, orjson.Fragment).

    Keys are sorted, floats print as Go prints them, ``<>&`` and U+2028/9 are escaped. NaN and ±Inf raise
    ``ValueError`` as Go's encoder refuses them.
    """
    return _escape(_orjson(_go_value(value)))
