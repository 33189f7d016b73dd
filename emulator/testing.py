"""Run a real rill-emu server in a background thread, for tests and tools.

``EmuServer`` starts uvicorn on a free loopback port and exposes a small client surface: ``url``,
``call``, ``client``, ``as_user``, ``openapi``, ``problems``. ``EmuClient`` is the same surface over
any running emulator (``RILL_EMU_URL``). The pytest plugin builds its fixtures on them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from emulator.config import DEFAULT_HOST, INSTANCE_ID, EmuConfig
from emulator.project.resources import Problem

#: Seconds a stopping server waits for open responses (an events stream never ends by itself).
GRACEFUL_SHUTDOWN_S = 2
#: The environment variable naming a running emulator (set by ``rill-emu exec``, read by ``rill_emu``).
URL_VARIABLE = "RILL_EMU_URL"
#: The header naming the ``mock_users`` entry a request runs as.
USER_HEADER = "X-Rill-User"


class EmuCallError(Exception):
    """A non-200 answer from an API; carries the status and Rill's error message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port free on ``host`` right now (prefer ``EmuServer``, which keeps the socket it binds)."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmuClient:
    """Calls APIs of a running emulator: ``call(name, **args)`` returns the rows."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self._headers = headers or {}

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the base URL (sending this client's identity headers)."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30.0), **kwargs)

    def call(
        self, name: str, *, user: str | None = None, method: str = "GET", **args: Any
    ) -> list[dict[str, Any]]:
        """Call API ``name`` and return its rows; raises ``EmuCallError`` on any status but 200.

        GET sends ``args`` as query parameters (scalars only: Rill reads query values as strings);
        other methods send them as a JSON object body, which keeps their types.
        """
        headers = dict(self._headers)
        if user is not None:
            headers[USER_HEADER] = user
        path = f"/v1/instances/{INSTANCE_ID}/api/{name}"
        method = method.upper()
        with httpx.Client(base_url=self.url, timeout=30.0) as http:
            if method == "GET":
                params = {k: _query_value(k, v) for k, v in args.items()}
                resp = http.request("GET", path, params=params, headers=headers)
            else:
                resp = http.request(method, path, json=args, headers=headers)
        if resp.status_code != 200:
            raise EmuCallError(resp.status_code, _error_message(resp))
        rows: list[dict[str, Any]] = resp.json()
        return rows

    def as_user(self, email: str) -> EmuClient:
        """A client that calls as the ``mock_users`` entry with this email."""
        return EmuClient(self.url, {**self._headers, USER_HEADER: email})

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document."""
        return self._get_json(f"/v1/instances/{INSTANCE_ID}/api/openapi")

    def status(self) -> dict[str, Any]:
        """The emulator's status: generation, last reload, resources, problems."""
        return self._get_json(f"/v1/instances/{INSTANCE_ID}/emu/status")

    @property
    def generation(self) -> int:
        """The reload generation being served."""
        generation: int = self.status()["generation"]
        return generation

    @property
    def problems(self) -> list[Problem]:
        """The project's current problems (parse errors, failed models, ...)."""
        return [problem_from_json(p) for p in self.status()["problems"]]

    def health(self, timeout: float = 5.0) -> None:
        """Raise ``ConnectionError`` unless an emulator answers at ``url``."""
        try:
            httpx.get(self.url + "/v1/health", timeout=timeout).raise_for_status()
        except httpx.HTTPError as exc:
            raise ConnectionError(f"no rill-emu answers at {self.url}: {exc}") from exc

    def _get_json(self, path: str) -> dict[str, Any]:
        with httpx.Client(base_url=self.url, timeout=30.0, headers=self._headers) as http:
            resp = http.get(path)
        if resp.status_code != 200:
            raise EmuCallError(resp.status_code, _error_message(resp))
        doc: dict[str, Any] = resp.json()
        return doc


def problem_from_json(data: dict[str, Any]) -> Problem:
    """A problem as the status endpoint and the events stream send it."""
    return Problem(
        path=data["path"],
        message=data["message"],
        line=data.get("line"),
        severity=data.get("severity", "error"),
    )


def _query_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        kind = type(value).__name__
        raise TypeError(f"argument {name!r}: query values are strings; use method='POST' to send a {kind}")
    return str(value)


def _error_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()
    return str(body.get("error", resp.text)) if isinstance(body, dict) else resp.text


class EmuServer(EmuClient):
    """A rill-emu server in a daemon thread; use as a context manager.

    ``options`` are ``EmuConfig`` fields (``watch``, ``env``, ``environment``, ``host``, ``port``,
    ...); the port defaults to a free one, bound at construction so no other process can take it.
    ``allowed_origins`` is the CORS list (default: ``rill start``'s, the server's own URL).
    """

    def __init__(
        self, project: Path | str, *, allowed_origins: Sequence[str] | None = None, **options: Any
    ) -> None:
        options.setdefault("log_format", "quiet")
        host = options.pop("host", DEFAULT_HOST)
        self._socket = bind_socket(host, options.pop("port", 0) or 0)
        port = self._socket.getsockname()[1]
        self.config = EmuConfig(project=Path(project).resolve(), host=host, port=port, **options)
        self.allowed_origins = allowed_origins
        super().__init__(client_url(host, port))
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.app: Any = None

    def start(self, timeout: float = 120.0) -> EmuServer:
        """Load the project, build its models, and serve; returns once the server answers."""
        import uvicorn

        from emulator.httpproto import serving_options
        from emulator.server import create_app

        try:
            self.app = create_app(self.config, allowed_origins=self.allowed_origins)
        except BaseException:
            self._socket.close()
            raise
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            **serving_options(),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="rill-emu", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self.stop()
                raise RuntimeError("rill-emu server failed to start (see the log above)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"rill-emu server did not start within {timeout:g}s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop the server, wait for its thread, and free the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._socket.close()
        self._server = self._thread = None

    @property
    def state(self) -> Any:
        """The server's EmuState (current runtime, engine, builder, reloader)."""
        return self.app.state.emu

    def __enter__(self) -> EmuServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one), ready for uvicorn to listen on."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without
    # it every response waits for a delayed ACK (about 40 ms per request).
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def client_url(host: str, port: int) -> str:
    """The base URL a client on this machine uses to reach a server bound to ``host:port``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
