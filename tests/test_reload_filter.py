"""ProjectFilter: which file events start a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from watchfiles import Change

from emulator.reload import ProjectFilter, project_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "apis" / "nested").mkdir(parents=True)
    return tmp_path


def keeps(root: Path, rel: str, change: Change = Change.modified, ignore: tuple[str, ...] = ()) -> bool:
    return ProjectFilter(root, lambda: ignore)(change, str(root / rel))


@pytest.mark.parametrize(
    "rel",
    [
        "apis/top.yaml",
        "apis/top.yml",
        "models/orders.sql",
        "rill.yaml",
        ".env",
        "apis/.env",
        ".dev.env",
        "data/orders.csv",
        "data/customers.parquet",
        "data/events.ndjson",
        "data/export.csv.gz",
    ],
)
def test_project_and_data_files_are_kept(root: Path, rel: str) -> None:
    assert keeps(root, rel)
    assert keeps(root, rel, Change.added)
    assert keeps(root, rel, Change.deleted)


@pytest.mark.parametrize(
    "rel",
    [
        "apis/.top.yaml.swp",
        "apis/.top.yaml.swx",
        "apis/top.yaml~",
        "apis/.#top.yaml",
        "apis/#top.yaml#",
        "apis/top.yaml___jb_tmp___",
        "apis/top.yaml___jb_old___",
        "apis/top.yaml.crswap",
        "apis/top.yaml.tmp",
        "apis/4913",
    ],
)
def test_editor_temp_and_swap_files_are_dropped(root: Path, rel: str) -> None:
    for change in (Change.added, Change.modified, Change.deleted):
        assert not keeps(root, rel, change)


@pytest.mark.parametrize(
    "rel",
    [
        "tmp/x.yaml",
        ".git/config.yaml",
        ".git/index",
        "node_modules/pkg/index.yaml",
        ".rillcloud/project.yaml",
        ".vscode/settings.json",
        "main.duckdb",
        "main.duckdb.wal",
        "data/stage.duckdb",
    ],
)
def test_what_rill_ignores_and_duckdb_files_are_dropped(root: Path, rel: str) -> None:
    for change in (Change.added, Change.modified, Change.deleted):
        assert not keeps(root, rel, change)


def test_ignore_paths_are_read_at_each_event(root: Path) -> None:
    ignore: list[str] = []
    project_filter = ProjectFilter(root, lambda: ignore)
    path = str(root / "scratch" / "a.yaml")
    assert project_filter(Change.modified, path)
    ignore.append("/scratch")
    assert not project_filter(Change.modified, path)
    assert project_filter(Change.modified, str(root / "scratchpad" / "a.yaml"))  # whole segments only


def test_folders_are_kept_other_files_are_not(root: Path) -> None:
    (root / "README.md").write_text("notes")
    (root / "v2.apis").mkdir()
    assert keeps(root, "apis/nested", Change.added)
    assert keeps(root, "v2.apis", Change.added)  # a folder, even with a dot in its name
    assert not keeps(root, "README.md", Change.modified)
    assert not keeps(root, "Makefile", Change.added)
    # A deleted path cannot be looked at: a name without an extension may have been a folder.
    assert keeps(root, "old_apis", Change.deleted)
    assert not keeps(root, "README.md", Change.deleted)


def test_paths_outside_the_project_are_dropped(root: Path) -> None:
    outside = root.parent / "elsewhere.yaml"
    assert not ProjectFilter(root, lambda: ())(Change.modified, str(outside))
    assert not ProjectFilter(root, lambda: ())(Change.modified, str(root))


def test_project_path(root: Path) -> None:
    assert project_path(str(root / "apis" / "a.yaml"), str(root)) == "/apis/a.yaml"
    assert project_path(str(root), str(root)) == "/"
    assert project_path(str(root.parent / "x.yaml"), str(root)) is None
    assert project_path(str(root) + "-other/x.yaml", str(root)) is None
