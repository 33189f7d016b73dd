"""The metrics resolvers: ``metrics_sql``, ``metrics`` and the built-in ``metrics`` / ``metrics-sql`` APIs.

All of them end in one structured query run against a metrics view with its security applied (§6.3,
§7); they differ in where the query comes from.
"""

from __future__ import annotations

from typing import Any

from emulator import metrics  # its SQL builder and parser (and sqlglot) load on first use
from emulator.cache import run_cached
from emulator.errors import BadRequest
from emulator.identity import Claims
from emulator.metrics.query import MetricsQuery, parse_query
from emulator.olap.duckdb import QueryResult
from emulator.project.resources import ApiSpec
from emulator.resolvers.args import decode_strict
from emulator.resolvers.base import ResolveContext
from emulator.resolvers.builtins import require_admin
from emulator.templating import compile_template, rill_funcs

#: Args the metrics resolvers consume themselves; the built-in ``metrics`` API reads its query from the rest.
_RESERVED = ("priority", "execution_time")


def run_query(
    ctx: ResolveContext, query: MetricsQuery, claims: Claims, source: str | None = None
) -> QueryResult:
    """Run a structured metrics query as ``claims``: security, SQL, execution, row cap.

    ``source`` is the metrics SQL text ``query`` was compiled from, if any: a cheaper memo key than
    the query itself (hashing a query walks all its parts).
    """
    view = ctx.project.metrics_views.get(query.metrics_view.lower())
    if view is None:
        raise BadRequest(f"metrics view {query.metrics_view!r} not found".replace("'", '"'))
    restrictions = ctx.metrics_restrictions(view, claims)
    compiled = ctx.memo.get(
        ("build", query if source is None else source, view.name, restrictions),
        lambda: metrics.build_sql(query, view, restrictions),
    )

    def run() -> QueryResult:
        result = ctx.engine.query(compiled.sql, compiled.params)
        metrics.check_cap(result.rows, compiled.cap)
        return result

    return run_cached(ctx, "metrics", compiled.sql, compiled.params, compiled.cap, claims, run)


def resolve_metrics_sql(
    ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> QueryResult:
    """A ``metrics_sql:`` API: render the template, compile the metrics SQL, run it."""
    decode_strict(args, {"priority": int})
    if api.template is None or not api.template.source.strip():
        raise BadRequest('metrics SQL: missing required property "sql"')
    sql = api.template.render(ctx.template_data(args, claims))
    return run_query(ctx, _compile(ctx, sql), claims, sql)


def _compile(ctx: ResolveContext, sql: str) -> MetricsQuery:
    """Metrics SQL → query, parsed once per distinct text and generation."""
    views = ctx.project.metrics_views
    return ctx.memo.get(("metrics_sql", sql), lambda: metrics.compile_metrics_sql(sql, views))


def resolve_metrics(ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims) -> QueryResult:
    """A ``metrics:`` API: its properties are the query, not templated."""
    return run_query(ctx, parse_query(api.props), claims)


def resolve_builtin_metrics(
    ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> QueryResult:
    """``/api/metrics``: the request args are the query."""
    props = {k: v for k, v in args.items() if k not in _RESERVED}
    return run_query(ctx, parse_query(props), claims)


def resolve_builtin_metrics_sql(
    ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> QueryResult:
    """``/api/metrics-sql``: the ``sql`` arg, templated then compiled, for admins only."""
    require_admin(claims)
    decoded = decode_strict(args, {"sql": str, "priority": int})
    if not decoded["sql"].strip():
        raise BadRequest('metrics SQL: missing required property "sql"')
    template = compile_template(decoded["sql"], funcs=rill_funcs(ctx.project.environment))
    sql = template.render(ctx.template_data({"priority": decoded["priority"]}, claims))
    return run_query(ctx, _compile(ctx, sql), claims, sql)
