"""Load a whole project folder into a :class:`Project`, incrementally on repeated loads.

A :class:`ProjectLoader` remembers each file's ``(mtime_ns, size)`` and each stem group's parse result.
``load()`` stats the tree, re-reads only changed files, re-parses only the groups they belong to, and
reuses the spec objects of every other group, so hot reload costs in proportion to what changed. A
change to rill.yaml or to a ``.env`` file re-parses everything, since defaults and variables reach every
resource.

With ``load(changed=...)`` (the paths a file watcher reported) the tree is not scanned: only those
paths are stat'ed, and their groups are re-parsed even when their stat looks unchanged (two saves of
the same size within the file system's timestamp granularity).
"""

from __future__ import annotations

import os
import stat as stat_module
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from emulator.errors import ProjectError
from emulator.project.files import (
    MAX_FILE_SIZE,
    FileStat,
    is_dotenv,
    is_ignored,
    is_rill_yaml,
    is_sql,
    is_yaml,
    path_stem,
    read_bytes,
    read_text,
    scan,
)
from emulator.project.parse import ParseContext, SourceFile, StemResult, parse_stem
from emulator.project.resources import (
    ApiSpec,
    MetricsViewSpec,
    ModelSpec,
    OtherResource,
    Problem,
    Project,
    ProjectConfig,
)
from emulator.project.rillyaml import parse_dotenv, parse_rill_yaml, project_variables
from emulator.templating import rill_funcs

__all__ = ["ProjectLoader", "load_project"]


@dataclass(frozen=True)
class _Settings:
    """Everything that, when it changes, invalidates every cached parse."""

    config: ProjectConfig
    variables: Mapping[str, str]
    rill_stats: tuple[tuple[str, FileStat], ...]
    dotenv_stats: tuple[tuple[str, FileStat], ...]
    problems: tuple[Problem, ...]


#: How long a file that had content and reads empty is given to be written (see ``_read_settled``).
EMPTY_SETTLE_S = 0.02


