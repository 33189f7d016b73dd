"""The API route, ``/v1/instances/{instance}/api/{name...}`` (§4): a plain ASGI app, and its fast lane.

Every API call is served by :class:`ApiRoute`, an ASGI app rather than a Starlette endpoint: it reads
the scope directly and sends two messages, with the headers a Starlette ``Response`` would have
(tested), so a request costs no ``Request``/``Response`` objects. :class:`ApiLane` takes the instance
route before Starlette sees it (``server.EmuApp``): it adds the CORS headers and counts the body as
the CORS and body-limit middleware would, without their layers, and calls the route; preflights and
bodies declared over the limit go the usual way. The cloud-shaped routes go through Starlette's
router, and its middleware, to the same ``ApiRoute``. Tests compare both ways answer for answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from emulator import explain
from emulator.cache import answer_without_blocking, encoded
from emulator.config import INSTANCE_ID
from emulator.cors import OriginPolicy, actual_request_headers
from emulator.errors import EmuError, Forbidden, NotFound
from emulator.identity import ATTRIBUTES_HEADER, USER_HEADER, Claims, IdentityContext, request_claims
from emulator.limits import counting_receive, declared_over, safe_api_name
from emulator.requestargs import merge_args
from emulator.responses import GENERATION_HEADER, JSON, error_parts, raw_headers
from emulator.runtime import Runtime
from emulator.security import check_api_access
from emulator.strictargs import strict_api
from emulator.validation import check_request

if TYPE_CHECKING:
    from emulator.server import EmuState

__all__ = ["ALL_METHODS", "ApiLane", "ApiRoute", "check_instance", "request_identity", "scope_headers"]

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_LANE_METHODS = frozenset(m for m in ALL_METHODS if m != "OPTIONS")  # preflights: CORS
_PREFIX = "/v1/instances/"


def scope_headers(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name, the first value of each (Go's ``Header.Get``)."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        if key not in out:
            out[key] = value.decode("latin-1")
    return out


def check_instance(path_params: Mapping[str, Any]) -> None:
    """404 unless the route names the one instance rill-emu serves (cloud-shaped routes name none)."""
    instance = path_params.get("instance", INSTANCE_ID)
    if instance != INSTANCE_ID:
        raise NotFound(f'instance "{instance}" not found (rill-emu serves one instance: "{INSTANCE_ID}")')


def request_identity(
    headers: Mapping[str, str], path_params: Mapping[str, Any], state: EmuState, runtime: Runtime
) -> Claims:
    """Who the request runs as (see ``identity.request_claims``); checks Rill's ``ReadAPI`` permission.

    The cloud-shaped routes (``/v1/orgs/{org}/projects/{project}/runtime/...``) need an identity.
    """
    cloud = "project" in path_params

    def resolve() -> Claims:
        ctx = IdentityContext(
            mock_users=runtime.project.config.mock_users,
            default_user=state.config.default_user,
            settings_root=runtime.project.root,
        )
        return request_claims(headers, ctx, cloud=cloud)

    if headers.get("authorization"):
        claims = resolve()  # a token may expire: checked on every request
    else:
        # Otherwise the same headers give the same caller within a snapshot (mock users are part of
        # it): resolved once, so caches keyed by the caller's attributes compute that key once too.
        key = ("claims", headers.get(USER_HEADER), headers.get(ATTRIBUTES_HEADER), cloud)
        claims = runtime.memo.get(key, resolve)
    if not claims.can("read_api"):
        raise Forbidden("does not have access to custom APIs")
    return claims


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (what Starlette's ``Request.body`` does)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


class ApiRoute:
    """Resolves an API call. With ``X-Rill-Emu-Explain: 1`` the answer also carries explain headers."""

    def __init__(self, state: EmuState) -> None:
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.respond(scope, receive, send)

    async def respond(
        self, scope: Scope, receive: Receive, send: Send, first: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Answer the request; ``first``: headers sent before the answer's own (CORS)."""
        try:
            status, headers, body, media_type = await self.answer(scope, receive)
        except ClientDisconnect:  # the caller is gone: nobody to answer
            return
        raw = raw_headers(headers, body, media_type)
        if first:
            raw = first + raw
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, str], bytes, str]:
        """Status, headers, body and content type of the answer to the request in ``scope``."""
        state = self.state
        headers = scope_headers(scope)
        path_params = scope["path_params"]
        trace, token = explain.start() if explain.wanted(headers) else (None, None)
        runtime = await state.pin()
        try:
            check_instance(path_params)
            claims = request_identity(headers, path_params, state, runtime)
            if trace is not None:
                trace.set_identity(claims)
            body = await _read_body(receive)
            query_string = scope.get("query_string", b"")
            args = merge_args(body, query_string)
            name = path_params["name"]
            if not safe_api_name(name, scope.get("raw_path")):
                raise NotFound(f'api with name "{name}" not found')  # looks nothing up
            api = runtime.lookup_api(name)
            if api is None:
                raise NotFound(_not_found_message(runtime, name))
            if trace is not None:
                trace.api = {"name": api.name, "resolver": api.resolver, "args": args}
            check_api_access(runtime, api, claims)
            if api.skip_nested_security:
                claims = dataclasses.replace(claims, skip_checks=True)
            if state.config.validate_requests:
                check_request(api, args, query_string, runtime.memo)
            if state.config.strict_args:
                api = strict_api(api, runtime.memo)
            run_on = runtime
            if trace is not None:
                run_on = dataclasses.replace(runtime, engine=explain.RecordingEngine(runtime.engine, trace))
            data = answer_without_blocking(run_on, api, args, claims) if trace is None else None
            if data is None:
                data = await state.workers.run(_resolve_encoded, run_on, api, args, claims)
        except EmuError as exc:
            return error_parts(exc, runtime.generation, trace)
        except ClientDisconnect:
            raise
        except Exception as exc:  # a bug of ours: answer 500 in Rill's shape and keep serving
            state.reporter.error(f"{scope['method']} {scope['path']}: {exc!r}")
            return error_parts(EmuError(f"internal error: {exc}"), runtime.generation, trace)
        finally:
            state.unpin()
            if token is not None:
                explain.stop(token)
        out = {GENERATION_HEADER: str(runtime.generation)}
        if trace is not None:
            out.update(trace.headers())
        return 200, out, data, JSON


