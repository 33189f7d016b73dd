"""Explain output: what a request ran as, which SQL it executed, what security did, how long it took.

Opt in per request with ``X-Rill-Emu-Explain: 1``; the response body never changes. The answer comes
in response headers: ``X-Rill-Emu-Explain`` (one line of ASCII JSON, see :meth:`Explain.as_dict`) and
the standard ``Server-Timing`` (shown by browser dev tools).

Collection uses a context variable, so the security layer and the engine wrapper record into the
current request's :class:`Explain` without being handed it; outside an explained request the
``record_*`` functions do nothing.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.olap.duckdb import DuckDBEngine, QueryResult

if TYPE_CHECKING:
    import duckdb

    from emulator.identity import Claims

REQUEST_HEADER = "x-rill-emu-explain"
RESPONSE_HEADER = "X-Rill-Emu-Explain"
#: Response headers a browser page must be allowed to read (CORS ``Access-Control-Expose-Headers``).
EXPOSED_HEADERS = (RESPONSE_HEADER, "Server-Timing")

_current: contextvars.ContextVar[Explain | None] = contextvars.ContextVar("rill_emu_explain", default=None)


def wanted(headers: Mapping[str, str]) -> bool:
    """Whether the request asks for explain output (``1``, ``true``, ``yes``, ``on``)."""
    value = headers.get(REQUEST_HEADER)
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Explain:
    """What one request did, collected while it runs."""

    started: float = field(default_factory=time.perf_counter)
    identity: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)
    queries: list[dict[str, Any]] = field(default_factory=list)
    security: list[dict[str, Any]] = field(default_factory=list)

    def set_identity(self, claims: Claims) -> None:
        """Record who the request runs as."""
        self.identity = {
            "source": claims.source,
            "subject": claims.subject,
            "attributes": dict(claims.attributes),
            "skip_checks": claims.skip_checks,
        }

    def as_dict(self) -> dict[str, Any]:
        """The explain document: ``identity``, ``api``, ``security``, ``queries``, ``duration_ms``."""
        return {
            "identity": self.identity,
            "api": self.api,
            "security": self.security,
            "queries": self.queries,
            "duration_ms": round((time.perf_counter() - self.started) * 1000, 3),
        }

    def headers(self) -> dict[str, str]:
        """The response headers carrying this explain output."""
        doc = self.as_dict()
        sql_ms = sum(q["duration_ms"] for q in self.queries)
        timing = (
            f'total;dur={doc["duration_ms"]}, sql;dur={round(sql_ms, 3)};desc="{len(self.queries)} queries"'
        )
        return {
            RESPONSE_HEADER: json.dumps(doc, ensure_ascii=True, separators=(",", ":"), default=str),
            "Server-Timing": timing,
        }


def start() -> tuple[Explain, contextvars.Token[Explain | None]]:
    """Begin collecting for the current context; pass the token to :func:`stop`."""
    current = Explain()
    return current, _current.set(current)


def stop(token: contextvars.Token[Explain | None]) -> None:
    """Stop collecting (restores the previous context value)."""
    _current.reset(token)


def active() -> Explain | None:
    """The explain being collected for the current request, if any."""
    return _current.get()


def record_security(view: str, access: bool, row_filter: str, hidden_fields: Sequence[str]) -> None:
    """Record a metrics view's resolved policy (no-op outside an explained request)."""
    current = _current.get()
    if current is not None:
        current.security.append(
            {
                "metrics_view": view,
                "access": access,
                "row_filter": row_filter,
                "hidden_fields": list(hidden_fields),
            }
        )


def record_api_access(api: str, access: bool) -> None:
    """Record the outcome of an API's own access rule (no-op outside an explained request)."""
    current = _current.get()
    if current is not None:
        current.security.append({"api": api, "access": access})


class RecordingEngine(DuckDBEngine):
    """A DuckDB engine that records each query (SQL, params, rows, time) of the current request.

    It wraps the real engine; the runtime snapshot used for an explained request swaps it in.
    """

    def __init__(self, inner: DuckDBEngine, explain: Explain) -> None:
        # Deliberately no super().__init__(): the wrapped engine owns the database.
        self.inner = inner
        self.root = inner.root
        self.explain = explain

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        """Run the query on the wrapped engine and record it."""
        started = time.perf_counter()
        entry: dict[str, Any] = {"sql": sql, "params": list(params or [])}
        try:
            result = self.inner.query(sql, params)
        except Exception as exc:
            entry["error"] = str(exc)
            raise
        else:
            entry["rows"] = len(result.rows)
            return result
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.explain.queries.append(entry)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the wrapped engine (not recorded)."""
        return self.inner.cursor()

    def tables(self) -> set[str]:
        """The wrapped engine's tables."""
        return self.inner.tables()

    def close(self) -> None:
        """Nothing to close: the wrapped engine belongs to the server."""