class ProjectLoader:
    """Loads the project at ``root`` for one environment; call :meth:`load` again to pick up edits."""

    def __init__(
        self,
        root: Path,
        *,
        environment: Literal["dev", "prod"] = "dev",
        env_overrides: Mapping[str, str] | None = None,
        sql_cursor: Callable[[], Any] | None = None,
    ) -> None:
        self.root = Path(root)
        self.sql_cursor = sql_cursor
        self.environment: Literal["dev", "prod"] = environment
        self.env_overrides = dict(env_overrides or {})
        self._funcs = rill_funcs(environment)
        self._settings: _Settings | None = None
        self._stats: dict[str, FileStat] = {}
        self._groups: dict[tuple[str, ...], StemResult] = {}
        self._group_of: dict[str, tuple[str, ...]] = {}
        self._project: Project | None = None

    def load(self, changed: Collection[str] | None = None, *, rescan: bool = False) -> Project:
        """Scan the project and return it, reusing the unchanged parts of the previous load.

        ``changed``: project paths (``/apis/a.yaml``, folders too) known to be the only ones changed
        since the previous load, as a file watcher reports them; the tree is then not scanned unless
        ``rescan`` (changed files are re-parsed either way).
        """
        rill_stats = self._rill_stats()
        previous = self._settings
        settings = previous
        forced = frozenset(changed or ())
        settings_forced = any(is_rill_yaml(p) or is_dotenv(p) for p in forced)
        if settings is None or settings.rill_stats != rill_stats or settings_forced:
            settings = self._read_settings(rill_stats, previous.dotenv_stats if previous else ())
        stats = None
        if changed is not None and not rescan and settings is previous and self._project is not None:
            stats = self._restat(forced, settings.config.ignore_paths)
            if stats is not None and stats.keys() == self._stats.keys():
                # The same files as before (edits only; a .env edit re-reads settings above).
                return self._reparse(settings, stats, forced, self._project)
        if stats is None:
            stats = scan(self.root, settings.config.ignore_paths)
        dotenv_stats = tuple(sorted((p, s) for p, s in stats.items() if is_dotenv(p)))
        if dotenv_stats != settings.dotenv_stats:
            settings = self._read_settings(rill_stats, dotenv_stats)
        if previous is None or (settings.config, settings.variables) != (previous.config, previous.variables):
            # Defaults, the OLAP connector and variables reach every resource: parse everything again.
            self._groups.clear()
        elif settings is previous and stats == self._stats and not forced and self._project is not None:
            return self._project

        ctx = self._context(settings)
        groups: dict[tuple[str, ...], StemResult] = {}
        for paths in _stem_groups(p for p in stats if not is_rill_yaml(p) and not is_dotenv(p)):
            cached = self._groups.get(paths)
            if (
                cached is not None
                and forced.isdisjoint(paths)
                and all(stats[p] == self._stats.get(p) for p in paths)
            ):
                groups[paths] = cached
            else:
                groups[paths] = parse_stem([self._source(p, stats[p]) for p in paths], ctx)
        self._settings, self._stats, self._groups = settings, stats, groups
        self._group_of = {path: paths for paths in groups for path in paths}
        self._project = _assemble(self.root, self.environment, settings, groups.values())
        return self._project

    def _reparse(
        self, settings: _Settings, stats: dict[str, FileStat], changed: Collection[str], project: Project
    ) -> Project:
        """Re-parse the groups of ``changed`` files when no file was added or removed.

        The project is patched rather than assembled again when each changed group still yields one
        spec under the same kind and name, with no problem before or after.
        """
        ctx = self._context(settings)
        groups = dict(self._groups)
        patched: Project | None = project
        for paths in {self._group_of[p] for p in changed if p in self._group_of}:
            old = groups[paths]
            new = groups[paths] = parse_stem([self._source(p, stats[p]) for p in paths], ctx)
            if patched is not None:
                patched = _patch(patched, old, new)
        self._stats, self._groups = stats, groups
        if patched is None:
            patched = _assemble(self.root, self.environment, settings, groups.values())
        self._project = patched
        return patched

    def _context(self, settings: _Settings) -> ParseContext:
        return ParseContext(
            environment=self.environment,
            olap_connector=settings.config.olap_connector,
            defaults=settings.config.defaults,
            variables=settings.variables,
            funcs=self._funcs,
            sql_cursor=self.sql_cursor,
        )

    def _restat(self, changed: Collection[str], ignore_paths: tuple[str, ...]) -> dict[str, FileStat] | None:
        """The previous scan, updated for ``changed`` paths only; None when a full scan is needed."""
        stats = dict(self._stats)
        for path in changed:
            if is_ignored(path, ignore_paths):
                continue
            try:
                st = os.stat(self.root / path.lstrip("/"), follow_symlinks=False)
            except OSError:
                if stats.pop(path, None) is None:  # maybe a removed folder: drop what was below it
                    prefix = path.rstrip("/") + "/"
                    for known in [p for p in stats if p.startswith(prefix)]:
                        del stats[known]
                continue
            if stat_module.S_ISREG(st.st_mode):
                if is_sql(path) or is_yaml(path) or is_dotenv(path):
                    stats[path] = (st.st_mtime_ns, st.st_size)
            elif stat_module.S_ISDIR(st.st_mode) or stat_module.S_ISLNK(st.st_mode):
                return None  # a new folder (its files may predate its watch) or a symlink: scan
        return stats

    def _read_settled(self, path: str, was_non_empty: bool, *, missing_ok: bool = True) -> bytes:
        """The file's bytes; a file that had content and reads empty is read again after a moment.

        Most editors, and Python's ``write_text``, save by truncating the file and then writing it:
        a reload reading between the two would see an empty file and drop its resource until the next
        reload, 10-20 ms later (caught by scripts/soak_reload.py). A file emptied on purpose costs the
        reload ``EMPTY_SETTLE_S`` more.
        """
        try:
            data = read_bytes(self.root, path)
            if not data and was_non_empty:
                time.sleep(EMPTY_SETTLE_S)
                data = read_bytes(self.root, path)
        except OSError:
            if not missing_ok:
                raise
            return b""  # removed since the scan; the next load will notice
        return data

    def _rill_stats(self) -> tuple[tuple[str, FileStat], ...]:
        found = []
        for name in ("rill.yaml", "rill.yml"):
            try:
                st = (self.root / name).stat()
            except OSError:
                continue
            found.append((f"/{name}", (st.st_mtime_ns, st.st_size)))
        return tuple(found)

    def _read_settings(
        self,
        rill_stats: tuple[tuple[str, FileStat], ...],
        dotenv_stats: tuple[tuple[str, FileStat], ...],
    ) -> _Settings:
        problems: list[Problem] = []
        config = ProjectConfig()
        if not rill_stats:
            problems.append(Problem("/rill.yaml", "rill.yaml not found"))
        before = dict(self._settings.rill_stats) if self._settings is not None else {}
        for path, _ in rill_stats:
            try:
                was_non_empty = path in before and before[path][1] > 0
                text = self._read_settled(path, was_non_empty, missing_ok=False).decode("utf-8", "replace")
            except OSError as exc:
                problems.append(Problem(path, f'error loading "{path}": {exc.strerror}'))
                continue
            config, found = parse_rill_yaml(path, text, self.environment)
            problems.extend(found)
        dotenvs: dict[str, dict[str, str]] = {}
        for path, _ in dotenv_stats:
            try:
                dotenvs[path] = parse_dotenv(read_text(self.root, path))
            except ProjectError as exc:
                problems.append(Problem(path, exc.message, exc.line))
            except OSError:
                continue  # removed since the scan; the next load will notice
        variables = project_variables(config.variables, dotenvs, self.environment, self.env_overrides)
        return _Settings(config, variables, rill_stats, dotenv_stats, tuple(problems))

    def _source(self, path: str, stat: FileStat) -> SourceFile:
        if stat[1] > MAX_FILE_SIZE:
            return SourceFile(path, None, stat[1])
        previous = self._stats.get(path)
        data = self._read_settled(path, previous is not None and previous[1] > 0)
        if len(data) > MAX_FILE_SIZE:
            return SourceFile(path, None, len(data))
        return SourceFile(path, data.decode("utf-8", errors="replace"), len(data))


