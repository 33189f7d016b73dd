"""One path-stem group (a YAML file and/or its companion SQL file) turned into a typed node.

This is Rill's ``parseStem`` (``runtime/parser/parse_node.go``): it decodes the fields common to every
resource, applies the ``dev:``/``prod:`` override, merges the companion SQL, reads ``-- @key: value``
annotations, and settles the resource's kind, name and connector.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import ProjectError
from emulator.project.annotations import expand_annotations, extract_annotations
from emulator.project.resources import ResourceRef
from emulator.project.security import template_text
from emulator.project.yamlutil import YamlDoc, YamlError, load_yaml, type_error
from emulator.templating import Template, TemplateError, compile_template

__all__ = [
    "FileError",
    "Lines",
    "Node",
    "build_node",
    "compile_sql",
    "go_quote",
    "parse_kind",
    "sql_template_source",
]

# Rill's type words -> its kind names (ResourceKind.String()), as printed in messages.
_KINDS = {
    "source": "Source", "model": "Model", "metricsview": "MetricsView", "metrics_view": "MetricsView",
    "explore": "Explore", "migration": "Migration", "report": "Report", "alert": "Alert", "theme": "Theme",
    "component": "Component", "canvas": "Canvas", "api": "API", "connector": "Connector",
}  # fmt: skip

_OVERRIDE_KEYS = ("env", "environment_overrides", "dev", "prod")


class FileError(ProjectError):
    """A ProjectError that belongs to one file of the group (Rill's ``pathError``)."""

    def __init__(self, path: str, message: str, *, line: int | None = None) -> None:
        super().__init__(message, line=line)
        self.path = path


def go_quote(text: str) -> str:
    """``text`` quoted like Go's ``%q`` does for ordinary strings."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def parse_kind(text: str) -> str | None:
    """Rill's kind name for a ``type:`` word (``None`` for empty); ProjectError when unknown."""
    kind = text.strip().lower()
    if not kind:
        return None
    if kind not in _KINDS:
        raise ProjectError(f"invalid resource type {go_quote(text)}")
    return _KINDS[kind]


def sql_template_source(sql: str) -> tuple[str, int]:
    """Trim ``sql`` as Rill's resolvers do (whitespace, then one trailing ``;``).

    Returns the trimmed text and the number of lines removed from its start.
    """
    stripped = sql.lstrip()
    offset = sql[: len(sql) - len(stripped)].count("\n")
    trimmed = stripped.rstrip()
    if trimmed.endswith(";"):
        trimmed = trimmed[:-1]
    return trimmed, offset


def compile_sql(sql: str, funcs: Mapping[str, Callable[..., Any]]) -> Template:
    """Compile ``sql`` trimmed as the resolvers trim it, once.

    On a syntax error, raise the error Rill reports for the untrimmed text: its line counts from the
    first line of ``sql``.
    """
    trimmed, offset = sql_template_source(sql)
    try:
        return compile_template(trimmed, name="", funcs=funcs)
    except TemplateError as exc:
        try:
            compile_template(sql, name="", funcs=funcs)
        except TemplateError as full:
            raise full from None
        line = None if exc.line is None else exc.line + offset
        raise TemplateError(exc.message, line=line, col=exc.col) from None


class Lines:
    """Locates keys of a resource file, looking in the active environment override first."""

    def __init__(self, doc: YamlDoc | None, override_prefix: tuple[str, ...] = ()) -> None:
        self.doc = doc
        self.prefix = override_prefix

    def __call__(self, *path: str | int, value_line: bool = False) -> int | None:
        """The line of the key at ``path`` (or the first line of its value with ``value_line``)."""
        if self.doc is None:
            return None
        for candidate in ((*self.prefix, *path), path) if self.prefix else (path,):
            if candidate in self.doc.key_lines:
                return self.doc.value_line(*candidate) if value_line else self.doc.line(*candidate)
        return self.doc.line(*path)


@dataclass
class Node:
    """What is known about a resource before its kind-specific parsing."""

    paths: tuple[str, ...]
    kind: str | None = None
    name: str = ""
    refs: list[ResourceRef] = field(default_factory=list)
    yaml_path: str = ""
    yaml_value: dict[str, Any] | None = None
    override: dict[str, Any] | None = None
    lines: Lines = field(default_factory=lambda: Lines(None))
    connector: str = ""
    connector_inferred: bool = False
    sql: str = ""
    sql_path: str = ""
    sql_in_yaml: bool = False
    annotations: dict[str, Any] = field(default_factory=dict)
    template: Template | None = None
    template_refs: list[ResourceRef] = field(default_factory=list)

    @property
    def main_path(self) -> str:
        """The path a resource is reported under: its YAML file if it has one, else its SQL file."""
        return self.yaml_path or self.sql_path

    def sql_line(self, template_line: int | None = None) -> int | None:
        """The file line of line ``template_line`` (1-based) of the SQL; without one, of its first
        non-blank line."""
        if template_line is None:
            template_line = 1 + sql_template_source(self.sql)[1]
        first = self.lines("sql", value_line=True) if self.sql_in_yaml else 1
        return None if first is None else first + template_line - 1

    def document(self, defaults: Mapping[str, Any] | None) -> dict[str, Any]:
        """The kind-specific YAML: rill.yaml defaults, then the file, then annotations, then the override."""
        from emulator.project.yamlutil import deep_merge

        doc: Any = dict(defaults or {})
        doc = deep_merge(doc, {k: v for k, v in (self.yaml_value or {}).items() if k not in _OVERRIDE_KEYS})
        doc = deep_merge(doc, self.annotations)
        if self.override is not None:
            doc = deep_merge(doc, self.override)
        return dict(doc)


def _overrides(
    value: dict[str, Any], doc: YamlDoc, environment: str
) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    found: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for key in ("environment_overrides", "env"):
        section = value.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise type_error(section, "map[string]yaml.Node", doc.line(key))
        for env_name, override in section.items():
            found[env_name] = (override, (key, env_name))
    for env_name in ("dev", "prod"):
        if value.get(env_name) is not None:
            found[env_name] = (value[env_name], (env_name,))
    override, prefix = found.get(environment, (None, ()))
    if override is None:
        return None, ()
    if not isinstance(override, dict):
        raise type_error(override, "parser.commonYAML", doc.line(*prefix))
    return override, prefix


def _explicit_refs(value: Any, lines: Lines) -> list[ResourceRef]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise type_error(value, "[]yaml.Node", lines("refs"))
    refs: list[ResourceRef] = []
    for i, item in enumerate(value):
        line = lines("refs", i)
        if isinstance(item, dict):
            if not item.get("name"):
                raise ProjectError(
                    'an object ref must provide the properties "type" and "name" properties', line=line
                )
            kind = None
            for key in ("type", "kind"):
                if item.get(key):
                    try:
                        kind = parse_kind(template_text(item[key]))
                    except ProjectError as exc:
                        raise ProjectError(f"invalid refs: {exc.message}", line=line) from None
            refs.append(ResourceRef(template_text(item["name"]), _model_for_source(kind)))
        elif isinstance(item, list):
            raise ProjectError(f"invalid refs: {item}", line=line)
        else:
            parts = template_text(item).split("/")
            if len(parts) > 2:
                raise ProjectError(
                    f"invalid refs: invalid identifier {go_quote(template_text(item))}", line=line
                )
            kind = None
            if len(parts) == 2:
                try:
                    kind = parse_kind(parts[0])
                except ProjectError as exc:
                    raise ProjectError(f"invalid refs: {exc.message}", line=line) from None
            refs.append(ResourceRef(parts[-1], _model_for_source(kind)))
    return refs


def _model_for_source(kind: str | None) -> str | None:
    # Sources are models since Rill unified them.
    return "Model" if kind == "Source" else kind


def build_node(
    paths: tuple[str, ...],
    yaml_path: str,
    yaml_text: str,
    sql_path: str,
    sql_text: str,
    *,
    environment: str,
    olap_connector: str,
    funcs: Mapping[str, Callable[..., Any]],
) -> Node:
    """Build the node of one stem group; raise FileError (or ProjectError for the whole group)."""
    node = Node(paths=paths)
    templating = True
    if yaml_path:
        try:
            doc = load_yaml(yaml_text)
        except YamlError as exc:
            raise FileError(yaml_path, exc.message, line=exc.line) from None
        value = {} if doc.value is None else doc.value
        if not isinstance(value, dict):
            raise FileError(yaml_path, type_error(value, "parser.commonYAML", 1).message, line=1)
        try:
            override, prefix = _overrides(value, doc, environment)
        except ProjectError as exc:
            raise FileError(yaml_path, exc.message, line=exc.line) from None
        node.yaml_path, node.yaml_value, node.override = yaml_path, value, override
        node.lines = lines = Lines(doc, prefix)
        common = {**value, **(override or {})}
        try:
            node.name = template_text(common.get("name"), lines("name"))
            node.connector = template_text(common.get("connector"), lines("connector"))
            node.sql = template_text(common.get("sql"), lines("sql"))
            node.sql_in_yaml = bool(node.sql)
            namespace = template_text(common.get("namespace"), lines("namespace"))
            parser_cfg = common.get("parser")
            if isinstance(parser_cfg, dict) and isinstance(parser_cfg.get("templating"), bool):
                templating = parser_cfg["templating"]
            node.refs = _explicit_refs(common.get("refs"), lines)
            if common.get("kind") is not None:
                node.kind = _kind_at(common["kind"], lines("kind"))
            if common.get("type") is not None:
                try:
                    node.kind = _kind_at(common["type"], lines("type"))
                except ProjectError:
                    # Sources once used "type:" for their connector; the source parser maps it.
                    if not paths[0].startswith("/sources"):
                        raise
        except ProjectError as exc:
            raise FileError(yaml_path, exc.message, line=exc.line) from None
    else:
        namespace = ""

    if sql_path:
        if node.sql:
            raise FileError(
                yaml_path, "SQL provided using both a YAML key and a companion file", line=node.lines("sql")
            )
        node.sql, node.sql_path, node.sql_in_yaml = sql_text, sql_path, False
    elif node.sql:
        node.sql_path = yaml_path
    sql_owner = sql_path or yaml_path

    if node.sql:
        try:
            node.template = compile_sql(node.sql, funcs)
        except TemplateError as exc:
            line = node.sql_line(exc.line) if exc.line is not None else node.sql_line()
            raise FileError(sql_owner, exc.message, line=line) from None
        if templating:
            try:
                node.template_refs = [
                    ResourceRef(name, _model_for_source(_KINDS.get(kind.lower()) if kind else None))
                    for kind, name in node.template.refs
                ]
                node.annotations = expand_annotations(dict(extract_annotations(node.sql)))
            except ProjectError as exc:
                raise FileError(sql_owner, exc.message) from None
            node.refs.extend(node.template_refs)

    for key, value in node.annotations.items():
        lowered = key.lower()
        if lowered not in ("type", "kind", "name", "connector"):
            continue
        if not isinstance(value, str):
            raise FileError(sql_owner, f"invalid type map[string]interface {{}} for property '{lowered}'")
        if lowered in ("type", "kind"):
            try:
                node.kind = parse_kind(value)
            except ProjectError as exc:
                raise FileError(sql_owner, exc.message) from None
        elif lowered == "name":
            node.name = value
        else:
            node.connector = value

    if not node.name:
        node.name = posixpath.basename(_stem(yaml_path or sql_path))
    if namespace:
        node.name = f"{namespace}:{node.name}"

    if node.kind is None:
        first = paths[0]
        for prefix_path, kind in (
            ("/sources", "Source"),
            ("/models", "Model"),
            ("/dashboards", "MetricsView"),
            ("/connectors", "Connector"),
            ("/init.sql", "Migration"),
        ):
            if first.startswith(prefix_path):
                node.kind = kind
                break
        else:
            if sql_path:
                node.kind = "Model"
            else:
                raise FileError(
                    yaml_path or sql_path,
                    "resource type not specified and could not be inferred from context",
                )

    if not node.connector:
        node.connector = olap_connector
        node.connector_inferred = True
    return node


def _kind_at(value: Any, line: int | None) -> str | None:
    try:
        return parse_kind(template_text(value, line))
    except ProjectError as exc:
        raise ProjectError(exc.message, line=line) from None


def _stem(path: str) -> str:
    i = path.rfind(".")
    return path if i == -1 else path[:i]
