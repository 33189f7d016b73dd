"""Start-up stays lean: loading a project with metrics views does not import the metrics SQL
compiler or sqlglot; the first metrics call does (issue 8: start-up within 0.5 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from pathlib import Path
from emulator.config import EmuConfig
from emulator.server import create_app
from emulator.identity import ANONYMOUS_ADMIN

app = create_app(EmuConfig(Path(sys.argv[1]), watch=False, log_format="quiet"))
runtime = app.state.emu.runtime
assert runtime.project.metrics_views, "the project must have metrics views"
print("sqlglot" in sys.modules, "emulator.metrics.builder" in sys.modules)
api = runtime.lookup_api("top_categories")
rows = runtime.resolve(api, {}, ANONYMOUS_ADMIN).rows
print(len(rows) > 0, "sqlglot" in sys.modules)
app.state.emu.close()
"""


def test_metrics_compiler_loads_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "sample_project")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert out == ["False", "False", "True", "True"]
