"""A real page in headless Chromium, served by a real Vite dev server proxying /v1 to rill-emu.

The page fetches an API through the proxy and renders its rows, and listens to the emulator's
events stream; when the test edits the API file, the page shows the new rows after the reload.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

from emulator.sandbox import EmuSandbox

FRONTEND = Path(__file__).resolve().parent

API = "type: api\nsql: SELECT * FROM (VALUES {values}) AS t(n, label) ORDER BY n\n"


def _read_json_line(proc: subprocess.Popen[str]) -> Any:
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        raise AssertionError(f"browser.mjs exited with {proc.returncode}:\n{proc.stderr.read()}")
    return json.loads(line)


def test_the_page_renders_rows_through_the_proxy_and_follows_reloads(
    rill_emu_sandbox: EmuSandbox, vite_dev_server: str
) -> None:
    rill_emu_sandbox.write("apis/browser_rows.yaml", API.format(values="(1, 'first'), (2, 'second')"))
    proc = subprocess.Popen(
        ["node", "browser.mjs", f"{vite_dev_server}/?api=browser_rows"],
        cwd=FRONTEND,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    try:
        before = _read_json_line(proc)
        assert before["rows"] == [{"label": "first", "n": "1"}, {"label": "second", "n": "2"}]

        rill_emu_sandbox.write("apis/browser_rows.yaml", API.format(values="(3, 'third')"))
        assert proc.stdin is not None
        proc.stdin.write("changed\n")
        proc.stdin.close()

        after = _read_json_line(proc)
        assert after["rows"] == [{"label": "third", "n": "3"}]
        assert int(after["generation"]) > int(before["generation"])
        assert proc.wait(timeout=30) == 0
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
