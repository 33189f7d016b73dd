"""Helpers called by compiled templates: field chains, ranges, budgets, error location."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.templating import funcs as f
from emulator.templating.errors import ExecError, GoPanic, TemplateError
from emulator.templating.gotime import GoTime
from emulator.templating.values import NOVALUE, GoList, GoMap, go_print, gotype

# Bounds that keep a hostile template from hanging or exhausting memory (Go has none of these).
MAX_ITERATIONS = 1_000_000  # range iterations + template calls per render, all together
MAX_RENDER_SECONDS = 5.0  # wall clock per render, checked while looping
MAX_TEMPLATE_DEPTH = 100  # nested {{template}} calls (Go allows 100000)


class State:
    """Per-render mutable state: the iteration budget and the deadline."""

    __slots__ = ("deadline", "n")

    def __init__(self) -> None:
        self.n = MAX_ITERATIONS
        self.deadline = time.perf_counter() + MAX_RENDER_SECONDS

    def check(self, node: int) -> None:
        """Called every 256 steps: fail once the budget or the deadline is exhausted."""
        if self.n <= 0:
            message = f"more than {MAX_ITERATIONS} range iterations and template calls (emulator limit)"
            raise ExecError(message, node)
        if time.perf_counter() > self.deadline:
            raise ExecError(f"render took longer than {MAX_RENDER_SECONDS:g}s (emulator limit)", node)


def _elem_is_iface(container: Any) -> bool:
    if isinstance(container, (GoList, GoMap)):
        return container.elem == "interface {}"
    return True


def field_chain(recv: Any, names: tuple[str, ...], iface: bool) -> Any:
    """Go's ``evalFieldChain`` without arguments: ``.a.b.c`` from ``recv``.

    ``iface`` says ``recv`` is held in an interface (a map value or a slice element), which only
    changes the type named in errors, as in Go.
    """
    for name in names:
        if recv is NOVALUE:
            return NOVALUE  # missingkey=default: a missing key yields the zero Value
        if recv is None:
            raise ExecError(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(recv, Mapping):
            nxt_iface = _elem_is_iface(recv)
            recv = recv.get(name, NOVALUE) if type(recv) is dict else _map_get(recv, name)
            iface = nxt_iface
            continue
        if type(recv) is GoTime:
            method = recv.method(name)
            if method is not None:
                params, impl = method
                if params:
                    raise ExecError(f"wrong number of args for {name}: want {len(params)} got 0")
                recv = impl(recv)
                iface = False
                continue
        typ = "interface {}" if iface else gotype(recv)
        raise ExecError(f"can't evaluate field {name} in type {typ}")
    return recv


def _map_get(m: Mapping[str, Any], name: str) -> Any:
    try:
        return m[name]
    except KeyError:
        return NOVALUE


_KIND_TYPES = {"string": f.STRING, "int": f.INT, "int64": f.INT64}


def call_method(recv: Any, name: str, iface: bool, args: list[tuple[bool, Any]], final: Any) -> Any:
    """A field used with arguments (``.Format "2006"``): a method call, else Go's errors.

    ``args`` holds (is_literal_node, node_or_value) pairs; ``final`` is the piped value or NOVALUE
    with ``has_final`` false encoded as the sentinel ``_MISSING``.
    """
    if recv is NOVALUE:
        return NOVALUE
    if recv is None:
        raise ExecError(f"nil pointer evaluating interface {{}}.{name}")
    if type(recv) is GoTime:
        method = recv.method(name)
        if method is not None:
            params, impl = method
            num_in = len(args) + (final is not MISSING)
            if num_in != len(params):
                raise ExecError(f"wrong number of args for {name}: want {len(params)} got {num_in}")
            values = []
            for (is_node, item), kind in zip(args, params, strict=False):
                ptype = _KIND_TYPES[kind]
                values.append(f.literal(item, ptype) if is_node else f.validate(item, ptype))
            if final is not MISSING:
                values.append(f.validate(final, _KIND_TYPES[params[-1]]))
            try:
                return impl(recv, *values)
            except GoPanic as exc:
                raise ExecError(f"error calling {name}: {exc.message}") from None
    if isinstance(recv, Mapping):
        raise ExecError(f"{name} is not a method but has arguments")
    typ = "interface {}" if iface else gotype(recv)
    raise ExecError(f"can't evaluate field {name} in type {typ}")


class _Missing:
    __slots__ = ()


MISSING: Any = _Missing()


def range_items(v: Any, nvars: int) -> tuple[Iterable[tuple[Any, Any]], bool] | None:
    """What ``{{range}}`` iterates: (pairs of index/key and element, elements-are-interfaces).

    None means no iteration (the ``{{else}}`` branch); raises Go's errors for other kinds.
    """
    if isinstance(v, (list, tuple)):
        if not v:
            return None
        return enumerate(v), _elem_is_iface(v)
    if isinstance(v, Mapping):
        if not v:
            return None
        return [(k, v[k]) for k in sorted(v)], _elem_is_iface(v)
    if isinstance(v, int) and type(v) is not bool and not hasattr(v, "go_string"):
        if nvars > 1:
            raise ExecError(f"can't use {go_print(v)} to iterate over more than one variable")
        if v <= 0:
            return None
        cls = type(v)
        return ((NOVALUE, cls(i)) for i in range(int(v))), False
    if v is NOVALUE or v is None:
        return None
    raise ExecError(f"range can't iterate over {go_print(v)}")


def call_value(name: str, fn: Any, *args: Any) -> Any:
    """Go's ``call`` builtin: only functions are callable, and data holds none here."""
    if fn is NOVALUE or fn is None:
        raise GoPanic("call of nil")
    if isinstance(fn, f.GoFunc):
        return fn(*[None if a is NOVALUE else a for a in args])
    raise GoPanic(f"non-function {name} of type {gotype(fn)}")


