"""HTTP/1.1 keep-alive load for loopback benchmarks, from a separate process.

``run_load(host, port, requests, concurrency, duration)`` returns requests/s and latency percentiles.
Two generators: a small asyncio one written here (no third-party client overhead; bounded by count
and time), and ``run_wrk``, which drives wrk (Debian's package ``wrk``), a C load generator. On loopback
the generator shares the machine with the server: a Python client spends ~50 µs per request, which
caps what it can measure near 10,000 requests/s, so answers served in tens of microseconds (cached
ones) need wrk. Both only ever connect to the address they are given (loopback in our scripts).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: (method, path, body) or (method, path, body, ((header, value), ...)).
Request = tuple[str, str, bytes] | tuple[str, str, bytes, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class LoadResult:
    """Requests completed, their rate, latency percentiles (ms) and non-200 answers."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _request_bytes(
    host: str, port: int, method: str, path: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: keep-alive\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    if length:
        await reader.readexactly(length)
    return status


async def _worker(
    host: str,
    port: int,
    payloads: list[bytes],
    deadline: float,
    max_requests: int,
    latencies: list[float],
    counter: list[int],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while counter[0] < max_requests and time.perf_counter() < deadline:
            counter[0] += 1
            payload = payloads[i % len(payloads)]
            i += 1
            start = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                errors[0] += 1
    finally:
        writer.close()


async def _run(
    host: str,
    port: int,
    requests: list[Request],
    concurrency: int,
    duration: float,
    max_requests: int,
) -> LoadResult:
    payloads = [_request_bytes(host, port, *r) for r in requests]
    latencies: list[float] = []
    counter, errors = [0], [0]
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _worker(host, port, payloads, deadline, max_requests, latencies, counter, errors)
            for _ in range(concurrency)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return LoadResult(
        requests=n,
        rps=n / elapsed if elapsed else 0.0,
        p50_ms=statistics.median(latencies) * 1000 if n else 0.0,
        p99_ms=latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        errors=errors[0],
    )


def _child(conn: multiprocessing.connection.Connection, args: tuple[object, ...]) -> None:
    conn.send(asyncio.run(_run(*args)))  # type: ignore[arg-type]
    conn.close()


def run_load(
    host: str,
    port: int,
    requests: list[Request],
    *,
    concurrency: int = 1,
    duration: float = 3.0,
    max_requests: int = 200_000,
) -> LoadResult:
    """Run the load from a separate process and return its result."""
    parent, child = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(
        target=_child, args=(child, (host, port, requests, concurrency, duration, max_requests))
    )
    proc.start()
    result: LoadResult = parent.recv()
    proc.join()
    return result


#: wrk's report, printed as one JSON line by its ``done`` hook (latencies in µs).
_WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def have_wrk() -> bool:
    """Whether wrk is on the PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    host: str, port: int, request: Request, *, concurrency: int = 1, duration: float = 3.0
) -> LoadResult:
    """Run wrk (one thread, ``concurrency`` keep-alive connections) for ``duration`` whole seconds.

    Only GET requests without a body (what the throughput benchmark sends).
    """
    method, path, body, *rest = request
    if method != "GET" or body:
        raise ValueError("run_wrk sends GET requests without a body")
    headers: tuple[tuple[str, str], ...] = rest[0] if rest else ()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(_WRK_SCRIPT)
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "-s", str(script)]
        for name, value in headers:
            cmd += ["-H", f"{name}: {value}"]
        cmd.append(f"http://{host}:{port}{path}")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    report = json.loads(out.strip().splitlines()[-1])
    seconds = report["duration_us"] / 1e6
    return LoadResult(
        requests=report["requests"],
        rps=report["requests"] / seconds if seconds else 0.0,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        errors=report["status_errors"] + report["socket_errors"],
    )
