"""The ``resource_status`` resolver: one row per project resource (§1.2)."""

from __future__ import annotations

from typing import Any

from emulator.identity import Claims
from emulator.olap.duckdb import QueryResult
from emulator.project.resources import ApiSpec
from emulator.resolvers.base import ResolveContext

_DESCRIPTION = [(c, "VARCHAR") for c in ("type", "name", "status", "error")]


def resolve_resource_status(
    ctx: ResolveContext, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> QueryResult:
    """Rows ``{type, name, status, error}``, sorted by kind then name; ``where_error`` keeps failures."""
    rows = ctx.resource_status()
    if api.props.get("where_error"):
        rows = [r for r in rows if r[3]]
    return QueryResult(_DESCRIPTION, [tuple(r) for r in rows])
