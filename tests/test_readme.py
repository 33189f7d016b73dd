"""The README's test command is what CI runs, and its serve command names the sample project."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text: str) -> list[str]:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    first_screen = "\n".join(readme.splitlines()[:40])
    commands = _commands(first_screen)
    test_cmds = [c for c in commands if "pytest" in c]
    assert len(test_cmds) == 1, commands
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmds[0] in ci
    assert any("rill-emu serve sample_project" in c for c in commands)
