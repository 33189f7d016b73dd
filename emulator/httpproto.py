"""The HTTP/1.1 protocol rill-emu serves with: uvicorn's, writing each response with one system call.

uvicorn's protocols write the status line and headers as soon as the app starts its response, then
the body: two ``send`` calls per response, each waking the client. On loopback a ``send`` costs more
than parsing the request, so here writes are gathered and handed to the socket once: when the
response completes, or at the end of the event-loop iteration for streamed responses. The bytes on
the wire are uvicorn's, unchanged.

:func:`serving_options` picks the protocol and the event loop: httptools (a C parser) and uvloop when
they are installed, which they are with rill-emu's dependencies on CPython outside Windows; otherwise
h11 and asyncio's own loop. Both pairs produce the same bytes (tested); httptools + uvloop serve a
cached answer in about half the time (docs/benchmarks.md). As Rill's Go server, rill-emu sends no
``Server`` header and ignores ``X-Forwarded-*`` headers (uvicorn's defaults would do both).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GatheringH11Protocol", "gathering_httptools_protocol", "serving_options"]


class _GatheringTransport:
    """Wraps a transport: ``write`` gathers data, ``flush`` (or the next loop iteration) sends it."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data``; it is sent at the latest at the end of this loop iteration."""
        if not data:
            return
        self._pending.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def writelines(self, chunks: Any) -> None:
        """Queue every chunk."""
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        """Send what is queued now, in one write."""
        pending = self._pending
        if pending:
            self._pending = []
            if not self._transport.is_closing():
                self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def _scheduled_flush(self) -> None:
        self._scheduled = False
        self.flush()

    def close(self) -> None:
        """Send what is queued, then close."""
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is queued and abort the connection."""
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Gathering:
    """Mixin for a uvicorn HTTP protocol: its transport gathers writes, flushed per response."""

    loop: asyncio.AbstractEventLoop
    transport: Any

    def connection_made(self, transport: asyncio.Transport) -> None:
        """Serve the connection through a gathering transport."""
        gathering: Any = _GatheringTransport(transport, self.loop)
        super().connection_made(gathering)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        """Send the response now, then let uvicorn go on (keep-alive timer, pipelined requests)."""
        flush = getattr(self.transport, "flush", None)
        if flush is not None:
            flush()
        super().on_response_complete()  # type: ignore[misc]


class GatheringH11Protocol(_Gathering, H11Protocol):  # type: ignore[misc]
    """uvicorn's ``H11Protocol`` with gathered writes (pass it as ``uvicorn.Config(http=...)``)."""


_HTTPTOOLS_PROTOCOL: type[asyncio.Protocol] | None = None


def gathering_httptools_protocol() -> type[asyncio.Protocol] | None:
    """uvicorn's ``HttpToolsProtocol`` with gathered writes, or None when httptools is not installed."""
    global _HTTPTOOLS_PROTOCOL
    if _HTTPTOOLS_PROTOCOL is None and importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        class GatheringHttpToolsProtocol(_Gathering, HttpToolsProtocol):  # type: ignore[misc]
            """uvicorn's ``HttpToolsProtocol`` with gathered writes."""

        _HTTPTOOLS_PROTOCOL = GatheringHttpToolsProtocol
    return _HTTPTOOLS_PROTOCOL


def serving_options() -> dict[str, Any]:
    """Options for ``uvicorn.Config``: ``http`` and ``loop`` (httptools + uvloop when installed, else h11
    + asyncio), no ``Server`` header and no proxy-header rewriting, as Rill's server."""
    common = {"server_header": False, "proxy_headers": False}
    protocol = gathering_httptools_protocol()
    if protocol is None:
        return {"http": GatheringH11Protocol, "loop": "asyncio", **common}
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    return {"http": protocol, "loop": "uvloop" if has_uvloop else "asyncio", **common}
