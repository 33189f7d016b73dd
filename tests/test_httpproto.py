"""The gathering protocols: the same bytes as uvicorn's h11 and httptools protocols, in fewer writes."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from emulator.httpproto import (
    GatheringH11Protocol,
    _GatheringTransport,
    gathering_httptools_protocol,
    serving_options,
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if path == "/stream":  # no content-length: chunked, several writes
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        for part in (b"one", b"", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/boom":
        raise RuntimeError("boom")
    data = b'{"path":"' + path.encode() + b'","body":"' + body + b'"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class Server:
    def __init__(self, protocol: type[asyncio.Protocol], loop: str = "asyncio") -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="critical", access_log=False, lifespan="off", http=protocol, loop=loop
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def exchange(self, raw: bytes) -> bytes:
        """Send raw request bytes, read until the server closes or goes quiet."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
            conn.sendall(raw)
            chunks: list[bytes] = []
            conn.settimeout(0.3)
            try:
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
            except TimeoutError:
                pass
        return re.sub(rb"date: [^\r]*\r\n", b"date: X\r\n", b"".join(chunks))


PROTOCOLS = {
    "h11": (H11Protocol, GatheringH11Protocol, "asyncio"),
    "httptools": (HttpToolsProtocol, gathering_httptools_protocol(), "uvloop"),
}


@pytest.fixture(scope="module", params=list(PROTOCOLS))
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[Server, Server]]:
    plain_cls, gathering_cls, loop = PROTOCOLS[request.param]
    assert gathering_cls is not None
    with Server(plain_cls, loop) as plain, Server(gathering_cls, loop) as gathering:
        yield plain, gathering


REQUESTS = {
    "get": b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
    "post with body": b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    "chunked body": b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "pipelined": b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
    "head": b"HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n",
    "streamed": b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n",
    "no content": b"GET /empty HTTP/1.1\r\nHost: h\r\n\r\n",
    "connection close": b"GET /close HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "http/1.0": b"GET /old HTTP/1.0\r\n\r\n",
    "app error": b"GET /boom HTTP/1.1\r\nHost: h\r\n\r\n",
    "malformed": b"NOT A REQUEST\r\n\r\n",
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_same_bytes_as_uvicorns_protocol(servers: tuple[Server, Server], name: str) -> None:
    plain, gathering = servers
    expected = plain.exchange(REQUESTS[name])
    assert expected.startswith(b"HTTP/1.1 ")
    assert gathering.exchange(REQUESTS[name]) == expected


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_writes_are_gathered_until_flushed() -> None:
    loop = asyncio.new_event_loop()
    try:
        inner = _Recorder()
        transport = _GatheringTransport(inner, loop)  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"")
        transport.write(b"body")
        assert inner.writes == []
        transport.flush()
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
        transport.write(b"later")
        loop.run_until_complete(asyncio.sleep(0))  # the end of the loop iteration flushes too
        assert inner.writes[-1] == b"later"
        transport.write(b"last")
        transport.close()
        assert inner.writes[-1] == b"last" and inner.closed
    finally:
        loop.close()


def test_serving_options_pick_httptools_and_uvloop_when_installed() -> None:
    # Both are rill-emu dependencies on CPython outside Windows (pyproject.toml).
    options = serving_options()
    assert options["http"] is gathering_httptools_protocol()
    assert issubclass(options["http"], HttpToolsProtocol)
    assert options["loop"] == "uvloop"
    assert options["server_header"] is False and options["proxy_headers"] is False
