"""CORS as Rill's runtime answers it: rs/cors v1.11 with Rill's options (reference §4.6)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from emulator.cli import build_parser
from emulator.cors import MAX_AGE, OriginPolicy, RillCORSMiddleware, rill_start_origins
from emulator.testing import EmuServer

API = "/v1/instances/default/api"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


async def _echo(request: Request) -> Response:
    return PlainTextResponse(f"{request.method} reached the app")


class _Client:
    """Requests to a one-route app behind the middleware, through httpx's ASGI transport."""

    def __init__(self, origins: Sequence[str]) -> None:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "FOO"]
        self.app = Starlette(
            routes=[Route("/x", _echo, methods=methods)],
            middleware=[Middleware(RillCORSMiddleware, allowed_origins=origins)],
        )

    def request(self, method: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://runtime.test") as http:
                return await http.request(method, "/x", headers=headers)

        return asyncio.run(send())

    def get(self, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", headers)


def _client(origins: Sequence[str]) -> _Client:
    return _Client(origins)


def _preflight(
    client: _Client, origin: str | None, method: str, headers: str | None = None
) -> httpx.Response:
    sent = {"Access-Control-Request-Method": method}
    if origin is not None:
        sent["Origin"] = origin
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return client.request("OPTIONS", sent)


def _cors_headers(resp: httpx.Response) -> dict[str, list[str]]:
    return {
        k: resp.headers.get_list(k) for k in resp.headers if k.startswith("access-control-") or k == "vary"
    }


def test_star_echoes_the_origin_on_preflight_with_every_requested_header() -> None:
    resp = _preflight(
        _client(["*"]), "http://app.test:5173", "POST", "authorization,content-type,x-rill-user"
    )
    assert resp.status_code == 204
    assert resp.content == b""
    assert _cors_headers(resp) == {
        "vary": [PREFLIGHT_VARY],
        "access-control-allow-origin": ["http://app.test:5173"],
        "access-control-allow-methods": ["POST"],
        "access-control-allow-headers": ["authorization,content-type,x-rill-user"],
        "access-control-max-age": [str(MAX_AGE)],
    }


def test_preflight_never_reaches_the_app_and_echoes_nothing_it_was_not_asked() -> None:
    resp = _preflight(_client(["*"]), "http://app.test", "DELETE")
    assert resp.status_code == 204
    assert "access-control-allow-headers" not in resp.headers
    assert resp.headers["access-control-allow-methods"] == "DELETE"


@pytest.mark.parametrize("method", ["HEAD", "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_allowed_methods(method: str) -> None:
    resp = _preflight(_client(["*"]), "http://app.test", method)
    assert resp.headers["access-control-allow-methods"] == method


@pytest.mark.parametrize("method", ["CONNECT", "TRACE", "post", "FOO"])
def test_other_methods_fail_preflight_with_only_vary(method: str) -> None:
    # rs/cors v1.11 compares methods case-sensitively.
    resp = _preflight(_client(["*"]), "http://app.test", method)
    assert resp.status_code == 204
    assert _cors_headers(resp) == {"vary": [PREFLIGHT_VARY]}


def test_preflight_without_origin_or_from_another_origin_gets_only_vary() -> None:
    client = _client(["http://localhost:9009"])
    for origin in (None, "", "http://evil.test"):
        resp = _preflight(client, origin, "GET")
        assert resp.status_code == 204
        assert _cors_headers(resp) == {"vary": [PREFLIGHT_VARY]}


def test_listed_origins_match_case_insensitively_and_are_echoed_as_sent() -> None:
    client = _client(["http://localhost:9009", "https://App.Example.com"])
    resp = client.get({"Origin": "https://app.example.COM"})
    assert resp.text == "GET reached the app"
    assert resp.headers["access-control-allow-origin"] == "https://app.example.COM"


def test_one_wildcard_per_origin() -> None:
    policy = OriginPolicy.from_origins(["https://*.example.com"])
    assert policy.allows("https://a.example.com")
    assert policy.allows("https://a.b.example.com")
    assert not policy.allows("https://example.com")
    assert not policy.allows("http://a.example.com")
    assert not policy.allows("https://a.example.com.evil.test")


def test_an_empty_list_allows_every_origin_with_a_literal_star() -> None:
    resp = _client([]).get({"Origin": "http://any.test"})
    assert resp.headers["access-control-allow-origin"] == "*"


def test_actual_requests_get_vary_and_the_echoed_origin() -> None:
    client = _client(["*"])
    resp = client.request("POST", {"Origin": "http://app.test"})
    assert resp.text == "POST reached the app"
    assert _cors_headers(resp) == {
        "vary": ["Origin"],
        "access-control-allow-origin": ["http://app.test"],
        # rill-emu's own headers are readable by browser code (an extra over Rill)
        "access-control-expose-headers": ["X-Rill-Emu-Generation, X-Rill-Emu-Explain, Server-Timing"],
    }
    # No Access-Control-Request-Method: a plain OPTIONS request, served by the app, OPTIONS allowed.
    resp = client.request("OPTIONS", {"Origin": "http://app.test"})
    assert resp.text == "OPTIONS reached the app"
    assert resp.headers["access-control-allow-origin"] == "http://app.test"


def test_actual_requests_without_allowed_origin_or_method_get_only_vary() -> None:
    client = _client(["http://localhost:9009"])
    assert _cors_headers(client.get()) == {"vary": ["Origin"]}
    assert _cors_headers(client.get({"Origin": "http://evil.test"})) == {"vary": ["Origin"]}
    resp = _client(["*"]).request("FOO", {"Origin": "http://app.test"})
    assert resp.text == "FOO reached the app"
    assert _cors_headers(resp) == {"vary": ["Origin"]}


def test_rill_start_allows_its_own_url_plus_the_flag_values() -> None:
    args = build_parser().parse_args(
        ["serve", "--allowed-origins", "http://a.test, http://b.test", "--allowed-origins", "*"]
    )
    assert rill_start_origins(args.allowed_origins, 9009) == [
        "http://a.test",
        "http://b.test",
        "*",
        "http://localhost:9009",
    ]
    assert rill_start_origins(build_parser().parse_args(["serve"]).allowed_origins, 9009) == [
        "http://localhost:9009"
    ]


# --- the real server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_server(rill_project: Path) -> Iterator[EmuServer]:
    with EmuServer(rill_project, watch=False, allowed_origins=["*"]) as server:
        yield server


def test_the_server_answers_a_browser_preflight_for_post_json_with_identity(open_server: EmuServer) -> None:
    resp = httpx.options(
        f"{open_server.url}{API}/sales_by_category",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-rill-user",
        },
    )
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert resp.headers["access-control-allow-methods"] == "POST"
    assert resp.headers["access-control-allow-headers"] == "authorization,content-type,x-rill-user"
    assert resp.headers["access-control-max-age"] == "3600"


def test_the_server_adds_cors_to_every_route(open_server: EmuServer) -> None:
    origin = {"Origin": "http://localhost:5173"}
    for path in (f"{API}/openapi", f"{API}/no_such_api", "/v1/health", "/v1/instances/default/emu/status"):
        resp = httpx.get(open_server.url + path, headers=origin)
        assert resp.headers["access-control-allow-origin"] == "http://localhost:5173", path
        assert resp.headers.get_list("vary") == ["Origin"], path
    with httpx.stream("GET", f"{open_server.url}/v1/instances/default/emu/events", headers=origin) as resp:
        assert resp.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_by_default_only_the_servers_own_localhost_url_is_allowed(rill_project: Path) -> None:
    with EmuServer(rill_project, watch=False) as server:
        own = f"http://localhost:{server.config.port}"
        resp = httpx.get(f"{server.url}{API}/openapi", headers={"Origin": own})
        assert resp.headers["access-control-allow-origin"] == own
        resp = httpx.get(f"{server.url}{API}/openapi", headers={"Origin": "http://localhost:5173"})
        assert "access-control-allow-origin" not in resp.headers
