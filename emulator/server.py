"""The HTTP app: ``create_app(config)`` builds a Starlette app serving Rill's API routes (§4, §5).

No CLI code here. A request reads the current runtime snapshot once and uses only it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from emulator import explain, jsonval, openapi
from emulator.cache import ResultCache, answer_without_blocking, encoded
from emulator.config import INSTANCE_ID, EmuConfig
from emulator.cors import RillCORSMiddleware, rill_start_origins
from emulator.errors import BadRequest, EmuError, Forbidden, MethodNotAllowed, NotFound
from emulator.identity import Claims, IdentityContext, TokenError, issue_dev_jwt, request_claims
from emulator.limits import BodyLimitMiddleware, safe_api_name
from emulator.olap.duckdb import DuckDBEngine
from emulator.reload import Reloader, SnapshotGate, problem_json
from emulator.reporting import Reporter
from emulator.requestargs import merge_args
from emulator.runtime import Runtime, RuntimeBuilder
from emulator.security import check_api_access
from emulator.shutdown import SHUTDOWN_EVENT
from emulator.strictargs import strict_api
from emulator.validation import check_request

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
GENERATION_HEADER = "X-Rill-Emu-Generation"


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
        """Release the database."""
        self.engine.close()


def error_response(
    exc: EmuError, generation: int | None = None, trace: explain.Explain | None = None
) -> Response:
    """Rill's error shape: ``{"error": "..."}`` with its content type and nosniff.

    A rejected bearer token answers as Rill's auth middleware does: plain text (Go's ``http.Error``).
    """
    headers = {"X-Content-Type-Options": "nosniff"}
    if generation is not None:
        headers[GENERATION_HEADER] = str(generation)
    if trace is not None:
        headers.update(trace.headers())
    if isinstance(exc, TokenError):
        text = exc.message + "\n"
        return Response(text, status_code=exc.status, media_type="text/plain; charset=utf-8", headers=headers)
    return Response(
        jsonval.dumps({"error": exc.message}),
        status_code=exc.status,
        media_type="application/json; charset=utf-8",
        headers=headers,
    )


def _check_instance(request: Request) -> None:
    instance = request.path_params.get("instance", INSTANCE_ID)  # cloud-shaped routes name no instance
    if instance != INSTANCE_ID:
        raise NotFound(f'instance "{instance}" not found (rill-emu serves one instance: "{INSTANCE_ID}")')


def _claims(request: Request, state: EmuState, runtime: Runtime) -> Claims:
    """Who the request runs as (see ``identity.request_claims``); checks Rill's ``ReadAPI`` permission.

    The cloud-shaped routes (``/v1/orgs/{org}/projects/{project}/runtime/...``) need an identity.
    """
    ctx = IdentityContext(
        mock_users=runtime.project.config.mock_users,
        default_user=state.config.default_user,
        settings_root=runtime.project.root,
    )
    claims = request_claims(request.headers, ctx, cloud="project" in request.path_params)
    if not claims.can("read_api"):
        raise Forbidden("does not have access to custom APIs")
    return claims


async def api_endpoint(request: Request) -> Response:
    """``/v1/instances/{instance}/api/{name...}`` (and its cloud-shaped twins): resolve an API.

    With ``X-Rill-Emu-Explain: 1`` the response also carries explain headers (``explain``).
    """
    state: EmuState = request.app.state.emu
    trace, token = explain.start() if explain.wanted(request.headers) else (None, None)
    runtime = await state.pin()
    try:
        _check_instance(request)
        claims = _claims(request, state, runtime)
        if trace is not None:
            trace.set_identity(claims)
        body = await request.body()
        args = merge_args(body, request.scope.get("query_string", b""))
        name = request.path_params["name"]
        if not safe_api_name(name, request.scope.get("raw_path")):
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
            check_request(api, args, request.scope.get("query_string", b""), runtime.memo)
        if state.config.strict_args:
            api = strict_api(api, runtime.memo)
        run_on = runtime
        if trace is not None:
            run_on = dataclasses.replace(runtime, engine=explain.RecordingEngine(runtime.engine, trace))
        data = answer_without_blocking(run_on, api, args, claims) if trace is None else None
        if data is None:
            data = await anyio.to_thread.run_sync(_resolve_encoded, run_on, api, args, claims)
    except EmuError as exc:
        return error_response(exc, runtime.generation, trace)
    except Exception as exc:  # a bug of ours: answer 500 in Rill's shape and keep serving
        state.reporter.error(f"{request.method} {request.url.path}: {exc!r}")
        return error_response(EmuError(f"internal error: {exc}"), runtime.generation, trace)
    finally:
        state.unpin()
        if token is not None:
            explain.stop(token)
    headers = {GENERATION_HEADER: str(runtime.generation)}
    if trace is not None:
        headers.update(trace.headers())
    return Response(data, media_type="application/json", headers=headers)


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


async def openapi_endpoint(request: Request) -> Response:
    """``/v1/instances/{instance}/api/openapi``: the combined document, JSON or YAML."""
    state: EmuState = request.app.state.emu
    runtime = state.runtime
    try:
        if request.method != "GET":
            raise MethodNotAllowed("GET only")
        _check_instance(request)
        _claims(request, state, runtime)
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
        _check_instance(request)
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
        _check_instance(request)
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
) -> Starlette:
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

    routes = [
        Route("/v1/health", health_endpoint, methods=["GET", "HEAD"]),
        Route("/v1/instances/{instance}/api/openapi", openapi_endpoint, methods=ALL_METHODS),
        Route("/v1/instances/{instance}/emu/status", status_endpoint, methods=["GET", "HEAD"]),
        Route("/v1/instances/{instance}/emu/events", events_endpoint, methods=["GET"]),
        Route("/v1/instances/{instance}/api/{name:path}", api_endpoint, methods=ALL_METHODS),
        Route("/v1/dev-jwt", dev_jwt_endpoint, methods=["POST"]),
    ]
    # Rill Cloud's runtime proxy routes, served by the same handlers (frontend code and SDKs written for
    # Rill Cloud work by changing only the base URL).
    for org in ("/v1/organizations/{org}", "/v1/orgs/{org}"):
        prefix = org + "/projects/{project}/runtime"
        routes.append(Route(prefix + "/api/openapi", openapi_endpoint, methods=ALL_METHODS))
        routes.append(Route(prefix + "/api/{name:path}", api_endpoint, methods=ALL_METHODS))
    origins = rill_start_origins([], config.port) if allowed_origins is None else list(allowed_origins)
    middleware = [
        Middleware(RillCORSMiddleware, allowed_origins=origins),
        Middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.emu = state
    return app
