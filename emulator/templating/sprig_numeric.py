"""Sprig v3 numeric functions (``numeric.go``, arithmetic in ``functions.go``) with spf13/cast rules."""

from __future__ import annotations

import decimal
import math
import random
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.funcs import FLOAT64, IFACE, INT, STRING, GoFunc, gofunc
from emulator.templating.strconv import SyntaxErr, atoi, parse_float, parse_int
from emulator.templating.values import GoList, Int64, go_print, wrap_int64

MAX_LIST = 1_000_000  # until/untilStep/seq results larger than this fail (emulator limit)
_MIN64 = -(1 << 63)


def _trim_zero_decimal(s: str) -> str:
    """cast's ``trimZeroDecimal``: "12.00" → "12", "12.50" unchanged."""
    found_zero = False
    for i in range(len(s), 0, -1):
        c = s[i - 1]
        if c == ".":
            if found_zero:
                return s[: i - 1]
        elif c == "0":
            found_zero = True
        else:
            return s
    return s


def _float_to_int(f: float) -> int:
    """Go's float64 → int64 conversion (amd64: out of range and NaN give MinInt64)."""
    if math.isnan(f) or not -(2.0**63) <= f < 2.0**63:
        return _MIN64
    return int(f)


def to_int64(v: Any) -> int:
    """cast.ToInt64 (errors become 0), the conversion behind Sprig's int, int64 and arithmetic."""
    t = type(v)
    if t is int or t is Int64:
        return int(v)
    if t is bool:
        return 1 if v else 0
    if t is float:
        return _float_to_int(v)
    if t is str:
        try:
            return parse_int(_trim_zero_decimal(v), 0)
        except SyntaxErr:
            return 0
    if isinstance(v, int) and not hasattr(v, "go_string"):
        return int(v)
    if hasattr(v, "gokind") and isinstance(v, int):
        return int(v)
    return 0


def to_float64(v: Any) -> float:
    """cast.ToFloat64 (errors become 0)."""
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is bool:
        return 1.0 if v else 0.0
    if isinstance(v, int):
        return float(v)
    if t is str:
        try:
            return parse_float(v)
        except SyntaxErr:
            return 0.0
    return 0.0


def _div(a: Any, b: Any) -> Int64:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise GoPanic("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return wrap_int64(q if (x >= 0) == (y >= 0) else -q)


def _mod(a: Any, b: Any) -> Int64:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise GoPanic("runtime error: integer divide by zero")
    r = abs(x) % abs(y)
    return wrap_int64(r if x >= 0 else -r)


def _add(*args: Any) -> Int64:
    return wrap_int64(sum(to_int64(a) for a in args))


def _mul(a: Any, *rest: Any) -> Int64:
    v = to_int64(a)
    for b in rest:
        v = wrap_int64(v * to_int64(b))
    return wrap_int64(v)


def _max(a: Any, *rest: Any) -> Int64:
    return Int64(max([to_int64(a), *(to_int64(b) for b in rest)]))


def _min(a: Any, *rest: Any) -> Int64:
    return Int64(min([to_int64(a), *(to_int64(b) for b in rest)]))


def _maxf(a: Any, *rest: Any) -> float:
    v = to_float64(a)
    for b in rest:
        bb = to_float64(b)
        v = bb if math.isnan(bb) or bb > v else v
    return v


def _minf(a: Any, *rest: Any) -> float:
    v = to_float64(a)
    for b in rest:
        bb = to_float64(b)
        v = bb if math.isnan(bb) or bb < v else v
    return v


def _dec(v: Any) -> decimal.Decimal:
    f = to_float64(v)
    if math.isnan(f) or math.isinf(f):
        raise GoPanic(f"Cannot create a Decimal from {go_print(f)}")
    return decimal.Decimal(repr(f))


_CTX = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_UP)


def _decimal_op(op: str) -> Any:
    def run(a: Any, *rest: Any) -> float:
        acc = _dec(a)
        for b in rest:
            d = _dec(b)
            if op == "+":
                acc = _CTX.add(acc, d)
            elif op == "-":
                acc = _CTX.subtract(acc, d)
            elif op == "*":
                acc = _CTX.multiply(acc, d)
            else:
                if d == 0:
                    raise GoPanic("decimal division by zero")
                acc = _CTX.divide(acc, d).quantize(decimal.Decimal(1).scaleb(-16), context=_CTX)
        return float(acc)

    return run


