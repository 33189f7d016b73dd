"""The API route as a plain ASGI app, and the lane that takes it before Starlette: both answer exactly
as Starlette's middleware and router would (in-process ASGI calls on sample_project)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.apiroute import scope_headers
from emulator.config import EmuConfig
from emulator.errors import EmuError
from emulator.server import EmuApp, create_app

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/v1/instances/default/api"
#: Header values that differ between two calls of the same request (timings).
VOLATILE = {b"server-timing", b"x-rill-emu-explain"}


@pytest.fixture(scope="module")
def app() -> Iterator[EmuApp]:
    app = create_app(
        EmuConfig(ROOT / "sample_project", watch=False, log_format="quiet", max_body_bytes=4096, cache=False)
    )
    yield app
    app.state.emu.close()


def call(
    app: EmuApp,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    root_path: str = "",
) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
    """(status, headers, body, whether Starlette's router handled it) of one in-process request."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "query_string": query,
        "root_path": root_path,
        "headers": [(b"host", b"127.0.0.1:9009")] + [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 9009),
        "state": {},
    }
    sent: list[dict[str, Any]] = []
    chunks = [body]

    async def receive() -> dict[str, Any]:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(), "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *rest = sent
    return start["status"], start["headers"], b"".join(m.get("body", b"") for m in rest), "router" in scope


CASES: dict[str, dict[str, Any]] = {
    "sql API": {"method": "GET", "path": f"{PREFIX}/top_products", "query": b"limit=3"},
    "allowed origin": {
        "method": "GET",
        "path": f"{PREFIX}/top_products",
        "headers": (("Origin", "http://localhost:9009"),),
    },
    "other origin": {"method": "GET", "path": f"{PREFIX}/top_products", "headers": (("Origin", "http://x"),)},
    "POST body": {"method": "POST", "path": f"{PREFIX}/top_products", "body": b'{"limit": 2}'},
    "bad body": {"method": "POST", "path": f"{PREFIX}/top_products", "body": b"[1]"},
    "body too large": {"method": "POST", "path": f"{PREFIX}/top_products", "body": b" " * 5000},
    "mock user": {
        "method": "GET",
        "path": f"{PREFIX}/top_categories",
        "headers": (("X-Rill-User", "emilie@sample-shop.eu"),),
    },
    "unknown user": {
        "method": "GET",
        "path": f"{PREFIX}/top_categories",
        "headers": (("X-Rill-User", "x@y"),),
    },
    "explain": {"method": "GET", "path": f"{PREFIX}/top_products", "headers": (("X-Rill-Emu-Explain", "1"),)},
    "chunked body too large": {
        "method": "POST",
        "path": f"{PREFIX}/top_products",
        "headers": (("Transfer-Encoding", "chunked"), ("Origin", "http://localhost:9009")),
        "body": b" " * 5000,
    },
    "two origins": {
        "method": "GET",
        "path": f"{PREFIX}/top_products",
        "headers": (("Origin", "http://localhost:9009"), ("Origin", "http://x")),
    },
    "unknown API": {"method": "GET", "path": f"{PREFIX}/nope"},
    "dot-dot name": {"method": "GET", "path": f"{PREFIX}/a/../top_products"},
    "empty name": {"method": "GET", "path": f"{PREFIX}/"},
    "other instance": {"method": "GET", "path": "/v1/instances/other/api/top_products"},
    "HEAD": {"method": "HEAD", "path": f"{PREFIX}/top_products"},
    "DELETE": {"method": "DELETE", "path": f"{PREFIX}/top_products"},
}
#: Requests the lane leaves to the router.
ROUTED: dict[str, dict[str, Any]] = {
    "OpenAPI document": {"method": "GET", "path": f"{PREFIX}/openapi"},
    "method no route allows": {"method": "TRACE", "path": f"{PREFIX}/top_products"},
    "newline in the name": {"method": "GET", "path": f"{PREFIX}/top\nproducts"},
    "no API segment": {"method": "GET", "path": "/v1/instances/default/apis/top_products"},
    "no instance": {"method": "GET", "path": "/v1/instances//api/top_products"},
    "plain OPTIONS": {"method": "OPTIONS", "path": f"{PREFIX}/top_products"},
    "body declared too large": {
        "method": "POST",
        "path": f"{PREFIX}/top_products",
        "headers": (("Content-Length", "5000"),),
        "body": b" " * 5000,
    },
}


def _stable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, b"" if k in VOLATILE else v) for k, v in headers]


@pytest.mark.parametrize("name", list(CASES))
def test_lane_answers_as_the_router_would(app: EmuApp, name: str) -> None:
    case = CASES[name]
    status, headers, body, routed = call(app, **case)
    r_status, r_headers, r_body, r_routed = call(app, **case, root_path="/root")  # the lane steps aside
    assert not routed and r_routed
    assert (status, _stable(headers), body) == (r_status, _stable(r_headers), r_body)


