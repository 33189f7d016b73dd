"""Built-in APIs (§4.1): always present, looked up before project APIs so they shadow them."""

from __future__ import annotations

from typing import Any

from emulator.errors import BadRequest
from emulator.identity import Claims
from emulator.olap.duckdb import QueryResult
from emulator.project.resources import ApiSpec, OpenAPIBlock
from emulator.resolvers.args import decode_strict
from emulator.resolvers.base import ResolveContext
from emulator.resolvers.builtin_schemas import METRICS_SCHEMA, METRICS_SQL_SCHEMA, SQL_SCHEMA
from emulator.resolvers.sql import check_connector, run_capped
from emulator.templating import compile_template, rill_funcs

ADMIN_ERROR = "must be an admin to run arbitrary SQL queries"


def require_admin(claims: Claims) -> None:
    """Only admins and non-users (no attributes: local anonymous, services) may run arbitrary SQL."""
    attrs = claims.attributes
    if attrs and attrs.get("admin") is not True:
        raise BadRequest(ADMIN_ERROR)


def resolve_builtin_sql(
    ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> QueryResult:
    """``/api/sql``: run the ``sql`` arg (itself a template) as an admin."""
    require_admin(claims)
    decoded = decode_strict(args, {"connector": str, "sql": str, "priority": int})
    check_connector(ctx, decoded["connector"])
    sql = decoded["sql"].strip().removesuffix(";")
    template = compile_template(sql, funcs=rill_funcs(ctx.project.environment))
    rendered = template.render(ctx.template_data({"priority": decoded["priority"]}, claims))
    return run_capped(ctx, rendered, claims)


def builtin_api(name: str, resolver: str, summary: str, request_schema: dict[str, Any]) -> ApiSpec:
    """The ApiSpec of a built-in API (its ``$defs`` are lifted without a prefix)."""
    block = OpenAPIBlock(summary=summary, request_schema=request_schema, defs_prefix="")
    return ApiSpec(name=name, path="", paths=(), resolver=resolver, props={}, openapi=block)


BUILTIN_APIS: dict[str, ApiSpec] = {
    "metrics": builtin_api("metrics", "builtin_metrics", "Run a metrics query", METRICS_SCHEMA),
    "metrics-sql": builtin_api(
        "metrics-sql", "builtin_metrics_sql", "Run a metrics SQL query (admins only)", METRICS_SQL_SCHEMA
    ),
    "sql": builtin_api(
        "sql", "builtin_sql", "Run a SQL query on the OLAP connector (admins only)", SQL_SCHEMA
    ),
}
