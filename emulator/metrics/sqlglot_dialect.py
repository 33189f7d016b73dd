"""The sqlglot dialect used to read metrics SQL and adhoc measure expressions.

Rill parses with TiDB's MySQL parser in ANSI mode: ``"x"`` is an identifier and ``'x'`` a string.
sqlglot's Postgres dialect quotes the same way; here every function call is kept as an
``Anonymous`` node with its name as written (``date_trunc``, ``now``, ``round``...), so the compiler sees
exactly what the user wrote and can report Rill's messages.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError

from emulator.errors import BadRequest

# Functions TiDB parses as aggregates (ast.AggregateFuncExpr) rather than plain function calls.
AGGREGATES = frozenset(
    [
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "group_concat",
        "bit_and",
        "bit_or",
        "bit_xor",
        "std",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "var_pop",
        "var_samp",
        "variance",
        "json_arrayagg",
        "json_objectagg",
        "approx_count_distinct",
        "approx_percentile",
        "first_row",
    ]
)


class _Parser(Postgres.Parser):  # type: ignore[misc,valid-type]
    FUNCTIONS: dict[str, Any] = {}
    FUNCTION_PARSERS = {
        k: v for k, v in Postgres.Parser.FUNCTION_PARSERS.items() if k in ("CAST", "TRY_CAST", "EXTRACT")
    }


class MetricsSQLDialect(Postgres):
    """Postgres quoting, no function normalisation."""

    Parser = _Parser


def parse_statements(sql: str) -> list[exp.Expr]:
    """Parse SQL into statements (empty statements dropped); syntax errors become BadRequest."""
    try:
        parsed = sqlglot.parse(sql, dialect=MetricsSQLDialect)
    except ParseError as exc:
        raise BadRequest(syntax_error_message(sql, exc)) from exc
    except TokenError:  # an unterminated string or quoted name
        raise BadRequest(_token_error_message(sql)) from None
    return [p for p in parsed if p is not None]


def _token_error_message(sql: str) -> str:
    """The syntax error for text that does not tokenize, pointing at the quote left open."""
    quote, start, i = "", len(sql), 0
    while i < len(sql):
        c = sql[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"`":
            quote, start = c, i
        i += 1
    offset = start if quote else len(sql)
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return f'line {line} column {col} near "{sql[offset:]}" '


def syntax_error_message(sql: str, exc: ParseError) -> str:
    """A TiDB-shaped syntax error: ``line L column C near "<rest of input>"``."""
    errors = exc.errors or [{}]
    line = int(errors[0].get("line") or 1)
    col = int(errors[0].get("col") or 0)
    lines = sql.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)
    highlight = errors[0].get("highlight") or ""
    if highlight:
        found = sql.rfind(highlight, 0, offset + len(highlight))
        if found >= 0:
            offset = found
    return f'line {line} column {col} near "{sql[offset:]}" '


def function_name(node: exp.Expr) -> str:
    """The name of a function call as written."""
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    return str(node.sql_name()) if isinstance(node, exp.Func) else node.key


def function_args(node: exp.Expr) -> list[exp.Expr]:
    """Arguments of a function call, in order."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    out: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if isinstance(value, list):
            out.extend(value)
        elif isinstance(value, exp.Expr):
            out.append(value)
    return out


def is_aggregate(node: exp.Expr) -> bool:
    """Whether TiDB would treat this call as an aggregate function."""
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and str(node.name).lower() in AGGREGATES


def restore(node: exp.Expr) -> str:
    """Approximates TiDB's ``Restore``: upper-case keywords and functions, ``"names"``, ``'strings'``."""
    if isinstance(node, exp.Anonymous):
        args = ", ".join(restore(a) for a in node.expressions)
        return f"{str(node.name).upper()}({args})"
    if isinstance(node, exp.Column):
        parts = [p for p in (node.args.get("db"), node.args.get("table"), node.this) if p is not None]
        return ".".join('"' + str(p.name).replace('"', '""') + '"' for p in parts)
    if isinstance(node, exp.Literal) and node.is_string:
        return "'" + str(node.this).replace("'", "''") + "'"
    return str(node.sql(dialect=MetricsSQLDialect))
