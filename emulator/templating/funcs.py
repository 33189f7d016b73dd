"""Go function signatures: how each argument is checked (Go's ``evalArg``/``validateType``).

A ``GoFunc`` wraps a Python implementation with the Go parameter types of the function it emulates,
so that calling ``upper 10`` fails with ``expected string; found 10`` exactly as in Go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.templating import nodes as n
from emulator.templating.errors import ExecError
from emulator.templating.values import NOVALUE, GoList, GoMap, gotype


class GoType:
    """A Go parameter type: ``kind`` drives the checks, ``name`` appears in messages."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name

    def __repr__(self) -> str:
        return f"GoType({self.name})"


IFACE = GoType("iface", "interface {}")
RV = GoType("rv", "reflect.Value")
STRING = GoType("string", "string")
INT = GoType("int", "int")
INT64 = GoType("int64", "int64")
UINT32 = GoType("uint32", "uint32")
FLOAT64 = GoType("float64", "float64")
BOOL = GoType("bool", "bool")
MAP = GoType("map", "map[string]interface {}")
SLICE = GoType("slice", "[]interface {}")
TIME = GoType("time", "time.Time")

INTEGER_KINDS = ("int", "int64")

NIL_MAP = GoMap(nil=True)
NIL_SLICE = GoList(nil=True)


class GoFunc:
    """A template function: implementation plus Go signature.

    ``params`` are the fixed parameters, ``variadic`` the element type of a trailing ``...T``;
    ``iface_result`` says the Go result type is ``interface{}`` (a nil result is then an
    interface-typed nil); ``special`` is ``and``/``or``/``call`` for Go's special-cased builtins.
    """

    __slots__ = ("iface_result", "impl", "params", "special", "variadic")

    def __init__(
        self,
        impl: Callable[..., Any],
        params: tuple[GoType, ...] = (),
        variadic: GoType | None = None,
        *,
        iface_result: bool = False,
        special: str = "",
    ) -> None:
        self.impl = impl
        self.params = params
        self.variadic = variadic
        self.iface_result = iface_result
        self.special = special

    def __call__(self, *args: Any) -> Any:
        return self.impl(*args)

    def __repr__(self) -> str:
        return f"GoFunc({getattr(self.impl, '__name__', '?')})"


def gofunc(
    *params: GoType, variadic: GoType | None = None, iface_result: bool = False
) -> Callable[[Callable[..., Any]], GoFunc]:
    """Decorator: declare the Go signature of an implementation."""

    def wrap(fn: Callable[..., Any]) -> GoFunc:
        return GoFunc(fn, params, variadic, iface_result=iface_result)

    return wrap


def as_gofunc(fn: Callable[..., Any]) -> GoFunc:
    """Functions supplied by callers without a signature take ``...interface{}``."""
    if isinstance(fn, GoFunc):
        return fn
    return GoFunc(fn, (), IFACE, iface_result=True)


# -- validateType -----------------------------------------------------------------------------


def wrong_type(v: Any, typ: GoType) -> ExecError:
    """The error ``validateType`` raises for ``v`` against ``typ``."""
    if v is NOVALUE:
        return ExecError(f"invalid value; expected {typ.name}")
    got = "interface {}" if v is None else gotype(v)
    return ExecError(f"wrong type for value; expected {typ.name}; got {got}")


def validate(v: Any, typ: GoType) -> Any:
    """Check a runtime value against a parameter type (Go's ``validateType``)."""
    kind = typ.kind
    if kind == "iface":
        return None if v is NOVALUE else v
    if kind == "rv":
        return v
    t = type(v)
    if kind == "string":
        if t is str:
            return v
    elif kind == "int":
        if t is int:
            return v
    elif kind == "float64":
        if t is float:
            return v
    elif kind == "bool":
        if t is bool:
            return v
    elif kind == "int64":
        if gotype(v) == "int64":
            return v
    elif kind == "map":
        if t is dict:
            return v
        if v is NOVALUE:
            return NIL_MAP
        if isinstance(v, Mapping) and (not isinstance(v, GoMap) or v.elem == "interface {}"):
            return v
    elif kind == "slice":
        if t is list:
            return v
        if v is NOVALUE:
            return NIL_SLICE
        if isinstance(v, GoList) and v.elem == "interface {}":
            return v
    elif kind == "time":
        if gotype(v) == "time.Time":
            return v
    elif kind == "uint32" and gotype(v) == "uint32":
        return v
    raise wrong_type(v, typ)


# -- literal arguments (evalArg on constants) ------------------------------------------------------


def ideal_constant(node: n.NumberNode) -> Any:
    """Go's ``idealConstant``: the value of a number literal where no type is known."""
    text = node.source
    if node.is_complex:
        return node.complex128
    is_hex_int = len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")
    if node.is_float and not is_hex_int and text[0] != "'" and any(c in text for c in ".eEpP"):
        return node.float64
    if node.is_int:
        return node.int64
    if node.is_uint:
        raise ExecError(f"{text} overflows int")
    return NOVALUE


def literal(node: n.Node, typ: GoType) -> Any:
    """The argument value of a literal node for a parameter (raises Go's evalArg errors)."""
    kind = typ.kind
    if isinstance(node, n.NilNode):
        if kind == "iface":
            return None
        if kind == "rv":
            return NOVALUE
        if kind == "map":
            return NIL_MAP
        if kind == "slice":
            return NIL_SLICE
        raise ExecError(f"cannot assign nil to {typ.name}")
    if kind in ("iface", "rv"):
        if isinstance(node, n.BoolNode):
            return node.value
        if isinstance(node, n.StringNode):
            return node.value
        if isinstance(node, n.NumberNode):
            return ideal_constant(node)
        raise ExecError(f"can't handle assignment of {node.text()} to empty interface argument")
    if kind == "bool":
        if isinstance(node, n.BoolNode):
            return node.value
        raise ExecError(f"expected bool; found {node.text()}")
    if kind == "string":
        if isinstance(node, n.StringNode):
            return node.value
        raise ExecError(f"expected string; found {node.text()}")
    if kind in INTEGER_KINDS:
        if isinstance(node, n.NumberNode) and node.is_int:
            return node.int64
        raise ExecError(f"expected integer; found {node.text()}")
    if kind == "uint32":
        if isinstance(node, n.NumberNode) and node.is_uint:
            return node.uint64 & 0xFFFFFFFF
        raise ExecError(f"expected unsigned integer; found {node.text()}")
    if kind == "float64":
        if isinstance(node, n.NumberNode) and node.is_float:
            return node.float64
        raise ExecError(f"expected float; found {node.text()}")
    raise ExecError(f"can't handle {node.text()} for arg of type {typ.name}")
