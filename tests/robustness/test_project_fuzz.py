"""Project parsing never crashes: random, truncated or mangled files become problems.

Every example edits one file of a copy of the sample project (or adds one), then loads it with a
loader kept across examples (the incremental path a watching server takes) and with a fresh one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.lints import lint_project
from emulator.olap.duckdb import DuckDBEngine
from emulator.project.loader import ProjectLoader
from emulator.project.resources import Project
from emulator.runtime import RuntimeBuilder

SAMPLE = Path(__file__).resolve().parents[2] / "sample_project"
TEXT_FILES = sorted(
    p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*") if p.suffix in (".yaml", ".yml", ".sql")
)
ORIGINALS = {rel: (SAMPLE / rel).read_text() for rel in TEXT_FILES}

YAML_BITS = [
    "type: api\n", "type: metrics_view\n", "type: model\n", "sql: ", "metrics_sql: ", "metrics:\n",
    "  metrics_view: orders_metrics\n", "api: top_products\n", "args:\n  limit: 3\n", "openapi:\n",
    "  parameters:\n    - name: x\n", "  request_schema: {type: object}\n", "security:\n  access: ",
    "'{{ .user.admin }}'\n", "  row_filter: x = 1\n", "  exclude:\n    - if: true\n      names: '*'\n",
    "dimensions:\n  - column: region\n", "measures:\n  - expression: count(*)\n", "model: order_facts\n",
    "mock_users:\n  - email: a@b.c\n", "env:\n  a: 1\n", "ignore_paths: [/apis]\n", "olap_connector: x\n",
    "{{ ", " }}", "{{ .args.x }}", "{{ if .args.a }}", "{{ end }}", "{{ ref \"orders\" }}", "SELECT 1",
    "-- @type: api\n", "-- @kind: metrics_view\n", ": ", "- ", "[", "]", "{", "}", "&a ", "*a",
    "!!python/object ", "\t", "\n", "  ", "'", '"', "#", "%YAML 1.2\n", "---\n", "...\n", "é", "\x00", "\x1f",
    "\ufeff", "? ", "|\n", ">-\n",
]  # fmt: skip

mangled = st.one_of(
    st.tuples(st.sampled_from(TEXT_FILES), st.floats(0, 1)).map(
        lambda t: (t[0], ORIGINALS[t[0]][: int(len(ORIGINALS[t[0]]) * t[1])])  # truncated
    ),
    st.tuples(
        st.sampled_from(TEXT_FILES), st.floats(0, 1), st.lists(st.sampled_from(YAML_BITS), max_size=6)
    ).map(
        lambda t: (t[0], _insert(ORIGINALS[t[0]], t[1], "".join(t[2])))  # spliced
    ),
    st.tuples(
        st.sampled_from(
            [*TEXT_FILES, "apis/new.yaml", "apis/new.sql", "metrics/new.yaml", "rill.yaml", ".env"]
        ),
        st.one_of(st.text(max_size=200), st.lists(st.sampled_from(YAML_BITS), max_size=12).map("".join)),
    ),  # replaced or added
)


def _insert(text: str, at: float, piece: str) -> str:
    cut = int(len(text) * at)
    return text[:cut] + piece + text[cut:]


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("fuzz") / "project"
    shutil.copytree(SAMPLE, root)
    yield root


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")


def _restore(root: Path, rel: str) -> None:
    if rel in ORIGINALS:
        _write(root, rel, ORIGINALS[rel])
    else:
        (root / rel).unlink(missing_ok=True)


def _check(project: Project) -> None:
    assert isinstance(project, Project)
    for problem in project.problems:
        assert problem.severity in ("error", "warning") and problem.path.startswith("/")
    lint_project(project)  # the lints never crash either


@pytest.fixture(scope="module")
def loader(copy: Path) -> ProjectLoader:
    """One loader for every example, as a watching server keeps one."""
    kept = ProjectLoader(copy)
    kept.load()
    return kept


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(change=mangled)
def test_mangled_files_become_problems_never_a_crash(
    copy: Path, loader: ProjectLoader, change: tuple[str, str]
) -> None:
    rel, text = change
    _write(copy, rel, text)
    try:
        _check(loader.load([f"/{rel}"]))
        _check(ProjectLoader(copy).load())
    finally:
        _restore(copy, rel)
        loader.load([f"/{rel}"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(change=mangled)
def test_the_runtime_builds_whatever_the_files_say(copy: Path, change: tuple[str, str]) -> None:
    """Models, security validation and lints too: a broken file is a problem, the rest is served."""
    rel, text = change
    engine = DuckDBEngine(copy)
    try:
        builder = RuntimeBuilder(copy, engine)
        builder.build()
        _write(copy, rel, text)
        try:
            runtime = builder.build()
            _check(runtime.project)
            assert runtime.problems is not None
        finally:
            _restore(copy, rel)
    finally:
        engine.close()
