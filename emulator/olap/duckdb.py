"""The DuckDB engine: one database, models materialised as tables, a cursor per query.

Models are built aside (into a temporary table) and swapped in by a rename inside one transaction, so a
query running during a rebuild sees either the old table or the new one, never a missing one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from emulator.errors import BadRequest
from emulator.olap.timeouts import Watchdog

#: How long one model may take to build before it is interrupted (remote reads that cannot connect).
DEFAULT_MODEL_TIMEOUT = 30.0
#: How long ``close`` waits for interrupted queries to end before closing the database.
CLOSE_WAIT_S = 5.0

_TMP_PREFIX = "__rill_emu_tmp_"


def quote_ident(name: str) -> str:
    """Quote an identifier the DuckDB way (what Rill's `ref` renders)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class QueryResult:
    """Rows of a query with the cursor's description (name, type, ...) of each column."""

    description: Sequence[tuple[Any, ...]]
    rows: list[tuple[Any, ...]]


class QueryError(BadRequest):
    """A query failed in DuckDB; the message is DuckDB's own text, as Rill returns it."""


class QueryTimeout(QueryError):
    """A query ran past the engine's ``query_timeout`` and was interrupted."""


class QueryInterrupted(QueryError):
    """A query was interrupted because the server is stopping: 503."""

    status = 503


class DuckDBEngine:
    """One DuckDB database (in memory, or a file with ``db_path``) rooted at a project folder.

    ``query_timeout`` (seconds, None for none) bounds every ``query``: past it the query is
    interrupted and fails with :class:`QueryTimeout`.
    """

    dialect = "duckdb"

    def __init__(
        self,
        root: Path,
        db_path: Path | None = None,
        *,
        threads: int | None = None,
        query_timeout: float | None = None,
    ) -> None:
        self.root = root
        self.query_timeout = query_timeout
        self._watchdog = Watchdog()
        self._conn = duckdb.connect(str(db_path) if db_path else ":memory:")
        # Relative file paths in model SQL resolve against the project root, as in Rill.
        self._conn.execute(f"SET GLOBAL file_search_path = '{_sql_string(str(root.resolve()))}'")
        # Never download extensions behind the user's back (and never hang on a closed network): a remote
        # path needs httpfs installed beforehand, and says so in its error.
        self._conn.execute("SET GLOBAL autoinstall_known_extensions = false")
        if threads:
            self._conn.execute(f"SET GLOBAL threads = {int(threads)}")
        self._ddl_lock = threading.Lock()
        self._closed = False

    def interrupt_queries(self) -> int:
        """Interrupt every query running now (they fail with :class:`QueryInterrupted`); how many."""
        return self._watchdog.interrupt_all()

    def close(self) -> None:
        """Interrupt the queries still running, then close the database (checkpointing a file)."""
        if not self._closed:
            self._closed = True
            if self.interrupt_queries():
                self._watchdog.wait_idle(CLOSE_WAIT_S)
            self._watchdog.stop()
            self._conn.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor: each request uses its own, so queries run concurrently."""
        return self._conn.cursor()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        """Run one statement on a fresh cursor and fetch every row."""
        cur = self._conn.cursor()
        guard = self._watchdog.watch(cur, self.query_timeout)
        try:
            if params:
                cur.execute(sql, list(params))
            else:
                cur.execute(sql)
            description = cur.description or []
            rows = cur.fetchall() if description else []
            return QueryResult(description, rows)
        except duckdb.Error as exc:
            if guard.expired:
                raise QueryTimeout(f"query timed out after {self.query_timeout:g}s") from None
            if guard.stopped:
                raise QueryInterrupted("query interrupted: the server is shutting down") from None
            raise QueryError(str(exc)) from None
        finally:
            guard.release()
            cur.close()

    def tables(self) -> set[str]:
        """Names of the user tables and views in the main schema."""
        rows = (
            self._conn.cursor()
            .execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")
            .fetchall()
        )
        return {r[0] for r in rows if not r[0].startswith(_TMP_PREFIX)}

    def build_table(self, name: str, sql: str, *, timeout: float = DEFAULT_MODEL_TIMEOUT) -> None:
        """Materialise ``sql`` as table ``name``, replacing it atomically; raises QueryError on failure."""
        tmp = quote_ident(_TMP_PREFIX + name)
        cur = self._conn.cursor()
        try:
            with self._watchdog.watch(cur, timeout) as guard:
                cur.execute(f"CREATE OR REPLACE TABLE {tmp} AS {sql}\n")
        except duckdb.Error as exc:
            _drop_quietly(cur, tmp)
            if guard.expired:
                raise QueryError(f"model build timed out after {timeout:g}s: {exc}") from None
            raise QueryError(str(exc)) from None
        with self._ddl_lock:
            try:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
                cur.execute(f"DROP VIEW IF EXISTS {quote_ident(name)}")
                cur.execute(f"ALTER TABLE {tmp} RENAME TO {quote_ident(name)}")
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                _drop_quietly(cur, tmp)
                raise QueryError(str(exc)) from None
            finally:
                cur.close()

    def drop_table(self, name: str) -> None:
        """Drop a model's table if it exists."""
        with self._ddl_lock:
            cur = self._conn.cursor()
            try:
                cur.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
            finally:
                cur.close()


def _drop_quietly(cur: duckdb.DuckDBPyConnection, tmp: str) -> None:
    with contextlib.suppress(duckdb.Error):
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


def build_order(deps: Mapping[str, Iterable[str]]) -> tuple[list[str], dict[str, list[str]]]:
    """Order nodes so each comes after its dependencies (stable: sorted by name among equals).

    ``deps`` maps a node to the nodes it depends on (unknown names are ignored). Returns the order and,
    for nodes in a cycle, the cycle's members.
    """
    nodes = sorted(deps)
    known = set(nodes)
    pending = {n: {d for d in deps[n] if d in known and d != n} for n in nodes}
    order: list[str] = []
    done: set[str] = set()
    while True:
        ready = [n for n in nodes if n not in done and not (pending[n] - done)]
        if not ready:
            break
        for n in ready:
            order.append(n)
            done.add(n)
    cycles = {n: sorted(pending[n] - done) for n in nodes if n not in done}
    return order, cycles


def dependents_of(changed: Iterable[str], deps: Mapping[str, Iterable[str]]) -> set[str]:
    """Every node that depends, directly or not, on a node of ``changed`` (the changed ones included)."""
    reverse: dict[str, set[str]] = {}
    for node, ds in deps.items():
        for d in ds:
            reverse.setdefault(d, set()).add(node)
    out: set[str] = set()
    stack = list(changed)
    while stack:
        n = stack.pop()
        if n in out:
            continue
        out.add(n)
        stack.extend(reverse.get(n, ()))
    return out
