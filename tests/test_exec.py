"""``rill-emu exec``: serve while a command runs, then stop and free the port whatever happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from emulator.testing import bind_socket, free_port

SAMPLE = Path(__file__).resolve().parents[1] / "sample_project"

CHILD = """
import os, sys, httpx
url = os.environ["RILL_EMU_URL"]
paths = httpx.get(url + "/v1/instances/default/api/openapi").json()["paths"]
print("child saw", url, "/top_products" in paths, flush=True)
sys.exit(3)
"""


def _exec(*args: str, new_session: bool = False) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "emulator.cli", "exec", "--log-format", "json", *args]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=new_session
    )


def _assert_port_free(port: int) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=5)
    bind_socket("127.0.0.1", port).close()


def _read_until(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return line
    raise AssertionError(
        f"exited ({proc.wait()}) before printing {prefix!r}: {proc.stderr and proc.stderr.read()}"
    )


def test_runs_the_command_against_the_ready_emulator_and_exits_with_its_status() -> None:
    port = free_port()
    proc = _exec("--port", str(port), str(SAMPLE), "--", sys.executable, "-c", textwrap.dedent(CHILD))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert f"child saw http://127.0.0.1:{port} True" in out
    _assert_port_free(port)


def test_port_zero_picks_a_free_port() -> None:
    proc = _exec("--port", "0", str(SAMPLE), "--", sys.executable, "-c", textwrap.dedent(CHILD))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    [line] = [line for line in out.splitlines() if line.startswith("child saw")]
    port = int(line.split()[2].rsplit(":", 1)[1])
    assert port != 0
    _assert_port_free(port)


def test_a_command_that_cannot_start_exits_127_and_frees_the_port() -> None:
    port = free_port()
    proc = _exec("--port", str(port), str(SAMPLE), "--", "no-such-command-rill-emu")
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 127
    assert "rill-emu exec: no-such-command-rill-emu: No such file or directory" in err
    _assert_port_free(port)


def test_sigterm_is_passed_on_and_the_port_freed() -> None:
    port = free_port()
    child = "import time; print('child ready', flush=True); time.sleep(120)"
    proc = _exec("--port", str(port), str(SAMPLE), "--", sys.executable, "-c", child)
    _read_until(proc, "child ready")
    assert httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    _assert_port_free(port)


def test_ctrl_c_is_left_to_the_command_whose_status_is_returned() -> None:
    port = free_port()
    # Ctrl-C in a terminal signals the whole foreground process group: do the same.
    child = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(5))\n"
        "print('child ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = _exec("--port", str(port), str(SAMPLE), "--", sys.executable, "-c", child, new_session=True)
    _read_until(proc, "child ready")
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 5
    _assert_port_free(port)


def test_a_busy_port_is_an_error() -> None:
    with bind_socket("127.0.0.1", 0) as sock:
        sock.listen()
        port = sock.getsockname()[1]
        proc = _exec("--port", str(port), str(SAMPLE), "--", "true")
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_a_command_is_required() -> None:
    proc = _exec(str(SAMPLE))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "give the command to run after --" in err