@pytest.mark.parametrize("name", list(ROUTED))
def test_lane_leaves_other_requests_to_starlette(app: EmuApp, name: str) -> None:
    case = ROUTED[name]
    scope = {
        "type": "http",
        "method": case["method"],
        "path": case["path"],
        "raw_path": case["path"].encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in case.get("headers", ())],
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": case.get("body", b""), "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    assert app.lane is not None
    assert asyncio.run(app.lane.serve(scope, receive, send)) is False
    assert sent == []
    status, _, _, _ = call(app, **case)  # and Starlette answers it
    assert status in (200, 204, 404, 405, 413)


def test_preflights_are_answered_by_cors_on_both_paths(app: EmuApp) -> None:
    headers = (("Origin", "http://localhost:9009"), ("Access-Control-Request-Method", "POST"))
    lane = call(app, "OPTIONS", f"{PREFIX}/top_products", headers=headers)
    routed = call(app, "OPTIONS", f"{PREFIX}/top_products", headers=headers, root_path="/root")
    assert lane == routed
    assert lane[0] == 204 and (b"access-control-allow-methods", b"POST") in lane[1]


def test_answers_carry_starlette_shaped_headers(app: EmuApp) -> None:
    status, headers, body, _ = call(app, "GET", f"{PREFIX}/top_products", query=b"limit=1")
    assert status == 200
    names = [k for k, _ in headers]
    assert names == [b"vary", b"x-rill-emu-generation", b"content-length", b"content-type"]
    assert dict(headers)[b"content-length"] == str(len(body)).encode()
    assert dict(headers)[b"content-type"] == b"application/json"


def test_errors_name_the_problem(app: EmuApp) -> None:
    status, _, body, _ = call(app, "GET", "/v1/instances/other/api/top_products")
    assert status == 404 and b'instance \\"other\\" not found' in body
    status, _, body, _ = call(app, "POST", f"{PREFIX}/top_products", body=b" " * 5000)
    assert status == 413


def test_a_disconnected_caller_gets_no_answer(app: EmuApp) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": f"{PREFIX}/top_products",
        "raw_path": f"{PREFIX}/top_products".encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent == []
    assert app.state.emu.gate.active == 0  # the snapshot was released


def test_scope_headers_keep_the_first_value_by_lower_case_name() -> None:
    scope = {"headers": [(b"X-Rill-User", b"a"), (b"x-rill-user", b"b"), (b"accept", b"*/*")]}
    assert scope_headers(scope) == {"x-rill-user": "a", "accept": "*/*"}


def test_callers_are_resolved_once_per_snapshot_and_tokens_every_time(app: EmuApp) -> None:
    from emulator.apiroute import request_identity
    from emulator.identity import issue_dev_jwt

    state = app.state.emu
    runtime = state.runtime
    emilie = {"x-rill-user": "emilie@sample-shop.eu"}
    first = request_identity(emilie, {}, state, runtime)
    assert request_identity(dict(emilie), {}, state, runtime) is first
    other = request_identity({"x-rill-user": "alex@sample-shop.com"}, {}, state, runtime)
    assert other is not first and other.attributes != first.attributes
    attrs = request_identity({"x-rill-attributes": '{"region": "EMEA"}'}, {}, state, runtime)
    assert dict(attrs.attributes) == {"region": "EMEA"}
    for _ in range(2):  # an unknown user is refused every time
        with pytest.raises(EmuError) as err:
            request_identity({"x-rill-user": "nobody@x.y"}, {}, state, runtime)
        assert err.value.status == 401
    bearer = {"authorization": "Bearer " + issue_dev_jwt({"name": "a", "email": "a@b.c"})}
    assert request_identity(bearer, {}, state, runtime) is not request_identity(bearer, {}, state, runtime)
    assert first.attributes_key == request_identity(emilie, {}, state, runtime).attributes_key


def test_answers_follow_the_caller(app: EmuApp) -> None:
    rows = {}
    for user in ("emilie@sample-shop.eu", "alex@sample-shop.com", "emilie@sample-shop.eu"):
        status, _, body, _ = call(app, "GET", f"{PREFIX}/top_categories", headers=(("X-Rill-User", user),))
        assert status == 200
        rows.setdefault(user, set()).add(body)
    assert all(len(bodies) == 1 for bodies in rows.values())
    assert rows["emilie@sample-shop.eu"] != rows["alex@sample-shop.com"]


def test_a_template_changing_user_or_env_changes_them_for_its_request_only(tmp_path: Path) -> None:
    # Sprig's set changes a map in place; the caller (resolved once per snapshot) and the project's
    # variables outlive the request, so templates get copies.
    (tmp_path / "rill.yaml").write_text("env:\n  n: '0'\nmock_users:\n  - email: a@b.c\n    n: 0\n")
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "count.yaml").write_text(
        "type: api\nsql: >-\n"
        '  {{ $_ := set .user "n" (add1 .user.n) }}{{ $_ := set .env "n" "changed" }}'
        "SELECT {{ .user.n }} AS n, '{{ .env.n }}' AS env\n"
    )
    app = create_app(EmuConfig(tmp_path, watch=False, log_format="quiet", cache=False))
    try:
        for _ in range(3):
            status, _, body, _ = call(app, "GET", f"{PREFIX}/count", headers=(("X-Rill-User", "a@b.c"),))
            assert (status, body) == (200, b'[{"env":"changed","n":1}]')
        assert app.state.emu.runtime.env_data["n"] == "0"
    finally:
        app.state.emu.close()
