"""Which tables a DuckDB query reads, by DuckDB's own parser, and whether its result depends on nothing else.

Rill infers the refs of a SQL resolver from DuckDB's parse tree (``json_serialize_sql``, through
``runtime/pkg/duckdbsql``); the result cache keys a query by the versions of the tables it reads, so
it needs the same, plus a safety net Rill does not have: a query whose answer can change while those
tables do not (``now()``, ``random()``, a table function reading files, a sample, a table that is not
a model) is reported as not cacheable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson

from emulator.memo import Memo

#: Functions (and bare keywords such as ``current_date``) whose value changes between runs.
VOLATILE = frozenset(
    {
        "current_date",
        "current_localtime",
        "current_localtimestamp",
        "current_setting",
        "current_time",
        "current_timestamp",
        "currval",
        "gen_random_uuid",
        "get_current_time",
        "get_current_timestamp",
        "getvariable",
        "localtime",
        "localtimestamp",
        "nextval",
        "now",
        "random",
        "setseed",
        "today",
        "transaction_timestamp",
        "uuid",
        "uuidv4",
        "uuidv7",
    }
)

_MEMO = Memo(capacity=8192)


@dataclass(frozen=True)
class Reads:
    """The names a query reads from (lower-cased, unqualified), and the names its CTEs define.

    A name in both may be either (CTEs are scoped): callers treat it as a table when one exists.
    """

    tables: frozenset[str]
    ctes: frozenset[str]


def table_reads(cursor_factory: Callable[[], Any], sql: str) -> Reads | None:
    """What ``sql`` reads, or None if its result may vary while the tables it reads do not.

    ``cursor_factory`` returns a DuckDB cursor (``engine.cursor``); DuckDB only parses the text
    (nothing is bound or run). Memoised per text. None when the text is not one SELECT DuckDB can
    serialise, or it reads a table function, a sample, a name qualified by a catalog or a schema other
    than ``main``, or calls a volatile function.
    """
    return _MEMO.get(sql, lambda: _analyse(cursor_factory, sql))


def _statements(cursor_factory: Callable[[], Any], sql: str) -> list[Any] | None:
    """DuckDB's parse tree of ``sql`` (``json_serialize_sql``): its statements, or None if it fails."""
    cur = cursor_factory()
    try:
        row = cur.execute("SELECT json_serialize_sql($1)", [sql]).fetchone()
    except duckdb.Error:
        return None
    finally:
        cur.close()
    if row is None or not isinstance(row[0], str):
        return None
    tree = orjson.loads(row[0])
    statements = tree.get("statements")
    if tree.get("error") or not isinstance(statements, list):
        return None
    return statements


def _analyse(cursor_factory: Callable[[], Any], sql: str) -> Reads | None:
    statements = _statements(cursor_factory, sql)
    if statements is None or len(statements) != 1:
        return None
    tables: set[str] = set()
    ctes: set[str] = set()
    for node in _nodes(statements[0]):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = node.get("table_name")
            if (
                not isinstance(name, str)
                or node.get("catalog_name")
                or node.get("schema_name") not in ("", "main")
            ):
                return None
            tables.add(name.lower())
        elif kind == "TABLE_FUNCTION":
            return None
        if node.get("sample") is not None:
            return None
        cls = node.get("class")
        if cls == "FUNCTION" and str(node.get("function_name", "")).lower() in VOLATILE:
            return None
        if cls == "COLUMN_REF":
            names = node.get("column_names")
            if isinstance(names, list) and len(names) == 1 and str(names[0]).lower() in VOLATILE:
                return None
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(e.get("key", "")).lower() for e in cte_map.get("map") or ())
    return Reads(frozenset(tables), frozenset(ctes))


_PARSER_LOCK = threading.Lock()
_PARSER: Any = None


def _parser_cursor() -> Any:
    """A cursor of a private in-memory database, for parsing without an engine (``rill-emu validate``)."""
    global _PARSER
    with _PARSER_LOCK:
        if _PARSER is None:
            _PARSER = duckdb.connect(":memory:")
        return _PARSER.cursor()


def table_names(sql: str, cursor_factory: Callable[[], Any] | None = None) -> list[str]:
    """Unqualified names of the tables ``sql`` reads, in order of appearance, by DuckDB's parser.

    What Rill infers a model's refs from (``duckdbsql.Parse``): CTE names, table functions, file
    paths (``FROM 'data/x.csv'``) and names qualified by another catalog or schema are left out.
    Text DuckDB cannot parse as SELECT statements names nothing. ``cursor_factory`` defaults to a
    private in-memory database.
    """
    statements = _statements(cursor_factory or _parser_cursor, sql)
    if statements is None:
        return []
    ctes: set[str] = set()
    found: list[str] = []
    for node in _nodes(statements):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(e.get("key", "")).lower() for e in cte_map.get("map") or ())
        if node.get("type") != "BASE_TABLE":
            continue
        name = node.get("table_name")
        if not isinstance(name, str) or not name or node.get("catalog_name"):
            continue
        if node.get("schema_name") not in ("", "main", None) or any(c in name for c in "/\\.*:"):
            continue
        found.append(name)
    return [name for name in found if name.lower() not in ctes]


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of the parse tree, depth first, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
