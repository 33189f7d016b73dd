"""SQL for filter expressions (``where``/``having``), as Rill's ``astexpr.go`` writes it.

Every output is parenthesised; literals are bound parameters; ``= NULL`` becomes ``IS NULL``;
``NOT IN``/``NOT ILIKE`` keep NULL rows; an empty ``IN`` list is ``FALSE``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.errors import BadRequest
from emulator.metrics.gostr import go_quote
from emulator.metrics.query import OPERATORS, Condition, Expression, Subquery

if TYPE_CHECKING:
    from emulator.metrics.nodes import SelectNode
    from emulator.metrics.plan import AST

_JOINERS = {"eq": " = ", "neq": " != ", "lt": " < ", "lte": " <= ", "gt": " > ", "gte": " >= "}
_NEGATED = {"neq": "eq", "nin": "in", "nilike": "ilike"}


def _has_nil_value(e: Expression) -> bool:
    return not e.name and e.value is None and e.cond is None and e.subquery is None


class ExpressionWriter:
    """Writes one expression against the underlying table (``node`` None) or a wrapper SELECT."""

    def __init__(self, ast: AST, node: SelectNode | None, pseudo_having: bool, visible: bool) -> None:
        self.ast = ast
        self.node = node
        self.pseudo_having = pseudo_having
        self.visible = visible
        self.out: list[str] = []
        self.args: list[Any] = []

    def write(self, e: Expression | None) -> None:
        """Write an expression (nothing for None)."""
        if e is None:
            return
        if e.name:
            expr, unnest = self.sql_for_name(e.name)
            if unnest:
                raise BadRequest(
                    f"cannot apply expression to dimension {go_quote(e.name)} because it requires unnesting, "
                    "which is not supported for expressions of this structure"
                )
            self.out.append(f"({expr})")
        elif e.value is not None:
            self.out.append(self.ast.dialect.param)
            self.args.append(e.value)
        elif e.subquery is not None:
            self._subquery(e.subquery)
        elif e.cond is not None:
            self._condition(e.cond)
        else:
            raise BadRequest("invalid expression")

    def _subquery(self, sub: Subquery) -> None:
        sql, args = self.ast.subquery_sql(sub, self.visible)
        self.out.append(f"(SELECT {self.ast.dialect.escape_identifier(sub.dimension.name)} FROM ({sql}))")
        self.args.extend(args)

    def _condition(self, cond: Condition) -> None:
        if cond.op in ("or", "and"):
            if not cond.exprs:
                return
            self.out.append("(")
            for i, e in enumerate(cond.exprs):
                if i > 0:
                    self.out.append(f" {cond.op.upper()} ")
                self.write(e)
            self.out.append(")")
            return
        if cond.op not in OPERATORS:
            raise BadRequest(f"invalid expression operator {go_quote(cond.op)}")
        self._binary(list(cond.exprs), cond.op)

    def _binary(self, exprs: list[Expression | None], op: str) -> None:
        if op in ("in", "nin"):
            # Backwards compatibility: a single value or a flattened list of values on the right.
            if len(exprs) == 2 and exprs[1] is not None:
                rhs = exprs[1]
                if (
                    not rhs.name
                    and not isinstance(rhs.value, list)
                    and rhs.cond is None
                    and rhs.subquery is None
                ):
                    exprs[1] = Expression(value=[rhs.value])
            if len(exprs) > 2:
                exprs = [exprs[0], Expression(value=[e.value if e is not None else None for e in exprs[1:]])]
        if len(exprs) != 2:
            raise BadRequest("binary condition must have exactly 2 expressions")
        left, right = exprs
        if left is None:
            raise BadRequest("left expression is nil")
        if right is None:
            raise BadRequest("right expression is nil")
        if right.name:
            _, unnest = self.sql_for_name(right.name)
            if unnest:
                raise BadRequest(
                    f"cannot apply expression to dimension {go_quote(right.name)} because it requires "
                    "unnesting, which is only supported for the left side of an operation"
                )
        if not left.name:
            self._binary_inner(left, right, "", op)
            return
        left_expr, unnest = self.sql_for_name(left.name)
        if not unnest:
            self._binary_inner(None, right, left_expr, op)
            return
        # Filter on a list dimension that is not unnested in the query: test its elements.
        alias = self.ast.generate_identifier()
        unnest_from = self.ast.dialect.lateral_unnest(left_expr, alias, left.name)
        col = self.ast.dialect.escape_member(alias, left.name)
        negate = op in _NEGATED
        self.out.append(("NOT " if negate else "") + f"EXISTS (SELECT 1 FROM {unnest_from} WHERE ")
        self._binary_inner(None, right, col, _NEGATED.get(op, op))
        self.out.append(")")

    def _left(self, left: Expression | None, override: str) -> None:
        if override:
            self.out.append(f"({override})")
        else:
            self.write(left)

    def _binary_inner(self, left: Expression | None, right: Expression, override: str, op: str) -> None:
        if op in ("ilike", "nilike"):
            self._ilike(left, right, override, op == "nilike")
            return
        if op in ("in", "nin"):
            self._in(left, right, override, op == "nin")
            return
        if op not in _JOINERS:
            raise BadRequest(f"invalid binary condition operator {go_quote(op)}")
        self.out.append("(")
        self._left(left, override)
        if _has_nil_value(right) and op in ("eq", "neq"):
            self.out.append(" IS NULL)" if op == "eq" else " IS NOT NULL)")
            return
        self.out.append(_JOINERS[op])
        self.write(right)
        self.out.append(")")

    def _ilike(self, left: Expression | None, right: Expression, override: str, negate: bool) -> None:
        self.out.append("(")
        self._left(left, override)
        self.out.append(" NOT ILIKE " if negate else " ILIKE ")
        self.write(right)
        if negate:
            # "dim NOT ILIKE x" excludes NULLs; Rill includes them explicitly.
            self.out.append(" OR ")
            self._left(left, override)
            self.out.append(" IS NULL")
        self.out.append(")")

    def _in(self, left: Expression | None, right: Expression, override: str, negate: bool) -> None:
        if right.value is not None:
            if not isinstance(right.value, list):
                raise BadRequest("the right value must be a list of values for an IN condition")
            self._in_values(left, override, right.value, negate)
            return
        self.out.append("(")
        self._left(left, override)
        self.out.append(" NOT IN " if negate else " IN ")
        self.write(right)
        self.out.append(")")

    def _in_values(self, left: Expression | None, override: str, values: list[Any], negate: bool) -> None:
        if not values:
            self.out.append("TRUE" if negate else "FALSE")
            return
        non_null = [v for v in values if v is not None]
        has_null = len(non_null) < len(values)
        self.out.append("(")
        if non_null:
            self._left(left, override)
            self.out.append(" NOT IN " if negate else " IN ")
            self.out.append("(" + ",".join(self.ast.dialect.param for _ in non_null) + ")")
            self.args.extend(non_null)
        if has_null:
            if non_null:
                self.out.append(" AND " if negate else " OR ")
            self._left(left, override)
            self.out.append(" IS NOT NULL" if negate else " IS NULL")
        elif negate:
            # "dim NOT IN (...)" excludes NULLs; Rill includes them explicitly.
            self.out.append(" OR ")
            self._left(left, override)
            self.out.append(" IS NULL")
        self.out.append(")")

    def sql_for_name(self, name: str) -> tuple[str, bool]:
        """The SQL for a field name in this context, and whether it still needs unnesting."""
        if self.node is None:
            for f in self.ast.dim_fields:
                if f.name == name:
                    return f.expr, False
            try:
                dim = self.ast.lookup_dimension(name, self.visible)
            except BadRequest as exc:
                raise BadRequest(f"invalid dimension reference {go_quote(name)}: {exc.message}") from exc
            return self.ast.dimension_expression(dim), dim.unnest
        for f in self.node.dim_fields:
            if f.name == name:
                return f.expr, False
        if not self.pseudo_having:
            raise BadRequest(
                f"name {go_quote(name)} in expression is not a dimension available in the current context"
            )
        for f in self.node.measure_fields:
            if f.name == name:
                return f.expr, False
        raise BadRequest(
            f"name {go_quote(name)} in expression is not a dimension or measure "
            "available in the current context"
        )

    def sql(self) -> str:
        """The rendered expression."""
        return "".join(self.out)
