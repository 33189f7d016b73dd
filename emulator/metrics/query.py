"""The structured metrics query (Rill's ``metricsview.Query``) and its lenient decoding from props."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.errors import BadRequest
from emulator.metrics.weak import WeakDecoder

__all__ = [
    "Condition",
    "DimensionCompute",
    "Expression",
    "MeasureCompute",
    "MetricsQuery",
    "QueryDimension",
    "QueryMeasure",
    "Sort",
    "Subquery",
    "TimeFloor",
    "TimeRange",
    "parse_query",
]

OPERATORS = frozenset({"eq", "neq", "lt", "lte", "gt", "gte", "in", "nin", "ilike", "nilike", "or", "and"})
GRAINS = ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year")
# Measure computes Rill has and the emulator does not implement (they need the full executor).
UNSUPPORTED_MEASURE_COMPUTES = (
    "comparison_value",
    "comparison_delta",
    "comparison_ratio",
    "percent_of_total",
    "uri",
    "comparison_time",
)


@dataclass(frozen=True)
class TimeFloor:
    """``compute.time_floor``: truncate ``dimension`` to ``grain``."""

    dimension: str
    grain: str


@dataclass(frozen=True)
class DimensionCompute:
    """``compute`` of a query dimension (only ``time_floor`` exists)."""

    time_floor: TimeFloor | None = None


@dataclass(frozen=True)
class QueryDimension:
    """A dimension to group by; ``compute`` makes it a computed (time-floored) dimension."""

    name: str
    compute: DimensionCompute | None = None


@dataclass(frozen=True)
class MeasureCompute:
    """``compute`` of a query measure: exactly one of the operations must be set.

    ``expression`` is an adhoc arithmetic expression over measure names; ``unsupported`` lists the
    Rill computes that were given but that rill-emu does not implement.
    """

    count: bool = False
    count_distinct: str | None = None
    expression: str | None = None
    expression_display_name: str = ""
    unsupported: tuple[str, ...] = ()

    def operations(self) -> int:
        """How many compute operations are set."""
        return (
            int(self.count)
            + int(self.count_distinct is not None)
            + int(self.expression is not None)
            + len(self.unsupported)
        )


@dataclass(frozen=True)
class QueryMeasure:
    """A measure of the view, or a computed one (``compute``)."""

    name: str
    compute: MeasureCompute | None = None


@dataclass(frozen=True)
class Sort:
    """Sort by a selected output name."""

    name: str
    desc: bool = False


@dataclass(frozen=True)
class Condition:
    """``cond``: an operator over sub-expressions."""

    op: str
    exprs: tuple[Expression | None, ...] = ()


@dataclass(frozen=True)
class Subquery:
    """``subquery``: the values of ``dimension`` for which ``having`` holds (same metrics view)."""

    dimension: QueryDimension
    measures: tuple[QueryMeasure, ...] = ()
    where: Expression | None = None
    having: Expression | None = None


@dataclass(frozen=True)
class Expression:
    """A filter expression: a field ``name``, a literal ``value``, a ``cond`` or a ``subquery``.

    A ``value`` of None with nothing else set means NULL.
    """

    name: str = ""
    value: Any = None
    cond: Condition | None = None
    subquery: Subquery | None = None


@dataclass(frozen=True)
class TimeRange:
    """Filter on the time dimension: start inclusive, end exclusive; ``iso_duration`` relative to them."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    expression: str = ""
    iso_duration: str = ""
    iso_offset: str = ""
    round_to_grain: str = ""
    time_dimension: str = ""

    def is_zero(self) -> bool:
        """True when nothing is set (Rill ignores such a time range)."""
        return (
            self.start is None
            and self.end is None
            and not self.expression
            and not self.iso_duration
            and not self.iso_offset
            and not self.round_to_grain
        )


@dataclass(frozen=True)
class MetricsQuery:
    """A structured metrics query (``metrics:`` resolver props, or compiled metrics SQL)."""

    metrics_view: str
    dimensions: tuple[QueryDimension, ...] = ()
    measures: tuple[QueryMeasure, ...] = ()
    sort: tuple[Sort, ...] = ()
    where: Expression | None = None
    having: Expression | None = None
    time_range: TimeRange | None = None
    comparison_time_range: TimeRange | None = None
    limit: int | None = None
    offset: int | None = None
    time_zone: str = ""
    use_display_names: bool = False
    rows: bool = False
    pivot_on: tuple[str, ...] = ()
    spine: Mapping[str, Any] | None = None

    def validate(self) -> None:
        """Rill's ``Query.Validate``: the ``rows`` mode excludes aggregation features."""
        if not self.rows:
            return
        checks = (
            (
                self.dimensions,
                "dimensions not supported when rows is set, all model columns will be returned",
            ),
            (self.measures, "measures not supported when rows is set, all model columns will be returned"),
            (self.sort, "sort not supported when rows is set"),
            (self.comparison_time_range is not None, "comparison_time_range not supported when rows is set"),
            (self.having is not None, "having not supported when rows is set"),
            (self.pivot_on, "pivot_on not supported when rows is set"),
        )
        for failed, message in checks:
            if failed:
                raise BadRequest(message)


