"""Materialise a project's models in dependency order, rebuilding only what changed.

A model is rebuilt when it is new, its SQL changed, a data file its SQL names changed, or a model it
reads was rebuilt. A model that fails keeps its last good table (if any) and records the error; the
models that read it say which upstream failed.

Models are built aside: every table of one build is created inside one DuckDB transaction, so queries
on other cursors keep seeing the previous tables (DuckDB's MVCC) until :meth:`ModelBuild.commit`
publishes all of them at once. A model later in the build reads the new tables of the models before
it. DuckDB aborts a transaction on the first failing statement, so a failure rolls the build back and
runs it again without the failed model (and the models that read it).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from emulator.olap.duckdb import DEFAULT_MODEL_TIMEOUT, DuckDBEngine, build_order, dependents_of, quote_ident
from emulator.project.resources import ModelSpec

_STRING_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class ModelStatus:
    """The outcome of a model's last build; ``version`` increments each time its table is rebuilt."""

    spec: ModelSpec
    error: str | None
    version: int
    duration_ms: float = 0.0


@dataclass(frozen=True)
class ModelsState:
    """The status of every model, keyed by lower-cased name."""

    models: Mapping[str, ModelStatus] = field(default_factory=dict)

    @property
    def versions(self) -> dict[str, int]:
        """Model name → table version, for cache keys and change detection."""
        return {k: v.version for k, v in self.models.items()}


class ModelBuild:
    """The outcome of :func:`prepare_models`: statuses, and tables not yet visible to other cursors.

    Call :meth:`commit` to publish the tables (one DuckDB commit, well under a millisecond) or
    :meth:`rollback` to discard them; until then other cursors see the previous tables.
    """

    def __init__(
        self, state: ModelsState, touched: set[str], cursor: duckdb.DuckDBPyConnection | None
    ) -> None:
        self.state = state
        self.touched = touched
        self._cursor = cursor

    @property
    def pending(self) -> bool:
        """Whether tables wait to be published (False when no model was rebuilt or dropped)."""
        return self._cursor is not None

    def commit(self) -> None:
        """Publish every table of the build at once."""
        cur, self._cursor = self._cursor, None
        if cur is None:
            return
        try:
            cur.execute("COMMIT")
        except duckdb.Error:
            _rollback(cur)
            raise
        finally:
            cur.close()

    def rollback(self) -> None:
        """Discard the tables of the build (the previous ones stay)."""
        cur, self._cursor = self._cursor, None
        if cur is not None:
            _rollback(cur)
            cur.close()


def model_deps(models: Mapping[str, ModelSpec]) -> dict[str, set[str]]:
    """For each model, the models it reads (by refs found at parse time)."""
    names = set(models)
    deps: dict[str, set[str]] = {}
    for key, spec in models.items():
        refs = {r.name.lower() for r in spec.refs if r.kind in (None, "model", "source")}
        deps[key] = (refs & names) - {key}
    return deps


def reads_file(sql: str, paths: Collection[str], root: Path) -> bool:
    """Whether ``sql`` names one of the project ``paths`` (``/data/x.csv``) in a string literal.

    A literal matches when it is the path relative to the project root (``'data/x.csv'``,
    ``'./data/x.csv'``), the absolute path, or a glob matching either (``'data/*.csv'``).
    """
    if not paths:
        return False
    root_text = os.path.normpath(str(root))
    wanted = [p.lstrip("/") for p in paths]
    for literal in _STRING_LITERAL.findall(sql):
        text = os.path.normpath(literal.replace("''", "'"))
        if os.path.isabs(text):
            if not text.startswith(root_text + os.sep):
                continue
            text = text[len(root_text) + 1 :]
        text = text.replace(os.sep, "/")
        if _GLOB_CHARS.isdisjoint(text):
            if text in wanted:
                return True
        elif any(fnmatch.fnmatchcase(p, text) for p in wanted):
            return True
    return False


