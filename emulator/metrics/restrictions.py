"""What a caller's security policy contributes to a metrics query (kept apart from the SQL builder,
so that modules needing only this type do not import the builder and sqlglot at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Restrictions"]


@dataclass(frozen=True)
class Restrictions:
    """What the caller's security policy contributes to a query.

    ``row_filter`` is raw SQL over the underlying table, ANDed into the WHERE clause;
    ``hidden_fields`` are lower-cased dimension/measure names the caller may not reference.
    """

    row_filter: str | None = None
    hidden_fields: frozenset[str] = field(default_factory=frozenset)
