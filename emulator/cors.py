"""CORS as Rill's runtime answers it (reference §4.6): ``rs/cors`` v1.11 with Rill's options.

Rill wraps every HTTP route in ``cors.New(cors.Options{...})`` with methods HEAD GET POST PUT PATCH
DELETE, ``AllowedHeaders: ["*"]``, no credentials and ``MaxAge: 3600``. When the allowed origins
contain ``*`` it passes an ``AllowOriginFunc`` that accepts everything instead, so the request's
``Origin`` is echoed rather than ``*``. ``rill start`` allows its own ``http://localhost:PORT`` plus
whatever ``--allowed-origins`` adds (``rilldata/rill:cli/cmd/start/start.go``).

What ``rs/cors`` does, and so what this middleware does:

- A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) never reaches the app: it is
  answered ``204`` with ``Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers``,
  plus, when the origin and method are allowed, ``Access-Control-Allow-Origin`` (the request's
  origin), ``Access-Control-Allow-Methods`` (the requested method, verbatim),
  ``Access-Control-Allow-Headers`` (the requested headers, verbatim) and ``Access-Control-Max-Age``.
- Any other request gets ``Vary: Origin`` and, when it has an allowed origin and an allowed method
  (``OPTIONS`` counts as allowed), ``Access-Control-Allow-Origin``, plus (rill-emu only)
  ``Access-Control-Expose-Headers`` naming its own ``X-Rill-Emu-*`` and ``Server-Timing`` headers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Rill's ``AllowedMethods`` (compared case-sensitively, as rs/cors v1.11 does).
ALLOWED_METHODS = ("HEAD", "GET", "POST", "PUT", "PATCH", "DELETE")
#: Rill's ``MaxAge``: one hour.
MAX_AGE = 3600
_PREFLIGHT_VARY = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
#: rill-emu's own response headers, exposed to browser code (Rill sets no Expose-Headers; these
#: headers do not exist in Rill's answers either).
EXPOSED_HEADERS = b"X-Rill-Emu-Generation, X-Rill-Emu-Explain, Server-Timing"


def rill_start_origins(extra: Iterable[str], port: int) -> list[str]:
    """The allowed origins of ``rill start --allowed-origins EXTRA --port PORT``.

    ``rill start`` appends its own URL, ``http://localhost:PORT``, to what the flag gives; the flag
    is a string slice, so each value may hold several comma-separated origins.
    """
    origins = [o.strip() for value in extra for o in value.split(",") if o.strip()]
    return [*origins, f"http://localhost:{port}"]


@dataclass(frozen=True)
class OriginPolicy:
    """Which origins are allowed, normalised as ``cors.New`` normalises them."""

    allow_all: bool
    echo: bool
    exact: frozenset[str]
    wildcards: tuple[tuple[str, str], ...]

    @classmethod
    def from_origins(cls, origins: Sequence[str]) -> OriginPolicy:
        """The policy Rill's server builds from its ``AllowedOrigins``."""
        if "*" in origins:
            # Rill swaps "*" for an AllowOriginFunc accepting all: the request origin is echoed.
            return cls(allow_all=True, echo=True, exact=frozenset(), wildcards=())
        if not origins:
            # rs/cors' default for an empty list: every origin, answered with a literal "*".
            return cls(allow_all=True, echo=False, exact=frozenset(), wildcards=())
        exact: set[str] = set()
        wildcards: list[tuple[str, str]] = []
        for origin in origins:
            origin = origin.lower()
            star = origin.find("*")
            if star >= 0:
                wildcards.append((origin[:star], origin[star + 1 :]))
            else:
                exact.add(origin)
        return cls(allow_all=False, echo=True, exact=frozenset(exact), wildcards=tuple(wildcards))

    def allows(self, origin: str) -> bool:
        """Whether ``origin`` may make cross-origin requests."""
        if self.allow_all:
            return True
        origin = origin.lower()
        if origin in self.exact:
            return True
        return any(
            len(origin) >= len(prefix) + len(suffix) and origin.startswith(prefix) and origin.endswith(suffix)
            for prefix, suffix in self.wildcards
        )


def _method_allowed(method: str) -> bool:
    return method == "OPTIONS" or method in ALLOWED_METHODS


class RillCORSMiddleware:
    """ASGI middleware answering CORS exactly as Rill's runtime server does."""

    def __init__(self, app: ASGIApp, allowed_origins: Sequence[str] = ("*",)) -> None:
        self.app = app
        self.policy = OriginPolicy.from_origins(list(allowed_origins))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _request_headers(scope)
        request_method = headers.get(b"access-control-request-method", [])
        if scope["method"] == "OPTIONS" and request_method and request_method[0]:
            await self._preflight(headers, send)
            return
        extra = actual_request_headers(self.policy, scope["method"], headers.get(b"origin", []))

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*extra, *message.get("headers", [])]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, headers: dict[bytes, list[bytes]], send: Send) -> None:
        out: list[tuple[bytes, bytes]] = [(b"vary", _PREFLIGHT_VARY)]
        origins = headers.get(b"origin", [])
        origin = origins[0].decode("latin-1") if origins else ""
        methods = headers[b"access-control-request-method"]
        if origin and self.policy.allows(origin) and _method_allowed(methods[0].decode("latin-1")):
            # AllowedHeaders "*": any requested headers pass and are echoed as sent.
            allow_origin = origins if self.policy.echo else [b"*"]
            out += [(b"access-control-allow-origin", o) for o in allow_origin]
            out += [(b"access-control-allow-methods", m) for m in methods]
            requested = headers.get(b"access-control-request-headers", [])
            if requested and requested[0]:
                out += [(b"access-control-allow-headers", h) for h in requested]
            out.append((b"access-control-max-age", str(MAX_AGE).encode()))
        await send({"type": "http.response.start", "status": 204, "headers": out})
        await send({"type": "http.response.body", "body": b""})


def actual_request_headers(
    policy: OriginPolicy, method: str, origins: list[bytes]
) -> list[tuple[bytes, bytes]]:
    """The CORS headers an actual (not preflight) request's answer starts with, given its ``Origin``
    header values: ``Vary: Origin``, and the allow/expose headers when the origin is allowed."""
    out: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
    origin = origins[0].decode("latin-1") if origins else ""
    if origin and policy.allows(origin) and _method_allowed(method):
        allow_origin = origins if policy.echo else [b"*"]
        out += [(b"access-control-allow-origin", o) for o in allow_origin]
        out.append((b"access-control-expose-headers", EXPOSED_HEADERS))
    return out


def _request_headers(scope: Scope) -> dict[bytes, list[bytes]]:
    """Request headers by lower-case name, every value in order (Go's ``r.Header[name]``)."""
    out: dict[bytes, list[bytes]] = {}
    for name, value in scope.get("headers", []):
        out.setdefault(name.lower(), []).append(value)
    return out
