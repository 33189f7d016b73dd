"""Time ``emulator.jsonval.encode_result`` on 1,000 rows x 6 mixed columns against plain JSON encoders.

Usage: ``python scripts/bench_jsonval.py [rows]``. Baselines, measured in the same run on the same rows:
``orjson.dumps`` of the rows as dicts (no Go fidelity) and stdlib ``json.dumps`` (``default=str``).
"""

from __future__ import annotations

import json
import sys
import timeit
from collections.abc import Callable

import duckdb
import orjson

from emulator.jsonval import encode_result, make_encoder

SQL = """
SELECT 'publisher_' || (i % 97) AS publisher,
       i::BIGINT AS id,
       i * 1.25 / 7 AS ratio,
       TIMESTAMP '2024-01-01' + INTERVAL (i * 37) SECOND AS ts,
       DATE '2024-01-01' + (i % 365)::INTEGER AS day,
       SUM(i) OVER (ORDER BY i) AS running
FROM range(?) t(i)
"""


def best(fn: Callable[[], object], number: int) -> float:
    """Best per-call time in milliseconds over five repeats."""
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1000


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    cur = duckdb.connect().execute(SQL, [n])
    description, rows = cur.description, cur.fetchall()
    names = [d[0] for d in description]
    types = ", ".join(f"{d[0]} {d[1]}" for d in description)
    encoder = make_encoder(description)
    number = max(1, 20_000 // n)

    timings = {
        "encode_result": best(lambda: encode_result(description, rows), number),
        "make_encoder (precompiled)": best(lambda: encoder(rows), number),
        "orjson.dumps (dicts, baseline)": best(
            lambda: orjson.dumps([dict(zip(names, r, strict=True)) for r in rows]), number
        ),
        "json.dumps (dicts, baseline)": best(
            lambda: json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=str), number
        ),
    }
    base = timings["orjson.dumps (dicts, baseline)"]
    print(f"{n} rows x {len(names)} columns ({types})")
    print(f"{'encoder':34} {'ms/call':>9} {'x orjson':>9}")
    for name, ms in timings.items():
        print(f"{name:34} {ms:9.3f} {ms / base:9.2f}")


if __name__ == "__main__":
    main()
