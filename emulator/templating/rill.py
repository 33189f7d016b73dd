"""Rill's own template functions (``runtime/parser/template.go``) as seen at resolve time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.funcs import IFACE, STRING, GoFunc, gofunc
from emulator.templating.lexer import go_quote
from emulator.templating.values import NIL_ERROR, GoList, format_float, go_print, kind

_LIST_ELEMS = ("interface {}", "string", "int", "float64", "bool")


def sql_string(s: str) -> str:
    """DuckDB string literal: single quotes, embedded quotes doubled (duckdbsql.EscapeStringValue)."""
    return "'" + s.replace("'", "''") + "'"


def _escape_sql_value(v: Any) -> str:
    if v is None:
        return "NULL"
    t = type(v)
    if t is str:
        return sql_string(v)
    if t is bool:
        return "true" if v else "false"
    if t is float:
        return format_float(v)
    if isinstance(v, int) and kind(v) in ("int", "int64", "int32", "int16", "int8", "uint", "uint8", "uint16",
                                           "uint32", "uint64"):  # fmt: skip
        return str(int(v))
    return sql_string(go_print(v))


def as_sql_list(value: Any) -> str:
    """Rill's ``as_sql_list``: ``(v1, v2, ...)`` with strings quoted, NULL for nil, ``()`` if empty."""
    if value is None:
        return "()"
    if type(value) is list or (isinstance(value, GoList) and value.elem in _LIST_ELEMS):
        values = [_escape_sql_value(v) for v in value]
    else:
        values = [_escape_sql_value(value)]
    if not values:
        return "()"
    return "(" + ", ".join(values) + ")"


_KINDS = {"", "source", "model", "metricsview", "metrics_view", "migration", "report", "alert", "theme",
          "component", "canvas", "explore", "dashboard", "api", "connector"}  # fmt: skip


def quote_identifier(name: str) -> str:
    """DuckDB identifier: double quotes, embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def _resource_name(fn: str, parts: tuple[str, ...]) -> tuple[str | None, str]:
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) != 2:
        raise GoPanic(f'invalid "{fn}" input: expected one or two args, but got {len(parts)}')
    k = parts[0].strip().lower()
    if k not in _KINDS:
        raise GoPanic(f'invalid "{fn}" input: invalid resource kind {go_quote(parts[0])}')
    if k == "source":
        k = "model"
    return (k or None), parts[1]


def rill_funcs(
    environment: str, *, resolve_ref: Callable[[str | None, str], str] | None = None
) -> dict[str, Callable[..., Any]]:
    """Rill's extra functions for ``environment`` (``dev`` or ``prod``).

    ``ref`` returns the quoted identifier of the resource (or what ``resolve_ref(kind, name)``
    returns; raise to fail the call). ``lookup`` always fails, as in API resolvers; ``configure``
    and ``dependency`` are resolve-time no-ops (they return a nil error, printed ``<nil>`` by Go).
    """

    def ref(*parts: str) -> str:
        kind_, name = _resource_name("ref", parts)
        if resolve_ref is None:
            return quote_identifier(name)
        try:
            return resolve_ref(kind_, name)
        except GoPanic:
            raise
        except Exception as exc:
            raise GoPanic(f'function "ref" failed: {exc}') from None

    def lookup(*parts: str) -> Any:
        raise GoPanic('function "lookup" is not supported in this context')

    funcs: dict[str, GoFunc] = {
        "dev": gofunc()(lambda: environment == "dev"),
        "prod": gofunc()(lambda: environment == "prod"),
        "incremental": gofunc()(lambda: False),
        "as_sql_list": gofunc(IFACE)(as_sql_list),
        "ref": gofunc(variadic=STRING)(ref),
        "lookup": gofunc(variadic=STRING)(lookup),
        "configure": gofunc(variadic=STRING)(lambda *parts: NIL_ERROR),
        "dependency": gofunc(variadic=STRING)(lambda *parts: NIL_ERROR),
    }
    return dict(funcs)
