"""Per-request query timeout: the query is interrupted, the answer says so, the server stays responsive."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.cli import build_parser
from emulator.config import DEFAULT_QUERY_TIMEOUT, EmuConfig
from emulator.olap.duckdb import DuckDBEngine, QueryError, QueryInterrupted, QueryTimeout
from emulator.testing import EmuServer
from tests.e2e.conftest import write_project

FOREVER = "SELECT sum(range) AS s FROM range(1000000000000000)"
API = "/v1/instances/default/api"


def test_a_slow_query_is_interrupted_with_a_clear_error(tmp_path: Path) -> None:
    engine = DuckDBEngine(tmp_path, query_timeout=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeout) as info:
            engine.query(FOREVER)
        assert 0.3 <= time.monotonic() - started < 10
        assert info.value.message == "query timed out after 0.3s"
        assert info.value.status == 400
        assert engine.query("SELECT 42 AS x").rows == [(42,)]  # the engine is fine afterwards
        with pytest.raises(QueryError) as error:  # other errors are DuckDB's, not a timeout
            engine.query("SELECT nope")
        assert not isinstance(error.value, QueryTimeout)
    finally:
        engine.close()


def test_close_interrupts_running_queries(tmp_path: Path) -> None:
    engine = DuckDBEngine(tmp_path, tmp_path / "db.duckdb")
    failures: list[Exception] = []

    def run() -> None:
        try:
            engine.query(FOREVER)
        except Exception as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    engine.close()
    thread.join(10)
    assert time.monotonic() - started < 6
    assert len(failures) == 1 and isinstance(failures[0], QueryInterrupted)
    assert failures[0].status == 503
    assert not (tmp_path / "db.duckdb.wal").exists()


def test_the_default_and_the_option() -> None:
    assert EmuConfig(project=Path(".")).query_timeout == DEFAULT_QUERY_TIMEOUT == 60
    parser = build_parser()
    assert parser.parse_args(["serve", ".", "--query-timeout", "2.5"]).query_timeout == 2.5
    assert parser.parse_args(["serve", ".", "--query-timeout", "0"]).query_timeout is None
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", ".", "--query-timeout", "-1"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmuServer]:
    root = write_project(
        tmp_path_factory.mktemp("timeout"),
        {
            "apis/slow.yaml": f"type: api\nsql: {FOREVER}\n",
            "apis/fast.yaml": "type: api\nsql: SELECT {{ default 1 .args.n }} AS n\n",
        },
    )
    with EmuServer(root, watch=False, query_timeout=1.5) as running:
        yield running


def test_the_server_answers_a_timeout_and_stays_responsive(server: EmuServer) -> None:
    answers: list[tuple[int, dict[str, str], float]] = []

    def slow() -> None:
        started = time.monotonic()
        resp = httpx.get(f"{server.url}{API}/slow", timeout=30)
        answers.append((resp.status_code, resp.json(), time.monotonic() - started))

    threads = [threading.Thread(target=slow) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for n in range(20):  # while three slow queries run, fast requests are answered at once
            started = time.monotonic()
            assert client.get(f"{API}/fast?n={n}").json() == [{"n": n}]
            assert client.get("/v1/health").status_code == 200
            assert time.monotonic() - started < 1.0
    for thread in threads:
        thread.join(30)
    assert len(answers) == 3
    for status, body, elapsed in answers:
        assert (status, body) == (400, {"error": "query timed out after 1.5s"})
        assert 1.5 <= elapsed < 15
