"""The result cache (reference §4.6): the JSON answers of DuckDB queries, kept as Rill keeps them.

Rill caches a resolver's result under a hash of the resolver, its cache key (the rendered SQL, or the
metrics query), the caller's user attributes, and the state of every resource the query reads; the
value is the JSON the handler writes. Here a key is (resolver kind, SQL text, bound params, row cap,
user attributes, (model, version) of each model the SQL reads), and the value is the bytes
``jsonval`` encoded, so a hit skips DuckDB and encoding both. A model's version changes each time its
table is rebuilt: a reload that rebuilds a model makes the entries reading it unreachable, while a
change to an unrelated file keeps every entry.

The server calls :meth:`ResultCache.prune` with every snapshot it swaps in: entries reading a model
rebuilt or dropped are dropped, and answers computed on an older snapshot are no longer stored. So
a version number a model gets again (dropped then created anew, or out of a dependency cycle) never
meets an entry of its former table.

Only successes are cached: a DuckDB error, a row-cap error or an encoding error is raised again on
every request. A query is cached only when its answer depends on nothing but the models it reads
(see :mod:`emulator.olap.sqlrefs`): never ``now()``, ``random()``, files read by table functions or
tables that are not models. Identical concurrent misses run the query once.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from emulator import explain, jsonval
from emulator.config import DEFAULT_CACHE_BYTES
from emulator.memo import Memo
from emulator.olap.duckdb import DuckDBEngine, QueryResult
from emulator.olap.sqlrefs import table_reads

if TYPE_CHECKING:
    from emulator.identity import Claims
    from emulator.olap.models import ModelsState
    from emulator.project.resources import ApiSpec
    from emulator.resolvers.base import ResolveContext
    from emulator.runtime import Runtime

T = TypeVar("T")

#: Bytes counted per entry on top of its data and SQL text (key tuple, entry object, dict slot).
ENTRY_OVERHEAD = 512

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes of a size as DuckDB writes them: ``256MiB`` (binary), ``300MB`` (decimal), ``4096``, ``0``."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"invalid size {text!r}: expected a number of bytes or e.g. 256MiB, 300MB, 1GiB")
    return int(float(match.group(1)) * _UNITS[unit])


class CacheKey(NamedTuple):
    """What a cached answer depends on."""

    kind: str
    sql: str
    params: tuple[Hashable, ...]
    cap: int | None
    attributes: bytes
    models: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Entry:
    """A cached answer: its JSON bytes, its row count and columns (for explain output)."""

    data: bytes
    rows: int
    description: Sequence[tuple[Any, ...]]
    size: int


@dataclass(frozen=True)
class EncodedResult(QueryResult):
    """A query result with the JSON the server sends (Rill's encoding); ``cached`` for a cache hit.

    A hit carries no rows, only their encoding: the server sends ``encoded`` as it is.
    """

    encoded: bytes = b""
    cached: bool = False
    row_count: int = 0


class ResultCache:
    """A thread-safe LRU of encoded answers, bounded by bytes (``max_bytes`` 0 keeps nothing)."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        #: The generation of the newest snapshot pruned for: answers of older ones are not stored.
        self.generation = 0
        self._flights: dict[CacheKey, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, int]:
        """Entries, bytes used and allowed, hits and misses since start."""
        with self._lock:
            return {
                "entries": len(self._entries),
                "bytes": self.bytes,
                "max_bytes": self.max_bytes,
                "hits": self.hits,
                "misses": self.misses,
            }

    def get(self, key: CacheKey) -> Entry | None:
        """The entry under ``key`` (now the most recently used), or None; counts a hit or a miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: CacheKey, entry: Entry, generation: int | None = None) -> bool:
        """Keep ``entry``, evicting the least recently used ones to stay within ``max_bytes``.

        Not kept (returns False): an entry larger than the whole budget, or one computed on a snapshot
        (``generation``) older than the last one pruned for.
        """
        if entry.size > self.max_bytes:
            return False
        with self._lock:
            if generation is not None and generation < self.generation:
                return False
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = entry
            self.bytes += entry.size
            while self.bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.bytes -= evicted.size
        return True

    def fetch(
        self, key: CacheKey, compute: Callable[[], tuple[QueryResult, Entry]], generation: int = 0
    ) -> EncodedResult:
        """The answer under ``key``, computed (and kept) on a miss.

        Concurrent callers missing the same key wait for the first one's answer instead of running the
        query again; if it fails, each runs the query itself (errors are never shared or kept). An answer
        computed on a snapshot older than the last pruned one (``generation``) is not kept.
        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return _hit(entry)
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = threading.Event()
        if not leader:
            flight.wait()
            entry = self.get(key)
            if entry is not None:
                return _hit(entry)
            result, entry = compute()
            return EncodedResult(result.description, result.rows, entry.data, row_count=entry.rows)
        try:
            with self._lock:
                self.misses += 1
            result, entry = compute()
            self.put(key, entry, generation)
            return EncodedResult(result.description, result.rows, entry.data, row_count=entry.rows)
        finally:
            with self._lock:
                del self._flights[key]
            flight.set()

    def prune(self, models: ModelsState, generation: int) -> int:
        """Make the cache fit snapshot ``generation`` with ``models``; returns how many entries went.

        Drops the entries reading a model rebuilt or removed since, and from now on refuses answers
        computed on older snapshots (a request still running on one would store them late).
        """
        current = models.models
        with self._lock:
            self.generation = max(self.generation, generation)
            stale = [
                key
                for key in self._entries
                if any(
                    (st := current.get(name)) is None or st.version != version for name, version in key.models
                )
            ]
            for key in stale:
                self.bytes -= self._entries.pop(key).size
        return len(stale)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0


def cache_key(
    ctx: ResolveContext,
    kind: str,
    sql: str,
    params: Sequence[Any],
    cap: int | None,
    claims: Claims,
) -> CacheKey | None:
    """The key of a query's answer, or None when it must not be cached.

    Not cached: SQL that reads no model, reads a table that is not one (or a model whose last build
    failed), or whose answer may change on its own (:func:`emulator.olap.sqlrefs.table_reads`).
    """
    reads = table_reads(ctx.engine.cursor, sql)
    if reads is None:
        return None
    statuses = ctx.models.models
    versions: list[tuple[str, int]] = []
    for name in sorted(reads.tables):
        status = statuses.get(name)
        if status is None:
            if name in reads.ctes:
                continue
            return None
        if status.error is not None:
            return None
        versions.append((name, status.version))
    if not versions:
        return None
    bound = _params_key(params)
    attributes = claims.attributes_key
    if bound is None or attributes is None:
        return None
    return CacheKey(kind, sql, bound, cap, attributes, tuple(versions))


def run_cached(
    ctx: ResolveContext,
    kind: str,
    sql: str,
    params: Sequence[Any],
    cap: int | None,
    claims: Claims,
    run: Callable[[], QueryResult],
) -> QueryResult:
    """``run()`` (which executes ``sql`` with ``params`` and checks the row cap), through the cache.

    Without a cache, or for a query that must not be cached, this is ``run()``. Otherwise the answer is
    an :class:`EncodedResult`, encoded once on a miss.
    """
    cache: ResultCache | None = ctx.cache
    if cache is None or cache.max_bytes <= 0:
        return run()
    key = cache_key(ctx, kind, sql, params, cap, claims)
    if key is None:
        return run()

    def compute() -> tuple[QueryResult, Entry]:
        result = run()
        data = jsonval.encode_result(result.description, result.rows)
        size = len(data) + len(sql) + len(key.attributes) + ENTRY_OVERHEAD
        return result, Entry(data, len(result.rows), tuple(result.description), size)

    trace = explain.active()
    recorded = len(trace.queries) if trace is not None else 0
    answer = cache.fetch(key, compute, ctx.generation)
    if trace is not None:
        if answer.cached:  # listed as a query the cache answered
            trace.queries.append(
                {
                    "sql": sql,
                    "params": list(params),
                    "rows": answer.row_count,
                    "cache": "hit",
                    "duration_ms": 0.0,
                }
            )
        elif len(trace.queries) > recorded:
            trace.queries[-1]["cache"] = "miss"
    return answer


class _NeedsThread(Exception):
    """The loop-side attempt reached work that may block (DuckDB, a compilation not yet memoised)."""


def _needs_thread() -> Any:
    raise _NeedsThread


class _LoopEngine(DuckDBEngine):
    """An engine stand-in for the loop-side attempt: any use of DuckDB defers to a worker thread."""

    def __init__(self, inner: DuckDBEngine) -> None:
        # Deliberately no super().__init__(): this opens nothing.
        self.inner = inner
        self.root = inner.root

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        raise _NeedsThread

    def cursor(self) -> Any:
        raise _NeedsThread

    def tables(self) -> set[str]:
        raise _NeedsThread

    def close(self) -> None:
        """Nothing to close: the wrapped engine belongs to the server."""


class _LoopMemo(Memo):
    """The snapshot's memo, read-only: a value not memoised yet defers to a worker thread."""

    def __init__(self, inner: Memo) -> None:
        self.inner = inner

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        value: T = self.inner.get(key, _needs_thread)
        return value


def answer_without_blocking(
    runtime: Runtime, api: ApiSpec, args: dict[str, Any], claims: Claims
) -> bytes | None:
    """The answer to a request when it needs neither DuckDB nor a new compilation (a cache hit), or None.

    Run on the event loop before handing a request to a worker thread: a cache hit then costs no thread
    hop. The attempt runs the resolver on the same snapshot with an engine and a memo that refuse
    anything that may block; errors it meets are the request's own (they would be met in the thread
    the same way).
    """
    if runtime.cache is None:
        return None
    loop_runtime: Runtime = runtime.memo.get(
        _LOOP_RUNTIME,
        lambda: replace(runtime, engine=_LoopEngine(runtime.engine), memo=_LoopMemo(runtime.memo)),
    )
    try:
        return encoded(loop_runtime.resolve(api, args, claims))
    except _NeedsThread:
        return None


_LOOP_RUNTIME = ("cache.loop_runtime",)


def encoded(result: QueryResult) -> bytes:
    """The JSON body of a result: its cached encoding, or the rows encoded now."""
    if isinstance(result, EncodedResult):
        return result.encoded
    return jsonval.encode_result(result.description, result.rows)


def _hit(entry: Entry) -> EncodedResult:
    return EncodedResult(entry.description, [], entry.data, cached=True, row_count=entry.rows)


def _params_key(params: Sequence[Any]) -> tuple[Hashable, ...] | None:
    """Bound args as a key: each value with its type (``1``, ``1.0`` and ``True`` bind differently)."""
    out: list[Hashable] = []
    for value in params:
        try:
            hash(value)
        except TypeError:
            return None
        out.append((type(value).__name__, value))
    return tuple(out)
