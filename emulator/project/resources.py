"""Frozen dataclasses for parsed project resources.

A parsed project is immutable: reloads build new objects and swap them in whole. Mappings held by
these dataclasses are plain dicts by construction but must be treated as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from emulator.templating import Template

Environment = Literal["dev", "prod"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a project file; ``path`` is project-relative with a leading ``/``."""

    path: str
    message: str
    line: int | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.path.lstrip("/")
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ResourceRef:
    """A dependency on another resource: kind is None when only the name is known."""

    name: str
    kind: str | None = None


@dataclass(frozen=True)
class OpenAPIBlock:
    """The ``openapi:`` block of an API, as JSON-compatible values."""

    summary: str | None = None
    parameters: tuple[Mapping[str, Any], ...] | None = None
    request_schema: Mapping[str, Any] | None = None
    response_schema: Mapping[str, Any] | None = None
    defs_prefix: str = ""


@dataclass(frozen=True)
class SecurityRule:
    """One security rule, in Rill's generic form (§6.2 of the behaviour reference).

    ``condition`` and ``sql`` are compiled templates; ``allow`` is None for row filters.
    """

    type: Literal["access", "field_access", "row_filter"]
    allow: bool | None = None
    condition: Template | None = None
    condition_source: str | None = None
    names: tuple[str, ...] = ()
    all_fields: bool = False
    sql: Template | None = None
    sql_source: str | None = None


@dataclass(frozen=True)
class SecurityPolicy:
    """An ordered list of rules; an empty tuple means deny (a ``security:`` block with no access)."""

    rules: tuple[SecurityRule, ...]


@dataclass(frozen=True)
class ApiSpec:
    """A ``type: api`` resource.

    ``props`` holds the resolver properties as Rill stores them (numbers from YAML are floats).
    For the ``sql`` and ``metrics_sql`` resolvers, ``template`` is the compiled ``sql``.
    """

    name: str
    path: str
    paths: tuple[str, ...]
    resolver: str
    props: Mapping[str, Any]
    template: Template | None = None
    openapi: OpenAPIBlock = field(default_factory=OpenAPIBlock)
    security: SecurityPolicy | None = None
    skip_nested_security: bool = False
    refs: tuple[ResourceRef, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A model or source, materialised as a DuckDB table named ``name``.

    ``sql`` is the rendered model SQL (models are rendered once at load time, as Rill does).
    """

    name: str
    path: str
    paths: tuple[str, ...]
    kind: Literal["model", "source"]
    sql: str
    connector: str = "duckdb"
    refs: tuple[ResourceRef, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Dimension:
    """A metrics-view dimension: exactly one of ``column`` and ``expression`` is set."""

    name: str
    display_name: str
    column: str | None = None
    expression: str | None = None
    description: str = ""
    unnest: bool = False


@dataclass(frozen=True)
class Measure:
    """A metrics-view measure."""

    name: str
    display_name: str
    expression: str
    description: str = ""
    type: str = "simple"
    requires: tuple[str, ...] = ()
    format_preset: str = ""
    format_d3: str = ""
    valid_percent_of_total: bool = False
    treat_nulls_as: str = ""


@dataclass(frozen=True)
class MetricsViewSpec:
    """A ``type: metrics_view`` resource over a model (or a table of the OLAP database)."""

    name: str
    path: str
    paths: tuple[str, ...]
    table: str
    model: str | None
    dimensions: tuple[Dimension, ...]
    measures: tuple[Measure, ...]
    timeseries: str | None = None
    display_name: str = ""
    connector: str = "duckdb"
    smallest_time_grain: str = ""
    first_day_of_week: int = 0
    first_month_of_year: int = 0
    security: SecurityPolicy | None = None
    refs: tuple[ResourceRef, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class OtherResource:
    """A resource the emulator recognises but does not serve (connector, explore, theme, ...)."""

    kind: str
    name: str
    path: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class MockUser:
    """A ``mock_users`` entry of rill.yaml, with its attributes built as Rill's dev JWT builds them."""

    email: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class ProjectConfig:
    """The parsed rill.yaml."""

    olap_connector: str = "duckdb"
    variables: Mapping[str, str] = field(default_factory=dict)
    mock_users: tuple[MockUser, ...] = ()
    ignore_paths: tuple[str, ...] = ()
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    connectors: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class Project:
    """A whole parsed project: every resource that parsed, and every problem found.

    The mappings are keyed by lower-cased resource name (Rill's lookups are case-insensitive).
    """

    root: Path
    environment: Environment
    config: ProjectConfig
    variables: Mapping[str, str]
    apis: Mapping[str, ApiSpec]
    models: Mapping[str, ModelSpec]
    metrics_views: Mapping[str, MetricsViewSpec]
    others: tuple[OtherResource, ...] = ()
    problems: tuple[Problem, ...] = ()
