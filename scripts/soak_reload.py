"""Soak: clients call a watching ``rill-emu serve`` for minutes while files are saved under it.

    python scripts/soak_reload.py [--duration 300] [--clients 8] [--save-every 0.05 0.25]

The longer variant of tests/robustness/test_reload_load.py. A copy of sample_project gets a small
model, a secured metrics view over it and two APIs; a writer saves files at random intervals:
an API's SQL (most saves), a broken API file (1 in 9), the model's SQL (1 in 10, a table rebuild and
swap), the metrics view's row filter (1 in 12), and a delete-and-recreate of an API (1 in 20).
Client threads call a mix of the sample APIs (sql, metrics_sql, metrics, api proxy, POST bodies,
the built-in sql API, as a mock user too) and of the edited ones, each on a keep-alive connection.

It reports requests, reloads, statuses, latency, the server's reload times and its memory, and
exits 1 if any request was lost (no answer) or got a status its API may not answer. Loopback
only, bounded by ``--duration``; the server runs in its own process as a user runs it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.testing import free_port  # noqa: E402

API = "/v1/instances/default/api"
EXTRA_FILES = {
    "models/soak_nums.sql": "SELECT range AS n FROM range(1000)",
    "metrics/soak_mv.yaml": (
        "type: metrics_view\nmodel: soak_nums\ndimensions: [{column: n}]\n"
        "measures: [{name: c, expression: count(*)}]\n"
        "security:\n  access: true\n  row_filter: n < 500\n"
    ),
    "apis/soak_edited.yaml": "type: api\nsql: SELECT -1 AS version\n",
    "apis/soak_measured.yaml": "type: api\nmetrics_sql: SELECT c FROM soak_mv\n",
    "apis/soak_stable.yaml": "type: api\nsql: SELECT count(*) AS c FROM soak_nums\n",
}
USER = {"X-Rill-User": "emilie@sample-shop.eu"}
OK, MAYBE_GONE = frozenset({200}), frozenset({200, 404})
#: (method, path, JSON body, headers, statuses the call may answer)
CALLS: list[tuple[str, str, object, dict[str, str], frozenset[int]]] = [
    ("GET", f"{API}/top_products?limit=5", None, {}, OK),
    ("GET", f"{API}/top_categories", None, USER, OK),
    ("GET", f"{API}/revenue_by_region", None, {}, OK),
    ("GET", f"{API}/top3_products", None, {}, OK),
    ("POST", f"{API}/sales_by_category", {"categories": ["Books", "Toys"]}, {}, OK),
    ("POST", f"{API}/customer_orders", {"customer_id": 144}, {}, OK),
    ("POST", f"{API}/sql", {"sql": "SELECT count(*) AS c FROM soak_nums"}, {}, OK),
    ("GET", f"{API}/soak_stable", None, {}, OK),
    ("GET", f"{API}/soak_measured", None, USER, OK),
    ("GET", f"{API}/soak_edited", None, {}, MAYBE_GONE),
    ("GET", f"{API}/openapi", None, {}, OK),
]


class Stats:
    """Everything the clients saw, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.unexpected: list[str] = []
        self.lost: list[str] = []


def client(url: str, stop: threading.Event, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=60) as http:
        while not stop.is_set():
            method, path, body, headers, allowed = rng.choice(CALLS)
            started = time.perf_counter()
            try:
                resp = http.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                with stats.lock:
                    stats.lost.append(f"{method} {path}: {exc!r}")
                continue
            elapsed = time.perf_counter() - started
            with stats.lock:
                stats.statuses[resp.status_code] += 1
                stats.latencies.append(elapsed)
                if resp.status_code not in allowed:
                    stats.unexpected.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")


