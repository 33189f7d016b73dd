"""Resolvers: one small module each, one signature: ``(ctx, api, args, claims) -> QueryResult``."""

from __future__ import annotations

from emulator.resolvers.api import resolve_api
from emulator.resolvers.base import ResolveContext, Resolver
from emulator.resolvers.builtins import BUILTIN_APIS, resolve_builtin_sql
from emulator.resolvers.metrics import (
    resolve_builtin_metrics,
    resolve_builtin_metrics_sql,
    resolve_metrics,
    resolve_metrics_sql,
)
from emulator.resolvers.resource_status import resolve_resource_status
from emulator.resolvers.sql import resolve_sql

RESOLVERS: dict[str, Resolver] = {
    "sql": resolve_sql,
    "api": resolve_api,
    "resource_status": resolve_resource_status,
    "builtin_sql": resolve_builtin_sql,
    "metrics_sql": resolve_metrics_sql,
    "metrics": resolve_metrics,
    "builtin_metrics": resolve_builtin_metrics,
    "builtin_metrics_sql": resolve_builtin_metrics_sql,
}

__all__ = ["BUILTIN_APIS", "RESOLVERS", "ResolveContext", "Resolver"]
