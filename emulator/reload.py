"""Hot reload: watch the project folder, batch bursts of events into one reload, swap snapshots.

A reload never restarts the process: it asks the builder for the next snapshot (which re-parses only
changed files and rebuilds only affected models) and swaps it in with one assignment. A reload that
fails unexpectedly keeps the previous snapshot serving and reports the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from watchfiles import Change, DefaultFilter, awatch

from emulator.project.files import is_ignored

if TYPE_CHECKING:
    from emulator.runtime import Runtime
    from emulator.server import EmuState

#: Milliseconds without a new event before a batch is handed over (watchfiles' ``step``).
WATCH_STEP_MS = 10
#: Upper bound of one batch in milliseconds (watchfiles' ``debounce``).
WATCH_DEBOUNCE_MS = 400

_EDITOR_SUFFIXES = (".swp", ".swo", ".swx", "~", ".tmp", ".bak", "___jb_tmp___", "___jb_old___", ".crswap")
_WATCHED_SUFFIXES = (".sql", ".yaml", ".yml", ".env")
_DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".json", ".ndjson", ".jsonl", ".gz", ".zst", ".txt", ".xlsx")


class ProjectFilter(DefaultFilter):
    """Keeps the events a reload cares about: project files and local data files.

    Drops what Rill ignores (tmp/, .git, node_modules, .rillcloud, ...), ``ignore_paths``, DuckDB
    files, and editor temp and swap files.
    """

    def __init__(self, root: Path, ignore_paths: Callable[[], Sequence[str]]) -> None:
        super().__init__()
        self.root = str(root.resolve())
        self._project_ignores = ignore_paths

    def __call__(self, change: Change, path: str) -> bool:
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        if rel.startswith(".."):
            return False
        rel = "/" + rel if rel != "." else "/"
        base = rel.rsplit("/", 1)[-1]
        if base.startswith((".#", "#")) or base.endswith(_EDITOR_SUFFIXES) or ".duckdb" in base:
            return False
        if is_ignored(rel, self._project_ignores()):
            return False
        return base.endswith(_WATCHED_SUFFIXES + _DATA_SUFFIXES) or base == ".env" or "." not in base


class Reloader:
    """Runs the watch loop for one server and broadcasts a reload event to subscribers."""

    def __init__(self, state: EmuState) -> None:
        self.state = state
        self.subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self.last_reload_ms: float = state.runtime.build_ms
        self.last_reload_at: float = state.runtime.built_at
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Ask the watch loop to end."""
        self._stop.set()

    async def run(self) -> None:
        """Watch the project folder until stopped, reloading once per batch of events."""
        root = self.state.config.project
        watch_filter = ProjectFilter(root, lambda: self.state.runtime.project.config.ignore_paths)
        async for changes in awatch(
            root,
            watch_filter=watch_filter,
            step=WATCH_STEP_MS,
            debounce=WATCH_DEBOUNCE_MS,
            stop_event=self._stop,
            force_polling=_force_polling(),
            recursive=True,
        ):
            paths = sorted({p for _, p in changes})
            await self.reload(paths)

    async def reload(self, paths: Sequence[str] = ()) -> Runtime:
        """Build the next snapshot off the event loop and swap it in; returns the snapshot serving now."""
        async with self._lock:
            old = self.state.runtime
            started = time.perf_counter()
            try:
                new = await anyio.to_thread.run_sync(self.state.builder.build)
            except Exception as exc:  # keep serving the last good snapshot
                self.state.reporter.error(
                    f"reload failed, still serving generation {old.generation}: {exc!r}"
                )
                return old
            self.state.swap(new)
            self.last_reload_ms = (time.perf_counter() - started) * 1000
            self.last_reload_at = time.time()
            self.state.reporter.reload(old, new)
            self.publish(reload_event(new, self.last_reload_ms, paths, self.state.config.project))
            return new

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


def reload_event(runtime: Runtime, duration_ms: float, paths: Sequence[str], root: Path) -> dict[str, Any]:
    """The payload of one reload event."""
    rel = []
    for p in paths:
        with contextlib.suppress(ValueError):
            rel.append("/" + Path(p).resolve().relative_to(root.resolve()).as_posix())
    return {
        "generation": runtime.generation,
        "duration_ms": round(duration_ms, 3),
        "changed": list(runtime.changed),
        "paths": rel,
        "problems": [problem_json(p) for p in runtime.problems],
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


def _force_polling() -> bool | None:
    value = os.environ.get("RILL_EMU_FORCE_POLLING")
    return True if value and value != "0" else None
