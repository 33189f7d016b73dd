"""The threads API requests run their queries on: a lean pool handing results back to the event loop.

A query blocks (DuckDB releases the GIL while it runs), so a request hands it to a worker thread and
awaits the answer. ``anyio.to_thread.run_sync`` (what Starlette's ``run_in_threadpool`` uses) costs
~90 µs per hand-off on this project's machines: capacity limiter, cancel scopes, a
``concurrent.futures``-style future. Here a hand-off is a queue put and, for the answer,
``call_soon_threadsafe``: ~50 µs, most of it the two thread wake-ups no hand-off can avoid
(scripts/bench_throughput.py shows the difference on a 1.5 ms query; docs/benchmarks.md).

Threads are started on demand, up to ``max_threads``, and kept. The caller's context variables are
visible to the function (the explain trace is one). A request cancelled while its function runs stops
waiting at once; the function finishes in its thread and its result is dropped (as
``anyio.to_thread.run_sync(..., abandon_on_cancel=True)`` does); shutdown interrupts running queries.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DEFAULT_MAX_THREADS", "WorkerPool"]

T = TypeVar("T")

#: At most this many queries run at once; more wait for a thread. DuckDB parallelises each query over
#: the cores itself, so this only bounds how many slow queries can hold threads at once; the
#: benchmarks keep at most 16 busy (one per client).
DEFAULT_MAX_THREADS = 32

_Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]
]


class WorkerPool:
    """Runs blocking functions on worker threads for coroutines on one or more event loops.

    The most recently idle thread takes the next job (a stack, as anyio's pool does): at low
    concurrency one warm thread serves every request instead of jobs rotating through cold ones
    (measured: +0.2 ms per 1.5 ms query at concurrency 1 after a burst had started 16 threads).
    """

    def __init__(self, max_threads: int = DEFAULT_MAX_THREADS, name: str = "rill-emu-query") -> None:
        if max_threads < 1:
            raise ValueError("max_threads must be at least 1")
        self.max_threads = max_threads
        self.name = name
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle: list[queue.SimpleQueue[_Job | None]] = []  # inboxes of idle threads, a stack
        self._backlog: collections.deque[_Job] = collections.deque()  # jobs waiting for a thread
        self._closed = False

    @property
    def threads(self) -> int:
        """How many worker threads have been started."""
        return len(self._threads)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a worker thread, in a copy of the caller's context; its result or exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job: _Job = (loop, future, contextvars.copy_context(), fn, args)
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            if self._idle:
                self._idle.pop().put(job)
            elif len(self._threads) < self.max_threads:
                self._start_thread(job)
            else:
                self._backlog.append(job)
        del job
        return await future

    def close(self) -> None:
        """Let every thread finish its current job and the queued ones, then end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, []
        for inbox in idle:
            inbox.put(None)

    def _start_thread(self, job: _Job) -> None:
        inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        inbox.put(job)
        name = f"{self.name}-{len(self._threads)}"
        thread = threading.Thread(target=self._work, args=(inbox,), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _work(self, inbox: queue.SimpleQueue[_Job | None]) -> None:
        job = inbox.get()
        while job is not None:
            loop, future, context, fn, args = job
            try:
                result, exc = context.run(fn, *args), None
            except BaseException as error:  # handed to the awaiting coroutine, re-raised there
                result, exc = None, error
            # Idle (or given the next queued job) before answering, so the request the answer lets
            # in finds this thread.
            with self._lock:
                stop = False
                if self._backlog:
                    job = self._backlog.popleft()
                elif self._closed:
                    job, stop = None, True
                else:
                    job = None
                    self._idle.append(inbox)
            _hand_back(loop, future, result, exc)
            del loop, future, context, fn, args, result, exc  # an idle thread holds no request's data
            if stop:
                return
            if job is None:
                job = inbox.get()


def _hand_back(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
        loop.call_soon_threadsafe(_settle, future, result, exc)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the request was cancelled meanwhile
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
