"""Safe defaults against hostile input: body size, JSON nesting, API names, the bind address.

rill-emu is unauthenticated by design (an anonymous caller is an admin who may run any SQL through
the built-in ``sql`` API), so it binds the loopback interface unless told otherwise, and bounds what
one request may make it do: a body larger than ``max_body_bytes`` is refused with 413 before it is
read whole, JSON nested deeper than ``MAX_JSON_DEPTH`` is a 400, and an API name that could only
be an attempt at a path (``..``, encoded slashes, control characters) is a 404 that looks nothing up.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import jsonval
from emulator.config import DEFAULT_MAX_BODY_BYTES
from emulator.errors import EmuError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "BodyLimitMiddleware",
    "PayloadTooLarge",
    "bind_error",
    "is_loopback",
    "json_too_deep",
    "remote_warning",
    "safe_api_name",
]

#: Deepest JSON nesting accepted in a request body (Go's decoder allows 10000; Python's recursion
#: cannot, and nothing an API does needs more than a few levels).
MAX_JSON_DEPTH = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c)", re.IGNORECASE)


class PayloadTooLarge(EmuError):
    """The request body is larger than the server accepts: 413."""

    status = 413


def too_large(limit: int) -> PayloadTooLarge:
    """The 413 error for a body over ``limit`` bytes."""
    return PayloadTooLarge(f"request body too large: the limit is {limit} bytes (serve --max-body-size)")


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, in Rill's error shape (0: no limit).

    A ``Content-Length`` over the limit is answered before the app runs; a chunked body is counted
    as it arrives, and the app's ``receive`` raises :class:`PayloadTooLarge` (an ``EmuError``, which
    the handlers answer as such) once the limit is passed.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if declared_over(scope["headers"], limit):
            await _send_error(send, too_large(limit))
            return
        limited_receive = counting_receive(receive, limit)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge as exc:  # raised where no handler answers EmuErrors
            if started:
                raise
            await _send_error(send, exc)


def declared_over(headers: Iterable[tuple[bytes, bytes]], limit: int) -> bool:
    """Whether a ``Content-Length`` header declares a body over ``limit`` bytes."""
    for key, value in headers:
        if key == b"content-length":
            try:
                if int(value) > limit:
                    return True
            except ValueError:
                pass  # the server itself rejects malformed lengths
    return False


def counting_receive(receive: Receive, limit: int) -> Receive:
    """``receive``, raising :class:`PayloadTooLarge` once the body passes ``limit`` bytes."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit)
        return message

    return limited


async def _send_error(send: Send, exc: EmuError) -> None:
    body = jsonval.dumps({"error": exc.message})
    await send(
        {
            "type": "http.response.start",
            "status": exc.status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"x-content-type-options", b"nosniff"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (decoded JSON) nests lists and objects deeper than ``limit`` levels."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


def safe_api_name(name: str, raw_path: bytes | None = None) -> bool:
    """Whether ``name`` (from the URL) may name an API: no ``..`` or ``.`` segment, no backslash, no
    control character, no percent-encoded ``/`` or ``\\`` in the raw path, no empty segment.
    """
    if not name or _CONTROL.search(name) or "\\" in name:
        return False
    if any(part in ("", ".", "..") for part in name.split("/")):
        return False
    return not (raw_path is not None and _ENCODED_SEPARATOR.search(raw_path))


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_error(host: str, allow_remote: bool) -> str | None:
    """Why the server may not bind ``host`` (None if it may): any address but loopback needs
    ``--allow-remote``.
    """
    if is_loopback(host) or allow_remote:
        return None
    return (
        f"refusing to listen on {host}: rill-emu is unauthenticated (any caller is an admin and may run "
        "SQL through /api/sql); pass --allow-remote to serve other machines anyway"
    )


def remote_warning(host: str, port: int) -> str:
    """What ``serve --allow-remote`` prints when binding a non-loopback address."""
    return (
        f"WARNING: listening on {host}:{port}, reachable from other machines. rill-emu is "
        "unauthenticated: anyone who can reach it can call every API as an admin and run arbitrary SQL "
        "(including reading files) through /api/sql."
    )
