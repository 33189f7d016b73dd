"""The cost of handing a query to a thread and back: rill-emu's WorkerPool against anyio's run_sync.

    python scripts/bench_handoff.py [--calls 5000]

A request awaits its query on a worker thread; here the function does nothing, so what is timed is
the hand-off alone (two thread wake-ups and the bookkeeping around them), on asyncio's loop and on
uvloop. ``anyio.to_thread.run_sync`` is what Starlette's ``run_in_threadpool`` (the baseline app of
bench_throughput.py) uses. Prints microseconds per call (median of 5 timings) and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.to_thread

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.workers import WorkerPool


def _identity(x: int) -> int:
    return x


async def _time(hop: Callable[[], Awaitable[int]], calls: int) -> float:
    for _ in range(calls // 10):  # warm-up: threads started
        await hop()
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            await hop()
        timings.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(timings)


async def _measure(calls: int) -> tuple[float, float]:
    pool = WorkerPool()
    try:
        ours = await _time(lambda: pool.run(_identity, 1), calls)
        theirs = await _time(lambda: anyio.to_thread.run_sync(_identity, 1), calls)
    finally:
        pool.close()
    return ours, theirs


def main(argv: list[str] | None = None) -> int:
    """Measure on each available event loop and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    opts = parser.parse_args(argv)
    loops: list[tuple[str, Callable[[], asyncio.AbstractEventLoop]]] = [("asyncio", asyncio.new_event_loop)]
    try:
        import uvloop

        loops.append(("uvloop", uvloop.new_event_loop))
    except ImportError:
        pass
    print("| loop | WorkerPool.run µs | anyio run_sync µs | ratio |")
    print("|---|---:|---:|---:|")
    for name, factory in loops:
        with asyncio.Runner(loop_factory=factory) as runner:
            ours, theirs = runner.run(_measure(opts.calls))
        print(f"| {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
