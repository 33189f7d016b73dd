"""uvicorn's h11 HTTP/1.1 protocol, writing each response with one system call.

uvicorn's h11 protocol writes the status line and headers as soon as the app starts its response,
then the body: two ``send`` calls per response, each waking the client. On loopback a ``send`` costs
more than parsing the request, so here writes are gathered and handed to the socket once: when the
response completes, or at the end of the event-loop iteration for streamed responses. The bytes on
the wire are h11's, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


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


class GatheringH11Protocol(H11Protocol):
    """uvicorn's ``H11Protocol`` with gathered writes (pass it as ``uvicorn.Config(http=...)``)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Serve the connection through a gathering transport."""
        gathering: Any = _GatheringTransport(transport, self.loop)
        super().connection_made(gathering)

    def on_response_complete(self) -> None:
        """Send the response now, then let uvicorn go on (keep-alive timer, pipelined requests)."""
        flush = getattr(self.transport, "flush", None)
        if flush is not None:
            flush()
        super().on_response_complete()
