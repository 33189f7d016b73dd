"""parse_metrics_view: strict metrics view YAML, Rill's defaults and every validation message."""
# ruff: noqa: E501  (a table of YAML snippets and messages reads best one case per line)

from __future__ import annotations

from typing import Any

import pytest
import yaml

from emulator.errors import ProjectError
from emulator.metrics import RillMeasure, parse_metrics_view
from emulator.metrics.view import DimensionSelector, MeasureWindow
from emulator.metrics.yamlcheck import to_display_name
from emulator.project.resources import Dimension, MetricsViewSpec, ResourceRef


def parse(text: str, name: str = "bids") -> MetricsViewSpec:
    doc = yaml.safe_load(text)
    lines = {k: i + 1 for i, line in enumerate(text.splitlines()) for k in doc if line.startswith(f"{k}:")}
    return parse_metrics_view(
        name, f"/metrics/{name}.yaml", (f"/metrics/{name}.yaml",), doc, line_of=lines.get
    )


def test_minimal_view_defaults() -> None:
    spec = parse(
        "type: metrics_view\nmodel: ad_bids\nmeasures:\n  - expression: count(*)\n", name="ad_bids_metrics"
    )
    assert spec.name == "ad_bids_metrics"
    assert spec.path == "/metrics/ad_bids_metrics.yaml"
    assert spec.table == "ad_bids"
    assert spec.model == "ad_bids"
    assert spec.display_name == "Ad Bids Metrics"
    assert spec.dimensions == ()
    assert spec.timeseries is None
    assert spec.connector == "duckdb"
    assert spec.refs == (ResourceRef("ad_bids"),)
    (measure,) = spec.measures
    assert isinstance(measure, RillMeasure)
    assert (measure.name, measure.display_name, measure.expression, measure.type) == (
        "measure_0",
        "Measure 0",
        "count(*)",
        "simple",
    )


def test_full_view() -> None:
    spec = parse(
        """
version: 1
type: metrics_view
title: Old Title
table: events
connector: duckdb
timeseries: ts
smallest_time_grain: hour
first_day_of_week: 7
first_month_of_year: 4
dimensions:
  - column: country
  - property: city
    label: Town
  - expression: upper(domain)
    description: d
  - name: ignored
    column: x
    ignore: true
  - expression: lower(domain)
  - name: tags
    expression: string_split(tags, ',')
    unnest: true
    uri: true
measures:
  - name: total
    expression: count(*)
    format_preset: humanize
    description: all rows
    valid_percent_of_total: true
    treat_nulls_as: "0"
  - name: ratio
    expression: total / 2
    requires: [total, country]
  - name: rolling
    expression: SUM(total)
    requires: total
    window: time
  - name: ranked
    expression: RANK()
    window:
      partition: false
  - name: by_city
    expression: AVG(total)
    requires: [total]
    window:
      order: [{name: city}, country]
      frame: ROWS UNBOUNDED PRECEDING
security:
  access: true
explore:
  skip: true
cache:
  enabled: false
  key_ttl: 5m
""",
        name="events_mv",
    )
    assert spec.display_name == "Old Title"
    assert (spec.table, spec.model, spec.timeseries) == ("events", None, "ts")
    assert (spec.smallest_time_grain, spec.first_day_of_week, spec.first_month_of_year) == ("hour", 7, 4)
    assert spec.dimensions == (
        Dimension("ts", "Ts", column="ts"),  # the time dimension is added first
        Dimension("country", "Country", column="country"),
        Dimension("city", "Town", column="city"),
        Dimension("dimension_2", "Dimension 2", expression="upper(domain)", description="d"),
        Dimension("dimension_4", "Dimension 4", expression="lower(domain)"),
        Dimension("tags", "Tags", expression="string_split(tags, ',')", unnest=True),
    )
    by_name = {m.name: m for m in spec.measures}
    assert isinstance(by_name["total"], RillMeasure)
    total = by_name["total"]
    assert (total.format_preset, total.description, total.valid_percent_of_total, total.treat_nulls_as) == (
        "humanize",
        "all rows",
        True,
        "0",
    )
    ratio = by_name["ratio"]
    assert isinstance(ratio, RillMeasure)
    assert ratio.type == "derived"
    assert ratio.requires == ("total", "country")
    assert ratio.referenced_measures == ("total",)
    assert ratio.required_dimensions == (DimensionSelector("country"),)
    rolling = by_name["rolling"]
    assert isinstance(rolling, RillMeasure)
    assert rolling.window == MeasureWindow(True, (DimensionSelector("ts"),))
    assert rolling.required_dimensions == (DimensionSelector("ts"),)
    ranked = by_name["ranked"]
    assert isinstance(ranked, RillMeasure)
    assert (ranked.window, ranked.type) == (MeasureWindow(False), "simple")
    by_city = by_name["by_city"]
    assert isinstance(by_city, RillMeasure)
    assert by_city.window == MeasureWindow(
        True, (DimensionSelector("city"), DimensionSelector("country")), "ROWS UNBOUNDED PRECEDING"
    )


