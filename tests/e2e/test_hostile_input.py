"""Hostile requests against a real server: each gets a clean 4xx, never a 500, and the server lives on."""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import select
import socket
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.cli import main
from emulator.limits import MAX_JSON_DEPTH
from emulator.testing import EmuServer
from tests.e2e.conftest import ServeFn, write_project

API = "/v1/instances/default/api"
TOO_DEEP = f"failed to unmarshal request body: exceeded max depth (rill-emu accepts {MAX_JSON_DEPTH} levels)"
PICK = """\
type: api
openapi:
  parameters: [{name: id, in: query, schema: {type: integer}}]
sql: SELECT {{ .args.id }} AS id
"""
FILES = {
    "models/nums.sql": "SELECT range AS n FROM range(10)",
    "apis/echo.yaml": "type: api\nsql: SELECT {{ len .args }} AS args\n",
    "apis/nums.yaml": "type: api\nsql: SELECT count(*) AS c FROM nums\n",
    "apis/slow.yaml": "type: api\nsql: SELECT sum(range) AS s FROM range(1000000000000000)\n",
}


def raw(server: EmuServer, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` (its head ending in ``Host: x\r\n``) on a new connection, asking the server
    to close it after answering; the status and body of the answer.
    """
    host, port = server.config.host, server.config.port
    request = request.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n", 1)
    data = b""
    with socket.create_connection((host, port), timeout=10) as sock:
        # Send in pieces, reading as soon as the server answers: it may refuse a request before it
        # has all of it, and close the connection on the rest.
        for start in range(0, len(request), 8192):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(request[start : start + 8192])
            except (BrokenPipeError, ConnectionResetError):
                break
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmuServer]:
    root = write_project(tmp_path_factory.mktemp("hostile"), FILES)
    with EmuServer(root, watch=False, max_body_bytes=4096) as running:
        yield running


def _alive(server: EmuServer) -> None:
    assert server.call("nums") == [{"c": 10}]


# --- bodies ---------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(server: EmuServer) -> None:
    big = b'{"a": "' + b"x" * 5000 + b'"}'
    resp = httpx.post(f"{server.url}{API}/echo", content=big)
    assert resp.status_code == 413
    assert resp.json() == {"error": "request body too large: the limit is 4096 bytes (serve --max-body-size)"}

    def chunks() -> Iterator[bytes]:
        yield b'{"a": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    resp = httpx.post(f"{server.url}{API}/echo", content=chunks())
    assert resp.status_code == 413
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    ok = httpx.post(f"{server.url}{API}/echo", content=b'{"a": "' + b"x" * 4000 + b'"}')
    assert ok.json() == [{"args": 1}]
    _alive(server)


def test_the_default_limit_is_one_mebibyte(serve: ServeFn) -> None:
    server = serve(FILES)
    body = b'{"a": "' + b"x" * (2**20 - 10) + b'"}'
    assert httpx.post(f"{server.url}{API}/echo", content=body).status_code == 200
    assert httpx.post(f"{server.url}{API}/echo", content=body + b" " * 20).status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": "\xff"}', "failed to unmarshal request body: invalid UTF-8 at byte 7"),
        (b"\xfe\xff{}", "failed to unmarshal request body: invalid UTF-8 at byte 0"),
        (b'{"a": ', "failed to unmarshal request body: unexpected end of JSON input"),
        (
            b"{'a': 1}",
            "failed to unmarshal request body: "
            "invalid character '\\'' looking for beginning of object key string",
        ),
        (b'{"a": NaN}', "failed to unmarshal request body: invalid JSON literal"),
        (
            b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}",
            TOO_DEEP,
        ),
        (
            b'{"a": ' + b'{"b": ' * MAX_JSON_DEPTH + b"1" + b"}" * MAX_JSON_DEPTH + b"}",
            TOO_DEEP,
        ),
    ],
)
def test_malformed_bodies_are_400(server: EmuServer, body: bytes, message: str) -> None:
    resp = httpx.post(f"{server.url}{API}/echo", content=body)
    assert resp.status_code == 400
    assert resp.json() == {"error": message}


def test_json_just_within_the_depth_limit_is_served(server: EmuServer) -> None:
    depth = MAX_JSON_DEPTH - 1  # plus the top-level object
    body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    resp = httpx.post(f"{server.url}{API}/echo", content=body)
    assert resp.status_code == 200 and resp.json() == [{"args": 1}]


# --- API names ------------------------------------------------------------------------------------


@pytest.fixture
def file_access_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Paths the process opens or stats that contain ``rillemuprobe``, while the fixture lives."""
    seen: list[str] = []

    def spy(fn: Any) -> Any:
        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            if "rillemuprobe" in os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else False:
                seen.append(os.fsdecode(path))
            return fn(path, *args, **kwargs)

        return wrapper

    for module, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "stat"), (os, "lstat")):
        monkeypatch.setattr(module, name, spy(getattr(module, name)))
    yield seen


@pytest.mark.parametrize(
    "target",
    [
        b"/../../rillemuprobe",
        b"/..%2F..%2Frillemuprobe",
        b"/%2e%2e/%2e%2e/rillemuprobe",
        b"/apis%2Frillemuprobe",
        b"/apis%5crillemuprobe",
        b"/rillemuprobe%00",
        b"/rillemuprobe%0a",
        b"/rillemuprobe%1b%5b2J",
        b"/./rillemuprobe",
        b"//rillemuprobe",
        b"/rillemuprobe/",
    ],
)
def test_path_tricks_are_404_and_touch_no_file(
    server: EmuServer, file_access_log: list[str], target: bytes, tmp_path: Path
) -> None:
    (tmp_path / "rillemuprobe").write_text("x")
    assert file_access_log, "the spy sees file access"  # the probe write above went through it
    file_access_log.clear()
    status, body = raw(server, b"GET " + API.encode() + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status in (400, 404), body
    if status == 404:
        assert json.loads(body)["error"].startswith('api with name "')
    assert file_access_log == []
    _alive(server)


def test_encoded_slashes_do_not_reach_an_api_with_a_slash_in_its_name(serve: ServeFn) -> None:
    server = serve({**FILES, "apis/nested.yaml": "type: api\nsql: SELECT 1 AS one\n"})
    assert server.call("nested") == [{"one": 1}]
    status, _ = raw(server, f"GET {API}/ne%2Fsted HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 404


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        b"Authorization: Bearer \xff\xfe\x00\r\n",
        b"Authorization: Bearer a.b.c\r\n",
        b"Authorization: Bearer " + b"A" * 8000 + b"." + b"B" * 3000 + b".\r\n",
        b"Authorization: Basic \xe9t\xe9\r\n",
        b"Authorization: \r\n",
        b"X-Rill-User: \xff\xfe\r\n",
        b"X-Rill-User: " + "é".encode() * 3000 + b"\r\n",
        b"X-Rill-Attributes: \xff\r\n",
        b'X-Rill-Attributes: {"a": ' + b"[" * 2000 + b"\r\n",
        b'X-Rill-Attributes: {"admin": "\xc3\xa9"}\r\n',
        b"X-Rill-Emu-Explain: \xff\r\n",
        b"Origin: \xff\xfe\r\nAccess-Control-Request-Method: \xff\r\n",
        b"Accept: \xff\r\nContent-Type: \xfe\r\n",
        b"X-Big: " + b"z" * 200_000 + b"\r\n",
        b"".join(b"X-H%d: v\r\n" % i for i in range(2000)),
    ],
)
def test_header_values_of_any_size_or_encoding_never_cause_a_500(server: EmuServer, headers: bytes) -> None:
    for method in (b"GET", b"OPTIONS"):
        request = method + b" " + API.encode() + b"/nums HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
        status, body = raw(server, request)
        assert status < 500, body
    _alive(server)


# --- binding --------------------------------------------------------------------------------------


def test_serve_refuses_a_non_loopback_host_without_allow_remote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, FILES)
    assert main(["serve", str(project), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen on 0.0.0.0" in err and "--allow-remote" in err
    assert main(["exec", str(project), "--host", "::", "--", sys.executable, "-c", "pass"]) == 2


def test_allow_remote_warns_that_the_server_is_unauthenticated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path, FILES)
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning prints, then binding fails.
    with pytest.raises(SystemExit):
        main(["serve", str(project), "--host", "192.0.2.1", "--allow-remote", "--port", "0", "--no-watch"])
    err = capsys.readouterr().err
    assert "WARNING: listening on 192.0.2.1:0" in err and "unauthenticated" in err


def test_the_safety_options_reach_the_server(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", {**FILES, "apis/pick.yaml": PICK})
    check = textwrap.dedent(
        """
        import os, httpx
        api = os.environ["RILL_EMU_URL"] + "/v1/instances/default/api"
        big = httpx.post(api + "/echo", content=b'{"a": "' + b"x" * 200 + b'"}')
        strict = httpx.get(api + "/pick")
        invalid = httpx.get(api + "/pick?id=x")
        slow = httpx.get(api + "/slow")
        assert big.status_code == 413, big.text
        assert strict.json() == {"error": 'missing argument "id"'}, strict.text
        assert invalid.json()["error"].startswith('invalid request: query parameter "id"'), invalid.text
        assert slow.json() == {"error": "query timed out after 0.5s"}, slow.text
        """
    )
    argv = ["exec", str(project), "--port", "0", "--max-body-size", "128", "--strict-args"]
    argv += ["--validate-requests", "--query-timeout", "0.5", "--", sys.executable, "-c", check]
    assert main(argv) == 0
