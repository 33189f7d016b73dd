"""Fixtures of the frontend tests: the Node and Python tools they drive, and a Vite dev server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator.sandbox import EmuSandbox
from emulator.testing import free_port

FRONTEND = Path(__file__).resolve().parent
ROOT = FRONTEND.parents[1]
SETUP = ROOT / "scripts" / "setup_frontend_tests.sh"


@dataclass(frozen=True)
class FrontendTools:
    """Where the tools installed by ``scripts/setup_frontend_tests.sh`` are."""

    node_bin: Path
    tools_python: Path

    def npm_tool(self, name: str) -> str:
        """The path of an executable of the npm packages (``vite``, ``openapi-typescript``, ``tsc``)."""
        return str(self.node_bin / name)


@pytest.fixture(scope="session")
def frontend_tools() -> FrontendTools:
    """Chromium, the npm packages and openapi-python-client, installed on first use."""
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(SETUP)], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{SETUP.relative_to(ROOT)} failed:\n{result.stdout}{result.stderr}", pytrace=False)
    return FrontendTools(FRONTEND / "node_modules" / ".bin", FRONTEND / ".venv-tools" / "bin" / "python")


@pytest.fixture
def vite_dev_server(frontend_tools: FrontendTools, rill_emu_sandbox: EmuSandbox) -> Iterator[str]:
    """A Vite dev server on tests/frontend, proxying /v1 to the sandbox; yields its URL once ready."""
    port = free_port()
    proc = subprocess.Popen(
        [frontend_tools.npm_tool("vite"), "--host", "127.0.0.1", "--port", str(port), "--strictPort"],
        cwd=FRONTEND,
        env={**os.environ, "RILL_EMU_URL": rill_emu_sandbox.url, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    timer = threading.Timer(60, proc.kill)
    timer.start()
    output: list[str] = []
    for line in proc.stdout:
        output.append(line)
        if f"http://127.0.0.1:{port}/" in line:
            break
    timer.cancel()
    if proc.poll() is not None or not output or f":{port}/" not in output[-1]:
        proc.kill()
        pytest.fail("the Vite dev server did not start:\n" + "".join(output), pytrace=False)
    # Keep reading its output so that it never blocks on a full pipe.
    drain = threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True)
    drain.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
