"""Hot reload: watch the project folder, batch bursts of events into one reload, swap snapshots.

A reload never restarts the process. The builder prepares the next snapshot off the event loop (it
re-reads only the files the watcher reported and rebuilds only affected models, into tables other
queries cannot see yet); the reload then swaps the snapshot in with one assignment. When model tables
changed, the swap goes through the :class:`SnapshotGate`: new requests wait, requests already running
finish on the old snapshot and tables, then the tables and the snapshot are published together. So a
request sees one generation from start to end, and no request fails because of a reload.

A reload that fails unexpectedly keeps the previous snapshot serving, reports the error and still
publishes an event (with ``error`` set).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from watchfiles import Change, DefaultFilter, awatch

from emulator.project.files import is_dotenv, is_ignored

if TYPE_CHECKING:
    from emulator.runtime import Runtime
    from emulator.server import EmuState

#: Milliseconds without a new event before a batch is handed over (watchfiles' ``step``): a save is
#: picked up 10-20 ms after it happens. An editor's atomic save or a ``git checkout`` writes its files
#: well within it, so they make one reload, even on a busy machine (at 5 ms, a third of such bursts
#: split in two when the CPU was saturated; see docs/benchmarks.md).
WATCH_STEP_MS = 10
#: Upper bound of one batch in milliseconds (watchfiles' ``debounce``), for a stream of events.
WATCH_DEBOUNCE_MS = 400
#: Seconds a reload publishing model tables waits for running requests before publishing anyway.
DRAIN_TIMEOUT_S = 5.0
#: Seconds the server waits for the watcher to be registered when it starts.
READY_TIMEOUT_S = 30.0
#: Seconds between attempts to watch again after the watcher failed.
RETRY_S = 1.0

#: Editor temp and swap files: vim (``.swp``, ``~``), emacs (``.#x``, ``#x#``), JetBrains
#: (``___jb_tmp___``), Chrome/VS Code (``.crswap``), and generic ``.tmp``/``.bak``.
_EDITOR_SUFFIXES = (".swp", ".swo", ".swx", "~", ".tmp", ".bak", "___jb_tmp___", "___jb_old___", ".crswap")
_WATCHED_SUFFIXES = (".sql", ".yaml", ".yml", ".env")
#: Files a model may read (a change rebuilds the models whose SQL names them), compressed ones too.
_DATA_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".parquet", ".json", ".ndjson", ".jsonl", ".txt")
_DATA_SUFFIXES += (".xlsx", ".avro", ".arrow", ".gz", ".zst")


class ProjectFilter(DefaultFilter):
    """Keeps the events a reload cares about: project files, local data files and folders.

    Drops what Rill ignores (tmp/, .git, node_modules, .rillcloud, ...), ``ignore_paths``, DuckDB
    files, and editor temp and swap files.
    """

    def __init__(self, root: Path, ignore_paths: Callable[[], Sequence[str]]) -> None:
        super().__init__()
        self.root = str(root.resolve())
        self._project_ignores = ignore_paths

    def __call__(self, change: Change, path: str) -> bool:
        rel = project_path(path, self.root)
        if rel is None or rel == "/":
            return False
        base = rel.rsplit("/", 1)[-1]
        if base.startswith((".#", "#")) or base.endswith(_EDITOR_SUFFIXES) or ".duckdb" in base:
            return False
        if base.isdigit():  # vim's probe that a folder is writable (4913, 5036, ...)
            return False
        if is_ignored(rel, self._project_ignores()):
            return False
        if base.endswith(_WATCHED_SUFFIXES + _DATA_SUFFIXES) or is_dotenv(rel):
            return True
        if change == Change.deleted:
            return "." not in base  # maybe a folder: what was below it is gone too
        # A new folder: the files written into it before its watch was added raise no event.
        return os.path.isdir(path)


def project_path(path: str, root: str) -> str | None:
    """``path`` as a project path (``/apis/a.yaml``), or None when it is outside ``root``."""
    rel = os.path.relpath(path, root)
    if rel == ".":
        return "/"
    if rel.startswith(".." + os.sep) or rel == "..":
        return None
    return "/" + rel.replace(os.sep, "/")


class SnapshotGate:
    """Counts the requests using the current snapshot, and lets a reload wait until none does.

    Only used on the event loop. A request calls ``enter`` before reading the snapshot and ``leave``
    when done with it; ``exclusive`` holds new requests back and waits for the running ones.
    """

    def __init__(self) -> None:
        self._active = 0
        self._closed: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None

    @property
    def active(self) -> int:
        """How many requests hold a snapshot now."""
        return self._active

    async def enter(self) -> None:
        """Wait while a reload publishes, then count this request in."""
        while self._closed is not None:
            await self._closed.wait()
        self._active += 1

    def leave(self) -> None:
        """Count this request out."""
        self._active -= 1
        if self._active == 0 and self._idle is not None:
            self._idle.set()

    @contextlib.asynccontextmanager
    async def exclusive(self, timeout: float = DRAIN_TIMEOUT_S) -> AsyncIterator[bool]:
        """Hold new requests back and wait (up to ``timeout`` s) for the running ones to finish.

        Yields whether they all finished. New requests go on when the context exits.
        """
        opened, idle = asyncio.Event(), asyncio.Event()
        self._closed, self._idle = opened, idle
        if self._active == 0:
            idle.set()
        try:
            try:
                await asyncio.wait_for(idle.wait(), timeout)
                drained = True
            except asyncio.TimeoutError:
                drained = False
            yield drained
        finally:
            self._closed = self._idle = None
            opened.set()


class Reloader:
    """Runs the watch loop for one server and broadcasts a reload event to subscribers."""

    def __init__(self, state: EmuState) -> None:
        self.state = state
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.last_reload_ms: float = state.runtime.build_ms
        self.last_reload_at: float = state.runtime.built_at
        #: Set once the watcher is registered: from then on every change of a file is seen.
        self.ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._failed = asyncio.Event()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        # The next reload scans the whole project: files may have changed between the initial build
        # and the watcher's registration, or while a reload failed.
        self._full_scan = True

    def stop(self) -> None:
        """Ask the watch loop to end."""
        self._stop.set()

    async def start(self, timeout: float = READY_TIMEOUT_S) -> asyncio.Task[None]:
        """Run the watch loop in a task; returns once the watcher is registered (or has failed)."""
        task = asyncio.create_task(self.run(), name="rill-emu-watch")
        waits = {asyncio.create_task(self.ready.wait()), asyncio.create_task(self._failed.wait())}
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        return task

    async def run(self) -> None:
        """Watch the project folder until stopped, reloading once per batch of events.

        If the watcher fails (the folder vanished, the system's watch limit), say so and try again
        every second; the first reload after it scans the whole project.
        """
        reported = False
        while not self._stop.is_set():
            try:
                await self._watch()
            except Exception as exc:
                self.ready.clear()
                self._full_scan = True
                self._failed.set()
                if not reported:
                    self.state.reporter.error(f"not watching {self.state.config.project}: {exc}")
                    reported = True
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), RETRY_S)
            else:
                reported = False
        self.ready.clear()

    async def _watch(self) -> None:
        root = self.state.config.project.resolve()
        watch_filter = ProjectFilter(root, lambda: self.state.runtime.project.config.ignore_paths)
        batches = awatch(
            root,
            watch_filter=watch_filter,
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            stop_event=self._stop,
            force_polling=_force_polling(),
            recursive=True,
        )
        # awatch registers its watches when first asked for a batch, before it first waits: once
        # that first step has run, the watcher is ready.
        pending = asyncio.ensure_future(batches.__anext__())
        try:
            await asyncio.sleep(0)
            if not pending.done():
                if self._failed.is_set():  # watching again after a failure: catch up
                    self._failed.clear()
                    await self.reload()
                self.ready.set()
            while True:
                try:
                    changes = await pending
                except StopAsyncIteration:
                    return
                await self.reload(sorted({path for _, path in changes}))
                pending = asyncio.ensure_future(batches.__anext__())
        finally:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await batches.aclose()

    async def reload(self, paths: Sequence[str] = ()) -> Runtime:
        """Build the next snapshot off the event loop and publish it; returns the snapshot serving now.

        ``paths`` are the absolute paths the watcher reported (only they are looked at on disk);
        none rescans the whole project. May be awaited from another thread's event loop (a test's
        ``asyncio.run(reloader.reload())``): the reload then runs on the server's loop.
        """
        loop = self._loop
        if loop is not None and loop is not asyncio.get_running_loop():
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.reload(paths), loop))
        async with self._lock:
            old = self.state.runtime
            root = str(self.state.config.project.resolve())
            changed = _project_paths(paths, root)
            started = time.perf_counter()
            try:
                new = await self._publish_next(changed, rescan=self._full_scan or not changed)
            except Exception as exc:  # keep serving the last good snapshot
                self._full_scan = True
                message = f"reload failed, still serving generation {old.generation}: {exc!r}"
                self.state.reporter.error(message)
                self.publish(reload_event(old, _ms(started), changed, error=message))
                return old
            self._full_scan = False
            self.last_reload_ms = _ms(started)
            self.last_reload_at = time.time()
            self.state.reporter.reload(old, new)
            self.publish(reload_event(new, self.last_reload_ms, changed))
            return new

    async def _publish_next(self, changed: Collection[str], *, rescan: bool) -> Runtime:
        prepare = functools.partial(self.state.builder.prepare, changed, rescan=rescan)
        pending = await anyio.to_thread.run_sync(prepare)
        try:
            if not pending.publishes_tables:
                new = pending.commit()
                self.state.swap(new)
                return new
            async with self.state.gate.exclusive() as drained:
                if not drained:
                    self.state.reporter.error(
                        f"requests still running after {DRAIN_TIMEOUT_S:g}s; publishing the rebuilt models"
                    )
                new = await anyio.to_thread.run_sync(pending.commit)
                self.state.swap(new)
                return new
        except BaseException:
            pending.rollback()
            raise

    def publish(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every subscriber of the events stream (slow ones drop old events)."""
        for queue in list(self.subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving every reload event while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
        self.subscribers.add(queue)
        try:
            yield queue
        finally:
            self.subscribers.discard(queue)


def reload_event(
    runtime: Runtime, duration_ms: float, paths: Iterable[str], *, error: str | None = None
) -> dict[str, Any]:
    """The payload of one reload event; ``paths`` are project paths, ``error`` says why it failed."""
    return {
        "generation": runtime.generation,
        "duration_ms": round(duration_ms, 3),
        "changed": [] if error else list(runtime.changed),
        "paths": list(paths),
        "problems": [problem_json(p) for p in runtime.problems],
        "error": error,
    }


def problem_json(problem: Any) -> dict[str, Any]:
    """A problem as JSON."""
    return {
        "path": problem.path,
        "line": problem.line,
        "message": problem.message,
        "severity": problem.severity,
        "text": str(problem),
    }


def _project_paths(paths: Iterable[str], root: str) -> list[str]:
    out = (project_path(p, root) for p in paths)
    return sorted({p for p in out if p is not None and p != "/"})


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _force_polling() -> bool | None:
    value = os.environ.get("RILL_EMU_FORCE_POLLING")
    return True if value and value != "0" else None
