"""Metrics views, metrics SQL and structured metrics queries, compiled to OLAP SQL."""

from __future__ import annotations

from emulator.metrics.builder import SYSTEM_ROW_CAP, CompiledQuery, Restrictions, build_sql, check_cap
from emulator.metrics.query import MetricsQuery, parse_query
from emulator.metrics.sql_parser import compile_metrics_sql
from emulator.metrics.view import RillMeasure, parse_metrics_view

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