def until_step(start: int, stop: int, step: int) -> GoList:
    """Sprig's ``untilStep``: []int from start towards stop."""
    if (stop < start and step >= 0) or (stop >= start and step <= 0):
        return GoList(elem="int")
    count = -(-(stop - start) // step) if step > 0 else -(-(start - stop) // -step)
    if count > MAX_LIST:
        raise GoPanic(f"list of {count} elements exceeds the emulator's limit of {MAX_LIST}")
    return GoList(range(start, stop, step), elem="int")


def _until(count: int) -> GoList:
    return until_step(0, count, -1 if count < 0 else 1)


def _seq(*params: int) -> str:
    def render(values: GoList) -> str:
        return " ".join(str(x) for x in values)

    if len(params) == 1:
        end = params[0]
        inc = -1 if end < 1 else 1
        return render(until_step(1, end + inc, inc))
    if len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        return render(until_step(start, end + step, step))
    if len(params) == 3:
        start, step, end = params
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        return render(until_step(start, end + inc, step))
    return ""


def _round(a: Any, p: int, *r_opt: float) -> float:
    round_on = r_opt[0] if r_opt else 0.5
    val = to_float64(a)
    pow_ = math.pow(10, float(p))
    digit = pow_ * val
    if math.isinf(digit) or math.isnan(digit):
        return digit / pow_ if pow_ else math.nan
    frac, _ = math.modf(digit)
    rounded = math.ceil(digit) if frac >= round_on else math.floor(digit)
    return rounded / pow_


def _parse_octal(s: str) -> int:
    body = s[1:] if s[:1] in "+-" else s
    if not body or any(c not in "01234567" for c in body):
        raise SyntaxErr("invalid syntax")
    return int(s, 8)


def _atoi(a: str) -> int:
    try:
        return atoi(a)
    except SyntaxErr:
        return 0


def _rand_int(lo: int, hi: int) -> int:
    if hi - lo <= 0:
        raise GoPanic("invalid argument to Intn")
    return random.randrange(lo, hi)


NUMERIC: dict[str, GoFunc] = {
    "atoi": gofunc(STRING)(_atoi),
    "int64": gofunc(IFACE)(lambda v: Int64(to_int64(v))),
    "int": gofunc(IFACE)(to_int64),
    "float64": gofunc(IFACE)(to_float64),
    "seq": gofunc(variadic=INT)(_seq),
    "toDecimal": gofunc(IFACE)(lambda v: Int64(_octal(v))),
    "until": gofunc(INT)(_until),
    "untilStep": gofunc(INT, INT, INT)(until_step),
    "add1": gofunc(IFACE)(lambda v: wrap_int64(to_int64(v) + 1)),
    "add": gofunc(variadic=IFACE)(_add),
    "sub": gofunc(IFACE, IFACE)(lambda a, b: wrap_int64(to_int64(a) - to_int64(b))),
    "div": gofunc(IFACE, IFACE)(_div),
    "mod": gofunc(IFACE, IFACE)(_mod),
    "mul": gofunc(IFACE, variadic=IFACE)(_mul),
    "randInt": gofunc(INT, INT)(_rand_int),
    "add1f": gofunc(IFACE)(lambda v: _decimal_op("+")(v, 1)),
    "addf": gofunc(variadic=IFACE)(lambda *v: _decimal_op("+")(0.0, *v)),
    "subf": gofunc(IFACE, variadic=IFACE)(_decimal_op("-")),
    "divf": gofunc(IFACE, variadic=IFACE)(_decimal_op("/")),
    "mulf": gofunc(IFACE, variadic=IFACE)(_decimal_op("*")),
    "biggest": gofunc(IFACE, variadic=IFACE)(_max),
    "max": gofunc(IFACE, variadic=IFACE)(_max),
    "min": gofunc(IFACE, variadic=IFACE)(_min),
    "maxf": gofunc(IFACE, variadic=IFACE)(_maxf),
    "minf": gofunc(IFACE, variadic=IFACE)(_minf),
    "ceil": gofunc(IFACE)(
        lambda v: float(math.ceil(to_float64(v))) if math.isfinite(to_float64(v)) else to_float64(v)
    ),
    "floor": gofunc(IFACE)(
        lambda v: float(math.floor(to_float64(v))) if math.isfinite(to_float64(v)) else to_float64(v)
    ),
    "round": gofunc(IFACE, INT, variadic=FLOAT64)(_round),
}


def _octal(v: Any) -> int:
    try:
        return _parse_octal(go_print(v))
    except SyntaxErr:
        return 0
