"""The DuckDB engine: atomic table swaps, query errors, build ordering."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from emulator.olap.duckdb import DuckDBEngine, QueryError, build_order, dependents_of, quote_ident


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    eng = DuckDBEngine(tmp_path)
    yield eng
    eng.close()


def test_quote_ident_escapes_quotes() -> None:
    assert quote_ident("my_model") == '"my_model"'
    assert quote_ident('a"b') == '"a""b"'


def test_relative_paths_resolve_against_the_project_root(tmp_path: Path, engine: DuckDBEngine) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("a,b\n1,2\n3,4\n")
    engine.build_table("x", "SELECT * FROM read_csv('data/x.csv')")
    assert engine.query("SELECT sum(a) FROM x").rows == [(4,)]


def test_build_replaces_a_table_and_reports_errors(engine: DuckDBEngine) -> None:
    engine.build_table("m", "SELECT 1 AS v")
    engine.build_table("m", "SELECT 2 AS v")
    assert engine.query("SELECT v FROM m").rows == [(2,)]
    with pytest.raises(QueryError) as info:
        engine.build_table("m", "SELECT nope FROM nowhere")
    assert "nowhere" in info.value.message
    # the last good table survives a failed rebuild, and no temporary table is left behind
    assert engine.query("SELECT v FROM m").rows == [(2,)]
    assert engine.tables() == {"m"}


def test_query_error_is_duckdb_text(engine: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as info:
        engine.query("SELECT x FROM (SELECT 1 AS y)")
    assert info.value.status == 400
    assert 'Referenced column "x" not found' in info.value.message


def test_query_with_params(engine: DuckDBEngine) -> None:
    result = engine.query("SELECT ? + 1 AS n", [41])
    assert result.rows == [(42,)]
    assert result.description[0][0] == "n"


def test_rebuild_during_reads_never_fails_a_reader(engine: DuckDBEngine) -> None:
    engine.build_table("t", "SELECT range AS v FROM range(1000)")
    errors: list[Exception] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                (count,) = engine.query("SELECT count(*) FROM t").rows[0]
                assert count in (1000, 2000)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(20):
        engine.build_table("t", f"SELECT range AS v FROM range({1000 if i % 2 else 2000})")
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_build_timeout_interrupts(engine: DuckDBEngine) -> None:
    with pytest.raises(QueryError) as info:
        engine.build_table("slow", "SELECT count(*) FROM range(10000000000) a", timeout=0.2)
    assert "timed out" in info.value.message


def test_build_order_and_cycles() -> None:
    order, cycles = build_order(
        {"c": {"b"}, "b": {"a"}, "a": set(), "x": {"y"}, "y": {"x"}, "z": {"unknown"}}
    )
    assert order == ["a", "z", "b", "c"]
    assert cycles == {"x": ["y"], "y": ["x"]}


def test_dependents_of() -> None:
    deps = {"a": set(), "b": {"a"}, "c": {"b"}, "d": set()}
    assert dependents_of({"a"}, deps) == {"a", "b", "c"}
    assert dependents_of({"d"}, deps) == {"d"}
