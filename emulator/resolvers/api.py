"""The ``api`` resolver: proxy to another API with static args winning (§1.2)."""

from __future__ import annotations

from typing import Any

from emulator.errors import BadRequest
from emulator.identity import Claims
from emulator.olap.duckdb import QueryResult
from emulator.project.resources import ApiSpec
from emulator.resolvers.base import ResolveContext

VISITED_KEY = "__internal__apis_visited"


def resolve_api(ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims) -> QueryResult:
    """Resolve an ``api:`` proxy: look up the target (built-ins first), merge args, recurse."""
    target_name = str(api.props.get("api") or "")
    target = ctx.lookup_api(target_name)
    if target is None:
        raise BadRequest(f'api with name "{target_name}" not found')
    merged = dict(args)
    static = api.props.get("args")
    if isinstance(static, dict):
        merged.update(static)
    visited = merged.get(VISITED_KEY)
    visited = list(visited) if isinstance(visited, list) else []
    if target_name in visited:
        raise BadRequest(f'infinite recursion detected: the API "{target_name}" proxies to itself')
    merged[VISITED_KEY] = [*visited, target_name]
    return ctx.resolve(target, merged, claims)
