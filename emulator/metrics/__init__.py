"""Metrics views, metrics SQL and structured metrics queries, compiled to OLAP SQL.

The names below are imported on first use (PEP 562): the SQL builder and the metrics SQL parser
import sqlglot, which a project without metrics calls should not pay for at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.metrics.builder import SYSTEM_ROW_CAP, CompiledQuery, build_sql, check_cap
    from emulator.metrics.query import MetricsQuery, parse_query
    from emulator.metrics.restrictions import Restrictions
    from emulator.metrics.sql_parser import compile_metrics_sql
    from emulator.metrics.view import RillMeasure, parse_metrics_view

_HOMES = {
    "SYSTEM_ROW_CAP": "builder",
    "CompiledQuery": "builder",
    "build_sql": "builder",
    "check_cap": "builder",
    "MetricsQuery": "query",
    "parse_query": "query",
    "Restrictions": "restrictions",
    "compile_metrics_sql": "sql_parser",
    "RillMeasure": "view",
    "parse_metrics_view": "view",
}

__all__ = [
    "SYSTEM_ROW_CAP",
    "CompiledQuery",
    "MetricsQuery",
    "Restrictions",
    "RillMeasure",
    "build_sql",
    "check_cap",
    "compile_metrics_sql",
    "parse_metrics_view",
    "parse_query",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