def test_time_dimension_may_be_listed_once() -> None:
    spec = parse(
        "model: m\ntimeseries: ts\ndimensions: [{column: ts, display_name: Time}]\nmeasures: [{expression: x}]"
    )
    assert spec.dimensions == (Dimension("ts", "Time", column="ts"),)


def test_explore_only_and_deprecated_keys_are_accepted() -> None:
    spec = parse(
        """
model: m
default_time_range: P7D
available_time_zones: [UTC, Europe/Paris]
default_theme: dark
default_dimensions: [a]
default_measures: [n]
default_comparison: {mode: time}
available_time_ranges: [P1D]
ai_instructions: be nice
description: words
dimensions: [{column: a}]
measures: [{name: n, expression: count(*)}]
"""
    )
    assert spec.display_name == "Bids"


@pytest.mark.parametrize(
    ("name", "display"),
    [("", ""), ("foo", "Foo"), ("foo_bar", "Foo Bar"), ("foo-bar", "Foo Bar"), ("_foo", "_foo"), ("a:b", "A: B"),
     ("total impressions", "Total Impressions"), ("bid's number", "Bid's Number"), ("HTTP_code", "Http Code")],
)  # fmt: skip
def test_to_display_name(name: str, display: str) -> None:
    assert to_display_name(name) == display


MEASURE = "measures: [{expression: count(*)}]"

