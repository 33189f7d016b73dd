"""Building the SELECT tree for a metrics query (port of Rill's ``metricsview/ast.go``, DuckDB subset)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from emulator.errors import BadRequest
from emulator.metrics.dialect import Dialect
from emulator.metrics.exprsql import ExpressionWriter
from emulator.metrics.gostr import go_quote
from emulator.metrics.measure_expression import MeasureExpressionError, parse_measure_expression
from emulator.metrics.nodes import FieldNode, Frag, SelectNode, SQLWriter, wrap_select
from emulator.metrics.query import GRAINS, Expression, MetricsQuery, QueryDimension, QueryMeasure, Subquery
from emulator.metrics.timerange import TimeRangeResolver
from emulator.metrics.view import DimensionSelector, MeasureWindow, RillMeasure
from emulator.project.resources import Measure, MetricsViewSpec

if TYPE_CHECKING:
    from emulator.metrics.builder import Restrictions

FORBIDDEN = "action not allowed"

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class DimSpec:
    """A dimension as the builder sees it (a view dimension or a computed one)."""

    name: str
    display_name: str = ""
    column: str | None = None
    expression: str | None = None
    unnest: bool = False


@dataclass(frozen=True)
class MeasureSpec:
    """A measure as the builder sees it (a view measure or a computed one)."""

    name: str
    expression: str
    display_name: str = ""
    type: str = "simple"
    referenced: tuple[str, ...] = ()
    required: tuple[DimensionSelector, ...] = ()
    per: tuple[DimensionSelector, ...] = ()
    window: MeasureWindow | None = None
    treat_nulls_as: str = ""


class AST:
    """The tree for one query; ``root`` is rendered by :meth:`sql`."""

    def __init__(self, view: MetricsViewSpec, security: Restrictions, query: MetricsQuery, dialect: Dialect):
        self.view = view
        self.security = security
        self.query = query
        self.dialect = dialect
        self._next_id = 0
        if not query.dimensions and not query.measures and not query.rows:
            raise BadRequest("must specify at least one dimension or measure")
        self.unnests: list[str] = []
        self.dim_fields: list[FieldNode] = []
        for qd in query.dimensions:
            self.dim_fields.append(self._dimension_field(qd))
        if query.rows:
            self.dim_fields.append(FieldNode("*", "", "*"))
        self.table = dialect.escape_table(view.table)
        self.underlying_where = self._underlying_where(query.where)
        self.root = self._base_select(self.generate_identifier())
        for qm in query.measures:
            m = _wrap(f"invalid measure {go_quote(qm.name)}", self.resolve_measure, qm, True)
            _wrap(f"can't query measure {go_quote(qm.name)}", self.add_measure_field, self.root, m)
        if query.having is not None:
            wrap_select(dialect, self.root, self.generate_identifier())
            sql, args = _wrap(
                "failed to compile 'having'", self.expression_sql, query.having, self.root, True, True
            )
            self.root.where = Frag(sql, args)
        for s in query.sort:
            if not self.root.has_name(s.name):
                raise BadRequest(f"can't sort by {go_quote(s.name)}: name not present in context")
            self.root.order_by.append((s.name, s.desc))
        self.root.limit = query.limit
        self.root.offset = query.offset

    # -- output -------------------------------------------------------------------------------------

    def sql(self) -> tuple[str, list[Any]]:
        """The SQL text and its parameters."""
        writer = SQLWriter(self.dialect)
        if self.query.use_display_names:
            writer.write_with_display_names(self.root)
        else:
            writer.write_select(self.root)
        return writer.sql(), writer.args

    def generate_identifier(self) -> str:
        """A fresh table alias: t0, t1, ..."""
        ident = f"t{self._next_id}"
        self._next_id += 1
        return ident

    # -- lookups ------------------------------------------------------------------------------------

    def can_access(self, name: str) -> bool:
        """Whether security lets the caller see the field."""
        return name.lower() not in self.security.hidden_fields

    def lookup_dimension(self, name: str, visible: bool) -> DimSpec:
        """A view dimension by exact name; the time dimension is never restricted."""
        if name == "":
            raise BadRequest("received empty dimension name")
        if name == (self.view.timeseries or None):
            for d in self.view.dimensions:
                if d.name == name:
                    return DimSpec(d.name, d.display_name, d.column, d.expression, d.unnest)
            return DimSpec(name, column=name)
        if visible and not self.can_access(name):
            raise BadRequest(FORBIDDEN)
        for d in self.view.dimensions:
            if d.name == name:
                return DimSpec(d.name, d.display_name, d.column, d.expression, d.unnest)
        raise BadRequest(f"dimension {go_quote(name)} not found")

    def lookup_measure(self, name: str, visible: bool) -> MeasureSpec:
        """A view measure by exact name."""
        if visible and not self.can_access(name):
            raise BadRequest(FORBIDDEN)
        for m in self.view.measures:
            if m.name == name:
                return self._measure_spec(m)
        raise BadRequest(f"measure {go_quote(name)} not found")

    def _measure_spec(self, m: Measure) -> MeasureSpec:
        if isinstance(m, RillMeasure):
            required, referenced = m.required_dimensions, m.referenced_measures
            per, window = m.per_dimensions, m.window
        else:
            dims = {d.name.lower() for d in self.view.dimensions} | {(self.view.timeseries or "").lower()}
            required = tuple(DimensionSelector(r) for r in m.requires if r.lower() in dims)
            referenced = tuple(r for r in m.requires if r.lower() not in dims)
            per, window = (), None
        return MeasureSpec(
            m.name, m.expression, m.display_name, m.type or "simple", referenced, required, per, window,
            m.treat_nulls_as,
        )  # fmt: skip

    def dimension_expression(self, dim: DimSpec) -> str:
        """Rill's ``MetricsViewDimensionExpression``."""
        if dim.expression:
            return dim.expression
        return self.dialect.escape_identifier(dim.column or dim.name)

    def _check_computed_name(self, name: str) -> None:
        if name == "":
            raise BadRequest("name for computed field is empty")
        if name == (self.view.timeseries or None):
            raise BadRequest("name for computed field collides with the time dimension name")
        if any(d.name == name for d in self.view.dimensions):
            raise BadRequest("name for computed field collides with an existing dimension name")
        if any(m.name == name for m in self.view.measures):
            raise BadRequest("name for computed field collides with an existing measure name")

    # -- dimensions ---------------------------------------------------------------------------------

    def _dimension_field(self, qd: QueryDimension) -> FieldNode:
        dim = _wrap(f"invalid dimension {go_quote(qd.name)}", self.resolve_dimension, qd, True)
        f = FieldNode(dim.name, dim.display_name, self.dimension_expression(dim), unnest=dim.unnest)
        if dim.unnest:
            alias = self.generate_identifier()
            self.unnests.append(self.dialect.lateral_unnest(f.expr, alias, f.name))
            f.expr = self.dialect.escape_member(alias, f.name)
        return f

    def resolve_dimension(self, qd: QueryDimension, visible: bool) -> DimSpec:
        """A query dimension: a view dimension, or a time floor of one."""
        if qd.compute is None:
            return self.lookup_dimension(qd.name, visible)
        tf = qd.compute.time_floor
        if tf is None:
            raise BadRequest('unsupported "compute"')
        if tf.grain not in GRAINS and tf.grain != "":
            raise BadRequest('invalid "grain"')
        if tf.grain == "":
            raise BadRequest('"grain" must be specified for time floor')
        dim = self.lookup_dimension(tf.dimension, visible)
        if qd.name != tf.dimension:
            self._check_computed_name(qd.name)
        base = f"({dim.expression})" if dim.expression else self.dialect.escape_identifier(dim.column or "")
        tz = self.query.time_zone
        if tz and tz not in ("UTC", "Etc/UTC", "Local"):
            _check_time_zone(tz)
        expr = self.dialect.date_trunc(
            base, tf.grain, tz, self.view.first_day_of_week, self.view.first_month_of_year
        )
        display = f"{dim.display_name or qd.name} ({tf.grain})"
        return DimSpec(qd.name, display, expression=expr, unnest=dim.unnest)

    # -- measures -----------------------------------------------------------------------------------

    def resolve_measure(self, qm: QueryMeasure, visible: bool) -> MeasureSpec:
        """A query measure: a view measure, or a computed one."""
        c = qm.compute
        if c is None:
            return self.lookup_measure(qm.name, visible)
        if c.operations() == 0:
            raise BadRequest('invalid "compute": must specify a compute operation')
        if c.operations() > 1:
            raise BadRequest('invalid "compute": must specify only one compute operation')
        self._check_computed_name(qm.name)
        if c.count:
            return MeasureSpec(qm.name, "COUNT(*)", "Count")
        if c.count_distinct is not None:
            dim = self.lookup_dimension(c.count_distinct, visible)
            expr = dim.expression or self.dialect.escape_identifier(dim.column or "")
            return MeasureSpec(qm.name, f"COUNT(DISTINCT {expr})", f"Unique {dim.display_name}")
        if c.expression is not None:
            try:
                parsed = parse_measure_expression(c.expression)
            except MeasureExpressionError as exc:
                raise BadRequest(f'invalid "compute": {exc}') from exc
            for ref in parsed.refs:
                self.lookup_measure(ref, visible)
            expr = parsed.render(self.dialect.escape_identifier, self.dialect.safe_divide)
            return MeasureSpec(qm.name, expr, c.expression_display_name, "derived", tuple(parsed.refs))
        raise BadRequest(f'"compute.{c.unsupported[0]}" is not supported by rill-emu')

    def add_measure_field(self, n: SelectNode, m: MeasureSpec) -> None:
        """Add a measure to ``n``, reshaping the tree as its type requires."""
        if n.has_measure(m.name):
            return
        self._check_required_dimensions(m)
        if m.type == "derived":
            self._add_derived(n, m)
        elif m.type == "time_comparison":
            raise BadRequest("comparison time range not provided")
        else:
            self._add_simple(n, m)
        if m.treat_nulls_as:
            n.measure_fields[-1].treat_null_as = m.treat_nulls_as

    def _add_simple(self, n: SelectNode, m: MeasureSpec) -> None:
        if n.from_table is not None:
            n.measure_fields.append(FieldNode(m.name, m.display_name, self._measure_sql(m, n)))
            return
        assert n.from_select is not None
        if not n.from_select.has_measure(m.name):
            self._add_simple(n.from_select, m)
        expr = self.dialect.escape_member(n.from_select.alias, m.name)
        n.measure_fields.append(
            FieldNode(m.name, m.display_name, self.dialect.any_value(expr) if n.group else expr)
        )

    def _add_derived(self, n: SelectNode, m: MeasureSpec) -> None:
        if m.per:
            raise BadRequest('support for "per" not implemented')
        if m.referenced:
            # Bring the referenced measures into scope in exactly one sub-select.
            if n.from_table is not None:
                wrap_select(self.dialect, n, self.generate_identifier())
            assert n.from_select is not None
            for ref in m.referenced:
                self.add_measure_field(n.from_select, self.lookup_measure(ref, False))
        expr = self._measure_sql(m, n)
        n.measure_fields.append(
            FieldNode(m.name, m.display_name, self.dialect.any_value(expr) if n.group else expr)
        )

    def _check_required_dimensions(self, m: MeasureSpec) -> None:
        for rd in m.required:
            found = False
            for qd in self.query.dimensions:
                tf = qd.compute.time_floor if qd.compute is not None else None
                if qd.compute is not None:
                    if tf is not None and rd.name == tf.dimension and (not rd.grain or rd.grain == tf.grain):
                        found = True
                        break
                    continue
                if not rd.grain and rd.name == qd.name:
                    found = True
                    break
            if not found:
                if rd.grain:
                    raise BadRequest(
                        f"missing required dimension {go_quote(rd.name)} at {go_quote(rd.grain)} granularity"
                    )
                raise BadRequest(f"missing required dimension {go_quote(rd.name)}")

    def _measure_sql(self, m: MeasureSpec, n: SelectNode) -> str:
        if m.window is None:
            return m.expression
        if not m.window.partition:
            return f"{m.expression} OVER ()"
        order: list[tuple[FieldNode, bool]] = []
        for sel in m.window.order:
            f = self._field_for_dimension(n, sel)
            if f is None:
                raise BadRequest(
                    f"dimension {go_quote(sel.name)} required by window measure {go_quote(m.name)} "
                    "not found in query"
                )
            order.append((f, sel.desc))
        ordered = {f.name for f, _ in order}
        partition = [f.expr for f in n.dim_fields if f.name not in ordered]
        parts = []
        if partition:
            parts.append("PARTITION BY " + ", ".join(partition))
        if order:
            parts.append("ORDER BY " + ", ".join(f.expr + (" DESC" if desc else "") for f, desc in order))
        over = " ".join(parts) + (" " + m.window.frame if m.window.frame else "")
        return f"{m.expression} OVER ({over})"

    def _field_for_dimension(self, n: SelectNode, sel: DimensionSelector) -> FieldNode | None:
        for f in n.dim_fields:
            if f.name == sel.name:
                return f
            qd = next((d for d in self.query.dimensions if d.name == f.name), None)
            tf = qd.compute.time_floor if qd is not None and qd.compute is not None else None
            if tf is not None and sel.name == tf.dimension and (not sel.grain or sel.grain == tf.grain):
                return f
        return None

    # -- where / time range -------------------------------------------------------------------------

    def expression_sql(
        self, e: Expression | None, node: SelectNode | None, pseudo_having: bool, visible: bool
    ) -> tuple[str, list[Any]]:
        """SQL for a filter expression in the context of ``node`` (None: the underlying table)."""
        writer = ExpressionWriter(self, node, pseudo_having, visible)
        writer.write(e)
        return writer.sql(), writer.args

    def subquery_sql(self, sub: Subquery, visible: bool) -> tuple[str, list[Any]]:
        """SQL of an IN-subquery: the same view, the outer time range, its own where/having."""
        from emulator.metrics.builder import Restrictions

        outer = self.query
        inner = MetricsQuery(
            metrics_view=outer.metrics_view,
            dimensions=(sub.dimension,),
            measures=sub.measures,
            time_range=outer.time_range,
            comparison_time_range=outer.comparison_time_range,
            where=sub.where,
            having=sub.having,
            time_zone=outer.time_zone,
        )
        security = self.security if visible else Restrictions()
        inner_ast = _wrap("failed to create AST for subquery", AST, self.view, security, inner, self.dialect)
        return inner_ast.sql()

    def _underlying_where(self, where: Expression | None) -> Frag | None:
        sql, args = _wrap("failed to compile 'where'", self.expression_sql, where, None, False, True)
        res = Frag.and_(None, sql, args)
        if self.security.row_filter:
            res = Frag.and_(res, self.security.row_filter, [])
        return res

    def _base_select(self, alias: str) -> SelectNode:
        n = SelectNode(
            alias=alias,
            dim_fields=list(self.dim_fields),
            from_table=self.table,
            unnests=list(self.unnests),
            group=not self.query.rows,
            where=self.underlying_where,
        )
        tr = self.query.time_range
        if tr is None or tr.is_zero() or (not self.view.timeseries and not tr.time_dimension):
            return n
        time_dim = tr.time_dimension or self.view.timeseries or ""
        try:
            dim = self.lookup_dimension(time_dim, True)
        except BadRequest as exc:
            raise BadRequest(
                f"failed to add time range: time dimension {go_quote(time_dim)} not found: {exc.message}"
            ) from exc
        expr = self.dimension_expression(dim)
        watermark = f"SELECT max({expr}) FROM {self.table}"
        if self.security.row_filter:
            watermark += f" WHERE {self.security.row_filter}"
        resolver = TimeRangeResolver(
            self.dialect,
            f"({watermark})",
            self.query.time_zone,
            self.view.first_day_of_week,
            self.view.first_month_of_year,
        )
        start, end = resolver.resolve(tr)
        clauses: list[str] = []
        args: list[Any] = []
        for bound, op in ((start, ">="), (end, "<")):
            if bound is not None:
                clauses.append(f"{expr} {op} {bound.sql}")
                args.extend(bound.args)
        if clauses:
            n.time_where = Frag(" AND ".join(clauses), args)
        return n


def _check_time_zone(tz: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except (ValueError, KeyError) as exc:
        raise BadRequest(
            f"failed to compute time floor: invalid time zone {go_quote(tz)}: unknown time zone {tz}"
        ) from exc


def _wrap(prefix: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Call ``fn``; prefix any BadRequest it raises (Go's ``fmt.Errorf("...: %w", err)``)."""
    try:
        return fn(*args, **kwargs)
    except BadRequest as exc:
        raise BadRequest(f"{prefix}: {exc.message}") from exc
