"""Safe defaults: the bind rule, API-name checks, JSON nesting, the body-size middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator.limits import (
    MAX_JSON_DEPTH,
    BodyLimitMiddleware,
    PayloadTooLarge,
    bind_error,
    is_loopback,
    json_too_deep,
    remote_warning,
    safe_api_name,
)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)
    assert bind_error(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", ""])
def test_other_addresses_need_allow_remote(host: str) -> None:
    assert not is_loopback(host)
    error = bind_error(host, allow_remote=False)
    assert error is not None and "--allow-remote" in error and "unauthenticated" in error
    assert bind_error(host, allow_remote=True) is None


def test_the_remote_warning_says_unauthenticated() -> None:
    text = remote_warning("0.0.0.0", 9009)
    assert "0.0.0.0:9009" in text and "unauthenticated" in text and "SQL" in text


@pytest.mark.parametrize("name", ["top_products", "a/b", "Top-Products", "café", "x.y", "a..b", "v1.2"])
def test_api_names_that_may_name_an_api(name: str) -> None:
    assert safe_api_name(name, b"/v1/instances/default/api/" + name.encode())


@pytest.mark.parametrize(
    "name",
    [
        "",
        "..",
        "../etc/passwd",
        "a/../b",
        "a/./b",
        "a//b",
        "a/",
        "/a",
        "a\\b",
        "a\x00b",
        "x\n",
        "\x7f",
        "a\tb",
    ],
)
def test_api_names_that_are_path_tricks(name: str) -> None:
    assert not safe_api_name(name)


@pytest.mark.parametrize(
    "raw", [b"/v1/instances/default/api/a%2Fb", b"/api/a%2fb", b"/api/a%5Cb", b"/api/%5c"]
)
def test_encoded_separators_in_the_raw_path(raw: bytes) -> None:
    assert not safe_api_name("a/b", raw)


def test_json_depth() -> None:
    value: Any = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        value = [value]
    assert not json_too_deep({"a": value})  # the object is level 1, the innermost list level 256
    assert json_too_deep({"a": [value]})
    assert json_too_deep([{"k": [[]]}], limit=3)
    assert not json_too_deep([{"k": [1]}], limit=3)
    assert not json_too_deep({"wide": [[i] for i in range(10_000)]}, limit=3)


# --- the middleware, driven as ASGI -----------------------------------------------------------------


async def _echo_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def _run(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_declared_length_over_the_limit_is_refused_before_the_app_runs() -> None:
    called = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    sent = _run(BodyLimitMiddleware(app, max_bytes=10), [b"x" * 11], [(b"content-length", b"11")])
    assert not called
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/json; charset=utf-8") in sent[0]["headers"]
    assert (
        sent[1]["body"]
        == b'{"error":"request body too large: the limit is 10 bytes (serve --max-body-size)"}'
    )


def test_a_streamed_body_is_counted_as_it_arrives() -> None:
    sent = _run(BodyLimitMiddleware(_echo_body, max_bytes=10), [b"x" * 6, b"x" * 6], [])
    assert sent[0]["status"] == 413
    ok = _run(BodyLimitMiddleware(_echo_body, max_bytes=12), [b"x" * 6, b"x" * 6], [])
    assert ok[0]["status"] == 200 and ok[1]["body"] == b"12"


def test_the_limit_error_is_an_emu_error_handlers_answer_themselves() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await receive()
        except PayloadTooLarge as exc:
            await send({"type": "http.response.start", "status": exc.status, "headers": []})
            await send({"type": "http.response.body", "body": b"handled"})

    sent = _run(BodyLimitMiddleware(app, max_bytes=1), [b"xx"], [])
    assert sent[0]["status"] == 413 and sent[1]["body"] == b"handled"


def test_a_limit_of_zero_is_no_limit() -> None:
    sent = _run(BodyLimitMiddleware(_echo_body, max_bytes=0), [b"x" * 5000], [(b"content-length", b"5000")])
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"5000"


def test_other_scopes_pass_through() -> None:
    seen = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(BodyLimitMiddleware(app, max_bytes=1)({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]