def load_project(
    root: Path,
    *,
    environment: Literal["dev", "prod"] = "dev",
    env_overrides: Mapping[str, str] | None = None,
) -> Project:
    """Load the project at ``root`` once."""
    return ProjectLoader(root, environment=environment, env_overrides=env_overrides).load()


def _stem_groups(paths: Iterable[str]) -> list[tuple[str, ...]]:
    """Group sorted paths that are adjacent and share a stem, as Rill's parser walks them."""
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    for path in sorted(paths):
        if current and path_stem(current[0]) != path_stem(path):
            groups.append(tuple(current))
            current = []
        current.append(path)
    if current:
        groups.append(tuple(current))
    return groups


def _patch(project: Project, old: StemResult, new: StemResult) -> Project | None:
    """``project`` with ``old``'s spec replaced by ``new``'s, or None when assembling could differ."""
    if old.problems or new.problems or old.spec is None or new.spec is None:
        return None
    if old.kind != new.kind or old.name is None or new.name is None or old.name.lower() != new.name.lower():
        return None
    key, spec = new.name.lower(), new.spec
    if isinstance(spec, ApiSpec) and project.apis.get(key) is old.spec:
        return replace(project, apis={**project.apis, key: spec})
    if isinstance(spec, ModelSpec) and project.models.get(key) is old.spec:
        return replace(project, models={**project.models, key: spec})
    if isinstance(spec, MetricsViewSpec) and project.metrics_views.get(key) is old.spec:
        return replace(project, metrics_views={**project.metrics_views, key: spec})
    return None  # another kind, or the old spec lost a name collision


def _assemble(
    root: Path, environment: Literal["dev", "prod"], settings: _Settings, groups: Iterable[StemResult]
) -> Project:
    problems: list[Problem] = list(settings.problems)
    taken: set[tuple[str, str]] = set()
    apis: dict[str, ApiSpec] = {}
    models: dict[str, ModelSpec] = {}
    metrics_views: dict[str, MetricsViewSpec] = {}
    others: list[OtherResource] = []
    connectors: list[str] = list(settings.config.connectors)
    for result in groups:
        problems.extend(result.problems)
        spec = result.spec
        if spec is None or result.kind is None or result.name is None:
            continue
        key = (result.kind, result.name.lower())
        if key in taken:
            message = f'name collision: another resource of type "{key[0]}" is also named "{result.name}"'
            problems.extend(Problem(path, message) for path in result.paths)
            continue
        taken.add(key)
        if isinstance(spec, ApiSpec):
            apis[key[1]] = spec
        elif isinstance(spec, ModelSpec):
            models[key[1]] = spec
        elif isinstance(spec, MetricsViewSpec):
            metrics_views[key[1]] = spec
        else:
            others.append(spec)
            if spec.kind == "Connector":
                connectors.append(spec.name)
    config = settings.config
    if tuple(dict.fromkeys(connectors)) != config.connectors:
        config = replace(config, connectors=tuple(dict.fromkeys(connectors)))
    return Project(
        root=root,
        environment=environment,
        config=config,
        variables=settings.variables,
        apis=apis,
        models=models,
        metrics_views=metrics_views,
        others=tuple(others),
        problems=tuple(problems),
    )