ERRORS: list[tuple[str, str]] = [
    (
        "model: m\nfoo: 1\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: field foo not found in type parser.MetricsViewYAML",
    ),
    (
        "model: m\nfoo: 1\nbar: 2\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: field foo not found in type parser.MetricsViewYAML\n"
        "  line 3: field bar not found in type parser.MetricsViewYAML",
    ),
    (
        "model: m\ndimensions: [{colum: a}]\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: field colum not found in type struct",
    ),
    (
        "model: m\nmeasures: [{expresion: a}]",
        "yaml: unmarshal errors:\n  line 2: field expresion not found in type struct",
    ),
    (
        "model: m\ndimensions: foo\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `foo` into []*struct",
    ),
    (
        "model: m\ndimensions: [foo]\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `foo` into struct",
    ),
    ("model: [a]\n" + MEASURE, "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into string"),
    (
        "model: m\nfirst_day_of_week: -1\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!int `-1` into uint32",
    ),
    (
        "model: m\nfirst_day_of_week: monday\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `monday` into uint32",
    ),
    ("model: m\ntable: t\n" + MEASURE, 'cannot set both the "model" field and the "table" field'),
    (MEASURE, 'must set a value for either the "model", "table" or "parent" field'),
    (
        "model: m\nsmallest_time_grain: decade\n" + MEASURE,
        'invalid "smallest_time_grain": invalid time grain "decade"',
    ),
    ("model: m\nsmallest_time_grain: ms\n" + MEASURE, '"smallest_time_grain" must be at least "second"'),
    ("model: m\navailable_time_zones: [Mars/Base]\n" + MEASURE, "unknown time zone Mars/Base"),
    (
        "parent: p\n" + MEASURE,
        "cannot define dimensions or measures in a derived metrics view, use parent_dimensions and parent_measures "
        'to select from parent "p"',
    ),
    ("parent: p\nmodel: m", 'cannot set data source in a derived metrics view (parent "p")'),
    ("parent: p\ncache: {enabled: true}", 'cannot set cache in a derived metrics view (parent "p")'),
    (
        "parent: p\ndefault_dimensions: [a]",
        'cannot set defaults in derived metrics view (parent "p"), defaults can be set under explore key',
    ),
    (
        "parent: p\navailable_time_zones: [UTC]",
        'cannot set available time ranges or time zones in derived metrics view (parent "p"), use explore key',
    ),
    ("parent: p\nparent_measures: '*'", 'derived metrics views (parent "p") are not supported by rill-emu'),
    (
        "model: m\nparent_dimensions: '*'\n" + MEASURE,
        "parent_dimensions and parent_measures can only be set in derived metrics views, use dimensions and measures instead",
    ),
    (
        "model: m\ndimensions: [{name: a}]\n" + MEASURE,
        'exactly one of column or expression should be set for dimension: "a"',
    ),
    (
        "model: m\ndimensions: [{column: a, expression: b}]\n" + MEASURE,
        'exactly one of column or expression should be set for dimension: "a"',
    ),
    (
        "model: m\ndimensions: [{column: a, lookup_table: t}]\n" + MEASURE,
        "all lookup fields should be defined (lookup_table, lookup_key_column and lookup_value_column should be defined",
    ),
    (
        "model: m\ndimensions: [{expression: dictGet(x), lookup_table: t, lookup_key_column: k, lookup_value_column: v}]\n"
        + MEASURE,
        "dictGet expression and lookup fields cannot be used together",
    ),
    (
        "model: m\ndimensions: [{column: a}, {name: A, column: b}]\n" + MEASURE,
        'found duplicate dimension or measure name "A"',
    ),
    (
        "model: m\ndimensions: [{column: a}]\nmeasures: [{name: A, expression: x}]",
        'found duplicate dimension or measure name "A"',
    ),
    (
        "model: m\nmeasures: [{name: n, expression: x}, {name: N, expression: y}]",
        'found duplicate dimension or measure name "N"',
    ),
    (
        "model: m\ntimeseries: ts\ndimensions: [{column: ts}, {column: ts}]\n" + MEASURE,
        'time dimension "ts" defined multiple times',
    ),
    (
        "model: m\ntimeseries: ts\ndimensions: [{column: TS}]\n" + MEASURE,
        'dimension name "TS" does not match the case of time dimension "ts"',
    ),
    (
        "model: m\ntimeseries: ts\nmeasures: [{name: TS, expression: x}]",
        'found duplicate dimension or measure name "TS"',
    ),
    (
        "model: m\ndimensions: [{column: a, smallest_time_grain: fortnight}]\n" + MEASURE,
        'invalid "smallest_time_grain" for dimension "a": invalid time grain "fortnight"',
    ),
    (
        "model: m\ndimensions: [{column: a, smallest_time_grain: ms}]\n" + MEASURE,
        'invalid "smallest_time_grain" for dimension "a": must be at least "second"',
    ),
    (
        "model: m\ndefault_dimensions: [x]\n" + MEASURE,
        'dimension "x" referenced in "default_dimensions" not found',
    ),
    (
        "model: m\ndefault_measures: [x]\n" + MEASURE,
        'measure "x" referenced in "default_dimensions" not found',
    ),
    ("model: m", "must define at least one measure"),
    ("model: m\nmeasures: [{expression: x, ignore: true}]", "must define at least one measure"),
    (
        "model: m\nmeasures: [{expression: x, format_preset: humanize, format_d3: .2f}]",
        'cannot set both "format_preset" and "format_d3" for a measure',
    ),
    (
        "model: m\nmeasures: [{expression: x, format_d3_locale: {currency: [a]}}]",
        '"format_d3_locale" can only be set if "format_d3" is set',
    ),
    ("model: m\nmeasures: [{expression: x, per: [nope]}]", 'per dimension "nope" not found'),
    ("model: m\nmeasures: [{expression: x, requires: [nope]}]", 'referenced measure "nope" not found'),
    (
        "model: m\nmeasures: [{expression: x, requires: {name: a}}]",
        "field references should be a name or a list",
    ),
    (
        "model: m\nmeasures: [{expression: x, requires: [[a]]}]",
        "field reference should be either a string or an object",
    ),
    (
        "model: m\nmeasures: [{expression: x, requires: [{name: a, time_grain: eon}]}]",
        'invalid "time_grain": invalid time grain "eon"',
    ),
    ("model: m\nmeasures: [{expression: x, window: {order: nope}}]", 'order dimension "nope" not found'),
    ("model: m\nmeasures: [{expression: x, window: sometimes}]", 'invalid window type "sometimes"'),
    (
        "model: m\nmeasures: [{expression: x, window: [a]}]",
        "measure window should be either a string or an object",
    ),
    (
        "model: m\nmeasures: [{name: a, expression: x}, {expression: y, type: simple, requires: [a]}]",
        'measure type "simple" cannot have "per" or "requires" fields',
    ),
    (
        "model: m\nmeasures: [{expression: x, type: fancy}]",
        'invalid measure type "fancy" (allowed values: simple, derived, time_comparison)',
    ),
    ("model: m\nfirst_day_of_week: 8\n" + MEASURE, "invalid first day of week 8, must be between 1 and 7"),
    (
        "model: m\nfirst_month_of_year: 13\n" + MEASURE,
        "invalid first month of year 13, must be between 1 and 12",
    ),
    (
        "model: m\ndefault_comparison: {mode: sideways}\n" + MEASURE,
        'invalid mode: "sideways". allowed values: none,time,dimension',
    ),
    (
        "model: m\ncache: {key_ttl: soon}\n" + MEASURE,
        'invalid "cache.key_ttl": time: invalid duration "soon"',
    ),
    (
        "model: m\ndefault_theme: dark\nexplore: {name: e}\n" + MEASURE,
        "failed to parse inline explore: setting defaults or available time zones or ranges under metrics view is "
        "deprecated, set them under explore key",
    ),
    (
        "model: m\nexplore: {time_zones: [Nowhere/Town]}\n" + MEASURE,
        "failed to parse inline explore: unknown time zone Nowhere/Town",
    ),
    (
        "model: m\nexplore: {colour: red}\n" + MEASURE,
        "yaml: unmarshal errors:\n  line 2: field colour not found in type struct",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ProjectError) as err:
        parse(text)
    assert err.value.message == message


def test_unknown_key_error_carries_the_line() -> None:
    with pytest.raises(ProjectError) as err:
        parse("model: m\n" + MEASURE + "\nmesures: []\n")
    assert err.value.line == 3


def test_not_a_mapping() -> None:
    doc: Any = ["a"]
    with pytest.raises(ProjectError):
        parse_metrics_view("x", "/x.yaml", ("/x.yaml",), doc)
