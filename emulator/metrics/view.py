"""Strict parsing of ``type: metrics_view`` YAML into a :class:`MetricsViewSpec`.

Port of ``rilldata/rill:runtime/parser/parse_metrics_view.go``: same defaults, same validation order,
same messages. ``security:`` is accepted here but parsed by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ProjectError
from emulator.metrics.gostr import go_quote
from emulator.metrics.view_keys import (
    CACHE_KEYS,
    COMMON_KEYS,
    COMPARISON_KEYS,
    COMPARISON_MODES,
    DIMENSION_KEYS,
    EXPLORE_DEFAULTS_KEYS,
    EXPLORE_KEYS,
    MEASURE_KEYS,
    TOP_KEYS,
    YAML_GRAINS,
)
from emulator.metrics.yamlcheck import Strict, check_keys, to_display_name
from emulator.project.resources import Dimension, Measure, MetricsViewSpec, ResourceRef

__all__ = ["DimensionSelector", "MeasureWindow", "RillMeasure", "parse_metrics_view", "to_display_name"]

_GO_DURATION = re.compile(r"^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$|^0$")


@dataclass(frozen=True)
class DimensionSelector:
    """A dimension referenced by a measure (``requires``/``per``/``window.order``), with optional grain."""

    name: str
    grain: str = ""
    desc: bool = False


@dataclass(frozen=True)
class MeasureWindow:
    """A measure's ``window:``: partition by the non-ordered dimensions, order by ``order``, ``frame``."""

    partition: bool
    order: tuple[DimensionSelector, ...] = ()
    frame: str = ""


@dataclass(frozen=True)
class RillMeasure(Measure):
    """A :class:`Measure` with what the query builder needs beyond the shared contract.

    ``requires`` (inherited) keeps every name listed under ``requires:``; here they are split, as Rill
    does, into required dimensions and referenced measures.
    """

    required_dimensions: tuple[DimensionSelector, ...] = ()
    referenced_measures: tuple[str, ...] = ()
    per_dimensions: tuple[DimensionSelector, ...] = ()
    window: MeasureWindow | None = None


def _grain(value: str, what: str) -> str:
    grain = YAML_GRAINS.get(value.lower())
    if grain is None:
        raise ProjectError(f"{what}: invalid time grain {go_quote(value)}")
    return grain


def _selectors(raw: Any, strict: Strict, path: str) -> list[DimensionSelector]:
    """``MetricsViewFieldSelectorsYAML``: a name, or a list of names / ``{name, time_grain}``."""
    if raw is None:
        return []
    items: list[Any]
    if isinstance(raw, list):
        items = raw
    elif isinstance(raw, dict):
        raise ProjectError("field references should be a name or a list", line=strict.line(path))
    else:
        items = [raw]
    out = []
    for item in items:
        if isinstance(item, dict):
            check_keys(item, ("name", "time_grain"), strict, path, "MetricsViewFieldSelectorYAML")
            grain = _grain(strict.string(item, "time_grain", path), 'invalid "time_grain"')
            out.append(DimensionSelector(strict.string(item, "name", path), grain))
        elif isinstance(item, list):
            raise ProjectError(
                "field reference should be either a string or an object", line=strict.line(path)
            )
        else:
            out.append(DimensionSelector(strict.scalar_text(item)))
    return out


