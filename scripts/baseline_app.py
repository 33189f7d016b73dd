"""The benchmark baseline: a bare Starlette + DuckDB app running fixed SQL, the way one would by hand.

``python scripts/baseline_app.py SPEC.json PORT``: SPEC holds the project root, the model SQL in build
order, and the queries (name → SQL and params). ``GET /q/<name>`` runs that query on a fresh cursor in
the thread pool and answers the rows as a JSON array of objects (orjson).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def make_app(spec: dict[str, Any]) -> Starlette:
    """The baseline app for ``spec``."""
    conn = duckdb.connect()
    conn.execute(f"SET GLOBAL file_search_path = '{spec['root']}'")
    for name, sql in spec["models"]:
        conn.execute(f'CREATE TABLE "{name}" AS {sql}')
    queries: dict[str, tuple[str, list[Any]]] = {
        k: (v["sql"], v["params"]) for k, v in spec["queries"].items()
    }

    def run(name: str) -> bytes:
        sql, params = queries[name]
        cur = conn.cursor()
        try:
            cur.execute(sql, params)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            return orjson.dumps(rows, option=orjson.OPT_SORT_KEYS, default=float)
        finally:
            cur.close()

    async def query(request: Request) -> Response:
        data = await run_in_threadpool(run, request.path_params["name"])
        return Response(data, media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(routes=[Route("/q/{name}", query), Route("/v1/health", health)])


if __name__ == "__main__":
    spec = json.loads(Path(sys.argv[1]).read_text())
    # The HTTP protocol and event loop rill-emu serves with (emulator.httpproto.serving_options): both
    # servers of the benchmark run the same uvicorn settings.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from emulator.httpproto import serving_options

    uvicorn.run(
        make_app(spec),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
        access_log=False,
        **serving_options(),
    )
