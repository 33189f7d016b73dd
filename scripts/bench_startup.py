"""Start-up time and peak memory of ``rill-emu serve sample_project``, measured from outside.

    python scripts/bench_startup.py [--runs 10] [--project sample_project]

Each run spawns ``python -m emulator.cli serve PROJECT --port P`` (watching, as a developer runs it)
and polls an API every 2 ms on loopback until the first 200 answer: the time from spawning the
process to that answer is the start-up time. Python's bytecode is compiled once beforehand (into a
temporary ``PYTHONPYCACHEPREFIX``), as after ``pip install``; one run without bytecode is reported
apart. After the last run's first answer, every API of the project is called as each mock user and
anonymously, then the process's peak resident memory (``VmHWM``) is read.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.testing import free_port  # noqa: E402

FIRST_API = "/v1/instances/default/api/top_products?limit=3"


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET on loopback (raises OSError while nothing listens)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def start_once(project: Path, env: dict[str, str]) -> tuple[float, subprocess.Popen[bytes], int]:
    """Spawn a server and return the seconds to its first 200 answer, the process and its port."""
    port = free_port()
    cmd = [sys.executable, "-m", "emulator.cli", "serve", str(project), "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + 60
    while time.perf_counter() < deadline:
        try:
            status, _ = get(port, FIRST_API)
            if status == 200:
                return time.perf_counter() - started, proc, port
        except OSError:
            pass
        time.sleep(0.002)
    proc.kill()
    raise SystemExit("the server did not answer within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def peak_rss_mb(proc: subprocess.Popen[bytes], port: int) -> float:
    """Call every API as every mock user and anonymously, then read the process's VmHWM."""
    import json

    status = json.loads(get(port, "/v1/instances/default/emu/status")[1])
    apis = [r["name"] for r in status["resources"] if r["type"] == "API"]
    users: list[str | None] = [None]
    rill_yaml = (Path(status["project"]) / "rill.yaml").read_text()
    users += [
        line.split(":", 1)[1].strip()
        for line in rill_yaml.splitlines()
        if line.strip().startswith("- email:")
    ]
    for _ in range(3):
        for user in users:
            for name in apis:
                get(port, f"/v1/instances/default/api/{name}", {"X-Rill-User": user} if user else {})
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc")


def main(argv: list[str] | None = None) -> int:
    """Measure and print a markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--project", type=Path, default=ROOT / "sample_project")
    opts = parser.parse_args(argv)
    project = opts.project.resolve()

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cold_env = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "none")}
        cold, proc, _ = start_once(project, cold_env)
        stop(proc)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        _, proc, _ = start_once(project, env)  # compiles the bytecode
        stop(proc)
        times: list[float] = []
        for i in range(opts.runs):
            seconds, proc, port = start_once(project, env)
            times.append(seconds)
            if i == opts.runs - 1:
                rss = peak_rss_mb(proc, port)
            stop(proc)

    print(f"Python {platform.python_version()}, {opts.runs} runs, project {project.name}\n")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| start → first API answer, median | {statistics.median(times) * 1000:.0f} ms |")
    print(
        f"| start → first API answer, best / worst | {min(times) * 1000:.0f} / {max(times) * 1000:.0f} ms |"
    )
    print(f"| same, without compiled bytecode (first start after an edit) | {cold * 1000:.0f} ms |")
    print(f"| peak RSS after calling every API as every user (VmHWM) | {rss:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