def parse_query(props: Mapping[str, Any]) -> MetricsQuery:
    """Decode resolver properties into a :class:`MetricsQuery`, leniently (mapstructure weak decoding)."""
    d = WeakDecoder()
    top = d.struct(props, "") or {}
    query = MetricsQuery(
        metrics_view=d.string(top.get("metrics_view"), "metrics_view"),
        dimensions=tuple(
            _dimension(d, v, f"dimensions[{i}]")
            for i, v in enumerate(d.list(top.get("dimensions"), "dimensions"))
        ),
        measures=tuple(
            _measure(d, v, f"measures[{i}]") for i, v in enumerate(d.list(top.get("measures"), "measures"))
        ),
        sort=tuple(_sort(d, v, f"sort[{i}]") for i, v in enumerate(d.list(top.get("sort"), "sort"))),
        where=_expression(d, top.get("where"), "where"),
        having=_expression(d, top.get("having"), "having"),
        time_range=_time_range(d, top.get("time_range"), "time_range"),
        comparison_time_range=_time_range(d, top.get("comparison_time_range"), "comparison_time_range"),
        limit=d.integer(top.get("limit"), "limit"),
        offset=d.integer(top.get("offset"), "offset"),
        time_zone=d.string(top.get("time_zone"), "time_zone"),
        use_display_names=d.boolean(top.get("use_display_names"), "use_display_names"),
        rows=d.boolean(top.get("rows"), "rows"),
        pivot_on=tuple(
            d.string(v, f"pivot_on[{i}]") for i, v in enumerate(d.list(top.get("pivot_on"), "pivot_on"))
        ),
        spine=d.struct(top.get("spine"), "spine"),
    )
    d.finish()
    return query


def _dimension(d: WeakDecoder, value: Any, name: str) -> QueryDimension:
    raw = d.struct(value, name) or {}
    compute = None
    raw_compute = d.struct(raw.get("compute"), f"{name}.compute")
    if raw_compute is not None:
        tf = d.struct(raw_compute.get("time_floor"), f"{name}.compute.time_floor")
        floor = None
        if tf is not None:
            floor = TimeFloor(
                d.string(tf.get("dimension"), f"{name}.compute.time_floor.dimension"),
                d.string(tf.get("grain"), f"{name}.compute.time_floor.grain"),
            )
        compute = DimensionCompute(floor)
    return QueryDimension(d.string(raw.get("name"), f"{name}.name"), compute)


def _measure(d: WeakDecoder, value: Any, name: str) -> QueryMeasure:
    raw = d.struct(value, name) or {}
    compute = None
    rc = d.struct(raw.get("compute"), f"{name}.compute")
    if rc is not None:
        distinct = d.struct(rc.get("count_distinct"), f"{name}.compute.count_distinct")
        expression = d.struct(rc.get("expression"), f"{name}.compute.expression")
        compute = MeasureCompute(
            count=d.boolean(rc.get("count"), f"{name}.compute.count"),
            count_distinct=(
                None
                if distinct is None
                else d.string(distinct.get("dimension"), f"{name}.compute.count_distinct.dimension")
            ),
            expression=(
                None
                if expression is None
                else d.string(expression.get("expression"), f"{name}.compute.expression.expression")
            ),
            expression_display_name=(
                ""
                if expression is None
                else d.string(expression.get("display_name"), f"{name}.compute.expression.display_name")
            ),
            unsupported=tuple(k for k in UNSUPPORTED_MEASURE_COMPUTES if rc.get(k) is not None),
        )
    return QueryMeasure(d.string(raw.get("name"), f"{name}.name"), compute)


def _sort(d: WeakDecoder, value: Any, name: str) -> Sort:
    raw = d.struct(value, name) or {}
    return Sort(d.string(raw.get("name"), f"{name}.name"), d.boolean(raw.get("desc"), f"{name}.desc"))


def _expression(d: WeakDecoder, value: Any, name: str) -> Expression | None:
    raw = d.struct(value, name)
    if raw is None:
        return None
    cond = None
    raw_cond = d.struct(raw.get("cond"), f"{name}.cond")
    if raw_cond is not None:
        exprs = d.list(raw_cond.get("exprs"), f"{name}.cond.exprs")
        cond = Condition(
            d.string(raw_cond.get("op"), f"{name}.cond.op"),
            tuple(_expression(d, e, f"{name}.cond.exprs[{i}]") for i, e in enumerate(exprs)),
        )
    subquery = None
    raw_sub = d.struct(raw.get("subquery"), f"{name}.subquery")
    if raw_sub is not None:
        measures = d.list(raw_sub.get("measures"), f"{name}.subquery.measures")
        subquery = Subquery(
            dimension=_dimension(d, raw_sub.get("dimension") or {}, f"{name}.subquery.dimension"),
            measures=tuple(_measure(d, m, f"{name}.subquery.measures[{i}]") for i, m in enumerate(measures)),
            where=_expression(d, raw_sub.get("where"), f"{name}.subquery.where"),
            having=_expression(d, raw_sub.get("having"), f"{name}.subquery.having"),
        )
    return Expression(d.string(raw.get("name"), f"{name}.name"), raw.get("val"), cond, subquery)


def _time_range(d: WeakDecoder, value: Any, name: str) -> TimeRange | None:
    raw = d.struct(value, name)
    if raw is None:
        return None
    return TimeRange(
        start=d.time(raw.get("start"), f"{name}.start"),
        end=d.time(raw.get("end"), f"{name}.end"),
        expression=d.string(raw.get("expression"), f"{name}.expression"),
        iso_duration=d.string(raw.get("iso_duration"), f"{name}.iso_duration"),
        iso_offset=d.string(raw.get("iso_offset"), f"{name}.iso_offset"),
        round_to_grain=d.string(raw.get("round_to_grain"), f"{name}.round_to_grain"),
        time_dimension=d.string(raw.get("time_dimension"), f"{name}.time_dimension"),
    )
