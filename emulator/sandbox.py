"""A rill-emu server over a private copy of a project, whose files a test edits and then resets.

``write`` and ``remove`` change a file of the copy and return once the server serves the reload
that contains the change: the sandbox follows the server's events stream and waits for a ``reload``
event naming the file (no sleeps). ``reset`` puts back only the files that differ from the original,
so a test that changed nothing costs no reload and rebuilds no model.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson

from emulator.config import INSTANCE_ID
from emulator.testing import EmuClient, EmuServer

#: Seconds ``write``, ``remove`` and ``reset`` wait for the reload serving their change.
DEFAULT_TIMEOUT = 60.0
#: Folders never copied into a sandbox: VCS and tool folders anywhere, Rill's scratch space at the root.
_SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__"})
_SKIPPED_ROOT_DIRS = frozenset({"tmp", ".rillcloud"})
#: The suffix of the temporary file a write goes through (the watcher ignores ``*.tmp``).
_TMP_SUFFIX = ".rill-emu.tmp"

Signature = tuple[int, int]


class ReloadTimeout(TimeoutError):
    """The server did not serve a reload containing a change in time."""


class EventFollower:
    """Follows a server's events stream in a background thread and records its reload events."""

    def __init__(self, url: str) -> None:
        self.url = f"{url.rstrip('/')}/v1/instances/{INSTANCE_ID}/emu/events"
        self.hello: dict[str, Any] | None = None
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._done = False
        self._closing = False
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="rill-emu-events", daemon=True)

    def start(self, timeout: float = 30.0) -> EventFollower:
        """Connect, and return once the stream's ``hello`` event arrived (from then on nothing is missed)."""
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self.hello is not None or self._done, timeout)
        if self.hello is None:
            raise ConnectionError(f"no events stream at {self.url}: {self._error or 'timed out'}")
        return self

    def mark(self) -> int:
        """A position in the event log: ``wait_for`` looks at events received after it."""
        with self._cond:
            return len(self._events)

    def since(self, mark: int) -> list[dict[str, Any]]:
        """The reload events received after ``mark`` (see ``mark``), oldest first."""
        with self._cond:
            return list(self._events[mark:])

    def wait_for(self, paths: Collection[str], since: int, timeout: float) -> dict[str, Any]:
        """Wait until reload events received after ``since`` name every path; returns the last one."""
        wanted = set(paths)

        def covered() -> bool:
            seen: set[str] = set()
            for event in self._events[since:]:
                seen.update(event.get("paths", ()))
            return wanted <= seen

        with self._cond:
            ok = self._cond.wait_for(lambda: covered() or self._done, timeout)
            if ok and covered():
                return self._events[-1]
            last = self._events[-1] if self._events else self.hello or {}
        if self._done:
            raise ConnectionError(f"the events stream closed before {sorted(wanted)} reloaded: {self._error}")
        raise ReloadTimeout(
            f"no reload containing {', '.join(sorted(wanted))} was served within {timeout:g}s "
            f"(the server is at generation {last.get('generation')}; its log may say why)"
        )

    def close(self) -> None:
        """Disconnect, and wait for the thread."""
        self._closing = True
        sock = self._socket
        if sock is not None:
            # shutdown, unlike close, wakes a thread blocked reading the socket.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            timeout = httpx.Timeout(10.0, read=None)
            with httpx.Client(timeout=timeout) as http, http.stream("GET", self.url) as resp:
                resp.raise_for_status()
                stream = resp.extensions.get("network_stream")
                self._socket = stream.get_extra_info("socket") if stream is not None else None
                for name, data in _sse(resp.iter_lines()):
                    self._dispatch(name, data)
        except Exception as exc:
            if not self._closing:
                self._error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _dispatch(self, name: str, data: str) -> None:
        payload = orjson.loads(data)
        with self._cond:
            if name == "hello":
                self.hello = payload
            elif name == "reload":
                self._events.append(payload)
            self._cond.notify_all()


def _sse(lines: Iterable[str]) -> Iterable[tuple[str, str]]:
    """Server-sent events as ``(event, data)`` pairs."""
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