def _window(raw: Any, strict: Strict) -> tuple[MeasureWindow, bool] | None:
    """Returns the window and whether it orders by the time dimension (the ``time`` preset)."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        check_keys(raw, ("partition", "order", "frame"), strict, "measures", "MetricsViewMeasureWindow")
        partition = True if raw.get("partition") is None else strict.boolean(raw, "partition", "measures")
        order = _selectors(raw["order"], strict, "measures") if raw.get("order") is not None else None
        frame = strict.string(raw, "frame", "measures")
        return MeasureWindow(partition, tuple(order or ()), frame), order is None and partition
    if isinstance(raw, list):
        raise ProjectError(
            "measure window should be either a string or an object", line=strict.line("measures")
        )
    text = strict.scalar_text(raw).lower()
    if text in ("time", "true"):
        return MeasureWindow(True), True
    if text == "all":
        return MeasureWindow(False), False
    raise ProjectError(
        f"invalid window type {go_quote(strict.scalar_text(raw))}", line=strict.line("measures")
    )


def _getter(strict: Strict, item: Mapping[str, Any], path: str) -> Callable[[str], str]:
    def get(key: str) -> str:
        return strict.string(item, key, path)

    return get


@dataclass
class _Names:
    """Case-insensitive registry of dimension/measure names (``names`` in the Go parser)."""

    kinds: dict[str, str] = field(default_factory=dict)

    def is_dimension(self, name: str) -> bool:
        return self.kinds.get(name.lower()) == "dimension"

    def is_measure(self, name: str) -> bool:
        return self.kinds.get(name.lower()) == "measure"


def parse_metrics_view(
    name: str,
    path: str,
    paths: tuple[str, ...],
    doc: Mapping[str, Any],
    *,
    line_of: Callable[[str], int | None] = lambda key: None,
) -> MetricsViewSpec:
    """Parse a metrics view document strictly, raising :class:`ProjectError` with Rill's messages.

    Measures in the result are :class:`RillMeasure` instances (a :class:`Measure` subclass).
    """
    strict = Strict(line_of)
    if not isinstance(doc, Mapping):
        raise ProjectError("yaml: unmarshal errors:\n  cannot unmarshal into parser.MetricsViewYAML")
    check_keys(doc, (*COMMON_KEYS, *TOP_KEYS), strict, "", "parser.MetricsViewYAML")

    def s(key: str) -> str:
        return strict.string(doc, key, key)

    display_name = s("display_name") or s("title")
    model, table, parent = s("model"), s("table"), s("parent")
    timeseries = s("timeseries")
    if table and model:
        raise ProjectError('cannot set both the "model" field and the "table" field', line=line_of("table"))
    if not table and not model and not parent:
        raise ProjectError('must set a value for either the "model", "table" or "parent" field')

    smallest = _grain(s("smallest_time_grain"), 'invalid "smallest_time_grain"')
    if smallest == "millisecond":
        raise ProjectError(
            '"smallest_time_grain" must be at least "second"', line=line_of("smallest_time_grain")
        )
    for tz in strict.string_list(doc, "available_time_zones", "available_time_zones"):
        strict.time_zone(tz, "available_time_zones")
    first_day = strict.uint32(doc, "first_day_of_week", "first_day_of_week")
    first_month = strict.uint32(doc, "first_month_of_year", "first_month_of_year")
    cache = strict.mapping(doc, "cache", "cache")
    check_keys(cache, CACHE_KEYS, strict, "cache", "struct")
    comparison = strict.mapping(doc, "default_comparison", "default_comparison")
    check_keys(comparison, COMPARISON_KEYS, strict, "default_comparison", "struct")
    explore = doc.get("explore")
    if explore is not None and not isinstance(explore, dict):
        raise strict.type_error("explore", explore, "struct")

    dims_raw = strict.sequence(doc, "dimensions", "dimensions")
    measures_raw = strict.sequence(doc, "measures", "measures")
    if parent:
        _check_derived_view(doc, parent, dims_raw, measures_raw, cache)
    elif doc.get("parent_dimensions") is not None or doc.get("parent_measures") is not None:
        raise ProjectError(
            "parent_dimensions and parent_measures can only be set in derived metrics views, "
            "use dimensions and measures instead"
        )

    names = _Names({timeseries.lower(): "dimension"})
    dimensions, time_dim_listed = _parse_dimensions(dims_raw, timeseries, names, strict)
    for dim_name in strict.string_list(doc, "default_dimensions", "default_dimensions"):
        if not names.is_dimension(dim_name):
            raise ProjectError(f'dimension {go_quote(dim_name)} referenced in "default_dimensions" not found')
    measures = _parse_measures(measures_raw, timeseries, names, strict)
    if not measures and not parent:
        raise ProjectError("must define at least one measure", line=line_of("measures"))
    for m in measures:
        for ref in m.referenced_measures:
            if not names.is_measure(ref):
                raise ProjectError(f"referenced measure {go_quote(ref)} not found")
    for m_name in strict.string_list(doc, "default_measures", "default_measures"):
        if not names.is_measure(m_name):
            # Rill's message names "default_dimensions" here too.
            raise ProjectError(f'measure {go_quote(m_name)} referenced in "default_dimensions" not found')
    if first_day > 7:
        raise ProjectError(f"invalid first day of week {first_day}, must be between 1 and 7")
    if first_month > 12:
        raise ProjectError(f"invalid first month of year {first_month}, must be between 1 and 12")
    mode = strict.string(comparison, "mode", "default_comparison").lower()
    if mode and mode not in COMPARISON_MODES:
        raise ProjectError(f"invalid mode: {go_quote(mode)}. allowed values: {','.join(COMPARISON_MODES)}")
    key_ttl = strict.string(cache, "key_ttl", "cache")
    if key_ttl and not _GO_DURATION.match(key_ttl):
        raise ProjectError(f'invalid "cache.key_ttl": time: invalid duration {go_quote(key_ttl)}')
    if isinstance(explore, dict):
        _check_inline_explore(doc, explore, strict)
    if parent:
        raise ProjectError(
            f"derived metrics views (parent {go_quote(parent)}) are not supported by rill-emu",
            line=line_of("parent"),
        )

    if timeseries and not time_dim_listed:
        dimensions.insert(0, Dimension(timeseries, to_display_name(timeseries), column=timeseries))
    source = model or table
    return MetricsViewSpec(
        name=name,
        path=path,
        paths=paths,
        table=source,
        model=model or None,
        dimensions=tuple(dimensions),
        measures=tuple(measures),
        timeseries=timeseries or None,
        display_name=display_name or to_display_name(name),
        connector=s("connector") or "duckdb",
        smallest_time_grain=smallest,
        first_day_of_week=first_day,
        first_month_of_year=first_month,
        refs=(ResourceRef(source),),
        line=None,
    )


def _check_derived_view(
    doc: Mapping[str, Any], parent: str, dims: list[Any], measures: list[Any], cache: Any
) -> None:
    quoted = go_quote(parent)
    if dims or measures:
        raise ProjectError(
            "cannot define dimensions or measures in a derived metrics view, "
            f"use parent_dimensions and parent_measures to select from parent {quoted}"
        )
    if any(doc.get(k) for k in ("database", "database_schema", "table", "model")):
        raise ProjectError(f"cannot set data source in a derived metrics view (parent {quoted})")
    if any(cache.get(k) is not None for k in CACHE_KEYS):
        raise ProjectError(f"cannot set cache in a derived metrics view (parent {quoted})")
    deprecated = (
        "default_time_range",
        "default_theme",
        "default_dimensions",
        "default_measures",
        "default_comparison",
    )
    if any(doc.get(k) for k in deprecated):
        raise ProjectError(
            f"cannot set defaults in derived metrics view (parent {quoted}), "
            "defaults can be set under explore key"
        )
    if doc.get("available_time_ranges") or doc.get("available_time_zones"):
        raise ProjectError(
            f"cannot set available time ranges or time zones in derived metrics view (parent {quoted}), "
            "use explore key"
        )


def _check_inline_explore(doc: Mapping[str, Any], explore: dict[str, Any], strict: Strict) -> None:
    check_keys(explore, EXPLORE_KEYS, strict, "explore", "struct")
    defaults = strict.mapping(explore, "defaults", "explore")
    check_keys(defaults, EXPLORE_DEFAULTS_KEYS, strict, "explore", "struct")
    if strict.boolean(explore, "skip", "explore"):
        return
    deprecated = [
        "default_time_range",
        "available_time_zones",
        "default_theme",
        "default_dimensions",
        "default_measures",
        "available_time_ranges",
    ]
    comparison = doc.get("default_comparison") or {}
    if any(doc.get(k) for k in deprecated) or any(comparison.get(k) for k in COMPARISON_KEYS):
        raise ProjectError(
            "failed to parse inline explore: setting defaults or available time zones or ranges under "
            "metrics view is deprecated, set them under explore key"
        )
    for tz in strict.string_list(explore, "time_zones", "explore"):
        strict.time_zone(tz, "explore", prefix="failed to parse inline explore: ")


def _parse_dimensions(
    raw: list[Any], timeseries: str, names: _Names, strict: Strict
) -> tuple[list[Dimension], bool]:
    dimensions: list[Dimension] = []
    time_dim_listed = False
    for i, item in enumerate(raw):
        if item is None:
            continue
        if not isinstance(item, dict):
            raise strict.type_error("dimensions", item, "struct")
        check_keys(item, DIMENSION_KEYS, strict, "dimensions", "struct")
        g = _getter(strict, item, "dimensions")
        if strict.boolean(item, "ignore", "dimensions"):
            continue
        column = g("column") or g("property")
        expression = g("expression")
        dim_name = g("name") or column or f"dimension_{i}"
        display = g("display_name") or g("label") or to_display_name(dim_name)
        if bool(column) == bool(expression):
            raise ProjectError(
                f"exactly one of column or expression should be set for dimension: {go_quote(dim_name)}"
            )
        lookups = (g("lookup_table"), g("lookup_key_column"), g("lookup_value_column"))
        if any(lookups):
            if not all(lookups):
                raise ProjectError(
                    "all lookup fields should be defined (lookup_table, lookup_key_column and "
                    "lookup_value_column should be defined"
                )
            if "dictGet" in expression:
                raise ProjectError("dictGet expression and lookup fields cannot be used together")
        lower = dim_name.lower()
        if lower in names.kinds:
            if lower != timeseries.lower():
                raise ProjectError(f"found duplicate dimension or measure name {go_quote(dim_name)}")
            if time_dim_listed:
                raise ProjectError(f"time dimension {go_quote(timeseries)} defined multiple times")
            if dim_name != timeseries:
                raise ProjectError(
                    f"dimension name {go_quote(dim_name)} does not match the case of time dimension "
                    f"{go_quote(timeseries)}"
                )
            time_dim_listed = True
        names.kinds[lower] = "dimension"
        grain = _grain(
            g("smallest_time_grain"), f'invalid "smallest_time_grain" for dimension {go_quote(dim_name)}'
        )
        if grain == "millisecond":
            raise ProjectError(
                f'invalid "smallest_time_grain" for dimension {go_quote(dim_name)}: must be at least "second"'
            )
        dimensions.append(
            Dimension(
                name=dim_name,
                display_name=display,
                column=column or None,
                expression=expression or None,
                description=g("description"),
                unnest=strict.boolean(item, "unnest", "dimensions"),
            )
        )
    return dimensions, time_dim_listed


def _parse_measures(raw: list[Any], timeseries: str, names: _Names, strict: Strict) -> list[RillMeasure]:
    measures: list[RillMeasure] = []
    for i, item in enumerate(raw):
        if item is None:
            continue
        if not isinstance(item, dict):
            raise strict.type_error("measures", item, "struct")
        check_keys(item, MEASURE_KEYS, strict, "measures", "struct")
        g = _getter(strict, item, "measures")
        if strict.boolean(item, "ignore", "measures"):
            continue
        m_name = g("name") or f"measure_{i}"
        display = g("display_name") or g("label") or to_display_name(m_name)
        if m_name.lower() in names.kinds:
            raise ProjectError(f"found duplicate dimension or measure name {go_quote(m_name)}")
        names.kinds[m_name.lower()] = "measure"
        if g("format_preset") and g("format_d3"):
            raise ProjectError('cannot set both "format_preset" and "format_d3" for a measure')
        if item.get("format_d3_locale") is not None and not g("format_d3"):
            raise ProjectError('"format_d3_locale" can only be set if "format_d3" is set')

        per = _selectors(item.get("per"), strict, "measures")
        for sel in per:
            if not names.is_dimension(sel.name):
                raise ProjectError(f"per dimension {go_quote(sel.name)} not found")
        required: list[DimensionSelector] = []
        referenced: list[str] = []
        requires = _selectors(item.get("requires"), strict, "measures")
        for sel in requires:
            if names.is_dimension(sel.name):
                required.append(sel)
            else:
                referenced.append(sel.name)

        window = None
        parsed_window = _window(item.get("window"), strict)
        if parsed_window is not None:
            win, order_time = parsed_window
            order = [DimensionSelector(timeseries)] if order_time and timeseries else []
            for sel in win.order:
                if not names.is_dimension(sel.name):
                    raise ProjectError(f"order dimension {go_quote(sel.name)} not found")
                order.append(sel)
            for sel in order:
                if not any(rd.name.lower() == sel.name.lower() for rd in required):
                    required.append(DimensionSelector(sel.name, sel.grain))
            window = MeasureWindow(win.partition, tuple(order), win.frame)

        typ = g("type").lower()
        if typ == "":
            typ = "derived" if referenced or per else "simple"
        elif typ == "simple" and (referenced or per):
            raise ProjectError('measure type "simple" cannot have "per" or "requires" fields')
        elif typ not in ("simple", "derived", "time_comparison"):
            raise ProjectError(
                f"invalid measure type {go_quote(g('type'))} "
                "(allowed values: simple, derived, time_comparison)"
            )
        measures.append(
            RillMeasure(
                name=m_name,
                display_name=display,
                expression=g("expression"),
                description=g("description"),
                type=typ,
                requires=tuple(sel.name for sel in requires),
                format_preset=g("format_preset"),
                format_d3=g("format_d3"),
                valid_percent_of_total=strict.boolean(item, "valid_percent_of_total", "measures"),
                treat_nulls_as=g("treat_nulls_as"),
                required_dimensions=tuple(required),
                referenced_measures=tuple(referenced),
                per_dimensions=tuple(per),
                window=window,
            )
        )
    return measures
