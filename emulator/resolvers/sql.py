"""The ``sql`` resolver: render the template, wrap it in the row cap, run it on DuckDB (§1.2)."""

from __future__ import annotations

from typing import Any

from emulator.cache import run_cached
from emulator.errors import BadRequest
from emulator.identity import Claims
from emulator.olap.duckdb import QueryResult
from emulator.project.resources import ApiSpec
from emulator.resolvers.args import decode_strict
from emulator.resolvers.base import ROW_CAP, ResolveContext, cap_error


def check_connector(ctx: ResolveContext, connector: str | None) -> None:
    """Fail as Rill does when the API names a connector the project does not have (or not DuckDB)."""
    if not connector or connector == "duckdb":
        return
    known = ctx.project.config.connectors
    if connector not in known:
        raise BadRequest(f'connector "{connector}" not found')
    if connector != ctx.project.config.olap_connector or ctx.project.config.olap_connector != "duckdb":
        raise BadRequest(f'rill-emu only runs SQL on DuckDB; connector "{connector}" is not supported')


def render_sql(ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims) -> str:
    """The API's SQL template rendered for these args and claims."""
    if api.template is None:
        raise BadRequest(f'api "{api.name}": missing required property "sql"')
    return api.template.render(ctx.template_data(args, claims))


def run_capped(ctx: ResolveContext, sql: str, claims: Claims, cap: int = ROW_CAP) -> QueryResult:
    """Run ``sql`` wrapped as Rill wraps interactive queries, failing past ``cap`` rows (result cache)."""
    wrapped = f"SELECT * FROM ({sql}\n) LIMIT {cap + 1}"

    def run() -> QueryResult:
        result = ctx.engine.query(wrapped)
        if len(result.rows) > cap:
            raise BadRequest(cap_error(cap))
        return result

    return run_cached(ctx, "sql", wrapped, (), cap, claims, run)


def resolve_sql(ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims) -> QueryResult:
    """Resolve a ``sql:`` API."""
    decode_strict(args, {"priority": int})
    check_connector(ctx, api.props.get("connector"))
    return run_capped(ctx, render_sql(ctx, api, args, claims), claims)
