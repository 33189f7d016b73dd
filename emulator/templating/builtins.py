"""Go's ``text/template`` builtin functions (``funcs.go``), with Go's error texts."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from emulator.templating import gofmt
from emulator.templating.errors import GoPanic
from emulator.templating.funcs import IFACE, RV, STRING, GoFunc, gofunc
from emulator.templating.runtime import call_value
from emulator.templating.values import NOVALUE, GoList, GoMap, Uint8, go_print, gotype, kind, truth

_INT_KINDS = ("int", "int64", "int32", "int16", "int8")
_UINT_KINDS = ("uint", "uint8", "uint16", "uint32", "uint64", "uintptr")


def _indirect(v: Any) -> Any:
    return NOVALUE if v is None else v


def basic_kind(v: Any) -> str:
    """Go's ``basicKind``: bool, int, uint, float, complex, string, or "" (not basic / invalid)."""
    t = type(v)
    if t is str:
        return "string"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is complex:
        return "complex"
    if isinstance(v, int) and v is not NOVALUE:
        k = kind(v)
        if k in _UINT_KINDS:
            return "uint"
        if k in _INT_KINDS:
            return "int"
    return ""


def _is_nil(v: Any) -> bool:
    if v is NOVALUE or v is None:
        return True
    if isinstance(v, (GoList, GoMap)):
        return v.nil
    return False


def _reflect_kind(v: Any) -> str:
    return "invalid" if v is NOVALUE else kind(v)


def _fmt_s(v: Any) -> str:
    return gofmt.format_value(v, "s", gofmt._Spec())