def writer(
    root: Path, stop: threading.Event, low: float, high: float, saves: Counter[str], seed: int
) -> None:
    rng = random.Random(seed)
    i = 0
    while not stop.wait(rng.uniform(low, high)):
        i += 1
        api = root / "apis" / "soak_edited.yaml"
        if i % 20 == 0:
            api.unlink()
            saves["delete + recreate"] += 1
            stop.wait(0.02)
            api.write_text(f"type: api\nsql: SELECT {i} AS version\n")
        elif i % 12 == 0:
            limit = rng.randint(1, 1000)
            (root / "metrics" / "soak_mv.yaml").write_text(
                EXTRA_FILES["metrics/soak_mv.yaml"].replace("n < 500", f"n < {limit}")
            )
            saves["row filter"] += 1
        elif i % 10 == 0:
            (root / "models" / "soak_nums.sql").write_text(f"SELECT range AS n FROM range({1000 + i})")
            saves["model"] += 1
        elif i % 9 == 0:
            api.write_text(f"type: api\nsql: [{i}\n")
            saves["broken"] += 1
        else:
            api.write_text(f"type: api\nsql: SELECT {i} AS version\n")
            saves["API"] += 1


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load (default: 300)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default: 8)")
    parser.add_argument(
        "--save-every", type=float, nargs=2, default=(0.05, 0.25), metavar=("MIN", "MAX"),
        help="seconds between saves, uniformly random (default: 0.05 0.25)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rill-emu-soak-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(ROOT / "sample_project", root)
        for rel, text in EXTRA_FILES.items():
            (root / rel).write_text(text)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "emulator.cli",
                "serve",
                str(root),
                "--port",
                str(port),
                "--log-format",
                "json",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(url + "/v1/health", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        print("the server did not start", file=sys.stderr)
                        return 2
                    time.sleep(0.05)
            status = httpx.get(url + "/v1/instances/default/emu/status", timeout=10).json()
            first_generation = status["generation"]
            rss_start = rss_mib(server.pid)

            stop = threading.Event()
            stats = Stats()
            saves: Counter[str] = Counter()
            reload_ms: list[float] = []
            threads = [
                threading.Thread(target=client, args=(url, stop, stats, args.seed + k), daemon=True)
                for k in range(args.clients)
            ]
            threads.append(
                threading.Thread(
                    target=writer, args=(root, stop, *args.save_every, saves, args.seed), daemon=True
                )
            )
            started = time.monotonic()
            for thread in threads:
                thread.start()
            rss_peak = rss_start
            with httpx.Client(base_url=url, timeout=60) as monitor:
                seen = first_generation
                while time.monotonic() - started < args.duration:
                    time.sleep(0.5)
                    last = monitor.get("/v1/instances/default/emu/status").json()
                    if last["generation"] != seen:
                        seen = last["generation"]
                        reload_ms.append(last["last_reload"]["duration_ms"])
                    rss_peak = max(rss_peak, rss_mib(server.pid))
            stop.set()
            for thread in threads:
                thread.join(60)
            elapsed = time.monotonic() - started
            time.sleep(1)  # the last save's reload
            final = httpx.get(url + "/v1/instances/default/emu/status", timeout=10).json()
            rss_end = rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(30)

    requests = sum(stats.statuses.values())
    lat = sorted(stats.latencies) or [0.0]
    print(f"duration          {elapsed:.0f} s, {args.clients} clients, saves every {args.save_every[0]:g}-"
          f"{args.save_every[1]:g} s")  # fmt: skip
    print(
        f"saves             {sum(saves.values())} ({', '.join(f'{k} {v}' for k, v in sorted(saves.items()))})"
    )
    print(f"reloads           {final['generation'] - first_generation}")
    statuses = dict(sorted(stats.statuses.items()))
    print(f"requests          {requests} ({requests / elapsed:.0f}/s), statuses {statuses}")
    print(f"latency           p50 {statistics.median(lat) * 1000:.1f} ms, "
          f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms, max {lat[-1] * 1000:.0f} ms")  # fmt: skip
    if reload_ms:
        print(f"server reload     median {statistics.median(reload_ms):.1f} ms, max {max(reload_ms):.1f} ms "
              f"(sampled {len(reload_ms)})")  # fmt: skip
    print(
        f"server memory     {rss_start:.0f} MiB at start, {rss_peak:.0f} MiB peak, {rss_end:.0f} MiB at end"
    )
    print(f"lost requests     {len(stats.lost)}")
    print(f"unexpected        {len(stats.unexpected)}")
    print(f"problems at end   {len(final['problems'])}")
    for line in (stats.lost + stats.unexpected)[:20]:
        print("  " + line)
    return 1 if stats.lost or stats.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
