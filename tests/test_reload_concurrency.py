"""Requests in a loop during 50 reloads: none fails, and none mixes two generations.

Each reload rebuilds a model and its dependent (new table versions published while requests read the
old ones), or changes the API's own SQL, or both. Every response names its generation in a header;
the events stream says which files each generation changed, so the test knows what each generation
must answer, and checks every response against it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.sandbox import EventFollower
from emulator.server import GENERATION_HEADER
from emulator.testing import EmuServer

RELOADS = 50
CLIENTS = 3
ROWS = 50_000
PROBE = "/v1/instances/default/api/probe"
MODEL = "/models/base.sql"
API = "/apis/probe.yaml"


def model_sql(rev: int) -> str:
    return f"SELECT {rev} AS rev, range AS i FROM range({ROWS})\n"


def api_yaml(rev: int) -> str:
    return (
        f"type: api\nsql: SELECT '{rev}' AS api_rev, (SELECT min(rev) FROM base) AS base_rev,\n"
        "  (SELECT rev FROM summary) AS summary_rev, (SELECT count(*) FROM base) AS n\n"
    )


def expected_body(api_rev: int, model_rev: int) -> list[dict[str, Any]]:
    return [{"api_rev": str(api_rev), "base_rev": model_rev, "n": ROWS, "summary_rev": model_rev}]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmuServer]:
    files = {
        "rill.yaml": "compiler: rillv1\n",
        MODEL: model_sql(0),
        "/models/summary.sql": "SELECT min(rev) AS rev, count(*) AS n FROM base\n",
        API: api_yaml(0),
    }
    for rel, text in files.items():
        path = tmp_path / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    with EmuServer(tmp_path, watch=True) as emu:
        yield emu


def test_requests_during_reloads_never_fail_nor_mix_generations(server: EmuServer) -> None:
    root = server.config.project
    responses: list[tuple[int, str | None, Any]] = []
    served: set[int] = set()
    answered = threading.Condition()
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                resp = http.get(PROBE)
                body = resp.json() if resp.status_code == 200 else resp.text
                generation = resp.headers.get(GENERATION_HEADER)
                with answered:
                    responses.append((resp.status_code, generation, body))
                    served.add(int(generation or 0))
                    answered.notify_all()

    def wait_served(generation: int) -> None:
        """Let requests reach ``generation`` before the next reload: every generation is checked."""
        with answered:
            assert answered.wait_for(lambda: generation in served, timeout=15)

    events = EventFollower(server.url).start()
    assert events.hello is not None
    expected = {events.hello["generation"]: expected_body(0, 0)}
    clients = [threading.Thread(target=hammer) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    try:
        wait_served(events.hello["generation"])
        api_rev = model_rev = 0
        for rev in range(1, RELOADS + 1):
            # Odd: the model (and so its dependent); even: the API; every fifth: both at once.
            paths = {1: [MODEL], 0: [API]}[rev % 2] if rev % 5 else [MODEL, API]
            mark = events.mark()
            for path in paths:
                target = root / path.lstrip("/")
                tmp = target.with_name(target.name + ".tmp")  # an atomic save: never half a file
                tmp.write_text(model_sql(rev) if path == MODEL else api_yaml(rev))
                os.replace(tmp, target)
            events.wait_for(set(paths), mark, timeout=15)
            for event in events.since(mark):
                assert (event["error"], event["problems"]) == (None, [])
                if MODEL in event["paths"]:
                    model_rev = rev
                if API in event["paths"]:
                    api_rev = rev
                expected[event["generation"]] = expected_body(api_rev, model_rev)
            wait_served(max(expected))
    finally:
        stop.set()
        for client in clients:
            client.join()
        events.close()

    assert len(expected) >= RELOADS + 1
    failed = [r for r in responses if r[0] != 200]
    assert failed == []
    mixed = [(gen, body) for _, gen, body in responses if gen is None or body != expected.get(int(gen))]
    assert mixed == []
    assert served == set(expected)  # every generation answered requests
