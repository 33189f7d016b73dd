"""Requests/s of rill-emu against a bare Starlette + DuckDB app running the same SQL, in one run.

    python scripts/bench_throughput.py [--duration 3] [--rounds 2] [--concurrency 1 16]

Both servers run as separate processes on loopback ports with the same uvicorn settings; the load
comes from a third process (scripts/loadgen.py). The baseline executes exactly the SQL the emulator
executes for each case (rendered template or compiled metrics SQL, with the row-cap wrapper), so the
ratio measures the emulator's own overhead: routing, args, templating, security, encoding.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from loadgen import LoadResult, run_load  # noqa: E402

from emulator.identity import ANONYMOUS_ADMIN  # noqa: E402
from emulator.metrics import build_sql, compile_metrics_sql  # noqa: E402
from emulator.olap.duckdb import DuckDBEngine, build_order  # noqa: E402
from emulator.olap.models import model_deps  # noqa: E402
from emulator.runtime import RuntimeBuilder  # noqa: E402
from emulator.testing import free_port  # noqa: E402

PROJECT = ROOT / "sample_project"

#: (case label, API name, query string)
CASES: list[tuple[str, str, str]] = [
    ("sql: top_products", "top_products", "limit=10"),
    ("sql: orders_by_status", "orders_by_status", "status=shipped"),
    ("metrics_sql: top_categories", "top_categories", ""),
]


def build_spec(project: Path) -> dict[str, Any]:
    """Models in build order and, per case, the exact SQL + params the emulator runs."""
    engine = DuckDBEngine(project)
    try:
        runtime = RuntimeBuilder(project, engine).build()
        models = runtime.project.models
        order, _ = build_order(model_deps(models))
        queries: dict[str, Any] = {}
        for _label, name, qs in CASES:
            api = runtime.lookup_api(name)
            assert api is not None and api.template is not None, name
            args = dict(p.split("=", 1) for p in qs.split("&") if p)
            rendered = api.template.render(runtime.template_data(args, ANONYMOUS_ADMIN))
            if api.resolver == "sql":
                queries[name] = {"sql": f"SELECT * FROM ({rendered}\n) LIMIT 10001", "params": []}
            else:
                query = compile_metrics_sql(rendered, runtime.project.metrics_views)
                view = runtime.project.metrics_views[query.metrics_view.lower()]
                compiled = build_sql(query, view)
                queries[name] = {"sql": compiled.sql, "params": list(compiled.params)}
        return {
            "root": str(project.resolve()),
            "models": [(models[k].name, models[k].sql) for k in order],
            "queries": queries,
        }
    finally:
        engine.close()


def start(cmd: list[str], port: int) -> subprocess.Popen[bytes]:
    """Start a server process and wait until it answers /v1/health."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server did not start: {cmd}")


def measure(port: int, path: str, concurrency: int, duration: float, rounds: int) -> LoadResult:
    """Best of ``rounds`` runs (after a short warm-up)."""
    reqs = [("GET", path, b"")]
    run_load("127.0.0.1", port, reqs, concurrency=concurrency, duration=0.5)
    results = [
        run_load("127.0.0.1", port, reqs, concurrency=concurrency, duration=duration) for _ in range(rounds)
    ]
    return max(results, key=lambda r: r.rps)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    opts = parser.parse_args(argv)

    spec = build_spec(PROJECT)
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        emu_port, base_port = free_port(), free_port()
        emu = start(
            [
                sys.executable,
                "-m",
                "emulator.cli",
                "serve",
                str(PROJECT),
                "--port",
                str(emu_port),
                "--no-watch",
            ],
            emu_port,
        )
        base = start(
            [sys.executable, str(ROOT / "scripts" / "baseline_app.py"), str(spec_path), str(base_port)],
            base_port,
        )
        try:
            print(
                "| case | conc. | rill-emu req/s | baseline req/s | ratio | emu p50 ms | base p50 ms "
                "| p50 overhead ms | emu p99 ms | base p99 ms |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
            for label, name, qs in CASES:
                emu_path = f"/v1/instances/default/api/{name}" + (f"?{qs}" if qs else "")
                base_path = f"/q/{name}"
                for conc in opts.concurrency:
                    e = measure(emu_port, emu_path, conc, opts.duration, opts.rounds)
                    b = measure(base_port, base_path, conc, opts.duration, opts.rounds)
                    if e.errors or b.errors:
                        raise SystemExit(f"{label}: non-200 answers (emu {e.errors}, baseline {b.errors})")
                    print(
                        f"| {label} | {conc} | {e.rps:.0f} | {b.rps:.0f} | {e.rps / b.rps:.2f} | "
                        f"{e.p50_ms:.2f} | {b.p50_ms:.2f} | {e.p50_ms - b.p50_ms:+.2f} | "
                        f"{e.p99_ms:.2f} | {b.p99_ms:.2f} |",
                        flush=True,
                    )
        finally:
            for proc in (emu, base):
                proc.terminate()
                proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