def _eq(arg1: Any, *args: Any) -> bool:
    a1 = _indirect(arg1)
    if not args:
        raise GoPanic("missing argument for comparison")
    k1 = basic_kind(a1)
    for arg in args:
        a = _indirect(arg)
        k2 = basic_kind(a)
        truth_ = False
        if k1 != k2:
            if k1 == "int" and k2 == "uint":
                truth_ = a1 >= 0 and int(a1) == int(a)
            elif k1 == "uint" and k2 == "int":
                truth_ = a >= 0 and int(a1) == int(a)
            elif a1 is not NOVALUE and a is not NOVALUE:
                raise GoPanic(f"incompatible types for comparison: {gotype(a1)} and {gotype(a)}")
        elif k1:
            truth_ = a1 == a
        else:
            if not (_reflect_kind(a1) == _reflect_kind(a) or a1 is NOVALUE or a is NOVALUE):
                raise GoPanic(f"non-comparable types {_fmt_s(a1)}: {gotype(a1)}, {gotype(a)}: {go_print(a)}")
            if _is_nil(a1) or _is_nil(a):
                truth_ = _is_nil(a) == _is_nil(a1)
            else:
                if isinstance(a, (list, tuple, Mapping)):
                    raise GoPanic(f"non-comparable type {_fmt_s(a)}: {gotype(a)}")
                truth_ = gotype(a1) == gotype(a) and a1 == a
        if truth_:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    a, b = _indirect(a), _indirect(b)
    k1, k2 = basic_kind(a), basic_kind(b)
    if not k1 or not k2:
        raise GoPanic("invalid type for comparison")
    if k1 != k2:
        if k1 == "int" and k2 == "uint":
            return a < 0 or int(a) < int(b)
        if k1 == "uint" and k2 == "int":
            return b >= 0 and int(a) < int(b)
        raise GoPanic(f"incompatible types for comparison: {gotype(a)} and {gotype(b)}")
    if k1 in ("bool", "complex"):
        raise GoPanic("invalid type for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _length(item: Any) -> int:
    if item is NOVALUE:
        raise GoPanic("reflect: call of reflect.Value.Type on zero Value")
    if item is None:
        raise GoPanic("len of nil pointer")
    if type(item) is str:
        return len(item.encode("utf-8", "surrogatepass"))
    if isinstance(item, (list, tuple, Mapping)):
        return len(item)
    raise GoPanic(f"len of type {gotype(item)}")


def _index_arg(index: Any, cap: int) -> int:
    k = basic_kind(index)
    if k in ("int", "uint"):
        x = int(index)
    elif index is NOVALUE or index is None:
        raise GoPanic("cannot index slice/array with nil")
    else:
        raise GoPanic(f"cannot index slice/array with type {gotype(index)}")
    if x < 0 or x > cap:
        raise GoPanic(f"index out of range: {x}")
    return x


def _index(item: Any, *indexes: Any) -> Any:
    item = _indirect(item)
    if item is NOVALUE:
        raise GoPanic("index of untyped nil")
    for index in indexes:
        index = _indirect(index)
        if item is None:
            raise GoPanic("index of nil pointer")
        if type(item) is str:
            data = item.encode("utf-8", "surrogatepass")
            x = _index_arg(index, len(data))
            if x == len(data):
                raise GoPanic("reflect: string index out of range")
            item = Uint8(data[x])
        elif isinstance(item, (list, tuple)):
            x = _index_arg(index, len(item))
            if x == len(item):
                raise GoPanic("reflect: slice index out of range")
            item = item[x]
        elif isinstance(item, Mapping):
            if index is NOVALUE:
                raise GoPanic("value is nil; should be of type string")
            if type(index) is not str:
                raise GoPanic(f"value has type {gotype(index)}; should be string")
            if index in item:
                item = item[index]
            else:
                item = "" if isinstance(item, GoMap) and item.elem == "string" else None
        else:
            raise GoPanic(f"can't index item of type {gotype(item)}")
    return item


def eval_args(args: tuple[Any, ...]) -> str:
    """Go's ``evalArgs``: fmt.Sprint of the arguments (a lone string as is)."""
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return gofmt.sprint(args)


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\x00": "\ufffd"}


def html_escape(s: str) -> str:
    """Go's ``HTMLEscapeString``."""
    if not any(c in s for c in "'\"&<>\x00"):
        return s
    return "".join(_HTML.get(c, c) for c in s)


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js_escape(s: str) -> str:
    """Go's ``JSEscapeString``."""
    from emulator.templating.lexer import is_print

    out = []
    for c in s:
        o = ord(c)
        if c in _JS:
            out.append(_JS[c])
        elif o < 0x20:
            out.append(f"\\u00{o:02X}")
        elif o < 0x80 or is_print(c):
            out.append(c)
        else:
            out.append(f"\\u{o:04X}")
    return "".join(out)


def query_escape(s: str) -> str:
    """Go's ``url.QueryEscape``."""
    return urllib.parse.quote_plus(s, safe="-_.~")


def _not_reached(*_: Any) -> Any:  # pragma: no cover - and/or are compiled inline
    raise AssertionError("and/or are evaluated by the compiler")


BUILTINS: dict[str, GoFunc] = {
    "and": GoFunc(_not_reached, (RV,), RV, iface_result=True, special="and"),
    "or": GoFunc(_not_reached, (RV,), RV, iface_result=True, special="or"),
    "call": GoFunc(call_value, (RV,), RV, iface_result=True, special="call"),
    "html": gofunc(variadic=IFACE)(lambda *a: html_escape(eval_args(a))),
    "index": gofunc(RV, variadic=RV, iface_result=True)(_index),
    "js": gofunc(variadic=IFACE)(lambda *a: js_escape(eval_args(a))),
    "len": gofunc(RV)(_length),
    "not": gofunc(RV)(lambda a: not truth(a)),
    "print": gofunc(variadic=IFACE)(lambda *a: gofmt.sprint(a)),
    "printf": gofunc(STRING, variadic=IFACE)(lambda fmt, *a: gofmt.sprintf(fmt, a)),
    "println": gofunc(variadic=IFACE)(lambda *a: gofmt.sprintln(a)),
    "urlquery": gofunc(variadic=IFACE)(lambda *a: query_escape(eval_args(a))),
    "eq": gofunc(RV, variadic=RV)(_eq),
    "ne": gofunc(RV, RV)(lambda a, b: not _eq(a, b)),
    "lt": gofunc(RV, RV)(_lt),
    "le": gofunc(RV, RV)(_le),
    "gt": gofunc(RV, RV)(lambda a, b: not _le(a, b)),
    "ge": gofunc(RV, RV)(lambda a, b: not _lt(a, b)),
}
