"""Metrics SQL -> :class:`MetricsQuery` (port of Rill's ``metricssql/parser.go`` and ``filter_parser.go``).

Rill parses with TiDB's MySQL parser; here sqlglot does the parsing and the transformation reproduces
Rill's rules and messages. Rill-only time functions (``time_range_start``/``time_range_end``) are not
supported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeGuard

from sqlglot import exp

from emulator.errors import BadRequest
from emulator.metrics.gostr import go_quote
from emulator.metrics.query import (
    Condition,
    DimensionCompute,
    Expression,
    MetricsQuery,
    QueryDimension,
    QueryMeasure,
    Sort,
    Subquery,
    TimeFloor,
)
from emulator.metrics.sqlglot_dialect import function_name, is_aggregate, parse_statements, restore
from emulator.metrics.sqlvalues import date_arith, go_type, parse_value, tidb_type
from emulator.project.resources import MetricsViewSpec

__all__ = ["compile_metrics_sql"]

_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "eq", exp.NEQ: "neq", exp.LT: "lt", exp.LTE: "lte", exp.GT: "gt", exp.GTE: "gte",
    exp.And: "and", exp.Or: "or",
    # Accepted by the parser, rejected when the query is built (Rill passes TiDB's opcode name through).
    exp.Add: "plus", exp.Sub: "minus", exp.Mul: "mul", exp.Div: "div", exp.Mod: "mod", exp.IntDiv: "intdiv",
    exp.NullSafeEQ: "nulleq", exp.Xor: "xor", exp.BitwiseAnd: "bitand", exp.BitwiseOr: "bitor",
    exp.BitwiseXor: "bitxor", exp.BitwiseLeftShift: "leftshift", exp.BitwiseRightShift: "rightshift",
}  # fmt: skip


def compile_metrics_sql(sql: str, views: Mapping[str, MetricsViewSpec]) -> MetricsQuery:
    """Compile metrics SQL; ``views`` is keyed by lower-cased metrics view name.

    Errors are BadRequest with Rill's messages (most prefixed ``metrics sql: ``).
    """
    statements = parse_statements(sql)
    if len(statements) != 1:
        raise BadRequest("metrics sql: expected exactly one SQL statement")
    stmt = statements[0]
    if not isinstance(stmt, exp.Select):
        raise BadRequest("metrics sql: expected a SELECT statement")
    return _Compiler(views).compile(stmt)


class _Compiler:
    def __init__(self, views: Mapping[str, MetricsViewSpec]) -> None:
        self.views = views
        self.view: MetricsViewSpec | None = None

    def compile(self, stmt: exp.Select) -> MetricsQuery:
        view = self._from(stmt)
        dims, measures = self._select(stmt.expressions)
        where = self.filter(stmt.args["where"].this) if stmt.args.get("where") else None
        limit = offset = None
        if stmt.args.get("limit") is not None:
            limit = self._int(stmt.args["limit"].expression, "limit")
            if stmt.args.get("offset") is not None:
                offset = self._int(stmt.args["offset"].expression, "offset")
        sort = tuple(Sort(_column_name(o.this), bool(o.args.get("desc"))) for o in _order(stmt))
        having = self.filter(stmt.args["having"].this) if stmt.args.get("having") else None
        return MetricsQuery(
            metrics_view=view.name,
            dimensions=tuple(dims),
            measures=tuple(measures),
            where=where,
            having=having,
            sort=sort,
            limit=limit,
            offset=offset,
        )

    # -- FROM / SELECT ------------------------------------------------------------------------------

    def _from(self, stmt: exp.Select) -> MetricsViewSpec:
        source = stmt.args.get("from_") or stmt.args.get("from")
        if source is None:
            raise BadRequest("metrics sql: need `FROM metrics_view` clause")
        if stmt.args.get("joins"):
            raise BadRequest("metrics sql: join is not supported")
        table = source.this
        if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
            raise BadRequest("metrics sql: only FROM `metrics_view` is supported")
        name = str(table.name)
        view = self.views.get(name.lower())
        if view is None:
            raise BadRequest(f"metrics sql: metrics view `{name}` not found")
        self.view = view
        return view

    def _select(self, fields: list[exp.Expr]) -> tuple[list[QueryDimension], list[QueryMeasure]]:
        dims: list[QueryDimension] = []
        measures: list[QueryMeasure] = []
        for item in fields:
            alias = ""
            node = item
            if isinstance(item, exp.Alias):
                alias, node = str(item.alias), item.this
            if isinstance(node, exp.Column):
                # An alias on a plain field is ignored: the output keeps the field's name.
                name, kind = self._field(node)
                if kind == "dimension":
                    dims.append(QueryDimension(name))
                else:
                    measures.append(QueryMeasure(name))
            elif _is_function_call(node):
                floor = self._date_trunc(node)
                dims.append(QueryDimension(alias or restore(node), DimensionCompute(floor)))
            else:
                raise BadRequest("metrics sql: unsupported expression in select field")
        return dims, measures

    def _field(self, node: exp.Expr) -> tuple[str, str]:
        name = _column_name(node)
        assert self.view is not None
        if any(d.name == name for d in self.view.dimensions):
            return name, "dimension"
        if any(m.name == name for m in self.view.measures):
            return name, "measure"
        if self.view.timeseries == name:
            return name, "dimension"
        raise BadRequest(
            f"metrics sql: selected column `{name}` not found in dimensions/measures in metrics view"
        )

    def _date_trunc(self, node: exp.Func) -> TimeFloor:
        fn = function_name(node)
        if fn.lower() != "date_trunc":
            raise BadRequest(f"metrics sql: function `{fn.lower()}` not supported in select field")
        args = list(node.expressions)
        if len(args) != 2:
            raise BadRequest("metrics sql: expected 2 arguments in date_trunc function")
        grain = parse_value(args[0])
        if not isinstance(grain, str):
            raise BadRequest(f"metrics sql: expected string for grain, got {go_type(grain)}")
        col, kind = self._field(args[1])
        if kind != "dimension":
            raise BadRequest("metrics sql: expected dimension in date_trunc function")
        return TimeFloor(col, grain.lower())

    def _int(self, node: exp.Expr, what: str) -> int:
        value = parse_value(node)
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest(f"metrics sql: expected int for {what}, got {go_type(value)}")
        return value

    # -- filters ------------------------------------------------------------------------------------

    def filter(self, node: exp.Expr) -> Expression:
        """Rill's ``parseFilter``: a WHERE/HAVING AST to a metrics expression."""
        if isinstance(node, exp.Paren):
            return self.filter(node.this)
        if isinstance(node, exp.Column):
            return Expression(name=_column_name(node))
        if isinstance(node, (exp.Literal, exp.Null, exp.Boolean)):
            return Expression(value=parse_value(node))
        negated = False
        if isinstance(node, exp.Not) and isinstance(
            node.this, (exp.In, exp.Like, exp.ILike, exp.Is, exp.Between)
        ):
            negated, node = True, node.this
        if isinstance(node, exp.Escape):
            raise BadRequest("metrics sql: `ESCAPE` is not supported")
        if isinstance(node, exp.Is):
            return self._is(node, negated or bool(node.args.get("negate")))
        if isinstance(node, exp.In):
            return self._in(node, negated)
        if isinstance(node, (exp.Like, exp.ILike)):
            op = "nilike" if negated or node.args.get("negate") else "ilike"
            return _cond(op, self.filter(node.this), Expression(value=parse_value(node.expression)))
        if isinstance(node, exp.Between):
            # Rill ignores NOT here: "x NOT BETWEEN a AND b" filters like "x BETWEEN a AND b".
            expr = self.filter(node.this)
            low, high = self.filter(node.args["low"]), self.filter(node.args["high"])
            return _cond("and", _cond("gte", expr, low), _cond("lte", expr, high))
        if isinstance(node, exp.Sub) and isinstance(node.expression, exp.Interval):
            return Expression(value=date_arith(self.filter(node.this).value, node.expression, -1))
        if isinstance(node, exp.Add) and isinstance(node.expression, exp.Interval):
            return Expression(value=date_arith(self.filter(node.this).value, node.expression, 1))
        binary_op = _COMPARISONS.get(type(node))
        if binary_op is not None and isinstance(node, exp.Binary):
            return _cond(binary_op, self.filter(node.this), self.filter(node.expression))
        if _is_function_call(node):
            return self._function(node)
        raise BadRequest(
            f"metrics sql: unsupported type {tidb_type(node)}, expression {go_quote(restore(node))}"
        )

    def _is(self, node: exp.Is, negated: bool) -> Expression:
        target = node.expression
        if not isinstance(target, (exp.Null, exp.Boolean)):
            raise BadRequest(
                f"metrics sql: unsupported type *ast.IsTruthExpr, expression {go_quote(restore(node))}"
            )
        # Rill compares with 'TRUE' for both IS TRUE and IS FALSE (it ignores which truth value was written).
        value: Any = None if isinstance(target, exp.Null) else "TRUE"
        return _cond("neq" if negated else "eq", self.filter(node.this), Expression(value=value))

    def _in(self, node: exp.In, negated: bool) -> Expression:
        left = self.filter(node.this)
        op = "nin" if negated else "in"
        query = node.args.get("query")
        if query is not None:
            return _cond(op, left, Expression(subquery=self._subquery(query)))
        values = [parse_value(v) for v in node.expressions]
        return _cond(op, left, Expression(value=values))

    def _function(self, node: exp.Func) -> Expression:
        name = function_name(node).lower()
        args = list(node.expressions) if isinstance(node, exp.Anonymous) else []
        if name == "now":
            return Expression(value=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if name in ("date_add", "date_sub") and len(args) == 2 and isinstance(args[1], exp.Interval):
            base = self.filter(args[0]).value
            if not isinstance(base, str):
                raise BadRequest("metrics sql: expected time value in date_add/date_sub function")
            return Expression(value=date_arith(base, args[1], 1 if name == "date_add" else -1))
        if name in ("time_range_start", "time_range_end"):
            raise BadRequest(f"metrics sql: {name} is not supported by rill-emu")
        raise BadRequest(f"metrics sql: function `{name}` not supported in where clause")

    def _subquery(self, query: exp.Expr) -> Subquery:
        sel = query.this if isinstance(query, exp.Subquery) else query
        if not isinstance(sel, exp.Select):
            raise BadRequest("metrics sql: subquery with set operations is not supported")
        checks = (
            ("distinct", "subquery with DISTINCT is not supported"),
            ("order", "subquery with ORDER BY is not supported"),
            ("limit", "subquery with LIMIT is not supported"),
            ("with_", "subquery with WITH clause is not supported"),
            ("windows", "subquery with window specifications is not supported"),
        )
        for key, message in checks:
            if sel.args.get(key):
                raise BadRequest(f"metrics sql: {message}")
        source = sel.args.get("from_")
        if source is None:
            raise BadRequest("metrics sql: subquery must have a FROM clause")
        if sel.args.get("joins"):
            raise BadRequest("metrics sql: subquery with JOIN is not supported")
        if not isinstance(source.this, exp.Table) or not isinstance(source.this.this, exp.Identifier):
            raise BadRequest("metrics sql: subquery must select from a metrics view")
        assert self.view is not None
        if str(source.this.name) != self.view.name:
            raise BadRequest(
                f"metrics sql: subquery must select from the metrics view {go_quote(self.view.name)}"
            )
        if len(sel.expressions) != 1:
            raise BadRequest(
                "metrics sql: subquery must select exactly one dimension "
                "(note: you can still reference other measures in the HAVING expression)"
            )
        field = sel.expressions[0]
        if isinstance(field, exp.Alias):
            field = field.this
        if isinstance(field, exp.Star):
            raise BadRequest("metrics sql: subquery must select a specific field, not a wildcard")
        dim = _column_name(field)
        group = sel.args.get("group")
        if group is not None:
            if group.args.get("rollup") or group.args.get("cube"):
                raise BadRequest("metrics sql: subquery with ROLLUP in GROUP BY is not supported")
            if len(group.expressions) != 1:
                raise BadRequest("metrics sql: subquery must group by exactly one dimension")
            try:
                grouped = _column_name(group.expressions[0])
            except BadRequest as exc:
                raise BadRequest(
                    f"metrics sql: failed to parse GROUP BY expression in subquery: {exc.message}"
                ) from exc
            if grouped != dim:
                raise BadRequest(
                    f"metrics sql: subquery must group by the same dimension {go_quote(dim)} "
                    "as the subquery's SELECT clause"
                )
        where = self.filter(sel.args["where"].this) if sel.args.get("where") else None
        having = self.filter(sel.args["having"].this) if sel.args.get("having") else None
        measures = tuple(QueryMeasure(name) for name in sorted(_expression_fields(having)))
        return Subquery(QueryDimension(dim), measures, where, having)


def _order(stmt: exp.Select) -> list[exp.Ordered]:
    order = stmt.args.get("order")
    return list(order.expressions) if order is not None else []


def _column_name(node: exp.Expr) -> str:
    """Rill's ``parseColumnNameExpr``: a bare (unqualified) column name."""
    if not isinstance(node, exp.Column):
        raise BadRequest("metrics sql: expected column name expression")
    if node.table or node.args.get("db"):
        parts = [
            str(p.name) for p in (node.args.get("db"), node.args.get("table"), node.this) if p is not None
        ]
        raise BadRequest(
            "metrics sql: no alias or table reference is supported in column name. "
            f"Found in `{'.'.join(parts)}`"
        )
    return str(node.name)


def _cond(op: str, *exprs: Expression) -> Expression:
    return Expression(cond=Condition(op, tuple(exprs)))


def _expression_fields(e: Expression | None) -> set[str]:
    """Rill's ``AnalyzeExpressionFields``: every name referenced in an expression."""
    if e is None:
        return set()
    out = {e.name} if e.name else set()
    if e.cond is not None:
        for sub in e.cond.exprs:
            out |= _expression_fields(sub)
    if e.subquery is not None:
        out |= _expression_fields(e.subquery.where) | _expression_fields(e.subquery.having)
        out |= {m.name for m in e.subquery.measures} | {e.subquery.dimension.name}
    return out


def _is_function_call(node: exp.Expr) -> TypeGuard[exp.Func]:
    """A plain function call (TiDB's ``FuncCallExpr``): not an aggregate, CASE or CAST."""
    return (
        isinstance(node, exp.Func) and not is_aggregate(node) and not isinstance(node, (exp.Case, exp.Cast))
    )
