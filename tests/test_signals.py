"""SIGINT/SIGTERM: in-flight requests finish, event streams end, DuckDB closes cleanly; a ``--db`` file
is never left corrupt, even after SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx
import pytest

from emulator.testing import free_port
from tests.e2e.conftest import write_project

ROOT = Path(__file__).resolve().parents[1]
API = "/v1/instances/default/api"
FILES = {
    "models/nums.sql": "SELECT range AS n FROM range(1000)",
    "apis/total.yaml": (
        "type: api\nsql: SELECT sum(n)::BIGINT AS total, {{ default 0 .args.x }} AS x FROM nums\n"
    ),
    "apis/slow.yaml": "type: api\nsql: SELECT sum(range) AS s FROM range(1000000000000000)\n",
}


class Served:
    """A ``rill-emu serve`` subprocess (or a script serving) on a free loopback port."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {self.proc.communicate()[1]}")
            time.sleep(0.05)

    def stop(self, sig: int, timeout: float = 30) -> tuple[int, float]:
        """Send ``sig``; the exit status and how long the process took to end."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        return self.proc.returncode, time.monotonic() - started


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", FILES)


@pytest.fixture
def serve(project: Path, tmp_path: Path) -> Iterator[tuple[Served, Path]]:
    db = tmp_path / "emu.duckdb"
    port = free_port()
    served = Served(
        [sys.executable, "-m", "emulator.cli", "serve", str(project), "--port", str(port), "--db", str(db)],
        port,
    )
    yield served, db
    if served.proc.poll() is None:
        served.proc.kill()
        served.proc.wait()


def _start_upload(port: int, body: bytes, sent: int) -> socket.socket:
    """A request whose body is only partly sent: in flight until the rest arrives."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {API}/total HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    sock.sendall(head + body[:sent])
    return sock


def _finish_upload(sock: socket.socket, body: bytes, sent: int) -> tuple[int, bytes]:
    sock.sendall(body[sent:])
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"]"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), payload


def _assert_clean(db: Path) -> None:
    assert not Path(str(db) + ".wal").exists(), "closed without a checkpoint"
    conn = duckdb.connect(str(db))
    try:
        assert conn.execute("SELECT count(*), sum(n) FROM nums").fetchall() == [(1000, 499500)]
    finally:
        conn.close()


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 0)])
def test_a_signal_lets_the_in_flight_request_finish_then_closes_duckdb(
    serve: tuple[Served, Path], sig: int, status: int
) -> None:
    served, db = serve
    body = b'{"x": 7}'
    sock = _start_upload(served.port, body, 3)
    time.sleep(0.3)
    served.proc.send_signal(sig)
    time.sleep(0.5)  # the server is shutting down, the request still in flight
    assert served.proc.poll() is None
    code, payload = _finish_upload(sock, body, 3)
    assert (code, json.loads(payload)) == (200, [{"total": 499500, "x": 7}])
    assert served.proc.wait(30) == status
    _assert_clean(db)


def test_open_event_streams_end_at_once(serve: tuple[Served, Path]) -> None:
    served, db = serve
    lines: list[str] = []
    with httpx.stream("GET", f"{served.url}/v1/instances/default/emu/events", timeout=30) as stream:
        events = stream.iter_lines()
        lines.append(next(events))  # event: hello
        code, took = served.stop(signal.SIGTERM)
        lines.extend(events)
    assert code == -signal.SIGTERM
    assert took < 5  # not the whole grace period of 10 s
    assert "event: shutdown" in lines
    _assert_clean(db)


def test_a_query_still_running_near_the_end_of_the_grace_period_is_interrupted(
    project: Path, tmp_path: Path
) -> None:
    db = tmp_path / "grace.duckdb"
    port = free_port()
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from emulator.config import EmuConfig
        from emulator.server import create_app
        from emulator.shutdown import serve_until_signalled
        config = EmuConfig(project=Path({str(project)!r}), port={port}, db=Path({str(db)!r}), watch=False)
        serve_until_signalled(create_app(config), config, grace=1)
        """
    )
    served = Served([sys.executable, "-c", script], port)
    try:
        with httpx.Client(timeout=30) as client:
            sender = _send_later(client, client.build_request("GET", f"{served.url}{API}/slow"))
            time.sleep(0.5)
            code, took = served.stop(signal.SIGTERM)
            resp = sender.result()
        # Interrupted near the end of the grace period, the request still gets an answer.
        assert resp.status_code == 503
        assert resp.json() == {"error": "query interrupted: the server is shutting down"}
        assert code == -signal.SIGTERM and took < 8
        _assert_clean(db)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()


def _send_later(client: httpx.Client, request: httpx.Request) -> Future[httpx.Response]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(client.send, request)
    pool.shutdown(wait=False)
    return future


def test_a_killed_server_leaves_a_database_that_reopens(serve: tuple[Served, Path], project: Path) -> None:
    served, db = serve
    assert httpx.get(f"{served.url}{API}/total", timeout=30).json() == [{"total": 499500, "x": 0}]
    served.proc.kill()
    served.proc.wait(30)
    conn = duckdb.connect(str(db))  # replays the write-ahead log, if any
    try:
        assert conn.execute("SELECT count(*) FROM nums").fetchall() == [(1000,)]
    finally:
        conn.close()
    port = free_port()
    again = Served(
        [sys.executable, "-m", "emulator.cli", "serve", str(project), "--port", str(port), "--db", str(db)],
        port,
    )
    try:
        assert httpx.get(f"{again.url}{API}/total", timeout=30).json() == [{"total": 499500, "x": 0}]
        assert again.stop(signal.SIGINT)[0] == 0
        _assert_clean(db)
    finally:
        if again.proc.poll() is None:
            again.proc.kill()
