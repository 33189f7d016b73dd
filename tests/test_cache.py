"""The result cache: LRU by bytes, key rules, what is never cached, coalesced misses (no server)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.cache import (
    CacheKey,
    EncodedResult,
    Entry,
    ResultCache,
    answer_without_blocking,
    cache_key,
    encoded,
    parse_size,
    run_cached,
)
from emulator.errors import BadRequest
from emulator.identity import ANONYMOUS_ADMIN, Claims
from emulator.olap.duckdb import DuckDBEngine, QueryError, QueryResult
from emulator.runtime import Runtime, RuntimeBuilder


def key(name: str, models: tuple[tuple[str, int], ...] = (("m", 1),)) -> CacheKey:
    return CacheKey("sql", name, (), None, b"{}", models)


def entry(size: int, data: bytes = b"[]") -> Entry:
    return Entry(data, 0, (), size)


# -- sizes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("4096", 4096),
        ("256MiB", 256 * 2**20),
        ("300MB", 300 * 10**6),
        ("1.5GiB", 3 * 2**29),
        ("64 kb", 64000),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "-1MB", "12XB", "1e6"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


# -- LRU bounded by bytes ----------------------------------------------------------------------------


def test_evicts_least_recently_used_to_stay_within_bytes() -> None:
    cache = ResultCache(max_bytes=300)
    for name in "abc":
        assert cache.put(key(name), entry(100))
    assert cache.bytes == 300 and len(cache) == 3
    assert cache.get(key("a")) is not None  # a is now the most recent
    cache.put(key("d"), entry(150))  # evicts b then c
    assert [cache.get(key(n)) is not None for n in "abcd"] == [True, False, False, True]
    assert cache.bytes == 250


def test_replacing_an_entry_recounts_its_bytes() -> None:
    cache = ResultCache(max_bytes=1000)
    cache.put(key("a"), entry(400))
    cache.put(key("a"), entry(100))
    assert cache.bytes == 100 and len(cache) == 1


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    cache = ResultCache(max_bytes=100)
    cache.put(key("small"), entry(50))
    assert not cache.put(key("big"), entry(101))
    assert cache.get(key("big")) is None and cache.get(key("small")) is not None


def test_hits_and_misses_are_counted() -> None:
    cache = ResultCache()
    cache.get(key("a"))
    cache.put(key("a"), entry(10))
    cache.get(key("a"))
    assert cache.stats() == {"entries": 1, "bytes": 10, "max_bytes": cache.max_bytes, "hits": 1, "misses": 1}


def test_prune_drops_entries_of_rebuilt_or_removed_models(tmp_path: Path) -> None:
    runtime, engine = build(tmp_path, {"models/m.sql": "SELECT 1 AS x", "models/n.sql": "SELECT 2 AS y"})
    try:
        versions = runtime.models.versions
        cache = ResultCache()
        cache.put(key("reads m", (("m", versions["m"]),)), entry(10))
        cache.put(key("reads n", (("n", versions["n"]),)), entry(10))
        cache.put(key("reads m before", (("m", versions["m"] - 1000),)), entry(10))
        cache.put(key("reads gone", (("gone", 1),)), entry(10))
        assert cache.prune(runtime.models, runtime.generation) == 2
        assert {k.sql for k in cache._entries} == {"reads m", "reads n"}
        assert cache.bytes == 20
    finally:
        engine.close()


# -- coalescing --------------------------------------------------------------------------------------


def test_identical_concurrent_misses_run_once() -> None:
    cache = ResultCache()
    calls: list[int] = []
    started = threading.Event()

    def compute() -> tuple[QueryResult, Entry]:
        calls.append(1)
        started.set()
        time.sleep(0.05)
        return QueryResult([("x", "INTEGER")], [(1,)]), entry(10, b'[{"x":1}]')

    results: list[EncodedResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.fetch(key("q"), compute))) for _ in range(8)
    ]
    threads[0].start()
    started.wait()
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert {r.encoded for r in results} == {b'[{"x":1}]'}
    assert sum(r.cached for r in results) == 7


def test_a_failed_miss_is_not_shared_and_not_kept() -> None:
    cache = ResultCache()
    gate = threading.Event()
    calls: list[int] = []

    def failing() -> tuple[QueryResult, Entry]:
        calls.append(1)
        gate.wait(1)
        raise BadRequest("boom")

    errors: list[str] = []

    def call() -> None:
        try:
            cache.fetch(key("q"), failing)
        except BadRequest as exc:
            errors.append(exc.message)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    gate.set()
    for t in threads:
        t.join()
    assert errors == ["boom"] * 3 and len(calls) == 3  # each waiter ran the query itself
    assert len(cache) == 0


# -- keys on a real runtime --------------------------------------------------------------------------

FILES = {
    "rill.yaml": "compiler: rillv1\n",
    "data/items.csv": "id,price\n1,10\n2,20\n",
    "models/m.sql": "SELECT * FROM read_csv('data/items.csv')",
    "models/broken.sql": "SELECT * FROM nowhere",
}


def build(root: Path, files: dict[str, str]) -> tuple[Runtime, DuckDBEngine]:
    for rel, text in {"rill.yaml": "compiler: rillv1\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    engine = DuckDBEngine(root)
    return RuntimeBuilder(root, engine, cache=ResultCache()).build(), engine


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt, engine = build(tmp_path, FILES)
    yield rt
    engine.close()


USER_A = Claims({"email": "a@x.com", "admin": False})
USER_B = Claims({"email": "b@x.com", "admin": False})


def test_key_holds_the_versions_of_the_models_read(runtime: Runtime) -> None:
    k = cache_key(runtime, "sql", "SELECT * FROM m JOIN m AS again USING (id)", (), 10, USER_A)
    assert k is not None
    assert k.models == (("m", runtime.models.versions["m"]),)
    assert k.attributes == b'{"admin":false,"email":"a@x.com"}'


def test_key_differs_by_identity_params_and_kind(runtime: Runtime) -> None:
    sql = "SELECT * FROM m WHERE id = ?"
    a = cache_key(runtime, "metrics", sql, (1,), None, USER_A)
    assert a is not None
    assert a != cache_key(runtime, "metrics", sql, (1,), None, USER_B)
    assert a != cache_key(runtime, "metrics", sql, (1.0,), None, USER_A)
    assert a != cache_key(runtime, "metrics", sql, (True,), None, USER_A)
    assert a != cache_key(runtime, "sql", sql, (1,), None, USER_A)
    assert a == cache_key(runtime, "metrics", sql, (1,), None, Claims({"admin": False, "email": "a@x.com"}))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS x",  # reads no model: Rill does not cache it either
        "SELECT now() AS t, * FROM m",
        "SELECT * FROM m ORDER BY random()",
        "SELECT * FROM read_csv('data/items.csv')",
        "SELECT * FROM 'data/items.csv'",
        "SELECT * FROM m JOIN not_a_model USING (id)",
        "SELECT * FROM broken",  # a model whose build failed
    ],
)
def test_uncacheable_queries_have_no_key(runtime: Runtime, sql: str) -> None:
    assert cache_key(runtime, "sql", sql, (), None, USER_A) is None


def test_ctes_are_not_tables(runtime: Runtime) -> None:
    k = cache_key(runtime, "sql", "WITH c AS (SELECT * FROM m) SELECT * FROM c", (), None, USER_A)
    assert k is not None and [name for name, _ in k.models] == ["m"]


def test_unhashable_params_are_not_cached(runtime: Runtime) -> None:
    assert cache_key(runtime, "metrics", "SELECT * FROM m WHERE id = ANY(?)", ([1, 2],), None, USER_A) is None


# -- run_cached --------------------------------------------------------------------------------------


def query(runtime: Runtime, sql: str, calls: list[str], cap: int | None = None) -> QueryResult:
    def run() -> QueryResult:
        calls.append(sql)
        result = runtime.engine.query(sql)
        if cap is not None and len(result.rows) > cap:
            raise BadRequest("result cap exceeded")
        return result

    return run_cached(runtime, "sql", sql, (), cap, ANONYMOUS_ADMIN, run)


def test_a_hit_returns_the_encoded_answer_without_running(runtime: Runtime) -> None:
    calls: list[str] = []
    first = query(runtime, "SELECT id, price FROM m ORDER BY id", calls)
    second = query(runtime, "SELECT id, price FROM m ORDER BY id", calls)
    assert isinstance(first, EncodedResult) and isinstance(second, EncodedResult)
    assert not first.cached and first.rows == [(1, 10), (2, 20)]
    assert second.cached and second.rows == [] and second.row_count == 2
    assert first.encoded == second.encoded == b'[{"id":1,"price":10},{"id":2,"price":20}]'
    assert len(calls) == 1


def test_errors_are_never_cached(runtime: Runtime) -> None:
    calls: list[str] = []
    for _ in range(2):
        with pytest.raises(QueryError):
            query(runtime, "SELECT no_such_column FROM m", calls)
        with pytest.raises(BadRequest, match="cap"):
            query(runtime, "SELECT * FROM m", calls, cap=1)
    assert len(calls) == 4
    assert runtime.cache is not None and len(runtime.cache) == 0


def test_uncacheable_queries_run_every_time(runtime: Runtime) -> None:
    calls: list[str] = []
    query(runtime, "SELECT now() AS t, * FROM m", calls)
    second = query(runtime, "SELECT now() AS t, * FROM m", calls)
    assert len(calls) == 2 and not isinstance(second, EncodedResult)


def test_no_cache_runs_every_time(tmp_path: Path) -> None:
    for rel, text in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    engine = DuckDBEngine(tmp_path)
    try:
        runtime = RuntimeBuilder(tmp_path, engine).build()
        calls: list[str] = []
        query(runtime, "SELECT * FROM m", calls)
        query(runtime, "SELECT * FROM m", calls)
        assert len(calls) == 2
    finally:
        engine.close()


def test_answers_of_older_snapshots_are_not_stored_after_a_prune(tmp_path: Path) -> None:
    """A model dropped then created again restarts at version 1: no entry of its former table survives.

    The drop's prune removes the entries reading it, and a request still running on the older
    snapshot cannot store its answer afterwards.
    """
    files = {"models/m.sql": "SELECT 1 AS x", "models/n.sql": "SELECT 2 AS y"}
    _, engine = build(tmp_path, files)
    try:
        builder = RuntimeBuilder(tmp_path, engine)
        gen1 = builder.build()
        cache = ResultCache()
        cache.prune(gen1.models, 1)
        old_key = key("SELECT * FROM m", (("m", gen1.models.versions["m"]),))
        cache.put(old_key, entry(10), generation=1)
        (tmp_path / "models/m.sql").unlink()
        gen2 = builder.build()
        assert cache.prune(gen2.models, 2) == 1
        assert not cache.put(old_key, entry(10), generation=1)  # a late answer of generation 1
        (tmp_path / "models/m.sql").write_text("SELECT 3 AS x")
        gen3 = builder.build()
        cache.prune(gen3.models, 3)
        assert gen3.models.versions["m"] == gen1.models.versions["m"]  # the version comes back...
        assert cache.get(old_key) is None  # ...but no answer of the old table does
        assert cache.put(old_key, entry(10), generation=3)
    finally:
        engine.close()


def test_hits_are_answered_without_a_worker_thread(tmp_path: Path) -> None:
    files = {
        **FILES,
        "apis/items.yaml": "type: api\nsql: SELECT id FROM m WHERE price > {{ .args.min }} ORDER BY id\n",
    }
    runtime, engine = build(tmp_path, files)
    try:
        api = runtime.lookup_api("items")
        assert api is not None
        args = {"min": "5"}
        assert answer_without_blocking(runtime, api, args, ANONYMOUS_ADMIN) is None  # a miss needs DuckDB
        assert encoded(runtime.resolve(api, args, ANONYMOUS_ADMIN)) == b'[{"id":1},{"id":2}]'
        assert answer_without_blocking(runtime, api, args, ANONYMOUS_ADMIN) == b'[{"id":1},{"id":2}]'
        assert answer_without_blocking(runtime, api, {"min": "15"}, ANONYMOUS_ADMIN) is None
        with pytest.raises(BadRequest, match="priority"):  # the request's own errors surface as they are
            answer_without_blocking(runtime, api, {"min": "5", "priority": "high"}, ANONYMOUS_ADMIN)
    finally:
        engine.close()
