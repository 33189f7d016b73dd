"""The immutable runtime snapshot, and the builder that makes a new one per reload.

A request reads the server's snapshot once and uses only it, so it sees one generation of the project
from start to end. The builder reuses what did not change: the loader re-parses only changed files
(given the watcher's paths it looks at nothing else) and the model builder rebuilds only changed
models and their dependents, aside: ``prepare`` builds the next snapshot with its tables unpublished,
``commit`` publishes them, so the server can publish tables and snapshot together.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from emulator.cache import ResultCache
from emulator.errors import BadRequest
from emulator.identity import Claims
from emulator.lints import Linter
from emulator.memo import Memo
from emulator.metrics.restrictions import Restrictions
from emulator.olap.duckdb import DuckDBEngine, QueryResult
from emulator.olap.models import ModelBuild, ModelsState, prepare_models
from emulator.project.files import is_dotenv, is_sql, is_yaml
from emulator.project.loader import ProjectLoader
from emulator.project.resources import ApiSpec, Environment, MetricsViewSpec, Problem, Project
from emulator.resolvers import BUILTIN_APIS, RESOLVERS

_NOT_YET = {
    "glob": "the glob resolver lists object stores, which rill-emu does not emulate",
    "ai": "the ai resolver is not supported by rill-emu",
}


def nest_variables(variables: Mapping[str, str]) -> dict[str, Any]:
    """``.env`` template data: flat keys, plus dotted keys also as nested maps (``a.b`` → ``{a: {b}}``)."""
    out: dict[str, Any] = dict(variables)
    for key, value in variables.items():
        if "." not in key:
            continue
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node.setdefault(parts[-1], value)
    return out


@dataclass(frozen=True)
class Runtime:
    """One generation of the served project: parsed resources, built models, and how to resolve."""

    generation: int
    project: Project
    engine: DuckDBEngine
    models: ModelsState
    built_at: float
    build_ms: float
    changed: tuple[str, ...] = ()
    env_data: Mapping[str, Any] = field(default_factory=dict)
    #: Compilation results valid for this generation only (metrics SQL parses, compiled queries).
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    #: The server's result cache, shared by every generation (None: answers are not cached).
    cache: ResultCache | None = field(default=None, compare=False, repr=False)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem of this generation: parse problems, then model build errors."""
        model_problems = tuple(
            Problem(st.spec.path, st.error, st.spec.line) for st in self.models.models.values() if st.error
        )
        return self.project.problems + model_problems

    def lookup_api(self, name: str) -> ApiSpec | None:
        """Built-ins by exact name first, then project APIs case-insensitively."""
        builtin = BUILTIN_APIS.get(name)
        if builtin is not None:
            return builtin
        return self.project.apis.get(name.lower())

    def served_apis(self) -> list[ApiSpec]:
        """Every API the snapshot serves: built-ins, then project APIs they do not shadow."""
        apis = [a for a in self.project.apis.values() if a.name not in BUILTIN_APIS]
        return [*BUILTIN_APIS.values(), *sorted(apis, key=lambda a: a.name)]

    def template_data(self, args: Mapping[str, Any], claims: Claims) -> dict[str, Any]:
        """The data of ``sql``/``metrics_sql`` templates (§3.2).

        ``.user`` and ``.env`` are copies: Sprig's ``set`` changes a map in place, and the originals
        outlive the request (the snapshot's variables; the caller's attributes, resolved once per
        snapshot), as a fresh map per request does in Rill.
        """
        env = dict(self.env_data)
        return {
            "args": args,
            "user": dict(claims.attributes),
            "env": env,
            "vars": env,
            "environment": self.project.environment,
            "export": False,
            "state": {},
            "self": {},
        }

    def resolve(self, api: ApiSpec, args: dict[str, Any], claims: Claims) -> QueryResult:
        """Run ``api``'s resolver for ``args`` as ``claims``."""
        resolver = RESOLVERS.get(api.resolver)
        if resolver is None:
            reason = _NOT_YET.get(api.resolver, f'no resolver found of type "{api.resolver}"')
            raise BadRequest(reason)
        return resolver(self, api, args, claims)

    def metrics_restrictions(self, view: MetricsViewSpec, claims: Claims) -> Restrictions:
        """What ``view``'s security policy allows ``claims``: raises 400 ``action not allowed`` if denied."""
        if claims.skip_checks:
            return Restrictions()
        from emulator.security import metrics_view_restrictions

        return metrics_view_restrictions(self, view, claims)

    def resource_status(self) -> list[tuple[str, str, str, str]]:
        """Rows (type, name, status, error) for every resource, sorted by kind then name."""
        rows: list[tuple[str, str, str, str]] = []
        for st in self.models.models.values():
            kind = "Source" if st.spec.kind == "source" else "Model"
            rows.append((kind, st.spec.name, "Idle", st.error or ""))
        for mv in self.project.metrics_views.values():
            rows.append(("MetricsView", mv.name, "Idle", self._metrics_view_error(mv.model)))
        for api in self.project.apis.values():
            rows.append(("API", api.name, "Idle", ""))
        for other in self.project.others:  # kinds as Rill names them: Connector, Explore, ...
            rows.append((other.kind, other.name, "Idle", ""))
        rows.sort(key=lambda r: (r[0], r[1]))
        return rows

    def _metrics_view_error(self, model: str | None) -> str:
        if model is None:
            return ""
        st = self.models.models.get(model.lower())
        if st is not None and st.error:
            return f'dependency error: resource "{st.spec.name}" (rill.runtime.v1.Model) has an error'
        return ""


