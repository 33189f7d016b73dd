"""Requests/s of rill-emu against a bare Starlette + DuckDB app running the same SQL, in one run.

    python scripts/bench_throughput.py [--duration 3] [--rounds 2] [--concurrency 1 16] [--loadgen wrk]

Three servers run as separate processes on loopback ports with the same uvicorn settings: rill-emu
with ``--no-cache`` (uncached), rill-emu with its result cache (cached: identical requests), and the
baseline (scripts/baseline_app.py). The load comes from another process: wrk when installed (Debian's
package ``wrk``), else scripts/loadgen.py's asyncio client (HTTP/1.1 keep-alive, one connection per
concurrent client); the Python client caps cached figures near 10,000 requests/s (see loadgen.py).
The baseline executes exactly the SQL the emulator executes for each case (rendered template or
compiled metrics SQL with the row filter applied, with the row-cap wrapper), so the uncached ratio
measures the emulator's own overhead: routing, identity, args, templating, security, encoding.

The project is a copy of sample_project plus a 1,000,000-row model and an API aggregating it, made in
a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from benchutil import start_process  # noqa: E402
from loadgen import LoadResult, Request, have_wrk, run_load, run_wrk  # noqa: E402

from emulator.httpproto import serving_options  # noqa: E402
from emulator.identity import ANONYMOUS_ADMIN, Claims, find_mock_user, mock_user_attributes  # noqa: E402
from emulator.metrics import build_sql, compile_metrics_sql  # noqa: E402
from emulator.olap.duckdb import DuckDBEngine, build_order  # noqa: E402
from emulator.olap.models import model_deps  # noqa: E402
from emulator.runtime import Runtime, RuntimeBuilder  # noqa: E402
from emulator.security import metrics_view_restrictions  # noqa: E402
from emulator.testing import free_port  # noqa: E402

SAMPLE = ROOT / "sample_project"
ROW_FILTER_USER = "emilie@sample-shop.eu"

BIG_MODEL = """\
-- 1,000,000 synthetic events for the throughput benchmark.
SELECT
  range AS event_id,
  range % 5000 AS customer_id,
  'category_' || (range % 17) AS category,
  (range * 7919) % 100000 AS amount_cents,
  TIMESTAMP '2024-01-01' + INTERVAL (range % 525600) MINUTE AS happened_at
FROM range(1000000)
"""
BIG_API = """\
type: api
sql: |
  SELECT category, COUNT(*) AS events, SUM(amount_cents) AS total_cents, AVG(amount_cents) AS average
  FROM bench_events
  GROUP BY category
  ORDER BY category
