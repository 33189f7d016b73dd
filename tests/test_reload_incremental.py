"""What one reload rebuilds: the builder and loader given the paths a watcher reported (no server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.olap.duckdb import DuckDBEngine
from emulator.olap.models import reads_file
from emulator.runtime import RuntimeBuilder

FILES = {
    "rill.yaml": "compiler: rillv1\n",
    "data/prices.csv": "sku,price\na,1\nb,2\n",
    "models/prices.sql": "SELECT * FROM read_csv('data/prices.csv')",
    "models/total.sql": "SELECT sum(price) AS total FROM prices",
    "models/other.sql": "SELECT 1 AS one",
    "apis/a.yaml": "type: api\nsql: SELECT 'a1' AS v\n",
    "apis/b.yaml": "type: api\nsql: SELECT 'b1' AS v\n",
}


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for rel, text in FILES.items():
        write(tmp_path, rel, text)
    return tmp_path


@pytest.fixture
def builder(root: Path) -> Iterator[RuntimeBuilder]:
    engine = DuckDBEngine(root)
    yield RuntimeBuilder(root, engine)
    engine.close()


def total(builder: RuntimeBuilder) -> object:
    return builder.engine.query("SELECT total FROM total").rows[0][0]


def test_a_changed_data_file_rebuilds_the_models_reading_it(root: Path, builder: RuntimeBuilder) -> None:
    first = builder.build()
    assert total(builder) == 3
    write(root, "data/prices.csv", "sku,price\na,10\nb,20\n")
    second = builder.build(["/data/prices.csv"])
    assert total(builder) == 30
    assert second.changed == ("prices", "total")
    versions = second.models.versions
    assert versions["prices"] != first.models.versions["prices"]
    assert versions["other"] == first.models.versions["other"]


def test_an_unrelated_data_file_rebuilds_nothing(root: Path, builder: RuntimeBuilder) -> None:
    first = builder.build()
    write(root, "data/other.csv", "x\n1\n")
    second = builder.build(["/data/other.csv"])
    assert second.changed == ()
    assert second.models.versions == first.models.versions
    assert second.project.apis == first.project.apis


def test_model_tables_stay_invisible_until_commit(root: Path, builder: RuntimeBuilder) -> None:
    builder.build()
    write(root, "models/prices.sql", "SELECT 'z' AS sku, 100 AS price")
    pending = builder.prepare(["/models/prices.sql"])
    assert pending.publishes_tables
    assert total(builder) == 3  # other cursors still see the previous tables
    assert builder.current is not pending.runtime
    runtime = pending.commit()
    assert total(builder) == 100
    assert builder.current is runtime
    assert runtime.changed == ("prices", "total")


def test_a_rolled_back_build_publishes_nothing_and_is_redone(root: Path, builder: RuntimeBuilder) -> None:
    first = builder.build()
    write(root, "data/prices.csv", "sku,price\na,5\n")
    builder.prepare(["/data/prices.csv"]).rollback()
    assert total(builder) == 3
    assert builder.current is first
    # The next build still knows the data file changed, though the watcher reports it only once.
    again = builder.build(["/apis/a.yaml"])
    assert total(builder) == 5
    assert again.generation == first.generation + 1


def test_an_api_edit_publishes_no_table(root: Path, builder: RuntimeBuilder) -> None:
    first = builder.build()
    write(root, "apis/a.yaml", "type: api\nsql: SELECT 'a2' AS v\n")
    pending = builder.prepare(["/apis/a.yaml"])
    assert not pending.publishes_tables
    second = pending.commit()
    assert second.changed == ("a",)
    assert second.project.apis["b"] is first.project.apis["b"]
    assert second.project.apis["a"].props["sql"] == "SELECT 'a2' AS v"


def test_a_failed_model_keeps_its_table_and_the_rest_of_the_build_lands(
    root: Path, builder: RuntimeBuilder
) -> None:
    builder.build()
    write(root, "models/prices.sql", "SELECT nope FROM nowhere")
    write(root, "models/other.sql", "SELECT 2 AS one")
    runtime = builder.build(["/models/prices.sql", "/models/other.sql"])
    statuses = runtime.models.models
    assert statuses["prices"].error is not None and "nowhere" in statuses["prices"].error
    assert statuses["total"].error == 'dependency error: model "prices" failed to build'
    assert statuses["other"].error is None
    assert total(builder) == 3  # the last good tables still serve
    assert builder.engine.query("SELECT one FROM other").rows == [(2,)]
    write(root, "models/prices.sql", "SELECT 'c' AS sku, 7 AS price")
    fixed = builder.build(["/models/prices.sql"])
    assert all(st.error is None for st in fixed.models.models.values())
    assert total(builder) == 7


def test_a_model_that_keeps_failing_publishes_nothing(root: Path, builder: RuntimeBuilder) -> None:
    write(root, "models/other.sql", "SELECT nope")
    builder.build()
    write(root, "apis/a.yaml", "type: api\nsql: SELECT 'a2' AS v\n")
    pending = builder.prepare(["/apis/a.yaml"])  # the failed model is tried again, and fails again
    assert not pending.publishes_tables
    error = pending.commit().models.models["other"].error
    assert error is not None and "nope" in error


def test_a_watched_path_is_reparsed_even_when_its_stat_did_not_change(
    root: Path, builder: RuntimeBuilder
) -> None:
    builder.build()
    path = root / "apis" / "a.yaml"
    before = path.stat()
    path.write_text("type: api\nsql: SELECT 'a9' AS v\n")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # a save within one timestamp tick
    assert builder.build().changed == ()  # a scan cannot tell
    assert builder.build(["/apis/a.yaml"]).project.apis["a"].props["sql"] == "SELECT 'a9' AS v"


def test_additions_deletions_and_folders_from_watched_paths(root: Path, builder: RuntimeBuilder) -> None:
    builder.build()
    write(root, "apis/c.yaml", "type: api\nsql: SELECT 'c' AS v\n")
    assert set(builder.build(["/apis/c.yaml"]).project.apis) == {"a", "b", "c"}
    (root / "apis" / "c.yaml").rename(root / "apis" / "d.yaml")
    assert set(builder.build(["/apis/c.yaml", "/apis/d.yaml"]).project.apis) == {"a", "b", "d"}
    # A new folder: files may be in it before the watcher sees them, so the tree is scanned.
    write(root, "more/deeper/e.yaml", "type: api\nsql: SELECT 'e' AS v\n")
    assert set(builder.build(["/more"]).project.apis) == {"a", "b", "d", "e"}
    # A removed folder is reported once, without its files.
    for path in (root / "more" / "deeper").iterdir():
        path.unlink()
    (root / "more" / "deeper").rmdir()
    (root / "more").rmdir()
    assert set(builder.build(["/more"]).project.apis) == {"a", "b", "d"}


def test_rill_yaml_and_dotenv_edits_reach_every_resource(root: Path, builder: RuntimeBuilder) -> None:
    write(root, "apis/a.yaml", "type: api\nsql: SELECT '{{ .env.who }}' AS v\n")
    write(root, "rill.yaml", "compiler: rillv1\nenv:\n  who: yaml\n")
    builder.build()
    assert builder.current is not None and builder.current.env_data["who"] == "yaml"
    write(root, ".env", "who=dotenv\n")
    assert builder.build(["/.env"]).env_data["who"] == "dotenv"
    write(root, "rill.yaml", "compiler: rillv1\nenv:\n  who: yaml\nignore_paths: [/apis/b.yaml]\n")
    assert set(builder.build(["/rill.yaml"]).project.apis) == {"a"}


def test_a_broken_security_block_is_a_problem_until_fixed(root: Path, builder: RuntimeBuilder) -> None:
    write(root, "apis/a.yaml", "type: api\nsql: SELECT 1 AS v\nsecurity:\n  access: '{{ .user.nope }}'\n")
    broken = builder.build()
    assert "a" not in broken.project.apis
    assert [p.path for p in broken.problems] == ["/apis/a.yaml"]
    unchanged = builder.build(["/apis/b.yaml"])
    assert [p.path for p in unchanged.problems] == ["/apis/a.yaml"]
    write(root, "apis/a.yaml", "type: api\nsql: SELECT 1 AS v\nsecurity:\n  access: '{{ .user.admin }}'\n")
    fixed = builder.build(["/apis/a.yaml"])
    assert fixed.problems == ()
    assert "a" in fixed.project.apis


def test_preparing_twice_without_commit_is_refused(builder: RuntimeBuilder) -> None:
    builder.build()
    pending = builder.prepare([])
    with pytest.raises(RuntimeError):
        builder.prepare([])
    pending.rollback()
    builder.prepare([]).commit()


@pytest.mark.parametrize(
    ("sql", "reads"),
    [
        ("SELECT * FROM read_csv('data/x.csv')", True),
        ("SELECT * FROM './data/x.csv'", True),
        ("SELECT * FROM read_csv('data/*.csv', union_by_name = true)", True),
        ("SELECT * FROM read_parquet(['data/y.parquet', 'data/x.csv'])", True),
        ("SELECT * FROM read_csv('data/x.csv.bak')", False),
        ("SELECT * FROM read_csv('other/x.csv')", False),
        ("SELECT 'data/x' AS label", False),
    ],
)
def test_reads_file(tmp_path: Path, sql: str, reads: bool) -> None:
    assert reads_file(sql, ["/data/x.csv"], tmp_path) is reads


def test_reads_file_with_an_absolute_path(tmp_path: Path) -> None:
    sql = f"SELECT * FROM read_csv('{tmp_path / 'data' / 'x.csv'}')"
    assert reads_file(sql, ["/data/x.csv"], tmp_path)
    assert not reads_file(sql, ["/data/y.csv"], tmp_path)