class EmuSandbox(EmuClient):
    """A watching rill-emu server over a copy of ``project`` made under ``workdir``.

    Besides the ``EmuClient`` surface (``url``, ``call``, ``client``, ``as_user``, ``openapi``,
    ``problems``): ``root`` (the copy), ``write``, ``remove`` and ``reset``.
    """

    def __init__(
        self, project: Path | str, workdir: Path | str, *, timeout: float = DEFAULT_TIMEOUT, **options: Any
    ) -> None:
        workdir = Path(workdir)
        self.source = Path(project).resolve()
        self.pristine = workdir / "pristine"
        copy_project(self.source, self.pristine)
        shutil.copytree(self.pristine, workdir / "project")
        self.root = (workdir / "project").resolve()
        self.timeout = timeout
        options.setdefault("watch", True)
        self.server = EmuServer(self.root, **options)
        super().__init__(self.server.url)
        self._original = frozenset(_scan(self.pristine))
        self._signatures: dict[str, Signature] = {}
        self._events: EventFollower | None = None

    def start(self) -> EmuSandbox:
        """Start the server and follow its events."""
        self.server.start()
        try:
            self._events = EventFollower(self.url).start()
        except BaseException:
            self.server.stop()
            raise
        self._signatures = _scan(self.root)
        return self

    def stop(self) -> None:
        """Stop following events and stop the server."""
        if self._events is not None:
            self._events.close()
            self._events = None
        self.server.stop()

    def __enter__(self) -> EmuSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write(self, relpath: str, text: str | bytes) -> None:
        """Write a project file (creating folders); returns once the reload containing it is served.

        Writing what the file already holds changes nothing and returns at once.
        """
        path = self._path(relpath)
        data = text.encode() if isinstance(text, str) else text
        if path.is_file() and path.read_bytes() == data:
            return
        self._make_dirs(path.parent)
        since = self._follower.mark()
        _atomic_write(path, data)
        self._wait([path], since)

    def remove(self, relpath: str) -> None:
        """Delete a project file or folder; returns once the reload without it is served."""
        path = self._path(relpath)
        if not path.exists():
            raise FileNotFoundError(f"{relpath}: no such file in the sandbox ({self.root})")
        since = self._follower.mark()
        if path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file()]
            shutil.rmtree(path)
        else:
            files = [path]
            path.unlink()
        self._wait(files, since)

    def reset(self) -> None:
        """Make the copy equal to the original again, touching only the files that differ.

        Returns once the reload containing those files is served; does nothing (no reload, no model
        rebuilt) when nothing differs.
        """
        # rill.yaml first: its ignore_paths decide which of the other files the watcher reports.
        self._restore(only="rill.yaml")
        self._restore()
        self._signatures = _scan(self.root)

    def _restore(self, only: str | None = None) -> None:
        since = self._follower.mark()
        touched: list[Path] = []
        current = _scan(self.root)
        for rel, signature in current.items():
            if only is not None and rel != only:
                continue
            path = self.root / rel
            if rel not in self._original:
                path.unlink()
                touched.append(path)
            elif signature != self._signatures.get(rel):
                original = (self.pristine / rel).read_bytes()
                if path.read_bytes() != original:
                    _atomic_write(path, original)
                    touched.append(path)
        for rel in sorted(self._original - current.keys()):
            if only is not None and rel != only:
                continue
            path = self.root / rel
            self._make_dirs(path.parent)
            _atomic_write(path, (self.pristine / rel).read_bytes())
            touched.append(path)
        if only is None:
            _remove_new_dirs(self.root, self.pristine)
        self._wait(touched, since)

    @property
    def dirty(self) -> bool:
        """Whether any file of the copy may differ from the original (a cheap stat-only check)."""
        return _scan(self.root) != self._signatures

    @property
    def _follower(self) -> EventFollower:
        if self._events is None:
            raise RuntimeError("the sandbox is not started")
        return self._events

    def _path(self, relpath: str) -> Path:
        path = (self.root / relpath.lstrip("/")).resolve()
        if path == self.root or self.root not in path.parents:
            raise ValueError(f"{relpath!r} is not a path inside the project")
        return path

    def _make_dirs(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents, each known to the watcher before the next step.

        The watcher starts watching a new folder only once it has seen it appear: a file written
        into it before then raises no event. So after each ``mkdir`` wait for a reload that the
        watcher reports after the new folder's event (events come in order): the folder's own, or,
        for a folder name the watcher filters out, that of a marker folder made and removed beside it.
        """
        missing: list[Path] = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        watched = self._watch_filter()
        for new in reversed(missing):
            since = self._follower.mark()
            new.mkdir()
            if watched(str(new)):
                self._wait([new], since)
                continue
            marker = new.parent / f"rill-emu-sync-{os.getpid()}-{threading.get_ident()}"
            marker.mkdir()
            self._wait([marker], since)
            since = self._follower.mark()
            marker.rmdir()
            self._wait([marker], since)

    def _wait(self, paths: Iterable[Path], since: int) -> None:
        watched = self._watch_filter()
        rels = {"/" + p.relative_to(self.root).as_posix() for p in paths if watched(str(p))}
        if rels:
            self._follower.wait_for(rels, since, self.timeout)

    def _watch_filter(self) -> Callable[[str], bool]:
        """Whether the server's watcher reloads for a path (else there is no reload to wait for)."""
        from watchfiles import Change

        from emulator.reload import ProjectFilter

        runtime = self.server.state.runtime
        project_filter = ProjectFilter(self.root, lambda: runtime.project.config.ignore_paths)
        return lambda path: project_filter(Change.modified, path)


def copy_project(source: Path, target: Path) -> None:
    """Copy a project folder, leaving out ``tmp/``, VCS and tool folders, and DuckDB files."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = _SKIPPED_DIRS | (_SKIPPED_ROOT_DIRS if Path(folder) == source else frozenset())
        return {n for n in names if n in skipped or ".duckdb" in n}

    if not source.is_dir():
        raise FileNotFoundError(f"no Rill project folder at {source}")
    shutil.copytree(source, target, ignore=ignore)


def _scan(root: Path) -> dict[str, Signature]:
    """Every file under ``root`` (relative POSIX path) with its size and modification time."""
    out: dict[str, Signature] = {}
    for folder, dirs, files in os.walk(root):
        skipped = _SKIPPED_DIRS | (_SKIPPED_ROOT_DIRS if folder == str(root) else frozenset())
        dirs[:] = [d for d in dirs if d not in skipped]
        for name in files:
            if name.endswith(_TMP_SUFFIX):
                continue
            path = os.path.join(folder, name)
            st = os.stat(path)
            out[os.path.relpath(path, root).replace(os.sep, "/")] = (st.st_size, st.st_mtime_ns)
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    # A reader (the server's reload) sees the old file or the new one, never half of it.
    tmp = path.with_name(path.name + _TMP_SUFFIX)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_new_dirs(root: Path, pristine: Path) -> None:
    for folder, _dirs, _files in os.walk(root, topdown=False):
        rel = os.path.relpath(folder, root)
        if rel != "." and not (pristine / rel).is_dir() and not os.listdir(folder):
            os.rmdir(folder)
