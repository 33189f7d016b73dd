"""How Go values are represented in Python, their Go types, and Go's ``fmt`` ``%v`` printing.

Plain Python values stand for the Go values Rill feeds its templates: ``str`` (string), ``bool``,
``int`` (int), ``float`` (float64), ``None`` (a nil interface), ``list`` ([]interface {}),
``dict`` (map[string]interface {}). Other Go types that functions return are small subclasses
(``Int64``, ``Uint8``, ``GoList``, ``GoMap``) or ``GoTime``. ``NOVALUE`` is Go's invalid
``reflect.Value``: a missing map key, printed ``<no value>`` at the top of an action.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class _NoValue:
    """Go's invalid reflect.Value (the zero Value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOVALUE"

    def __bool__(self) -> bool:
        return False


NOVALUE: Any = _NoValue()


class _NilError:
    """A nil ``error`` returned as a value (Rill's configure/dependency): prints ``<nil>``."""

    __slots__ = ()
    gotype = "<nil>"
    gokind = "invalid"

    def go_string(self) -> str:
        return "<nil>"


NIL_ERROR: Any = _NilError()


class Int64(int):
    """A Go ``int64`` (Sprig arithmetic results)."""

    __slots__ = ()
    gotype = "int64"


class Uint8(int):
    """A Go ``uint8`` (``index`` of a string)."""

    __slots__ = ()
    gotype = "uint8"


class GoList(list[Any]):
    """A typed Go slice such as ``[]string``; ``nil`` marks a nil slice (``null`` in JSON)."""

    __slots__ = ("elem", "nil")

    def __init__(self, items: Any = (), elem: str = "interface {}", nil: bool = False) -> None:
        super().__init__(items)
        self.elem = elem
        self.nil = nil


class GoMap(dict[str, Any]):
    """A typed Go map such as ``map[string]string``; ``nil`` marks a nil map (read-only)."""

    __slots__ = ("elem", "nil")

    def __init__(self, items: Any = (), elem: str = "interface {}", nil: bool = False) -> None:
        super().__init__(items)
        self.elem = elem
        self.nil = nil


def wrap_int64(v: int) -> Int64:
    """Two's-complement wrap to int64, as Go arithmetic does."""
    v = (v + (1 << 63)) % (1 << 64) - (1 << 63)
    return Int64(v)


def gotype(v: Any) -> str:
    """Go's ``%T`` of a value (``<nil>`` for a nil interface)."""
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float64"
    if t is list:
        return "[]interface {}"
    if t is dict:
        return "map[string]interface {}"
    if v is None or v is NOVALUE:
        return "<nil>"
    if t is complex:
        return "complex128"
    if isinstance(v, GoList):
        return "[]" + v.elem
    if isinstance(v, GoMap):
        return "map[string]" + v.elem
    name = getattr(v, "gotype", None)
    if isinstance(name, str):
        return name
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, int):
        return "int"
    return "interface {}"


def kind(v: Any) -> str:
    """Go's ``reflect.Kind`` name of a value (``invalid`` for nil)."""
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float64"
    if v is None or v is NOVALUE:
        return "invalid"
    if isinstance(v, (list, tuple)):
        return "slice"
    if isinstance(v, Mapping):
        return "map"
    if t is complex:
        return "complex128"
    k = getattr(v, "gokind", None)
    if isinstance(k, str):
        return k
    if isinstance(v, int):
        return gotype(v)
    return "struct"


def is_list(v: Any) -> bool:
    """Slice or array kind."""
    return isinstance(v, (list, tuple))


def is_map(v: Any) -> bool:
    """Map kind."""
    return isinstance(v, Mapping)


def truth(v: Any) -> bool:
    """Go's ``isTrue`` (template truthiness); nil and invalid are false."""
    t = type(v)
    if t is str or t is list or t is dict:
        return len(v) > 0
    if t is bool:
        return v  # type: ignore[no-any-return]
    if t is int or t is float:
        return bool(v != 0)
    if v is None or v is NOVALUE or v is NIL_ERROR:
        return False
    if isinstance(v, (int, float, complex)):
        return v != 0
    if isinstance(v, (list, tuple, Mapping, str)):
        return len(v) > 0
    return True  # structs (time.Time) are always true


def empty(v: Any) -> bool:
    """Sprig's ``empty``: nil, zero numbers, false, empty strings and collections (structs never)."""
    if getattr(v, "gokind", None) == "struct":
        return False
    return not truth(v)


# -- float formatting -----------------------------------------------------------------------------


def _shortest(f: float) -> tuple[str, int]:
    """Shortest round-trip digits of |f| and the decimal point position: |f| = 0.DIGITS * 10**dp."""
    r = repr(abs(f))
    mant, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0")
    lead = len(ip + fp) - len((ip + fp).lstrip("0"))
    dp = len(ip) + e - lead
    digits = digits.rstrip("0") or "0"
    if digits == "0":
        dp = 1
    return digits, dp


def format_float(f: float, fmt: str = "g", prec: int = -1) -> str:
    """Go's ``strconv.FormatFloat(f, fmt, prec, 64)`` for fmt in 'g', 'e', 'f' (prec -1: shortest)."""
    if prec < 0 and fmt == "g" and 1e-4 <= abs(f) < 1e6:
        r = repr(f)  # Python's shortest repr agrees with Go's %v in this range
        return r[:-2] if r.endswith(".0") else r
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if prec >= 0:
        return sign + f"{abs(f):.{prec}{fmt}}"
    digits, dp = _shortest(f)
    if fmt == "g":
        exp = dp - 1
        fmt = "e" if exp < -4 or exp >= 6 else "f"
    if fmt == "e":
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = dp - 1
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    # 'f'
    if dp <= 0:
        return f"{sign}0." + "0" * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return sign + digits[:dp] + "." + digits[dp:]


def format_json_float(f: float) -> str:
    """encoding/json's float64 text (callers reject NaN/Inf first)."""
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        s = format_float(f, "e")
        mant, _, exp = s.partition("e")
        if exp[0] == "-" and exp[1] == "0" and len(exp) == 3:
            exp = "-" + exp[2]
        return mant + "e" + exp
    return format_float(f, "f")


def format_complex(c: complex) -> str:
    """Go's ``%v`` of a complex128: ``(1+2i)``."""
    im = format_float(c.imag)
    if not im.startswith(("-", "+")):
        im = "+" + im
    return f"({format_float(c.real)}{im}i)"


# -- %v printing ----------------------------------------------------------------------------------


def go_print(v: Any) -> str:
    """Go's ``fmt`` ``%v`` of a value (nil prints ``<nil>``; use ``print_value`` for actions)."""
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if v is None:
        return "<nil>"
    if v is NOVALUE:
        return "<invalid reflect.Value>"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_print(e) for e in v) + "]"
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{go_print(k)}:{go_print(v[k])}" for k in sorted(v)) + "]"
    if t is complex:
        return format_complex(v)
    string = getattr(v, "go_string", None)
    if string is not None:
        return string()  # type: ignore[no-any-return]
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return format_float(float(v))
    return str(v)


def print_value(v: Any) -> str:
    """What ``{{ pipeline }}`` writes: ``<no value>`` for nil/missing, else ``%v``."""
    if type(v) is str:
        return v
    if v is NOVALUE or v is None:
        return "<no value>"
    return go_print(v)


def strval(v: Any) -> str:
    """Sprig's ``strval``: strings as is, errors/Stringers by their text, else ``%v``."""
    if type(v) is str:
        return v
    return go_print(v)
