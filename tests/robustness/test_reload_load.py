"""Load during reloads: clients keep calling while 100 saves (broken ones and model changes included)
are picked up by the watcher; every request is answered, none with an unexpected status.

Bounded: ``ROUNDS`` saves, ``CLIENTS`` threads on loopback, a deadline for the whole test. The longer
soak variant is ``scripts/soak_reload.py`` (figures in docs/benchmarks.md).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from emulator.sandbox import EmuSandbox
from tests.e2e.conftest import write_project

ROUNDS = 100
CLIENTS = 4
DEADLINE_S = 150
API = "/v1/instances/default/api"
FILES = {
    "models/nums.sql": "SELECT range AS n FROM range(100)",
    "metrics/mv.yaml": (
        "type: metrics_view\nmodel: nums\ndimensions: [{column: n}]\n"
        "measures: [{name: c, expression: count(*)}]\n"
    ),
    "apis/stable.yaml": "type: api\nsql: SELECT count(*) AS c FROM nums\n",
    "apis/measured.yaml": "type: api\nmetrics_sql: SELECT c FROM mv\n",
    "apis/edited.yaml": "type: api\nsql: SELECT -1 AS version\n",
}
#: What each call may answer: the edited API disappears (404) while its file is broken.
CALLS: list[tuple[str, str, frozenset[int]]] = [
    ("GET", f"{API}/stable", frozenset({200})),
    ("GET", f"{API}/measured", frozenset({200})),
    ("GET", f"{API}/edited", frozenset({200, 404})),
    ("POST", f"{API}/edited", frozenset({200, 404})),
    ("POST", f"{API}/sql", frozenset({200})),
    ("GET", f"{API}/openapi", frozenset({200})),
    ("GET", "/v1/instances/default/emu/status", frozenset({200})),
]


def _save(box: EmuSandbox, i: int) -> None:
    if i % 9 == 4:
        box.write("apis/edited.yaml", f"type: api\nsql: [{i}\n")  # a broken save
    elif i % 10 == 7:
        box.write("models/nums.sql", f"SELECT range AS n FROM range({100 + i})")  # rebuilt, swapped in
    else:
        box.write("apis/edited.yaml", f"type: api\nsql: SELECT {i} AS version\n")


def test_every_request_is_answered_while_100_saves_reload(tmp_path: Path) -> None:
    source = write_project(tmp_path / "source", FILES)
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        last_generation = 0
        with httpx.Client(base_url=box.url, timeout=30) as http:
            n = k
            while not stop.is_set():
                method, path, allowed = CALLS[n % len(CALLS)]
                n += 1
                body = {"sql": "SELECT count(*) AS c FROM nums"} if path.endswith("/sql") else None
                try:
                    resp = http.request(method, path, json=body)
                except httpx.HTTPError as exc:
                    with lock:
                        problems.append(f"lost: {method} {path}: {exc!r}")
                    continue
                generation = int(resp.headers.get("x-rill-emu-generation", last_generation))
                with lock:
                    statuses[resp.status_code] += 1
                    if resp.status_code not in allowed:
                        problems.append(f"{method} {path}: {resp.status_code} {resp.text[:200]}")
                    if generation < last_generation:
                        problems.append(f"{method} {path}: generation {generation} after {last_generation}")
                last_generation = generation

    with EmuSandbox(source, tmp_path / "work") as box:
        first = box.generation
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(CLIENTS)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        try:
            for i in range(ROUNDS):
                assert time.monotonic() - started < DEADLINE_S, f"only {i} saves in {DEADLINE_S}s"
                _save(box, i)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        reloads = box.generation - first
        final = box.call("edited")
        assert box.problems == []

    print(f"{reloads} reloads, {sum(statuses.values())} requests: {dict(statuses)}")
    assert problems == []
    assert reloads == ROUNDS, reloads  # each save waits for its reload
    assert final == [{"version": ROUNDS - 1}]
    assert sum(statuses.values()) >= 10 * ROUNDS, statuses  # the clients really ran alongside
    assert statuses[200] > statuses[404] > 0, statuses
