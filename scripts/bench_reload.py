"""Hot reload latency: how long from saving a file until the server serves the new result.

    python scripts/bench_reload.py [--edits 30] [--sizes 20,1000] [--kinds api,security,model]

For each project size it generates a project in a temporary folder (N APIs, a 100k-row model with a
dependent model, a metrics view with a security block), starts ``rill-emu serve`` on it in its own
process (loopback only), and for each kind of edit saves the file ``--edits`` times. After each save
it polls an API (one keep-alive client, 1 ms between polls) until the response shows the edit, and
records the time from just before the write to that response:

- ``api``: ``apis/api_0005.yaml``'s SQL returns a new literal; polled: that API.
- ``security``: the metrics view's ``row_filter`` lets a mock user see a different number of
  buckets; polled: a ``metrics_sql`` API as that user.
- ``model``: ``models/events.sql`` (100,000 rows, read by a dependent model) tags its rows with a new
  value; polled: an API reading the dependent model.

Saves write the file in place (as most editors do). Between saves it waits 60-90 ms (random), so
saves fall at random points of the watcher's 10 ms step. Reported: p50, p95 and max of save→served,
and the server's own reload duration (``/emu/status``), in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from benchutil import start_process

ROOT = Path(__file__).resolve().parents[1]
API = "/v1/instances/default/api"
STATUS = "/v1/instances/default/emu/status"
USER = "analyst@example.com"
MODEL_ROWS = 100_000
TIMEOUT_S = 10.0


def write_project(root: Path, apis: int) -> None:
    """A project with ``apis`` APIs (a tenth of them secured), two models and a secured metrics view."""
    for folder in ("apis", "models", "metrics"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "rill.yaml").write_text(
        "compiler: rillv1\nolap_connector: duckdb\n"
        f"mock_users:\n  - email: {USER}\n    admin: false\n    groups: [analysts]\n"
    )
    (root / "models" / "events.sql").write_text(model_sql(0))
    (root / "models" / "buckets.sql").write_text(
        "SELECT bucket, count(*) AS n, any_value(tag) AS tag FROM events GROUP BY bucket\n"
    )
    (root / "metrics" / "events_metrics.yaml").write_text(metrics_yaml(5))
    (root / "apis" / "model_probe.yaml").write_text(
        "type: api\nsql: SELECT min(tag) AS tag, sum(n) AS n FROM buckets\n"
    )
    (root / "apis" / "security_probe.yaml").write_text(
        "type: api\nmetrics_sql: SELECT bucket, total FROM events_metrics\n"
    )
    for i in range(apis - 2):
        (root / "apis" / f"api_{i:04d}.yaml").write_text(api_yaml(i, 0))


def model_sql(rev: int) -> str:
    return f"SELECT range AS id, range % 10 AS bucket, 'v{rev}' AS tag FROM range({MODEL_ROWS})\n"


def metrics_yaml(visible: int) -> str:
    return (
        "type: metrics_view\nversion: 1\nmodel: events\n"
        "dimensions:\n  - name: bucket\n    column: bucket\n"
        "measures:\n  - name: total\n    expression: COUNT(*)\n"
        "security:\n  access: true\n"
        f'  row_filter: "{{{{ if .user.admin }}}} TRUE {{{{ else }}}} bucket < {visible} {{{{ end }}}}"\n'
    )


def api_yaml(i: int, rev: int) -> str:
    text = f"type: api\nsql: SELECT {i} AS id, 'rev{rev}' AS rev, count(*) AS n FROM buckets\n"
    if i % 10 == 0:
        text += "security:\n  access: \"{{ .user.admin }} OR '{{ .user.email }}' LIKE '%@example.com'\"\n"
    return text


@dataclass
class Kind:
    """One kind of edit: the file, its text for revision ``rev``, the probe, and the expected answer."""

    name: str
    path: str
    text: Callable[[int], str]
    probe: str
    headers: dict[str, str]
    served: Callable[[Any, int], bool]


KINDS = {
    "api": Kind(
        "API YAML edit",
        "apis/api_0005.yaml",
        lambda rev: api_yaml(5, rev),
        "api_0005",
        {},
        lambda body, rev: body == [{"id": 5, "n": 10, "rev": f"rev{rev}"}],
    ),
    "security": Kind(
        "security block edit",
        "metrics/events_metrics.yaml",
        lambda rev: metrics_yaml(1 + rev % 9),
        "security_probe",
        {"X-Rill-User": USER},
        lambda body, rev: isinstance(body, list) and len(body) == 1 + rev % 9,
    ),
    "model": Kind(
        f"model SQL edit ({MODEL_ROWS:,} rows + dependent)",
        "models/events.sql",
        model_sql,
        "model_probe",
        {},
        lambda body, rev: body == [{"n": MODEL_ROWS, "tag": f"v{rev}"}],
    ),
}


def start_server(project: Path, port: int) -> subprocess.Popen[bytes]:
    """``rill-emu serve project`` in its own process; returns once it answers (and watches)."""
    cmd = [sys.executable, "-m", "emulator.cli", "serve", str(project), "--port", str(port)]
    return start_process(cmd, port)


def measure(client: httpx.Client, project: Path, kind: Kind, edits: int) -> tuple[list[float], list[float]]:
    """Save→served latencies (ms) of ``edits`` saves, and the server's reload durations (ms)."""
    latencies: list[float] = []
    reloads: list[float] = []
    path = project / kind.path
    url = f"{API}/{kind.probe}"
    for rev in range(1, edits + 1):
        data = kind.text(rev).encode()
        time.sleep(random.uniform(0.06, 0.09))
        started = time.perf_counter()
        path.write_bytes(data)
        while True:
            resp = client.get(url, headers=kind.headers)
            if resp.status_code == 200 and kind.served(resp.json(), rev):
                latencies.append((time.perf_counter() - started) * 1000)
                break
            if time.perf_counter() - started > TIMEOUT_S:
                raise SystemExit(
                    f"{kind.name}: edit {rev} not served within {TIMEOUT_S:g}s: {resp.text[:200]}"
                )
            time.sleep(0.001)
        reloads.append(float(client.get(STATUS).json()["last_reload"]["duration_ms"]))
    return latencies, reloads


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def main() -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=30, help="saves per kind of edit (default: 30)")
    parser.add_argument("--sizes", default="20,1000", help="project sizes in APIs (default: 20,1000)")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"edits to measure (default: {','.join(KINDS)})"
    )
    parser.add_argument("--port", type=int, default=9177, help="loopback port of the server (default: 9177)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = [KINDS[k] for k in args.kinds.split(",")]
    rows = []
    for size in sizes:
        workdir = Path(tempfile.mkdtemp(prefix="rill-emu-bench-reload-"))
        try:
            project = workdir / "project"
            write_project(project, size)
            proc = start_server(project, args.port)
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=TIMEOUT_S) as client:
                    for kind in kinds:
                        measure(client, project, kind, 3)  # warm up: first reloads import and compile
                        latencies, reloads = measure(client, project, kind, args.edits)
                        rows.append((size, kind.name, latencies, reloads))
                        print(
                            f"{size} APIs, {kind.name}: p50 {percentile(latencies, 0.5):.1f} ms, "
                            f"p95 {percentile(latencies, 0.95):.1f} ms",
                            file=sys.stderr,
                        )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{args.edits} saves per row; milliseconds from the write to the first response serving it.\n")
    print("| project | edit | p50 | p95 | max | server reload (median) |")
    print("|---|---|---:|---:|---:|---:|")
    for size, name, latencies, reloads in rows:
        print(
            f"| {size} APIs | {name} | {percentile(latencies, 0.5):.1f} | {percentile(latencies, 0.95):.1f} "
            f"| {max(latencies):.1f} | {statistics.median(reloads):.1f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
