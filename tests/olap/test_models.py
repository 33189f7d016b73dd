"""The model builder: dependency order, incremental rebuilds, last good tables, cycles, removals."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.olap.duckdb import DuckDBEngine
from emulator.olap.models import build_models
from emulator.project.resources import ModelSpec, ResourceRef


def model(name: str, sql: str, *refs: str) -> ModelSpec:
    return ModelSpec(
        name=name,
        path=f"/models/{name}.sql",
        paths=(f"/models/{name}.sql",),
        kind="model",
        sql=sql,
        refs=tuple(ResourceRef(r) for r in refs),
    )


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    eng = DuckDBEngine(tmp_path)
    yield eng
    eng.close()


def test_builds_in_dependency_order(engine: DuckDBEngine) -> None:
    models = {
        "c": model("c", "SELECT v * 10 AS v FROM b", "b"),
        "b": model("b", "SELECT v + 1 AS v FROM a", "a"),
        "a": model("a", "SELECT 1 AS v"),
    }
    state, touched = build_models(engine, models)
    assert touched == {"a", "b", "c"}
    assert all(st.error is None for st in state.models.values())
    assert engine.query("SELECT v FROM c").rows == [(20,)]


def test_rebuilds_only_what_changed_and_its_dependents(engine: DuckDBEngine) -> None:
    models = {
        "a": model("a", "SELECT 1 AS v"),
        "b": model("b", "SELECT v FROM a", "a"),
        "z": model("z", "SELECT 'z' AS v"),
    }
    state, _ = build_models(engine, models)
    again, touched = build_models(engine, models, state)
    assert touched == set()
    assert again.versions == state.versions
    models["a"] = model("a", "SELECT 2 AS v")
    new, touched = build_models(engine, models, state)
    assert touched == {"a", "b"}
    assert new.versions == {"a": 2, "b": 2, "z": 1}
    assert engine.query("SELECT v FROM b").rows == [(2,)]


def test_a_failure_keeps_the_last_good_table_and_blames_upstream(engine: DuckDBEngine) -> None:
    models = {"a": model("a", "SELECT 1 AS v"), "b": model("b", "SELECT v FROM a", "a")}
    state, _ = build_models(engine, models)
    models["a"] = model("a", "SELECT nope FROM nowhere")
    state, _ = build_models(engine, models, state)
    assert state.models["a"].error is not None and "nowhere" in state.models["a"].error
    assert state.models["b"].error == 'dependency error: model "a" failed to build'
    assert engine.query("SELECT v FROM a").rows == [(1,)]
    # fixing it rebuilds both and clears the errors
    models["a"] = model("a", "SELECT 3 AS v")
    state, touched = build_models(engine, models, state)
    assert touched == {"a", "b"}
    assert [st.error for st in state.models.values()] == [None, None]
    assert engine.query("SELECT v FROM b").rows == [(3,)]


def test_cycles_are_errors_and_the_rest_builds(engine: DuckDBEngine) -> None:
    models = {
        "x": model("x", "SELECT * FROM y", "y"),
        "y": model("y", "SELECT * FROM x", "x"),
        "ok": model("ok", "SELECT 1 AS v"),
    }
    state, _ = build_models(engine, models)
    assert state.models["x"].error == "dependency cycle between models: x, y"
    assert state.models["ok"].error is None


def test_removed_models_are_dropped(engine: DuckDBEngine) -> None:
    models = {"a": model("a", "SELECT 1 AS v"), "b": model("b", "SELECT 2 AS v")}
    state, _ = build_models(engine, models)
    del models["b"]
    state, touched = build_models(engine, models, state)
    assert touched == {"b"}
    assert engine.tables() == {"a"}
