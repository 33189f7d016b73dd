"""The HTTP app: ``create_app(config)`` builds a Starlette app serving Rill's API routes (§4, §5).

No CLI code here. A request reads the current runtime snapshot once and uses only it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from emulator import jsonval, openapi
from emulator.apiroute import ALL_METHODS, ApiLane, ApiRoute, check_instance, request_identity, scope_headers
from emulator.cache import ResultCache
from emulator.config import INSTANCE_ID, EmuConfig
from emulator.cors import OriginPolicy, RillCORSMiddleware, rill_start_origins
from emulator.errors import BadRequest, EmuError, MethodNotAllowed
from emulator.identity import issue_dev_jwt
from emulator.limits import BodyLimitMiddleware
from emulator.olap.duckdb import DuckDBEngine
from emulator.reload import Reloader, SnapshotGate, problem_json
from emulator.reporting import Reporter
from emulator.responses import GENERATION_HEADER, error_response
from emulator.runtime import Runtime, RuntimeBuilder
from emulator.shutdown import SHUTDOWN_EVENT
from emulator.workers import WorkerPool

__all__ = ["GENERATION_HEADER", "EmuApp", "EmuState", "create_app"]


class EmuState:
    """The server's mutable core: the engine, the builder, and the current snapshot."""

    def __init__(self, config: EmuConfig, reporter: Reporter | None = None) -> None:
        self.config = config
        self.reporter = reporter or Reporter(config.log_format)
        self.engine = DuckDBEngine(config.project, config.db, query_timeout=config.query_timeout)
        self.cache = ResultCache(config.cache_bytes) if config.cache else None
        self.builder = RuntimeBuilder(
            config.project,
            self.engine,
            environment=config.environment,
            env_overrides=config.env,
            model_timeout=config.model_timeout,
            cache=self.cache,
        )
        self.runtime: Runtime = self.builder.build()
        self.server_url = openapi.server_url(config.host, config.port, INSTANCE_ID)
        self._openapi: tuple[int, bytes, bytes | None] | None = None
        self.reloader: Reloader | None = None
        self.gate = SnapshotGate()
        self.workers = WorkerPool()

    @property
    def base_url(self) -> str:
        """The URL clients use to reach this server."""
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.config.port}"

    async def pin(self) -> Runtime:
        """The current snapshot, for a request that queries its models: call ``unpin`` when done.

        While a request holds it, a reload does not publish rebuilt model tables (they would mix two
        generations in one response); while a reload publishes them, this waits.
        """
        await self.gate.enter()
        return self.runtime

    def unpin(self) -> None:
        """Release the snapshot taken with ``pin``."""
        self.gate.leave()

    def swap(self, runtime: Runtime) -> None:
        """Make ``runtime`` the snapshot new requests see (a single reference assignment).

        Cached answers reading a model the new snapshot rebuilt or dropped are dropped too.
        """
        self.runtime = runtime
        if self.cache is not None:
            self.cache.prune(runtime.models, runtime.generation)

    def openapi_document(self, runtime: Runtime, as_yaml: bool) -> bytes:
        """The OpenAPI document of a snapshot, built once per generation."""
        cached = self._openapi
        if cached is None or cached[0] != runtime.generation:
            doc = self.openapi_dict(runtime)
            cached = (runtime.generation, openapi.to_json(doc), None)
        if as_yaml and cached[2] is None:
            cached = (cached[0], cached[1], openapi.to_yaml(self.openapi_dict(runtime)))
        self._openapi = cached
        return cached[2] if as_yaml and cached[2] is not None else cached[1]

    def openapi_dict(self, runtime: Runtime) -> dict[str, Any]:
        """The OpenAPI document as a dict."""
        return openapi.build_document(runtime.served_apis(), self.server_url)

    def close(self) -> None:
        """Release the database and the query threads."""
        self.engine.close()
        self.workers.close()


async def openapi_endpoint(request: Request) -> Response:
    """``/v1/instances/{instance}/api/openapi``: the combined document, JSON or YAML."""
    state: EmuState = request.app.state.emu
    runtime = state.runtime
    try:
        if request.method != "GET":
            raise MethodNotAllowed("GET only")
        check_instance(request.path_params)
        request_identity(scope_headers(request.scope), request.path_params, state, runtime)
    except EmuError as exc:
        return error_response(exc, runtime.generation)
    accept = request.headers.get("accept", "")
    as_yaml = accept in ("application/yaml", "application/x-yaml")
    if "project" in request.path_params:
        # Cloud-shaped route: the same document, its server URL being the route it was fetched from.
        doc = state.openapi_dict(runtime)
        doc["servers"] = [{"url": str(request.base_url).rstrip("/") + request.url.path.rsplit("/", 1)[0]}]
        data = openapi.to_yaml(doc) if as_yaml else openapi.to_json(doc)
    else:
        data = state.openapi_document(runtime, as_yaml)
    media = "application/yaml" if as_yaml else "application/json"
    return Response(data, media_type=media, headers={GENERATION_HEADER: str(runtime.generation)})