class ApiLane:
    """The instance API route, ``/v1/instances/{instance}/api/{name...}``, answered directly.

    :meth:`serve` answers the request and returns True, or returns False for Starlette to route it:
    another path (the OpenAPI document at ``.../api/openapi`` included), a method no route allows, a
    ``root_path``, a CORS preflight, or a body declared over the limit. The paths taken are exactly
    those Starlette's ``/v1/instances/{instance}/api/{name:path}`` route matches.
    """

    def __init__(self, route: ApiRoute, cors: OriginPolicy, max_body_bytes: int) -> None:
        self.route = route
        self.cors = cors
        self.max_body_bytes = max_body_bytes

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request in ``scope`` if it is the lane's; whether it was."""
        method = scope.get("method")
        if scope["type"] != "http" or method not in _LANE_METHODS or scope.get("root_path"):
            return False
        path: str = scope["path"]
        if not path.startswith(_PREFIX) or "\n" in path:
            return False
        instance, slash, rest = path[len(_PREFIX) :].partition("/")
        if not (instance and slash and rest.startswith("api/") and rest != "api/openapi"):
            return False
        limit = self.max_body_bytes
        if limit > 0 and declared_over(scope["headers"], limit):
            return False  # answered 413 by the body-limit middleware
        origins = [value for key, value in scope["headers"] if key == b"origin"]
        scope["path_params"] = {"instance": instance, "name": rest[4:]}
        if limit > 0:
            receive = counting_receive(receive, limit)
        await self.route.respond(scope, receive, send, actual_request_headers(self.cors, method, origins))
        return True


def _resolve_encoded(runtime: Runtime, api: Any, args: dict[str, Any], claims: Any) -> bytes:
    return encoded(runtime.resolve(api, args, claims))


def _not_found_message(runtime: Runtime, name: str) -> str:
    """Rill's 404 text, plus the file and problem when the API exists on disk but failed to load."""
    message = f'api with name "{name}" not found'
    stem = name.rsplit("/", 1)[-1].lower()
    for problem in runtime.project.problems:
        if problem.severity != "error":
            continue
        path_stem = problem.path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
        if path_stem == stem:
            return f"{message} ({problem})"
    return message
