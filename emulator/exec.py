"""``rill-emu exec [serve options] -- CMD ...``: run a command against a live emulator.

Starts the emulator, waits until it serves (models built), runs ``CMD`` with ``RILL_EMU_URL`` set to
the emulator's URL, then stops the emulator and frees its port whatever happens, and exits with the
command's status (``128 + N`` when a signal ``N`` ended it, as shells report it).

Signals: ``SIGTERM`` and ``SIGHUP`` sent to rill-emu are passed on to the command, and rill-emu
stops once the command has exited. ``SIGINT`` is left to the command: Ctrl-C in a terminal reaches
both processes, and rill-emu waits for the command to finish its own shutdown.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType

from emulator.config import EmuConfig
from emulator.cors import rill_start_origins
from emulator.testing import URL_VARIABLE, EmuServer

#: Signals passed on to the command.
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def run_exec(config: EmuConfig, command: Sequence[str], *, extra_origins: Sequence[str] = ()) -> int:
    """Serve ``config`` while ``command`` runs with ``RILL_EMU_URL`` set; returns the command's status.

    ``extra_origins`` are the ``--allowed-origins`` values (the server's own URL is always allowed).
    """
    if not command:
        raise ValueError("no command to run")
    options = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.name != "project"}
    try:
        server = EmuServer(config.project, **options)
    except OSError as exc:
        print(f"rill-emu exec: {exc}", file=sys.stderr)
        return 1
    server.allowed_origins = rill_start_origins(extra_origins, server.config.port)
    try:
        server.start()
        env = {**os.environ, URL_VARIABLE: server.url}
        try:
            proc = subprocess.Popen(list(command), env=env)
        except OSError as exc:
            print(f"rill-emu exec: {command[0]}: {exc.strerror or exc}", file=sys.stderr)
            return 127 if isinstance(exc, FileNotFoundError) else 126
        # Only once the command runs: an ignored signal stays ignored in a child.
        with _ignoring(signal.SIGINT), _forwarding(proc):
            status = proc.wait()
    finally:
        server.stop()
    return status if status >= 0 else 128 - status


@contextlib.contextmanager
def _forwarding(proc: subprocess.Popen[bytes]) -> Iterator[None]:
    """Pass ``FORWARDED_SIGNALS`` on to ``proc`` while the context is open (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def _ignoring(sig: signal.Signals) -> Iterator[None]:
    """Ignore ``sig`` in this process while the context is open (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(sig, previous)