def prepare_models(
    engine: DuckDBEngine,
    models: Mapping[str, ModelSpec],
    previous: ModelsState | None = None,
    *,
    timeout: float | None = None,
    changed_paths: Collection[str] = (),
) -> ModelBuild:
    """Build what changed since ``previous`` (or reads a changed data file) without publishing it.

    ``changed_paths`` are project paths (``/data/orders.csv``) known to have changed since
    ``previous``. Returns the new statuses, the names rebuilt or dropped, and the pending tables.
    """
    prev = previous.models if previous else {}
    deps = model_deps(models)
    order, cycles = build_order(deps)
    changed = {k for k, spec in models.items() if k not in prev or prev[k].spec.sql != spec.sql}
    changed |= {k for k in models if k in prev and prev[k].error is not None}
    changed |= {k for k, spec in models.items() if reads_file(spec.sql, changed_paths, engine.root)}
    # A model's SQL may stay the same while the set of models it reads changes (one appears or vanishes).
    removed = set(prev) - set(models)
    changed |= {k for k, ds in deps.items() if k in prev and _prev_deps(prev[k].spec, prev) != ds}
    to_build = dependents_of(changed | removed, deps) & set(models)
    if not removed and to_build.isdisjoint(order):
        # Nothing to build (models in a cycle are never built): no transaction.
        out, touched, _ = _attempt(None, models, prev, deps, order, cycles, to_build, removed, {}, timeout)
        return ModelBuild(ModelsState(out), touched, None)

    cur = engine.cursor()
    failed: dict[str, tuple[str, float]] = {}
    try:
        while True:
            cur.execute("BEGIN TRANSACTION")
            out, touched, aborted = _attempt(
                cur, models, prev, deps, order, cycles, to_build, removed, failed, timeout
            )
            if aborted is None:
                break
            # The failed statement aborted the transaction: start again without that model.
            _rollback(cur)
    except BaseException:
        _rollback(cur)
        cur.close()
        raise
    if removed or any(k in to_build and out[k].error is None for k in order):
        return ModelBuild(ModelsState(out), touched, cur)
    _rollback(cur)  # every model to build failed: nothing to publish
    cur.close()
    return ModelBuild(ModelsState(out), touched, None)


def build_models(
    engine: DuckDBEngine,
    models: Mapping[str, ModelSpec],
    previous: ModelsState | None = None,
    *,
    timeout: float | None = None,
    changed_paths: Collection[str] = (),
) -> tuple[ModelsState, set[str]]:
    """Build what changed since ``previous`` and publish it; returns the new state and the names
    rebuilt or dropped."""
    build = prepare_models(engine, models, previous, timeout=timeout, changed_paths=changed_paths)
    build.commit()
    return build.state, build.touched


def _attempt(
    cur: duckdb.DuckDBPyConnection | None,
    models: Mapping[str, ModelSpec],
    prev: Mapping[str, ModelStatus],
    deps: Mapping[str, set[str]],
    order: list[str],
    cycles: Mapping[str, list[str]],
    to_build: set[str],
    removed: set[str],
    failed: dict[str, tuple[str, float]],
    timeout: float | None,
) -> tuple[dict[str, ModelStatus], set[str], str | None]:
    """One pass over the models inside the open transaction on ``cur`` (None: nothing to build); returns
    the key of a model whose failure aborted the transaction (recorded in ``failed``), or None."""
    out: dict[str, ModelStatus] = {}
    touched: set[str] = set(removed)
    for key in sorted(removed):
        assert cur is not None
        cur.execute(f"DROP TABLE IF EXISTS {quote_ident(prev[key].spec.name)}")
    for key, members in cycles.items():
        cycle = f"dependency cycle between models: {', '.join([key, *members])}"
        old = prev.get(key)
        out[key] = ModelStatus(models[key], cycle, 0)
        if old is None or old.error != cycle or old.spec.sql != models[key].sql:
            touched.add(key)
    for key in order:
        spec = models[key]
        old = prev.get(key)
        if key not in to_build and old is not None:
            out[key] = _kept(spec, old)
            continue
        touched.add(key)
        version = (old.version if old else 0) + 1
        if key in failed:
            message, duration = failed[key]
            out[key] = ModelStatus(spec, message, version, duration)
            continue
        failed_up = sorted(d for d in deps[key] if out[d].error is not None)
        if failed_up:
            up = models[failed_up[0]].name
            out[key] = ModelStatus(spec, f'dependency error: model "{up}" failed to build', version)
            continue
        assert cur is not None
        started = time.perf_counter()
        error = _create_table(cur, spec.name, spec.sql, DEFAULT_MODEL_TIMEOUT if timeout is None else timeout)
        duration = (time.perf_counter() - started) * 1000
        if error is not None:
            failed[key] = (error, duration)
            return out, touched, key
        out[key] = ModelStatus(spec, None, version, duration)
    return out, touched, None


def _create_table(cur: duckdb.DuckDBPyConnection, name: str, sql: str, timeout: float) -> str | None:
    """Create or replace table ``name`` as ``sql`` in the open transaction; returns the error, if any."""
    timer = threading.Timer(timeout, cur.interrupt)
    timer.daemon = True
    started = time.monotonic()
    try:
        timer.start()
        cur.execute(f"CREATE OR REPLACE TABLE {quote_ident(name)} AS {sql}\n")
    except duckdb.Error as exc:
        if time.monotonic() - started >= timeout:
            return f"model build timed out after {timeout:g}s: {exc}"
        return str(exc)
    finally:
        timer.cancel()
    return None


def _kept(spec: ModelSpec, old: ModelStatus) -> ModelStatus:
    return old if old.spec is spec else ModelStatus(spec, old.error, old.version, old.duration_ms)


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction open (never begun, or already ended)
        cur.execute("ROLLBACK")


def _prev_deps(spec: ModelSpec, prev: Mapping[str, ModelStatus]) -> set[str]:
    refs = {r.name.lower() for r in spec.refs if r.kind in (None, "model", "source")}
    return (refs & set(prev)) - {spec.name.lower()}
