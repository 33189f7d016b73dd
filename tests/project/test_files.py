"""Discovery, ignore rules and path helpers (behaviour reference §2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.project.files import (
    ALWAYS_IGNORED,
    discover,
    dotenv_environment,
    is_dotenv,
    is_ignored,
    path_stem,
)


@pytest.mark.parametrize(
    ("path", "ignore_paths", "ignored"),
    [
        ("/tmp/x.yaml", (), True),
        ("/.git/config.yaml", (), True),
        ("/node_modules/a/b.sql", (), True),
        ("/.rillcloud/x.yaml", (), True),
        ("/tmpfile.yaml", (), False),
        ("/apis/x.yaml", (), False),
        ("/scratch/a.sql", ("/scratch",), True),
        ("/scratch", ("/scratch",), True),
        ("/scratchpad/a.sql", ("/scratch",), False),
        ("/apis/old_api.yaml", ("/apis/old_api.yaml",), True),
        ("/apis/old_api.yaml.bak", ("/apis/old_api.yaml",), False),
        ("/scratch/a.sql", ("scratch",), False),  # entries need a leading "/"
        ("/scratch/a.sql", ("/scratch/",), True),
    ],
)
def test_is_ignored(path: str, ignore_paths: tuple[str, ...], ignored: bool) -> None:
    assert is_ignored(path, ignore_paths) is ignored


def test_always_ignored_matches_rill() -> None:
    assert set(ALWAYS_IGNORED) == {
        "/tmp", "/.git", "/.github", "/node_modules", "/.DS_Store", "/.vscode", "/.idea", "/.rillcloud",
    }  # fmt: skip


def _touch(root: Path, *paths: str) -> None:
    for rel in paths:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")


def test_discover_lists_project_files_sorted(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "rill.yaml",
        ".env",
        "apis/b.yaml",
        "apis/a.yml",
        "deep/er/m.sql",
        "deep/.env",
        "deep/.dev.env",
        "data/x.csv",
        "README.md",
        "tmp/skip.yaml",
        "node_modules/p/skip.yaml",
        "scratch/skip.sql",
        "apis/old.yaml",
    )
    found = discover(tmp_path, ["/scratch", "/apis/old.yaml"])
    assert found == [
        "/.env",
        "/apis/a.yml",
        "/apis/b.yaml",
        "/deep/.dev.env",
        "/deep/.env",
        "/deep/er/m.sql",
        "/rill.yaml",
    ]


def test_discover_never_follows_symlinks_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    _touch(outside, "secret.yaml", "dir/inner.yaml")
    _touch(root, "rill.yaml", "models/real.sql")
    os.symlink(outside / "secret.yaml", root / "models" / "leak.yaml")
    os.symlink(outside / "dir", root / "linked_dir")
    os.symlink(root / "models" / "real.sql", root / "models" / "alias.sql")
    assert discover(root) == ["/models/alias.sql", "/models/real.sql", "/rill.yaml"]


@pytest.mark.parametrize(
    ("path", "stem"),
    [("/apis/a.yaml", "/apis/a"), ("/a/b.x.sql", "/a/b.x"), ("/noext", "/noext"), ("/.env", "/")],
)
def test_path_stem(path: str, stem: str) -> None:
    assert path_stem(path) == stem


@pytest.mark.parametrize(
    ("path", "dotenv", "environment"),
    [
        ("/.env", True, ""),
        ("/a/b/.env", True, ""),
        ("/.dev.env", True, "dev"),
        ("/.prod.env", True, "prod"),
        ("/prod.env", False, None),
        ("/x.yaml", False, None),
    ],
)
def test_dotenv_names(path: str, dotenv: bool, environment: str | None) -> None:
    assert is_dotenv(path) is dotenv
    if environment is not None:
        assert dotenv_environment(path) == environment
