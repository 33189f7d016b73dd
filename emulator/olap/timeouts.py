"""Query deadlines: one watchdog thread interrupts DuckDB cursors that run past their deadline.

Every query registers its cursor for as long as it runs (a lock and two dict operations, no thread
per query); the watchdog sleeps until the earliest deadline. The registry also lets ``close`` interrupt
whatever still runs, so a database is never closed under a running query.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from typing import Protocol

__all__ = ["Guard", "Interruptible", "Watchdog"]


class Interruptible(Protocol):
    """What the watchdog needs of a cursor."""

    def interrupt(self) -> None: ...


class Guard:
    """One running query; ``expired`` tells whether the watchdog interrupted it for its deadline,
    ``stopped`` whether ``interrupt_all`` did.
    """

    __slots__ = ("_owner", "cursor", "deadline", "expired", "key", "stopped")

    def __init__(self, owner: Watchdog, key: int, cursor: Interruptible, deadline: float | None) -> None:
        self._owner = owner
        self.key = key
        self.cursor = cursor
        self.deadline = deadline
        self.expired = False
        self.stopped = False

    def release(self) -> None:
        """The query has ended (successfully or not): stop watching it."""
        self._owner._release(self)

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Watchdog:
    """Interrupts registered cursors when their deadline passes; thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: dict[int, Guard] = {}
        self._keys = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf
        self._stopped = False
        self._idle_waiters = 0

    def watch(self, cursor: Interruptible, timeout: float | None) -> Guard:
        """Register ``cursor`` for a query that may run ``timeout`` seconds (None: no deadline)."""
        deadline = None if not timeout or timeout <= 0 else time.monotonic() + timeout
        with self._cond:
            guard = Guard(self, next(self._keys), cursor, deadline)
            self._active[guard.key] = guard
            if deadline is not None:
                if self._thread is None and not self._stopped:
                    self._thread = threading.Thread(target=self._run, name="rill-emu-watchdog", daemon=True)
                    self._thread.start()
                elif deadline < self._wake_at:
                    self._cond.notify_all()
        return guard

    def _release(self, guard: Guard) -> None:
        with self._cond:
            # Only wake threads for wait_idle(): the watchdog itself just finds nothing due when its
            # (now stale) deadline comes, so it is left asleep (two wake-ups per query cost ~0.1 ms).
            if self._active.pop(guard.key, None) is not None and not self._active and self._idle_waiters:
                self._cond.notify_all()

    @property
    def running(self) -> int:
        """How many queries are registered now."""
        with self._cond:
            return len(self._active)

    def interrupt_all(self) -> int:
        """Interrupt every registered query; returns how many there were."""
        with self._cond:
            guards = list(self._active.values())
            for guard in guards:
                guard.stopped = True
                guard.cursor.interrupt()
        return len(guards)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no query is registered (at most ``timeout`` seconds); whether that happened."""
        with self._cond:
            self._idle_waiters += 1
            try:
                return self._cond.wait_for(lambda: not self._active, timeout)
            finally:
                self._idle_waiters -= 1

    def stop(self) -> None:
        """End the watchdog thread (deadlines are no longer enforced)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                earliest = math.inf
                for guard in self._active.values():
                    if guard.deadline is None or guard.expired:
                        continue
                    if guard.deadline <= now:
                        guard.expired = True
                        guard.cursor.interrupt()
                    else:
                        earliest = min(earliest, guard.deadline)
                self._wake_at = earliest
                self._cond.wait(None if earliest == math.inf else earliest - now)
