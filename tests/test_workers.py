"""The query worker pool: results and errors come back, context is kept, threads are bounded."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from emulator.workers import WorkerPool

REQUEST = contextvars.ContextVar("request", default="none")


def test_results_and_errors_come_back() -> None:
    pool = WorkerPool(max_threads=2)

    def boom() -> None:
        raise ValueError("from the thread")

    async def main() -> None:
        assert await pool.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ValueError, match="from the thread"):
            await pool.run(boom)
        assert await pool.run(threading.current_thread) is not threading.current_thread()

    asyncio.run(main())
    pool.close()


def test_the_callers_context_is_visible() -> None:
    pool = WorkerPool()

    async def one(name: str) -> str:
        REQUEST.set(name)
        return await pool.run(REQUEST.get)

    async def main() -> list[str]:
        return list(await asyncio.gather(*(one(f"r{i}") for i in range(5))))

    assert asyncio.run(main()) == [f"r{i}" for i in range(5)]
    pool.close()


def test_threads_are_bounded_and_reused() -> None:
    pool = WorkerPool(max_threads=3)
    running, peak = 0, 0
    lock = threading.Lock()

    def job(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(pool.run(job, i) for i in range(12))))

    assert asyncio.run(main()) == list(range(12))
    assert peak == 3 and pool.threads == 3

    async def sequential() -> None:
        for i in range(20):
            assert await pool.run(job, i) == i

    asyncio.run(sequential())
    assert pool.threads == 3  # one caller at a time never needs a new thread
    pool.close()


def test_a_cancelled_caller_stops_waiting_and_the_result_is_dropped() -> None:
    pool = WorkerPool(max_threads=1)
    release = threading.Event()

    async def main() -> None:
        task = asyncio.create_task(pool.run(release.wait))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await asyncio.sleep(0.02)  # the answer arrives for a cancelled future: dropped quietly
        assert await pool.run(lambda: "next") == "next"

    asyncio.run(main())
    pool.close()


def test_close_ends_the_threads_and_refuses_new_work() -> None:
    pool = WorkerPool(max_threads=2, name="closing-pool")

    async def main() -> None:
        await asyncio.gather(pool.run(time.sleep, 0.01), pool.run(time.sleep, 0.01))

    asyncio.run(main())
    threads = [t for t in threading.enumerate() if t.name.startswith("closing-pool")]
    assert len(threads) >= 2
    pool.close()
    pool.close()  # idempotent
    for thread in threads:
        thread.join(timeout=5)
        assert not thread.is_alive()

    async def after() -> None:
        await pool.run(int)

    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(after())


def test_a_thread_busy_at_close_ends_after_its_job() -> None:
    pool = WorkerPool(max_threads=1, name="busy-at-close")
    release = threading.Event()
    ran_on: list[threading.Thread] = []

    def job() -> str:
        ran_on.append(threading.current_thread())
        release.wait()
        return "done"

    async def main() -> str:
        task = asyncio.create_task(pool.run(job))
        await asyncio.sleep(0.01)
        pool.close()
        release.set()
        return await task

    assert asyncio.run(main()) == "done"
    (thread,) = ran_on  # looked up before it ends: it may be gone by the time the answer is read
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_the_most_recently_idle_thread_takes_the_next_job() -> None:
    pool = WorkerPool(max_threads=8)

    async def main() -> set[str]:
        await asyncio.gather(*(pool.run(time.sleep, 0.01) for _ in range(8)))  # eight threads
        names = set()
        for _ in range(20):  # one caller at a time: always the same warm thread
            names.add(await pool.run(lambda: threading.current_thread().name))
        return names

    assert pool.threads == 0
    names = asyncio.run(main())
    assert pool.threads == 8 and len(names) == 1
    pool.close()


def test_max_threads_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WorkerPool(max_threads=0)