async def status_endpoint(request: Request) -> Response:
    """``/v1/instances/{instance}/emu/status``: generation, last reload, resources and problems."""
    state: EmuState = request.app.state.emu
    runtime = state.runtime
    try:
        check_instance(request.path_params)
    except EmuError as exc:
        return error_response(exc, runtime.generation)
    reloader = state.reloader
    body = {
        "generation": runtime.generation,
        "project": str(runtime.project.root),
        "environment": runtime.project.environment,
        "watching": reloader is not None and reloader.ready.is_set(),
        "last_reload": {
            "at": reloader.last_reload_at if reloader else runtime.built_at,
            "duration_ms": round(reloader.last_reload_ms if reloader else runtime.build_ms, 3),
            "changed": list(runtime.changed),
        },
        "resources": [
            {"type": kind, "name": name, "status": status, "error": error}
            for kind, name, status, error in runtime.resource_status()
        ],
        "problems": [problem_json(p) for p in runtime.problems],
        "cache": state.cache.stats() if state.cache is not None else None,
    }
    return Response(
        jsonval.dumps(body),
        media_type="application/json",
        headers={GENERATION_HEADER: str(runtime.generation)},
    )


async def events_endpoint(request: Request) -> Response:
    """``/v1/instances/{instance}/emu/events``: server-sent events, one ``reload`` event per reload.

    The stream opens with a ``hello`` event carrying the current generation, so a client knows from
    which generation on it will be told.
    """
    state: EmuState = request.app.state.emu
    try:
        check_instance(request.path_params)
    except EmuError as exc:
        return error_response(exc, state.runtime.generation)
    reloader = state.reloader
    if reloader is None:
        return error_response(EmuError("the server is starting", status=503))

    async def stream() -> AsyncIterator[bytes]:
        async with reloader.subscribe() as queue:
            hello = {"generation": state.runtime.generation}
            yield b"event: hello\ndata: " + jsonval.dumps(hello) + b"\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except asyncio.TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if event is SHUTDOWN_EVENT:  # the server is stopping: end the stream
                    yield b"event: shutdown\ndata: {}\n\n"
                    return
                yield b"event: reload\ndata: " + jsonval.dumps(event) + b"\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def dev_jwt_endpoint(request: Request) -> Response:
    """``POST /v1/dev-jwt``: Rill's ``IssueDevJWT``, a dev JWT for a would-be user.

    The body is ``{name, email, admin, groups, attributes}``; the answer ``{"jwt": "..."}``; errors come
    in gRPC-gateway's shape.
    """
    try:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise BadRequest(f"proto: syntax error: {exc}") from None
        jwt = issue_dev_jwt(body)
    except EmuError as exc:
        return Response(
            jsonval.dumps({"code": 3, "message": exc.message, "details": []}),
            status_code=400,
            media_type="application/json",
        )
    return Response(jsonval.dumps({"jwt": jwt}), media_type="application/json")


async def health_endpoint(request: Request) -> Response:
    """``/v1/health``: the server is up."""
    return Response(b"{}", media_type="application/json")


def create_app(
    config: EmuConfig,
    *,
    reporter: Reporter | None = None,
    allowed_origins: Sequence[str] | None = None,
) -> EmuApp:
    """Build the ASGI app for ``config``: loads the project and builds its models before serving.

    ``allowed_origins`` is the CORS list (``*`` echoes any origin); by default ``rill start``'s:
    the server's own ``http://localhost:PORT``.
    """
    state = EmuState(config, reporter)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.reporter.startup(state.runtime, state.base_url)
        state.reloader = Reloader(state)
        task = await state.reloader.start() if config.watch else None
        try:
            yield
        finally:
            state.reloader.stop()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=5)
            state.close()

    api_route = ApiRoute(state)
    routes = [
        Route("/v1/health", health_endpoint, methods=["GET", "HEAD"]),
        Route("/v1/instances/{instance}/api/openapi", openapi_endpoint, methods=ALL_METHODS),
        Route("/v1/instances/{instance}/emu/status", status_endpoint, methods=["GET", "HEAD"]),
        Route("/v1/instances/{instance}/emu/events", events_endpoint, methods=["GET"]),
        Route("/v1/instances/{instance}/api/{name:path}", api_route, methods=ALL_METHODS),
        Route("/v1/dev-jwt", dev_jwt_endpoint, methods=["POST"]),
    ]
    # Rill Cloud's runtime proxy routes, served by the same handlers (frontend code and SDKs written for
    # Rill Cloud work by changing only the base URL).
    for org in ("/v1/organizations/{org}", "/v1/orgs/{org}"):
        prefix = org + "/projects/{project}/runtime"
        routes.append(Route(prefix + "/api/openapi", openapi_endpoint, methods=ALL_METHODS))
        routes.append(Route(prefix + "/api/{name:path}", api_route, methods=ALL_METHODS))
    origins = rill_start_origins([], config.port) if allowed_origins is None else list(allowed_origins)
    middleware = [
        Middleware(RillCORSMiddleware, allowed_origins=origins),
        Middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes),
    ]
    app = EmuApp(routes=routes, lifespan=lifespan, middleware=middleware)
    app.lane = ApiLane(api_route, OriginPolicy.from_origins(origins), config.max_body_bytes)
    app.state.emu = state
    return app


class EmuApp(Starlette):
    """The Starlette app, with the instance API route taken before Starlette sees the request.

    ``lane`` (set by :func:`create_app`) answers ``/v1/instances/{instance}/api/{name...}`` itself:
    the route most requests take skips Starlette's error middleware, its router and its CORS and
    body-limit middleware layers, whose effects the lane reproduces (``apiroute.ApiLane``).
    """

    lane: ApiLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve through the lane when it takes the request, else as Starlette does."""
        lane = self.lane
        if lane is not None:
            scope["app"] = self
            if await lane.serve(scope, receive, send):
                return
        await super().__call__(scope, receive, send)
