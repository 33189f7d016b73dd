"""Rill's response shapes shared by every route: the error body, and rill-emu's generation header."""

from __future__ import annotations

from starlette.responses import Response

from emulator import explain, jsonval
from emulator.errors import EmuError
from emulator.identity import TokenError

GENERATION_HEADER = "X-Rill-Emu-Generation"

JSON = "application/json"
JSON_UTF8 = "application/json; charset=utf-8"
TEXT_UTF8 = "text/plain; charset=utf-8"


def raw_headers(headers: dict[str, str], body: bytes, media_type: str) -> list[tuple[bytes, bytes]]:
    """The ASGI headers a Starlette ``Response(body, media_type=..., headers=...)`` sends (for 2xx-5xx)."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode("latin-1")))
    raw.append((b"content-type", media_type.encode("latin-1")))
    return raw


def error_parts(
    exc: EmuError, generation: int | None = None, trace: explain.Explain | None = None
) -> tuple[int, dict[str, str], bytes, str]:
    """Status, headers, body and content type of Rill's answer to ``exc``.

    The body is ``{"error": "..."}`` with nosniff; a rejected bearer token answers as Rill's auth
    middleware does: plain text (Go's ``http.Error``).
    """
    headers = {"X-Content-Type-Options": "nosniff"}
    if generation is not None:
        headers[GENERATION_HEADER] = str(generation)
    if trace is not None:
        headers.update(trace.headers())
    if isinstance(exc, TokenError):
        return exc.status, headers, (exc.message + "\n").encode(), TEXT_UTF8
    return exc.status, headers, jsonval.dumps({"error": exc.message}), JSON_UTF8


def error_response(
    exc: EmuError, generation: int | None = None, trace: explain.Explain | None = None
) -> Response:
    """Rill's error answer to ``exc`` (see :func:`error_parts`) as a Starlette response."""
    status, headers, body, media_type = error_parts(exc, generation, trace)
    return Response(body, status_code=status, media_type=media_type, headers=headers)
