"""A path-stem group of files -> one resource spec, or the problems that stopped it.

Mirrors Rill's ``parseStemPaths`` and the per-kind parsers (``parse_api.go``, ``parse_partial_data.go``,
``parse_model.go``, ``parse_source.go``); metrics views are delegated to ``emulator.metrics.view``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.errors import ProjectError
from emulator.olap.sqlrefs import table_names
from emulator.project.files import MAX_FILE_SIZE, is_sql, is_yaml
from emulator.project.node import FileError, Node, build_node, compile_sql, parse_kind, sql_template_source
from emulator.project.openapi_block import parse_openapi
from emulator.project.resources import (
    ApiSpec,
    MetricsViewSpec,
    ModelSpec,
    OtherResource,
    Problem,
    ResourceRef,
    SecurityPolicy,
)
from emulator.project.rillyaml import to_proto_value
from emulator.project.security import parse_security, template_text
from emulator.project.yamlutil import type_error
from emulator.templating import Template, TemplateError

__all__ = ["ParseContext", "SourceFile", "Spec", "StemResult", "parse_stem", "template_env"]

Spec = ApiSpec | ModelSpec | MetricsViewSpec | OtherResource

# Kind name -> key of ProjectConfig.defaults (rill.yaml "apis:", "models:", ...).
_DEFAULTS_KEY = {
    "Source": "source",
    "Model": "model",
    "MetricsView": "metrics_view",
    "Explore": "explore",
    "Migration": "migration",
    "Canvas": "canvas",
    "API": "api",
}
# Connectors whose models read files or URLs; their SQL runs on the OLAP connector (DuckDB).
_FILE_CONNECTORS = frozenset({"local_file", "s3", "gcs", "gs", "https", "http", "azure", "duckdb"})


@dataclass(frozen=True)
class ParseContext:
    """Project-wide settings a resource is parsed with."""

    environment: str
    olap_connector: str
    defaults: Mapping[str, Mapping[str, Any]]
    variables: Mapping[str, str]
    funcs: Mapping[str, Callable[..., Any]]
    #: DuckDB cursors to parse model SQL with (the engine's); None: a private in-memory database.
    sql_cursor: Callable[[], Any] | None = None


@dataclass(frozen=True)
class SourceFile:
    """One file of a stem group: ``text`` is None when the file exceeds the size limit."""

    path: str
    text: str | None
    size: int


@dataclass(frozen=True)
class StemResult:
    """The outcome of parsing one stem group.

    ``kind`` is Rill's kind name used for name collisions (sources count as ``Model``).
    """

    paths: tuple[str, ...]
    kind: str | None
    name: str | None
    spec: Spec | None
    problems: tuple[Problem, ...]


def template_env(variables: Mapping[str, str]) -> dict[str, Any]:
    """``.env`` data for templates: the flat variables plus dotted names nested (``a.b`` -> ``a: {b:}``)."""
    out: dict[str, Any] = dict(variables)
    for key, value in variables.items():
        parts = key.split(".")
        if len(parts) < 2:
            continue
        target = out
        for part in parts[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                break
            target = nxt
        else:
            target.setdefault(parts[-1], value)
    return out


def parse_stem(files: Sequence[SourceFile], ctx: ParseContext) -> StemResult:
    """Parse the files of one path stem (sorted, same stem) into a resource spec and problems."""
    paths = tuple(f.path for f in files)
    problems: list[Problem] = []
    yaml_path = yaml_text = sql_path = sql_text = ""
    found = False
    for f in files:
        if f.text is None:
            problems.append(Problem(f.path, f"size {f.size} bytes exceeds max size of {MAX_FILE_SIZE} bytes"))
            continue
        if is_sql(f.path):
            sql_path, sql_text, found = f.path, f.text, True
        elif is_yaml(f.path):
            if yaml_text:
                problems.append(
                    Problem(
                        f.path,
                        "skipping file because another YAML file has already been parsed for this path stem",
                    )
                )
                continue
            yaml_path, yaml_text, found = f.path, f.text, True
    if not found:
        return StemResult(paths, None, None, None, tuple(problems))
    try:
        node = build_node(
            paths,
            yaml_path,
            yaml_text,
            sql_path,
            sql_text,
            environment=ctx.environment,
            olap_connector=ctx.olap_connector,
            funcs=ctx.funcs,
        )
        spec = _parse_node(node, ctx)
    except FileError as exc:
        for path in paths:
            if path == exc.path:
                problems.append(Problem(path, exc.message, exc.line))
            else:
                problems.append(Problem(path, "skipping file due to error in companion SQL/YAML file"))
        return StemResult(paths, None, None, None, tuple(problems))
    except ProjectError as exc:
        problems.extend(Problem(path, exc.message, exc.line) for path in paths)
        return StemResult(paths, None, None, None, tuple(problems))
    kind = "Model" if node.kind == "Source" else node.kind
    return StemResult(paths, kind, node.name, spec, tuple(problems))


def _parse_node(node: Node, ctx: ParseContext) -> Spec:
    defaults = ctx.defaults.get(_DEFAULTS_KEY.get(node.kind or "", ""), {})
    doc = node.document(defaults)
    if node.kind == "API":
        return _parse_api(node, doc, ctx)
    if node.kind in ("Model", "Source"):
        return _parse_model(node, doc, ctx)
    if node.kind == "MetricsView":
        return _parse_metrics_view(node, doc, ctx)
    assert node.kind is not None
    return OtherResource(kind=node.kind, name=node.name, path=node.main_path, paths=node.paths)


def _yaml_error(node: Node, exc: ProjectError) -> FileError:
    return FileError(node.yaml_path or node.sql_path, exc.message, line=exc.line)


def _string(node: Node, doc: Mapping[str, Any], key: str) -> str:
    try:
        return template_text(doc.get(key), node.lines(key))
    except ProjectError as exc:
        raise _yaml_error(node, exc) from None


def _map(node: Node, doc: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = doc.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise _yaml_error(node, type_error(value, "map[string]interface {}", node.lines(key)))


def _parse_api(node: Node, doc: dict[str, Any], ctx: ParseContext) -> ApiSpec:
    openapi = parse_openapi(doc.get("openapi"), node.name, node.lines)

    connector = _string(node, doc, "connector")
    if not node.connector_inferred and node.connector:
        connector = node.connector
    sql = node.sql or _string(node, doc, "sql")
    metrics_sql = _string(node, doc, "metrics_sql")
    metrics = _map(node, doc, "metrics")
    api = _string(node, doc, "api")
    args = _map(node, doc, "args")
    resource_status = _map(node, doc, "resource_status")
    ai = _map(node, doc, "ai")

    # Resolver keys found, in Rill's order; the last one found provides the props.
    found: list[str] = []
    props: dict[str, Any] = {}
    refs: list[ResourceRef] = list(node.refs)
    if sql:
        found.append("sql")
        props = {"sql": sql, "connector": connector or node.connector}
    if metrics_sql:
        found.append("metrics_sql")
        props = {"sql": metrics_sql}
    if metrics:
        found.append("metrics")
        props = metrics
        view = metrics.get("metrics_view")
        if not isinstance(view, str):
            raise ProjectError(
                "metrics resolver requires a metrics_view to be specified", line=node.lines("metrics")
            )
        refs.append(ResourceRef(view, "MetricsView"))
    if api:
        found.append("api")
        props = {"api": api}
        refs.append(ResourceRef(api, "API"))
        if args is not None:
            props["args"] = args
    if "glob" in doc:
        glob = doc["glob"]
        if isinstance(glob, list):
            raise ProjectError(
                "failed to parse glob properties: "
                + type_error(glob, "map[string]interface {}", node.lines("glob")).message,
                line=node.lines("glob"),
            )
        found.append("glob")
        props = dict(glob) if isinstance(glob, dict) else {"path": template_text(glob)}
    if resource_status is not None:
        found.append("resource_status")
        props = resource_status
    if ai is not None:
        found.append("ai")
        props = ai
    if not found:
        raise ProjectError(
            'the API definition does not specify a resolver (for example, "sql:", "metrics_sql:", ...)'
        )
    if len(found) > 1:
        # Point at the second resolver key (in file order) when both are in the YAML.
        lines = sorted(line for line in (node.lines(k) for k in found) if line is not None)
        raise ProjectError(
            "the API definition specifies more than one resolver", line=lines[1] if len(lines) > 1 else None
        )
    resolver = key = found[0]

    template: Template | None = None
    if resolver == "sql":
        template = (
            node.template
            if sql == node.sql and node.template is not None
            else _compile_at(sql, node, "sql", ctx)
        )
    elif resolver == "metrics_sql":
        template = _compile_at(metrics_sql, node, "metrics_sql", ctx)

    try:
        security = parse_security(doc.get("security"), funcs=ctx.funcs, line_of=node.lines)
    except ProjectError as exc:
        raise ProjectError(f"failed to parse security rules: {exc.message}", line=exc.line) from None
    if security is not None and any(rule.type != "access" for rule in security.rules):
        raise ProjectError(
            "the 'api' resource type only supports 'access' security rules", line=node.lines("security")
        )
    skip = doc.get("skip_nested_security")
    if skip is not None and not isinstance(skip, bool):
        if isinstance(skip, str) and skip.lower() in ("true", "false"):
            skip = skip.lower() == "true"  # from an annotation: mapstructure decodes weakly
        else:
            raise _yaml_error(node, type_error(skip, "bool", node.lines("skip_nested_security")))

    # The resolver key's line in the YAML file (None when the SQL sits in a companion file).
    line = node.lines(key) if node.yaml_path else 1
    return ApiSpec(
        name=node.name,
        path=node.main_path,
        paths=node.paths,
        resolver=resolver,
        props=to_proto_value(props),
        template=template,
        openapi=openapi,
        security=security,
        skip_nested_security=bool(skip),
        refs=_dedupe(refs),
        line=line,
    )


def _compile_at(source: str, node: Node, key: str, ctx: ParseContext) -> Template:
    try:
        return compile_sql(source, ctx.funcs)
    except TemplateError as exc:
        first = node.lines(key, value_line=True) if node.yaml_path else 1
        line = first + exc.line - 1 if first is not None and exc.line is not None else first
        raise FileError(node.yaml_path or node.sql_path, exc.message, line=line) from None


def _parse_model(node: Node, doc: dict[str, Any], ctx: ParseContext) -> ModelSpec:
    kind: str = "model"
    if node.kind == "Source":
        kind = "source"
        legacy = (node.yaml_value or {}).get("type")
        if isinstance(legacy, str):
            try:
                parse_kind(legacy)
            except ProjectError:
                node.connector, node.connector_inferred = legacy, False
        if node.connector_inferred:
            raise ProjectError("must explicitly specify a connector for sources")

    connector = node.connector
    run_on = ctx.olap_connector if connector in _FILE_CONNECTORS else connector
    if node.sql.strip():
        template = node.template
        assert template is not None  # build_node compiles every SQL it finds
        data = {
            "env": template_env(ctx.variables),
            "vars": template_env(ctx.variables),
            "environment": ctx.environment,
            "args": {},
        }
        source, offset = sql_template_source(node.sql)
        try:
            # Text without actions renders as itself; skipping the engine keeps loads cheap.
            sql = template.render(data) if "{{" in source else source
        except TemplateError as exc:
            line = node.sql_line(exc.line + offset) if exc.line is not None else node.sql_line()
            raise FileError(node.sql_path, exc.message, line=line) from None
        line = node.sql_line()
    else:
        location = doc.get("path") if doc.get("path") is not None else doc.get("uri")
        if location is None or isinstance(location, (dict, list)) or not str(location):
            raise ProjectError(
                f'model "{node.name}" has no SQL: give it "sql:" or a "path:" (or "uri:") to read',
                line=node.lines("connector") if node.yaml_path else None,
            )
        text = template_text(location)
        sql = "SELECT * FROM '" + text.replace("'", "''") + "'"
        line = node.lines("path") or node.lines("uri")
    refs = list(node.refs)
    names = table_names(sql, ctx.sql_cursor)
    refs.extend(ResourceRef(name) for name in names if name.lower() != node.name.lower())
    return ModelSpec(
        name=node.name,
        # SQL errors surface when the model is built: point at the file that holds the SQL.
        path=node.sql_path or node.main_path,
        paths=node.paths,
        kind="source" if kind == "source" else "model",
        sql=sql,
        connector=run_on,
        refs=_dedupe(refs),
        line=line,
    )


def _parse_metrics_view(node: Node, doc: dict[str, Any], ctx: ParseContext) -> MetricsViewSpec:
    from emulator.metrics.view import parse_metrics_view

    spec = parse_metrics_view(node.name, node.main_path, node.paths, doc, line_of=node.lines)
    security: SecurityPolicy | None = parse_security(doc.get("security"), funcs=ctx.funcs, line_of=node.lines)
    return dataclasses.replace(spec, security=security, refs=_dedupe([*spec.refs, *node.refs]))


def _dedupe(refs: Sequence[ResourceRef]) -> tuple[ResourceRef, ...]:
    seen: set[tuple[str | None, str]] = set()
    out: list[ResourceRef] = []
    for ref in refs:
        key = (ref.kind, ref.name.lower())
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return tuple(out)