def final_string(v: Any) -> str:
    """reflect.Value.String() of a piped value (names the callee of ``call``)."""
    if type(v) is str:
        return v
    if v is NOVALUE:
        return "<invalid Value>"
    return f"<{gotype(v)} Value>"


# -- errors -----------------------------------------------------------------------------------------


class NodeInfo:
    """What an execution error needs to know about a node."""

    __slots__ = ("call", "col", "context", "exec_name", "line", "location")

    def __init__(self, location: str, line: int, col: int, context: str, exec_name: str, call: str) -> None:
        self.location = location
        self.line = line
        self.col = col
        self.context = context
        self.exec_name = exec_name
        self.call = call


def _panic_text(exc: BaseException) -> str:
    if isinstance(exc, GoPanic):
        return exc.message
    if isinstance(exc, ZeroDivisionError):
        return "runtime error: integer divide by zero"
    if isinstance(exc, RecursionError):
        return "runtime error: stack overflow (emulator limit)"
    if isinstance(exc, MemoryError):
        return "runtime error: out of memory (emulator limit)"
    text = str(exc)
    return text if text else type(exc).__name__


def locate(exc: BaseException, node: int, table: list[NodeInfo], name: str) -> TemplateError:
    """Turn an exception raised while executing node ``node`` into Go's execution error."""
    if isinstance(exc, ExecError):
        if exc.node is not None:
            node = exc.node
        message = exc.message
    else:
        info = table[node] if 0 <= node < len(table) else None
        if info is not None and info.call:
            message = f"error calling {info.call}: {_panic_text(exc)}"
        else:
            message = _panic_text(exc)
    if not 0 <= node < len(table):
        return TemplateError(f"template: {name}: {message}")
    info = table[node]
    text = (
        f"template: {info.location}: executing {_quote_name(info.exec_name)} at <{info.context}>: {message}"
    )
    return TemplateError(text, line=info.line, col=info.col)


def _quote_name(name: str) -> str:
    from emulator.templating.lexer import go_quote

    return go_quote(name)
