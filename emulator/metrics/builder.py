"""Compiling a :class:`MetricsQuery` against a metrics view into one SQL statement with parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from emulator.errors import BadRequest
from emulator.metrics.dialect import DUCKDB, Dialect
from emulator.metrics.plan import AST
from emulator.metrics.query import MetricsQuery
from emulator.metrics.restrictions import Restrictions
from emulator.project.resources import MetricsViewSpec

__all__ = ["SYSTEM_ROW_CAP", "CompiledQuery", "Restrictions", "build_sql", "check_cap"]

_NO_RESTRICTIONS = Restrictions()

# Rill's rill.interactive_sql_row_limit default.
SYSTEM_ROW_CAP = 10_000


@dataclass(frozen=True)
class CompiledQuery:
    """SQL text, its positional parameters, and the row cap to check on the result (None: no check).

    Output columns are named as Rill names them (field names, or display names).
    """

    sql: str
    params: tuple[Any, ...]
    cap: int | None


def build_sql(
    query: MetricsQuery,
    view: MetricsViewSpec,
    restrictions: Restrictions = _NO_RESTRICTIONS,
    *,
    dialect: Dialect = DUCKDB,
) -> CompiledQuery:
    """Compile ``query`` for ``view``; every invalid query raises BadRequest with Rill's message."""
    query.validate()
    if query.pivot_on:
        raise BadRequest('"pivot_on" is not supported by rill-emu')
    if query.spine is not None:
        raise BadRequest('"spine" is not supported by rill-emu')
    if query.comparison_time_range is not None:
        raise BadRequest('"comparison_time_range" is not supported by rill-emu')
    cap: int | None = None
    if query.limit is None:
        query = replace(query, limit=SYSTEM_ROW_CAP + 1)
        cap = SYSTEM_ROW_CAP
    elif query.limit > SYSTEM_ROW_CAP:
        raise BadRequest(f"query limit of {query.limit} rows exceeds the system cap of {SYSTEM_ROW_CAP} rows")
    sql, params = AST(view, restrictions, query, dialect).sql()
    return CompiledQuery(sql, tuple(params), cap)


def check_cap(rows: Sequence[Any], cap: int | None) -> None:
    """Raise if a capped query returned more rows than the cap (it was run with LIMIT cap+1)."""
    if cap is not None and len(rows) > cap:
        raise BadRequest(f"result cap exceeded: returned more than {cap} rows")