"""

#: (label, API name, query string, user e-mail or None)
CASES: list[tuple[str, str, str, str | None]] = [
    ("trivial SQL API (top_products)", "top_products", "limit=10", None),
    ("aggregation over a 1M-row model", "bench_by_category", "", None),
    ("metrics_sql + row filter (top_categories as a mock user)", "top_categories", "", ROW_FILTER_USER),
]


def make_project(target: Path) -> Path:
    """A copy of sample_project with the 1M-row model and its API."""
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("tmp", "*.duckdb*"))
    (target / "models" / "bench_events.sql").write_text(BIG_MODEL)
    (target / "apis" / "bench_by_category.yaml").write_text(BIG_API)
    return target


def claims_for(runtime: Runtime, email: str | None) -> Claims:
    """The claims rill-emu gives a request with ``X-Rill-User: email`` (or none)."""
    if email is None:
        return ANONYMOUS_ADMIN
    user = find_mock_user(runtime.project.config.mock_users, email)
    assert user is not None, email
    return Claims(mock_user_attributes(user), source="mock_user", subject=email)


def build_spec(project: Path) -> dict[str, Any]:
    """Models in build order and, per case, the exact SQL + params the emulator runs."""
    engine = DuckDBEngine(project)
    try:
        runtime = RuntimeBuilder(project, engine).build()
        models = runtime.project.models
        order, _ = build_order(model_deps(models))
        queries: dict[str, Any] = {}
        for _label, name, qs, email in CASES:
            api = runtime.lookup_api(name)
            assert api is not None and api.template is not None, name
            claims = claims_for(runtime, email)
            args = dict(p.split("=", 1) for p in qs.split("&") if p)
            rendered = api.template.render(runtime.template_data(args, claims))
            if api.resolver == "sql":
                queries[name] = {"sql": f"SELECT * FROM ({rendered}\n) LIMIT 10001", "params": []}
            else:
                query = compile_metrics_sql(rendered, runtime.project.metrics_views)
                view = runtime.project.metrics_views[query.metrics_view.lower()]
                restrictions = metrics_view_restrictions(runtime, view, claims)
                assert restrictions.row_filter, "the metrics case must apply a row filter"
                compiled = build_sql(query, view, restrictions)
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
    return start_process(cmd, port)


def measure(
    targets: list[tuple[int, Request]], concurrency: int, duration: float, rounds: int, loadgen: str
) -> list[LoadResult]:
    """Best of ``rounds`` runs for each (port, request), after a warm-up of each.

    The servers take turns within each round, so a drift of the machine's speed over the run (other
    work, CPU clocks) weighs on all of them alike.
    """

    def once(port: int, request: Request, seconds: float) -> LoadResult:
        if loadgen == "wrk":
            return run_wrk("127.0.0.1", port, request, concurrency=concurrency, duration=seconds)
        return run_load("127.0.0.1", port, [request], concurrency=concurrency, duration=seconds)

    for port, request in targets:
        once(port, request, 1.0)
    runs: list[list[LoadResult]] = [[] for _ in targets]
    for _ in range(rounds):
        for i, (port, request) in enumerate(targets):
            runs[i].append(once(port, request, duration))
    return [max(results, key=lambda r: r.rps) for results in runs]


def same_answers(spec: dict[str, Any], ports: dict[str, int]) -> None:
    """Both emulators answer each case with the same bytes, and the baseline as many rows."""
    for _label, name, qs, email in CASES:
        headers = {"X-Rill-User": email} if email else {}
        path = f"/v1/instances/default/api/{name}" + (f"?{qs}" if qs else "")
        bodies = [
            httpx.get(f"http://127.0.0.1:{ports[k]}{path}", headers=headers).content
            for k in ("emu", "cached")
        ]
        base = httpx.get(f"http://127.0.0.1:{ports['base']}/q/{name}").json()
        assert bodies[0] == bodies[1], name
        assert len(json.loads(bodies[0])) == len(base) > 0, name


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--loadgen",
        choices=["wrk", "python"],
        default="wrk" if have_wrk() else "python",
        help="load generator (default: wrk when installed)",
    )
    opts = parser.parse_args(argv)
    if opts.loadgen == "wrk" and not have_wrk():
        parser.error("wrk is not installed (apt install wrk), or pass --loadgen python")

    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp) / "project")
        spec = build_spec(project)
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        ports = {"emu": free_port(), "cached": free_port(), "base": free_port()}
        serve = [sys.executable, "-m", "emulator.cli", "serve", str(project), "--no-watch", "--port"]
        procs = [
            start([*serve, str(ports["emu"]), "--no-cache"], ports["emu"]),
            start([*serve, str(ports["cached"])], ports["cached"]),
            start(
                [
                    sys.executable,
                    str(ROOT / "scripts" / "baseline_app.py"),
                    str(spec_path),
                    str(ports["base"]),
                ],
                ports["base"],
            ),
        ]
        try:
            same_answers(spec, ports)
            options = serving_options()
            serving = f"{options['http'].__name__}, loop {options['loop']}"
            print(
                f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
                f"uvicorn {uvicorn.__version__} ({serving}), load from {opts.loadgen}, "
                f"{opts.duration:g} s per run, best of {opts.rounds}\n"
            )
            print(
                "| case | conc. | baseline req/s | rill-emu uncached req/s | ratio | cached req/s "
                "| cached / baseline | base p50 ms | emu p50 ms | p50 overhead ms | base p99 ms | emu p99 ms "
                "| cached p50 ms | cached p99 ms |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for label, name, qs, email in CASES:
                headers = (("X-Rill-User", email),) if email else ()
                emu_req: Request = (
                    "GET",
                    f"/v1/instances/default/api/{name}" + (f"?{qs}" if qs else ""),
                    b"",
                    headers,
                )
                base_req: Request = ("GET", f"/q/{name}", b"")
                for conc in opts.concurrency:
                    targets = [(ports["base"], base_req), (ports["emu"], emu_req), (ports["cached"], emu_req)]
                    b, e, c = measure(targets, conc, opts.duration, opts.rounds, opts.loadgen)
                    if b.errors or e.errors or c.errors:
                        raise SystemExit(f"{label}: non-200 answers ({b.errors}, {e.errors}, {c.errors})")
                    cells = [
                        label,
                        str(conc),
                        f"{b.rps:.0f}",
                        f"{e.rps:.0f}",
                        f"{e.rps / b.rps:.2f}",
                        f"{c.rps:.0f}",
                        f"{c.rps / b.rps:.1f}x",
                        f"{b.p50_ms:.2f}",
                        f"{e.p50_ms:.2f}",
                        f"{e.p50_ms - b.p50_ms:+.2f}",
                        f"{b.p99_ms:.2f}",
                        f"{e.p99_ms:.2f}",
                        f"{c.p50_ms:.2f}",
                        f"{c.p99_ms:.2f}",
                    ]
                    print("| " + " | ".join(cells) + " |", flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
