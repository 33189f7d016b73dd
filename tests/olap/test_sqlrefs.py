"""What a query reads, by DuckDB's parser: tables, CTEs, and what makes an answer uncacheable."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from emulator.olap.sqlrefs import Reads, table_names, table_reads


@pytest.fixture(scope="module")
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    db = duckdb.connect()
    yield db
    db.close()


def reads(conn: duckdb.DuckDBPyConnection, sql: str) -> Reads | None:
    return table_reads(conn.cursor, sql)


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM orders", {"orders"}),
        ('SELECT * FROM "Orders" o JOIN main.customers c USING (id)', {"orders", "customers"}),
        ("FROM orders SELECT status", {"orders"}),
        ("SELECT * FROM a WHERE x IN (SELECT y FROM b) UNION ALL SELECT * FROM c", {"a", "b", "c"}),
        ("SELECT * FROM t1, LATERAL (SELECT * FROM t2 WHERE t2.k = t1.k)", {"t1", "t2"}),
        ("SELECT 1 AS one", set()),
        ("SELECT * FROM (SELECT * FROM inner_t) s", {"inner_t"}),
        ("SELECT * FROM orders WHERE note = 'now()' AND x = ? AND y = $2", {"orders"}),
    ],
)
def test_tables_read(conn: duckdb.DuckDBPyConnection, sql: str, tables: set[str]) -> None:
    result = reads(conn, sql)
    assert result is not None and result.tables == tables


def test_cte_names_are_reported_apart(conn: duckdb.DuckDBPyConnection) -> None:
    result = reads(conn, "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN t ON true")
    assert result == Reads(frozenset({"recent", "orders", "t"}), frozenset({"recent"}))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT now() AS t FROM orders",
        "SELECT current_date, * FROM orders",
        "SELECT CURRENT_TIMESTAMP FROM orders",
        "SELECT * FROM orders ORDER BY random()",
        "SELECT gen_random_uuid() FROM orders",
        "SELECT nextval('seq') FROM orders",
        "SELECT * FROM orders USING SAMPLE 10%",
        "SELECT * FROM read_csv('data/orders.csv')",
        "SELECT * FROM range(10)",
        "SELECT * FROM duckdb_tables()",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM other_db.main.orders",
        "SELECT 1; SELECT 2",
        "SELEC nothing",
        "PIVOT orders ON status USING sum(x)",
    ],
)
def test_answers_that_can_change_on_their_own_are_not_cacheable(
    conn: duckdb.DuckDBPyConnection, sql: str
) -> None:
    assert reads(conn, sql) is None


def test_a_file_path_is_a_table_name_callers_do_not_know(conn: duckdb.DuckDBPyConnection) -> None:
    # The cache only keys models: a name that is none (here a file read by replacement scan) makes the
    # query uncacheable there.
    result = reads(conn, "SELECT * FROM 'data/orders.csv'")
    assert result is not None and result.tables == {"data/orders.csv"}


def test_results_are_memoised_per_text(conn: duckdb.DuckDBPyConnection) -> None:
    calls: list[int] = []

    def factory() -> duckdb.DuckDBPyConnection:
        calls.append(1)
        return conn.cursor()

    sql = "SELECT * FROM memo_probe_table"
    first = table_reads(factory, sql)
    assert table_reads(factory, sql) == first
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("SELECT * FROM a JOIN b USING (x) WHERE y IN (SELECT 1 FROM c)", ["a", "b", "c"]),
        ("WITH t AS (SELECT * FROM src) SELECT * FROM t, main.other", ["src", "other"]),
        ("SELECT * FROM db.s.x, s.t, 'data/x.csv', read_csv('y.csv'), \"Weird Name\"", ["Weird Name"]),
        ("FROM orders SELECT region, count(*) GROUP BY ALL", ["orders"]),
        ("SELECT * FROM z UNION ALL SELECT * FROM a; SELECT * FROM w", ["z", "a", "w"]),
        ("SELECT 1", []),
        ("not SQL at all", []),
    ],
)
def test_table_names_for_model_refs(conn: duckdb.DuckDBPyConnection, sql: str, names: list[str]) -> None:
    assert table_names(sql, conn.cursor) == names
    assert table_names(sql) == names  # a private in-memory database when no engine is given
