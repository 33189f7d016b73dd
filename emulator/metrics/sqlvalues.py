"""Literal values in metrics SQL: parsing, TiDB type names for messages, and date arithmetic."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlglot import exp

from emulator.errors import BadRequest
from emulator.metrics.sqlglot_dialect import is_aggregate
from emulator.metrics.timerange import add_date
from emulator.metrics.weak import parse_rfc3339

_TIDB_TYPES: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Column, "*ast.ColumnNameExpr"),
    (exp.Literal, "*test_driver.ValueExpr"),
    (exp.Null, "*test_driver.ValueExpr"),
    (exp.Boolean, "*test_driver.ValueExpr"),
    (exp.Paren, "*ast.ParenthesesExpr"),
    (exp.Neg, "*ast.UnaryOperationExpr"),
    (exp.Not, "*ast.UnaryOperationExpr"),
    (exp.BitwiseNot, "*ast.UnaryOperationExpr"),
    (exp.Exists, "*ast.ExistsSubqueryExpr"),
    (exp.Subquery, "*ast.SubqueryExpr"),
    (exp.Select, "*ast.SubqueryExpr"),
    (exp.Case, "*ast.CaseExpr"),
    (exp.Cast, "*ast.FuncCastExpr"),
    (exp.Interval, "*ast.TimeUnitExpr"),
    (exp.Binary, "*ast.BinaryOperationExpr"),
)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$")
_ISO_DATE = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def tidb_type(node: exp.Expr) -> str:
    """The TiDB AST type Rill would name in ``unsupported type %T`` messages."""
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Case, exp.Cast)):
        return "*ast.AggregateFuncExpr" if is_aggregate(node) else "*ast.FuncCallExpr"
    for cls, name in _TIDB_TYPES:
        if isinstance(node, cls):
            return name
    return f"*ast.{type(node).__name__}"


def go_type(value: Any) -> str:
    """Go's ``%T`` of a value TiDB's parser produces."""
    if value is None:
        return "<nil>"
    if isinstance(value, (bool, int)):
        return "int"
    if isinstance(value, float):
        return "*test_driver.MyDecimal"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def parse_value(node: exp.Expr) -> Any:
    """Rill's ``parseValueExpr``: a literal's value (int, float, str, bool, None)."""
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        text = str(node.this)
        if node.is_string:
            return text
        try:
            return int(text)
        except ValueError:
            return float(text)
    raise BadRequest(f"metrics sql: expected value expression, got {tidb_type(node)}")


def parse_any_date(text: str) -> dt.datetime:
    """A subset of Go's ``dateparse.ParseAny``: ISO dates/timestamps and ``dd-mm-yyyy``/``mm-dd-yyyy``."""
    parsed = parse_rfc3339(text)
    if parsed is not None:
        return parsed
    m = _ISO_DATE.match(text.strip())
    try:
        if m is not None:
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
            hour, minute, second = (int(m.group(i) or 0) for i in (4, 5, 6))
            micros = int(((m.group(7) or "") + "000000")[:6])
            tz: dt.tzinfo = dt.timezone.utc
            zone = m.group(8)
            if zone and zone != "Z":
                sign = 1 if zone[0] == "+" else -1
                digits = zone[1:].replace(":", "")
                tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
            return dt.datetime(year, month, day, hour, minute, second, micros, tzinfo=tz)
        m = _NUMERIC_DATE.match(text.strip())
        if m is not None:
            a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
            month, day = (a, b) if a <= 12 else (b, a)  # month first unless it cannot be a month
            return dt.datetime(year, month, day, tzinfo=dt.timezone.utc)
    except ValueError as exc:
        raise BadRequest(f"parsing time {text!r}: {exc}") from exc
    raise BadRequest(f'Could not find format for "{text}"')


def date_arith(base: Any, interval: exp.Interval, sign: int) -> str:
    """``date_add``/``date_sub`` (and ``'<date>' ± INTERVAL n UNIT``), computed client-side to RFC 3339."""
    if not isinstance(base, str):
        raise BadRequest("metrics sql: expected time value in date_add/date_sub function")
    t = parse_any_date(base)
    amount_node = interval.this
    try:
        amount = int(str(amount_node.this)) if isinstance(amount_node, exp.Literal) else None
    except ValueError:
        amount = None
    if amount is None:
        raise BadRequest("metrics sql: expected integer value in date_add/date_sub function")
    unit_node = interval.args.get("unit")
    unit = str(unit_node.name if unit_node is not None else "")
    amount *= sign
    lowered = unit.lower()
    if lowered in ("second", "minute", "hour"):
        t = t + dt.timedelta(**{lowered + "s": amount})
    elif lowered in ("day", "week"):
        t = add_date(t, 0, 0, amount * (7 if lowered == "week" else 1))
    elif lowered == "month":
        t = add_date(t, 0, amount, 0)
    elif lowered == "year":
        t = add_date(t, amount, 0, 0)
    else:
        raise BadRequest(f'invalid time unit "{unit}"')
    return format_rfc3339(t)


def format_rfc3339(t: dt.datetime) -> str:
    """Go's ``time.RFC3339`` formatting (seconds precision, ``Z`` for UTC)."""
    text = t.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
