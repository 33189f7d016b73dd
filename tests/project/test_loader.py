"""ProjectLoader: variables, and incremental reloads that reuse unchanged specs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from emulator.project.loader import EMPTY_SETTLE_S, ProjectLoader, load_project

from .conftest import edit, messages

WriteTree = Callable[..., Path]

TREE = {
    "rill.yaml": "env:\n  limit: '5'\n",
    "apis/a.yaml": "type: api\nsql: SELECT 1\n",
    "apis/b.yaml": "type: api\nsql: SELECT 2\n",
    "models/m.sql": "SELECT 1 AS x",
    "dashboards/mv.yaml": "model: m\nmeasures: [{expression: COUNT(*)}]\n",
}


def test_variable_precedence(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "rill.yaml": "env:\n  a: yaml\n  b: yaml\n  c: yaml\n",
            ".env": "b=dotenv\nc=dotenv\n",
        }
    )
    project = load_project(root, env_overrides={"c": "flag"})
    assert project.variables == {"a": "yaml", "b": "dotenv", "c": "flag"}
    assert project.config.variables == {"a": "yaml", "b": "yaml", "c": "yaml"}


def test_a_broken_dotenv_is_a_problem(write_tree: WriteTree) -> None:
    project = load_project(write_tree({".env": "NOT A LINE\n"}))
    assert [p for p, _ in messages(project)] == ["/.env"]


def test_unchanged_tree_returns_the_same_project(write_tree: WriteTree) -> None:
    loader = ProjectLoader(write_tree(TREE))
    first = loader.load()
    assert first.problems == ()
    assert loader.load() is first


def test_an_edit_reparses_only_its_resource(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    first = loader.load()
    edit(root / "apis" / "a.yaml", "type: api\nsql: SELECT 42\n")
    second = loader.load()
    assert second is not first
    assert second.apis["a"].props["sql"] == "SELECT 42"
    assert second.apis["a"] is not first.apis["a"]
    assert second.apis["b"] is first.apis["b"]
    assert second.models["m"] is first.models["m"]
    assert second.metrics_views["mv"] is first.metrics_views["mv"]


def test_added_and_removed_files(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    first = loader.load()
    (root / "apis" / "b.yaml").unlink()
    (root / "apis" / "c.yaml").write_text("type: api\nsql: SELECT 3\n")
    second = loader.load()
    assert sorted(second.apis) == ["a", "c"]
    assert second.apis["a"] is first.apis["a"]


def test_adding_a_companion_reparses_the_group(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    first = loader.load()
    (root / "apis" / "a.sql").write_text("SELECT 'companion'")
    second = loader.load()
    assert messages(second) == [
        ("/apis/a.sql", "skipping file due to error in companion SQL/YAML file"),
        ("/apis/a.yaml", "SQL provided using both a YAML key and a companion file"),
    ]
    assert "a" not in second.apis
    assert second.apis["b"] is first.apis["b"]


def test_rill_yaml_edits_reparse_everything(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    first = loader.load()
    edit(root / "rill.yaml", "env:\n  limit: '6'\n")
    second = loader.load()
    assert second.variables == {"limit": "6"}
    assert second.apis["b"] is not first.apis["b"]
    assert second.models["m"] is not first.models["m"]
    assert second.models["m"] == first.models["m"]


def test_a_rill_yaml_touch_without_changes_keeps_specs(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    first = loader.load()
    edit(root / "rill.yaml", "env:\n  limit: '5'  # same config, new comment\n")
    second = loader.load()
    assert second.models["m"] is first.models["m"]


def test_dotenv_edits_reparse_everything(write_tree: WriteTree) -> None:
    root = write_tree({**TREE, ".env": "X=1\n"})
    loader = ProjectLoader(root)
    first = loader.load()
    edit(root / ".env", "X=2\n")
    second = loader.load()
    assert second.variables["X"] == "2"
    assert second.models["m"] is not first.models["m"]
    (root / "sub").mkdir()
    (root / "sub" / ".env").write_text("Y=3\n")
    third = loader.load()
    assert third.variables == {"limit": "5", "X": "2", "Y": "3"}


def test_ignore_paths_change_is_picked_up(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    assert "b" in loader.load().apis
    edit(root / "rill.yaml", "env:\n  limit: '5'\nignore_paths: [/apis/b.yaml]\n")
    assert "b" not in loader.load().apis


def test_a_fixed_file_comes_back(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    edit(root / "apis" / "a.yaml", "type: api\nsql: [broken\n")
    broken = loader.load()
    assert "a" not in broken.apis and broken.problems
    edit(root / "apis" / "a.yaml", "type: api\nsql: SELECT 1\n")
    fixed = loader.load()
    assert fixed.problems == ()
    assert fixed.apis["a"].props["sql"] == "SELECT 1"
    assert fixed.apis["b"] is broken.apis["b"]


def test_collisions_are_recomputed_on_every_load(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    loader.load()
    (root / "apis" / "A2.yaml").write_text("type: api\nname: A\nsql: SELECT 9\n")
    project = loader.load()
    assert messages(project) == [
        ("/apis/a.yaml", 'name collision: another resource of type "API" is also named "a"')
    ]
    assert project.apis["a"].path == "/apis/A2.yaml"
    (root / "apis" / "A2.yaml").unlink()
    assert loader.load().problems == ()


def test_prod_environment(write_tree: WriteTree) -> None:
    root = write_tree({"apis/a.yaml": "type: api\nsql: SELECT 1\nprod:\n  sql: SELECT 2\n"})
    assert ProjectLoader(root, environment="prod").load().apis["a"].props["sql"] == "SELECT 2"
    assert load_project(root).environment == "dev"


def _write_later(path: Path, text: str, delay: float) -> threading.Thread:
    def write() -> None:
        time.sleep(delay)
        path.write_text(text)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_save_caught_between_truncation_and_write_is_read_whole(write_tree: WriteTree) -> None:
    # Editors (and write_text) truncate, then write: a load in between must not drop the resource.
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    loader.load()
    for path, text in [("models/m.sql", "SELECT 2 AS x"), ("rill.yaml", "env:\n  limit: '7'\n")]:
        (root / path).write_text("")  # truncated...
        writer = _write_later(root / path, text, delay=EMPTY_SETTLE_S / 4)  # ...written a moment later
        project = loader.load(changed=[f"/{path}"])
        writer.join()
        assert project.problems == ()
        assert "m" in project.models and "mv" in project.metrics_views
    assert project.models["m"].sql == "SELECT 2 AS x"
    assert project.variables["limit"] == "7"


def test_a_file_emptied_on_purpose_is_empty(write_tree: WriteTree) -> None:
    root = write_tree(TREE)
    loader = ProjectLoader(root)
    loader.load()
    (root / "apis" / "a.yaml").write_text("")
    started = time.perf_counter()
    project = loader.load(changed=["/apis/a.yaml"])
    assert time.perf_counter() - started >= EMPTY_SETTLE_S
    assert "a" not in project.apis
