"""The README's test command is what CI runs, and its serve command names the sample project."""

from __future__ import annotations

import itertools
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


def _curl_examples(text: str) -> list[tuple[list[str], str]]:
    """``curl ...`` lines of the README followed by a ``# <expected body>`` line."""
    import shlex

    lines = text.splitlines()
    out = []
    for line, following in itertools.pairwise(lines):
        if line.startswith("curl ") and following.startswith("# ["):
            out.append((shlex.split(line.split("    #")[0]), following[2:]))
    return out


def test_readme_curl_examples_answer_what_the_readme_says(rill_emu) -> None:  # type: ignore[no-untyped-def]
    import httpx

    examples = _curl_examples((ROOT / "README.md").read_text())
    assert len(examples) >= 6
    for argv, expected in examples:
        method, headers, body, url = "GET", {}, None, ""
        it = iter(argv[1:])
        for arg in it:
            if arg == "-X":
                method = next(it)
            elif arg == "-H":
                key, _, value = next(it).partition(":")
                headers[key.strip()] = value.strip()
            elif arg == "-d":
                body = next(it).encode()
                method = "POST" if method == "GET" else method
            elif arg == "-s":
                continue
            else:
                url = arg
        url = url.replace("http://localhost:9009", rill_emu.url)
        resp = httpx.request(method, url, headers=headers, content=body, timeout=30)
        assert resp.text == expected, " ".join(argv)
