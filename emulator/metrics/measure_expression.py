"""Adhoc measure expressions (``compute.expression``): arithmetic over measure names.

Port of Rill's ``metricsview/measure_expression.go``: the expression is parsed, checked against an
allowlist and re-rendered (never echoed), so user input cannot inject SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from emulator.metrics.sqlglot_dialect import (
    function_args,
    function_name,
    is_aggregate,
    parse_statements,
    restore,
)

MAX_LENGTH = 1024
MAX_DEPTH = 32

# Scalar functions allowed, with (min, max) arity; max -1 is unbounded.
FUNCTIONS = {
    "abs": (1, 1), "round": (1, 2), "floor": (1, 1), "ceil": (1, 1), "sqrt": (1, 1), "ln": (1, 1),
    "exp": (1, 1), "power": (2, 2), "coalesce": (2, -1), "nullif": (2, 2), "greatest": (2, -1),
    "least": (2, -1),
}  # fmt: skip

_BINARY: dict[type[exp.Expr], str] = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}


class MeasureExpressionError(ValueError):
    """The expression is not a valid adhoc measure expression."""


@dataclass
class MeasureExpression:
    """A validated expression tree; :attr:`refs` are the referenced measure names in order."""

    root: exp.Expr
    refs: list[str] = field(default_factory=list)

    def render(self, escape_ref: Callable[[str], str], safe_divide: Callable[[str, str], str]) -> str:
        """SQL for the expression, re-parenthesising every compound node."""
        return _render(self.root, escape_ref, safe_divide)


def parse_measure_expression(text: str) -> MeasureExpression:
    """Parse and validate an adhoc measure expression; raises :class:`MeasureExpressionError`."""
    if text.strip() == "":
        raise MeasureExpressionError("expression is empty")
    if len(text) > MAX_LENGTH:
        raise MeasureExpressionError(f"expression exceeds the maximum length of {MAX_LENGTH} characters")
    _check_comments(text)
    try:
        statements = parse_statements("SELECT " + text)
    except Exception as exc:  # BadRequest with the parser's message
        raise MeasureExpressionError(f"invalid expression: {exc}") from exc
    if len(statements) != 1:
        raise MeasureExpressionError("expected a single expression")
    sel = statements[0]
    if not isinstance(sel, exp.Select):
        raise MeasureExpressionError("expected a scalar expression")
    clauses = (
        "from_",
        "from",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "with_",
        "with",
        "windows",
        "distinct",
    )
    if any(sel.args.get(c) for c in clauses):
        raise MeasureExpressionError("expected a scalar expression without SQL clauses")
    if len(sel.expressions) != 1:
        raise MeasureExpressionError("expected exactly one expression")
    node = sel.expressions[0]
    if isinstance(node, exp.Star):
        raise MeasureExpressionError("expected an expression, not a wildcard")
    if isinstance(node, exp.Alias):
        raise MeasureExpressionError("an alias is not allowed in the expression")
    me = MeasureExpression(node)
    _validate(node, 0, me.refs)
    if not me.refs:
        raise MeasureExpressionError("expression must reference at least one measure")
    return me


def _check_comments(text: str) -> None:
    in_quote = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quote = not in_quote
        elif in_quote:
            continue
        elif ch == "#":
            raise MeasureExpressionError('comments are not allowed in the expression (found "#")')
        elif ch == "-" and text[i + 1 : i + 2] == "-":
            raise MeasureExpressionError(
                'comments are not allowed in the expression (found "--"); use parentheses for double '
                'negation, e.g. "a - (-b)"'
            )


def _validate(node: exp.Expr, depth: int, refs: list[str]) -> None:
    if depth > MAX_DEPTH:
        raise MeasureExpressionError("expression is too deeply nested")
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db"):
            raise MeasureExpressionError(
                f'qualified references are not allowed (found "{restore(node)}"); '
                "reference measures by name only"
            )
        if node.name not in refs:
            refs.append(node.name)
    elif isinstance(node, exp.Literal):
        if node.is_string:
            raise MeasureExpressionError("string literals are not allowed in the expression")
        try:
            float(node.this)
        except ValueError as exc:
            raise MeasureExpressionError(f'invalid numeric literal "{node.this}"') from exc
    elif isinstance(node, exp.Null):
        pass
    elif isinstance(node, exp.Neg):
        _validate(node.this, depth + 1, refs)
    elif type(node) in _BINARY:
        _validate(node.this, depth + 1, refs)
        _validate(node.expression, depth + 1, refs)
    elif isinstance(node, exp.Paren):
        _validate(node.this, depth + 1, refs)
    elif is_aggregate(node):
        raise MeasureExpressionError(
            f'aggregate function "{function_name(node).lower()}" is not allowed; '
            "expressions combine measures that are already aggregated"
        )
    elif isinstance(node, exp.Case):
        raise MeasureExpressionError("CASE expressions are not allowed")
    elif isinstance(node, exp.Func):
        name = function_name(node)
        arity = FUNCTIONS.get(name.lower())
        if arity is None:
            raise MeasureExpressionError(f'unsupported function "{name}"')
        args = function_args(node)
        if len(args) < arity[0] or (arity[1] >= 0 and len(args) > arity[1]):
            raise MeasureExpressionError(f'function "{name}" does not accept {len(args)} argument(s)')
        for arg in args:
            _validate(arg, depth + 1, refs)
    elif isinstance(node, (exp.Subquery, exp.Select)):
        raise MeasureExpressionError("subqueries are not allowed in the expression")
    elif isinstance(node, exp.Binary):
        raise MeasureExpressionError(f'unsupported operator "{node.key}" (only + - * / % are allowed)')
    else:
        raise MeasureExpressionError(f'unsupported expression "{restore(node)}"')


def _render(node: exp.Expr, ref: Callable[[str], str], divide: Callable[[str, str], str]) -> str:
    if isinstance(node, exp.Column):
        return ref(node.name)
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Neg):
        return f"(-{_render(node.this, ref, divide)})"
    if isinstance(node, exp.Paren):
        return _render(node.this, ref, divide)
    op = _BINARY.get(type(node))
    if op is not None:
        left, right = _render(node.this, ref, divide), _render(node.expression, ref, divide)
        return divide(left, right) if op == "/" else f"({left} {op} {right})"
    args = ", ".join(_render(a, ref, divide) for a in function_args(node))
    return f"{function_name(node).lower()}({args})"
