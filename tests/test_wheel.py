"""The built wheel, installed with pytest in a fresh virtualenv, runs the README's downstream suite.

That suite (its ``conftest.py`` and ``test_shop_api.py``) uses ``rill_emu`` and ``rill_emu_sandbox``
against the sample project; the plugin comes in only through the wheel's ``pytest11`` entry point.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_files() -> dict[str, str]:
    """The README's Python blocks whose first line names a file (``# conftest.py``)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    files = {}
    for block in blocks:
        first, _, rest = block.partition("\n")
        match = re.fullmatch(r"# ([\w/]+\.py)", first.strip())
        if match:
            files[match.group(1)] = rest
    return files


def _run(args: list[str | Path], cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_serves_a_downstream_suite_from_a_fresh_virtualenv(tmp_path: Path) -> None:
    files = _readme_files()
    assert set(files) == {"conftest.py", "test_shop_api.py"}

    # Build from a copy of the sources, so the tree under test gets no build/ or egg-info.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "emulator", src / "emulator", ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", src], tmp_path)
    [wheel] = (tmp_path / "dist").glob("rill_emu-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "[pytest11]\nrill_emu = emulator.pytest_plugin" in zf.read(entry_points).decode()
    assert "emulator/py.typed" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], tmp_path)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, "pytest"], tmp_path)

    suite = tmp_path / "downstream"
    suite.mkdir()
    for name, text in files.items():
        (suite / name).write_text(text)
    shutil.copytree(ROOT / "sample_project", suite / "rill")
    out = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], suite)
    assert re.search(rf"\b{len(re.findall(r'^def test_', files['test_shop_api.py'], re.M))} passed\b", out), (
        out
    )
