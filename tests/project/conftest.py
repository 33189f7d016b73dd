"""Fixtures for the project loader tests: small real project trees written to a temporary folder."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from emulator.project.loader import load_project
from emulator.project.resources import Problem, Project

WriteTree = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Write ``{relative path: text}`` under a project root (text is dedented); return the root.

    An empty ``rill.yaml`` is added unless the mapping has one.
    """
    root = tmp_path / "project"

    def write(files: Mapping[str, str]) -> Path:
        if "rill.yaml" not in files and "rill.yml" not in files:
            files = {"rill.yaml": "", **files}
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        return root

    return write


@pytest.fixture
def load(write_tree: WriteTree) -> Callable[..., Project]:
    """Write a tree and load it in one go."""

    def run(files: Mapping[str, str], **kwargs: object) -> Project:
        return load_project(write_tree(files), **kwargs)  # type: ignore[arg-type]

    return run


def edit(path: Path, text: str) -> None:
    """Rewrite ``path`` and move its mtime forward, so a same-size edit within one clock tick is seen."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def messages(project: Project) -> list[tuple[str, str]]:
    """``(path, message)`` of every problem, in order."""
    return [(p.path, p.message) for p in project.problems]


def problem_at(project: Project, path: str) -> Problem:
    """The only problem recorded for ``path``."""
    found = [p for p in project.problems if p.path == path]
    assert len(found) == 1, project.problems
    return found[0]
