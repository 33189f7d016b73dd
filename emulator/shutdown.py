"""Serving from the command line until SIGINT or SIGTERM, then stopping cleanly.

On a signal the server stops accepting connections, ends the event streams (they would otherwise
hold the shutdown for its whole grace period), and lets in-flight requests finish for up to
``SHUTDOWN_GRACE_S`` seconds: queries still running at 80% of it are interrupted, their requests
answering 503 ``query interrupted: the server is shutting down``. Then DuckDB closes, which
checkpoints a ``--db`` file. A second Ctrl-C skips the wait; the database is closed all the same.
As uvicorn does, the process then ends by the signal it received (SIGINT: status 0, SIGTERM: killed
by SIGTERM, after everything is closed).
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from emulator.config import EmuConfig

__all__ = ["SHUTDOWN_EVENT", "SHUTDOWN_GRACE_S", "serve_until_signalled"]

#: Seconds in-flight requests get to finish after SIGINT/SIGTERM.
SHUTDOWN_GRACE_S = 10
#: Part of the grace period after which running queries are interrupted.
INTERRUPT_AT = 0.8
#: Published to event-stream subscribers when the server stops (compared by identity).
SHUTDOWN_EVENT: dict[str, Any] = {"event": "shutdown"}


def serve_until_signalled(
    app: Starlette, config: EmuConfig, *, grace: int = SHUTDOWN_GRACE_S, sock: socket.socket | None = None
) -> int:
    """Run ``app`` with uvicorn on ``config.host:config.port`` (or ``sock``) until a signal; returns 0."""
    import uvicorn

    from emulator.httpproto import serving_options

    state = app.state.emu

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            reloader = state.reloader
            if reloader is not None:
                reloader.stop()
                reloader.publish(SHUTDOWN_EVENT)
            # Queries still running near the end of the grace period are interrupted, so their
            # requests answer 503 instead of being cut off.
            loop = asyncio.get_running_loop()
            late = loop.call_later(grace * INTERRUPT_AT, state.engine.interrupt_queries)
            try:
                await super().shutdown(sockets)
            finally:
                late.cancel()

    server = Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=grace,
            **serving_options(),
        )
    )
    try:
        server.run(sockets=[sock] if sock is not None else None)
    except KeyboardInterrupt:  # uvicorn raises the SIGINT it handled again once it has stopped
        pass
    finally:
        state.close()  # idempotent; after a forced exit the lifespan did not run
    return 0
