"""Materialise a project's models in dependency order, rebuilding only what changed.

A model is rebuilt when it is new, its SQL changed, or a model it reads was rebuilt. A model that fails
keeps its last good table (if any) and records the error; the models that read it say which upstream
failed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from emulator.errors import EmuError
from emulator.olap.duckdb import DuckDBEngine, build_order, dependents_of
from emulator.project.resources import ModelSpec


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


def model_deps(models: Mapping[str, ModelSpec]) -> dict[str, set[str]]:
    """For each model, the models it reads (by refs found at parse time)."""
    names = set(models)
    deps: dict[str, set[str]] = {}
    for key, spec in models.items():
        refs = {r.name.lower() for r in spec.refs if r.kind in (None, "model", "source")}
        deps[key] = (refs & names) - {key}
    return deps


def build_models(
    engine: DuckDBEngine,
    models: Mapping[str, ModelSpec],
    previous: ModelsState | None = None,
    *,
    timeout: float | None = None,
) -> tuple[ModelsState, set[str]]:
    """Build what changed since ``previous``; returns the new state and the names rebuilt or dropped."""
    prev = previous.models if previous else {}
    deps = model_deps(models)
    order, cycles = build_order(deps)
    changed = {k for k, spec in models.items() if k not in prev or prev[k].spec.sql != spec.sql}
    changed |= {k for k in models if k in prev and prev[k].error is not None}
    # A model's SQL may stay the same while the set of models it reads changes (one appears or vanishes).
    removed = set(prev) - set(models)
    changed |= {k for k, ds in deps.items() if k in prev and _prev_deps(prev[k].spec, prev) != ds}
    to_build = dependents_of(changed | removed, deps) & set(models)

    out: dict[str, ModelStatus] = {}
    touched: set[str] = set(removed)
    for key in removed:
        engine.drop_table(prev[key].spec.name)
    for key, members in cycles.items():
        spec = models[key]
        out[key] = ModelStatus(spec, f"dependency cycle between models: {', '.join([key, *members])}", 0)
        touched.add(key)
    for key in order:
        spec = models[key]
        old = prev.get(key)
        if key not in to_build and old is not None:
            out[key] = ModelStatus(spec, old.error, old.version, old.duration_ms)
            continue
        touched.add(key)
        failed_up = sorted(d for d in deps[key] if out[d].error is not None)
        version = (old.version if old else 0) + 1
        if failed_up:
            up = models[failed_up[0]].name
            out[key] = ModelStatus(spec, f'dependency error: model "{up}" failed to build', version)
            continue
        started = time.perf_counter()
        try:
            if timeout is None:
                engine.build_table(spec.name, spec.sql)
            else:
                engine.build_table(spec.name, spec.sql, timeout=timeout)
            error = None
        except EmuError as exc:
            error = str(exc)
        out[key] = ModelStatus(spec, error, version, (time.perf_counter() - started) * 1000)
    return ModelsState(out), touched


def _prev_deps(spec: ModelSpec, prev: Mapping[str, ModelStatus]) -> set[str]:
    refs = {r.name.lower() for r in spec.refs if r.kind in (None, "model", "source")}
    return (refs & set(prev)) - {spec.name.lower()}
