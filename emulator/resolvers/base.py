"""What every resolver sees: the runtime snapshot it runs in, through a small protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from emulator.identity import Claims
from emulator.memo import Memo
from emulator.metrics.restrictions import Restrictions
from emulator.olap.duckdb import DuckDBEngine, QueryResult
from emulator.project.resources import ApiSpec, MetricsViewSpec, Project

if TYPE_CHECKING:
    from emulator.cache import ResultCache
    from emulator.olap.models import ModelsState


class ResolveContext(Protocol):
    """The parts of a runtime snapshot resolvers use."""

    @property
    def project(self) -> Project: ...

    @property
    def engine(self) -> DuckDBEngine: ...

    @property
    def memo(self) -> Memo: ...

    @property
    def generation(self) -> int: ...

    @property
    def models(self) -> ModelsState: ...

    @property
    def cache(self) -> ResultCache | None: ...

    def lookup_api(self, name: str) -> ApiSpec | None: ...

    def template_data(self, args: Mapping[str, Any], claims: Claims) -> dict[str, Any]: ...

    def resolve(self, api: ApiSpec, args: dict[str, Any], claims: Claims) -> QueryResult: ...

    def resource_status(self) -> list[tuple[str, str, str, str]]: ...

    def metrics_restrictions(self, view: MetricsViewSpec, claims: Claims) -> Restrictions: ...


Resolver = Callable[[ResolveContext, ApiSpec, dict[str, Any], Claims], QueryResult]

#: Rill's interactive row cap (instance variable rill.interactive_sql_row_limit).
ROW_CAP = 10_000


def cap_error(cap: int) -> str:
    """Rill's message when a query returns more rows than the cap."""
    return f"result cap exceeded: returned more than {cap} rows"