class RuntimeBuilder:
    """Builds successive runtime snapshots of one project folder on one DuckDB engine."""

    def __init__(
        self,
        root: Path,
        engine: DuckDBEngine,
        *,
        environment: Environment = "dev",
        env_overrides: Mapping[str, str] | None = None,
        model_timeout: float | None = None,
        cache: ResultCache | None = None,
    ) -> None:
        self.root = root
        self.engine = engine
        self.cache = cache
        self.loader = ProjectLoader(
            root, environment=environment, env_overrides=env_overrides, sql_cursor=engine.cursor
        )
        self.model_timeout = model_timeout
        self.current: Runtime | None = None
        self._open: PendingRuntime | None = None
        self._unapplied: set[str] = set()
        self._security: dict[tuple[str, str], tuple[object, tuple[Problem, ...]]] = {}
        self._linter = Linter()  # warnings only: Rill accepts what they flag

    def build(self, changed_paths: Collection[str] | None = None, *, rescan: bool = False) -> Runtime:
        """Load what changed on disk, rebuild affected models, publish them, and return the snapshot.

        ``changed_paths``: see :meth:`prepare`. The snapshot is also kept as ``self.current``; callers
        swap it into the server.
        """
        return self.prepare(changed_paths, rescan=rescan).commit()

    def prepare(
        self, changed_paths: Collection[str] | None = None, *, rescan: bool = False
    ) -> PendingRuntime:
        """Build the next snapshot with its changed model tables built aside, not yet published.

        ``changed_paths`` are the project paths (``/apis/a.yaml``, ``/data/x.csv``) a file watcher
        reported since the last build: only they are looked at on disk, and models whose SQL names a
        changed data file are rebuilt. None, or ``rescan``, scans the whole project (files may have
        changed unseen). Call ``commit`` (or ``rollback``) on the result before preparing again.
        """
        if self._open is not None:
            raise RuntimeError("the previous build was neither committed nor rolled back")
        started = time.perf_counter()
        prev = self.current
        # Files a model may read: anything but project files (whose changes the loader handles).
        data_paths = frozenset(
            p
            for p in self._unapplied.union(changed_paths or ())
            if not (is_sql(p) or is_yaml(p) or is_dotenv(p))
        )
        project = self._linter.apply(self._validate_security(self.loader.load(changed_paths, rescan=rescan)))
        models = prepare_models(
            self.engine,
            project.models,
            prev.models if prev else None,
            timeout=self.model_timeout,
            changed_paths=data_paths,
        )
        changed = _changed_names(prev.project if prev else None, project) | models.touched
        runtime = Runtime(
            generation=(prev.generation + 1) if prev else 1,
            project=project,
            engine=self.engine,
            models=models.state,
            built_at=time.time(),
            build_ms=(time.perf_counter() - started) * 1000,
            changed=tuple(sorted(changed)),
            env_data=nest_variables(project.variables),
            cache=self.cache,
        )
        self._open = PendingRuntime(self, runtime, models, data_paths)
        return self._open

    def _validate_security(self, project: Project) -> Project:
        """``security.validate_project_security``, run only for specs not validated before.

        Validation renders and evaluates every rule: cheap once, but not for every API at every reload.
        """
        from emulator.security import validate_project_security

        results: dict[tuple[str, str], tuple[object, tuple[Problem, ...]]] = {}
        apis, views = dict(project.apis), dict(project.metrics_views)
        problems: list[Problem] = []
        for kind, specs, kept in (
            ("metrics_view", project.metrics_views, views),
            ("api", project.apis, apis),
        ):
            for key, spec in specs.items():
                if spec.security is None:
                    continue
                result = self._security.get((kind, key))
                if result is None or result[0] is not spec:
                    alone: dict[str, Any] = {"apis": {}, "metrics_views": {}, "problems": ()}
                    alone["apis" if kind == "api" else "metrics_views"] = {key: spec}
                    result = (spec, validate_project_security(replace(project, **alone)).problems)
                results[(kind, key)] = result
                if result[1]:
                    problems.extend(result[1])
                    del kept[key]
        self._security = results
        if not problems:
            return project
        return replace(project, apis=apis, metrics_views=views, problems=(*project.problems, *problems))


class PendingRuntime:
    """A prepared snapshot whose changed model tables are not yet visible to queries."""

    def __init__(
        self, builder: RuntimeBuilder, runtime: Runtime, models: ModelBuild, paths: frozenset[str]
    ) -> None:
        self.builder = builder
        self.runtime = runtime
        self._models = models
        self._paths = paths

    @property
    def publishes_tables(self) -> bool:
        """Whether committing changes model tables (a query running across the commit could see both)."""
        return self._models.pending

    def commit(self) -> Runtime:
        """Publish the model tables at once and make the snapshot the builder's current one."""
        builder = self.builder
        try:
            self._models.commit()
        except BaseException:
            self.rollback()
            raise
        builder._open, builder.current, builder._unapplied = None, self.runtime, set()
        return self.runtime

    def rollback(self) -> None:
        """Discard the model tables; the next build starts again from the current snapshot."""
        self._models.rollback()
        builder = self.builder
        if builder._open is self:
            # The next build must still rebuild the models that read the data files changed here.
            builder._open, builder._unapplied = None, builder._unapplied | self._paths


def _changed_names(old: Project | None, new: Project) -> set[str]:
    """Names of the APIs and metrics views added, removed or changed between two projects."""
    out: set[str] = set()
    for attr in ("apis", "metrics_views", "models"):
        before: Mapping[str, Any] = getattr(old, attr) if old else {}
        after: Mapping[str, Any] = getattr(new, attr)
        for key in set(before) | set(after):
            a, b = before.get(key), after.get(key)
            if a is None or b is None or (a is not b and a != b):
                out.add(str(getattr(b if b is not None else a, "name", key)))
    return out
