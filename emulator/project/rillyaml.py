"""rill.yaml and ``.env`` files: the project configuration and its variables.

Follows Rill's ``runtime/parser/parse_rillyaml.go`` and ``parse_dotenv.go`` (godotenv syntax), and
the local "View as" dev JWT for ``mock_users`` attributes (behaviour reference §8).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from emulator.errors import ProjectError
from emulator.project.files import dotenv_environment
from emulator.project.resources import MockUser, Problem, ProjectConfig
from emulator.project.yamlutil import YamlDoc, YamlError, deep_merge, load_yaml, type_error

__all__ = ["RILL_YAML_KEYS", "parse_dotenv", "parse_rill_yaml", "project_variables", "to_proto_value"]

RILL_YAML_KEYS = frozenset(
    {
        "compiler", "rill_version", "display_name", "title", "name", "description", "ai_instructions",
        "ai_connector", "theme", "olap_connector", "connectors", "env", "vars", "environment_overrides",
        "dev", "prod", "sources", "models", "metrics_views", "dashboards", "explores", "canvases", "apis",
        "migrations", "features", "public_paths", "ignore_paths", "mock_users",
    }
)  # fmt: skip

# rill.yaml key -> kind word used in ProjectConfig.defaults (later keys win: "dashboards" is legacy).
_DEFAULT_KEYS = (
    ("sources", "source", "parser.ModelYAML"),
    ("models", "model", "parser.ModelYAML"),
    ("metrics_views", "metrics_view", "parser.MetricsViewYAML"),
    ("dashboards", "metrics_view", "parser.MetricsViewYAML"),
    ("explores", "explore", "parser.ExploreYAML"),
    ("canvases", "canvas", "parser.CanvasYAML"),
    ("apis", "api", "parser.APIYAML"),
    ("migrations", "migration", "parser.MigrationYAML"),
)

_RESERVED_CONNECTORS = frozenset({"admin", "repo", "metastore"})
_VARIABLE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.]*$")


def to_proto_value(value: Any) -> Any:
    """``value`` as a protobuf Struct would hold it: every number a float, map keys strings."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): to_proto_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_proto_value(v) for v in value]
    return str(value)


def parse_rill_yaml(path: str, text: str, environment: str) -> tuple[ProjectConfig, list[Problem]]:
    """Parse rill.yaml for ``environment``; problems are returned, never raised.

    On an error that makes Rill drop the whole file, the config keeps only ``ignore_paths`` (which
    Rill's repo driver reads on its own) and everything else is defaulted.
    """
    problems: list[Problem] = []
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        return ProjectConfig(), [Problem(path, exc.message, exc.line)]
    raw = doc.value
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return ProjectConfig(), [Problem(path, type_error(raw, "parser.rillYAML", 1).message, 1)]
    for key in raw:
        if key not in RILL_YAML_KEYS:
            line = doc.line(key)
            message = f"yaml: unmarshal errors:\n  line {line}: field {key} not found in type parser.rillYAML"
            problems.append(Problem(path, message, line, severity="warning"))
    ignore_paths = _string_list(raw.get("ignore_paths"), doc, ("ignore_paths",), lenient=True)
    try:
        config = _decode(raw, doc, environment, ignore_paths)
    except ProjectError as exc:
        problems.append(Problem(path, exc.message, exc.line))
        config = ProjectConfig(ignore_paths=tuple(ignore_paths))
    return config, problems


def _decode(raw: dict[str, Any], doc: YamlDoc, environment: str, ignore_paths: list[str]) -> ProjectConfig:
    env = raw.get("env")
    if env is not None and not isinstance(env, dict):
        raise type_error(env, "map[string]yaml.Node", doc.line("env"))
    overrides: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for name, value in (raw.get("environment_overrides") or {}).items():
        overrides[name] = (value, ("environment_overrides", name))
    for name, value in (env or {}).items():
        if isinstance(value, (dict, list)):
            if name not in ("dev", "prod"):
                raise ProjectError(
                    'invalid property "env": must be a map of strings', line=doc.line("env", name)
                )
            overrides[name] = (value, ("env", name))
    for name in ("dev", "prod"):
        if raw.get(name) is not None:
            overrides[name] = (raw[name], (name,))
    override, prefix = overrides.get(environment, (None, ()))
    if override is not None:
        if not isinstance(override, dict):
            raise type_error(override, "parser.rillYAML", doc.line(*prefix))
        raw = deep_merge(raw, override)

    def line(*path: str | int) -> int | None:
        return (
            doc.line(*prefix, *path) if override is not None and doc.line(*prefix, *path) else doc.line(*path)
        )

    def text_at(value: Any, *path: str | int) -> str:
        # yaml.v3 keeps a scalar's source text when decoding it into a string.
        if isinstance(value, str):
            return value
        for p in ((*prefix, *path), path):
            found = doc.raw(*p)
            if found is not None:
                return found
        return "" if value is None else str(value)

    variables: dict[str, str] = {}
    for source in ("vars", "env"):
        section = raw.get(source)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise type_error(section, "map[string]string", line(source))
        for key, value in section.items():
            if isinstance(value, (dict, list)):
                if source == "vars":
                    raise type_error(value, "string", line(source, key))
                continue
            if not _VARIABLE_NAME.match(key):
                raise ProjectError(
                    f'invalid variable name "{key}": must start with a letter or underscore and contain only '
                    "letters, digits, underscores and dots",
                    line=line(source, key),
                )
            variables[key] = text_at(value, source, key)

    defaults: dict[str, dict[str, Any]] = {}
    for key, kind, go_type in _DEFAULT_KEYS:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise type_error(value, go_type, line(key))
        defaults[kind] = value

    olap = raw.get("olap_connector")
    olap_connector = text_at(olap, "olap_connector") if olap is not None else ""
    connectors: list[str] = []
    for i, item in enumerate(raw.get("connectors") or []):
        if not isinstance(item, dict):
            raise type_error(
                item,
                "struct { Type string; Name string; Defaults map[string]interface {} }",
                line("connectors", i),
            )
        name = text_at(item.get("name"), "connectors", i, "name")
        if name in _RESERVED_CONNECTORS:
            raise ProjectError(f'connector name "{name}" is reserved', line=line("connectors", i))
        connectors.append(name)

    title = ""
    for key in ("display_name", "title", "name"):
        if raw.get(key) is not None and not title:
            title = text_at(raw[key], key)

    olap_connector = olap_connector or "duckdb"
    return ProjectConfig(
        olap_connector=olap_connector,
        variables=variables,
        mock_users=tuple(_mock_users(raw.get("mock_users"), line)),
        ignore_paths=tuple(_string_list(raw.get("ignore_paths"), doc, ("ignore_paths",)) or ignore_paths),
        defaults=defaults,
        connectors=tuple(dict.fromkeys(["duckdb", olap_connector, *connectors])),
        title=title,
    )


def _string_list(value: Any, doc: YamlDoc, path: tuple[str, ...], *, lenient: bool = False) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        if lenient:
            return []
        raise type_error(value, "[]string", doc.line(*path))
    out = []
    for i, item in enumerate(value):
        if isinstance(item, (dict, list)):
            if lenient:
                continue
            raise type_error(item, "string", doc.line(*path, i))
        out.append(item if isinstance(item, str) else doc.raw(*path, i) or "")
    return out


def _mock_users(value: Any, line: Any) -> Iterable[MockUser]:
    if value is None:
        return
    if not isinstance(value, list):
        raise type_error(value, "[]struct { Email string ... }", line("mock_users"))
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise type_error(item, "struct { Email string ... }", line("mock_users", i))
        email = item.get("email")
        if isinstance(email, (dict, list)):
            raise type_error(email, "string", line("mock_users", i, "email"))
        email = "" if email is None else str(email)
        name = item.get("name")
        groups = item.get("groups") or []
        if not isinstance(groups, list) or any(isinstance(g, (dict, list)) for g in groups):
            raise type_error(groups, "[]string", line("mock_users", i, "groups"))
        admin = item.get("admin")
        if admin is not None and not isinstance(admin, bool):
            raise type_error(admin, "bool", line("mock_users", i, "admin"))
        # The "View as" UI sends name || "Mock User", groups || [], !!admin; custom keys go through a
        # protobuf Struct (numbers become floats); the runtime adds domain unless one was given.
        attributes: dict[str, Any] = {
            "name": str(name) if name else "Mock User",
            "email": email,
            "groups": [str(g) for g in groups],
            "admin": bool(admin),
        }
        for key, custom in item.items():
            if key not in ("email", "name", "groups", "admin"):
                attributes[key] = to_proto_value(custom)
        if attributes.get("domain") is None:
            attributes["domain"] = email[email.rfind("@") + 1 :]
        yield MockUser(email=email, attributes=attributes)


def project_variables(
    config_variables: Mapping[str, str],
    dotenvs: Mapping[str, Mapping[str, str]],
    environment: str,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The project's variables: rill.yaml ``env:`` < ``.env`` files < ``--env`` overrides.

    ``.env`` files apply in sorted path order (deeper folders win); named variants such as
    ``.dev.env`` apply after the plain ones, and only for their environment.
    """
    base: dict[str, str] = {}
    specific: dict[str, str] = {}
    for path in sorted(dotenvs):
        name = dotenv_environment(path)
        if name == "":
            base.update(dotenvs[path])
        elif name == environment:
            specific.update(dotenvs[path])
    return {**config_variables, **base, **specific, **(overrides or {})}


_DOTENV_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
_EXPAND = re.compile(r"(\\)?(\$)(\{?([A-Za-z0-9_]+)?\}?)")


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse a ``.env`` file the way godotenv does (``KEY=VALUE``, ``export``, quotes, ``#`` comments).

    Raises ProjectError on a line that is not a variable definition.
    """
    out: dict[str, str] = {}
    src = text.replace("\r\n", "\n")
    pos = 0
    while pos < len(src):
        # Skip blank lines, indentation and full-line comments.
        while pos < len(src) and src[pos] in " \t\n":
            pos += 1
        if pos >= len(src):
            break
        if src[pos] == "#":
            nl = src.find("\n", pos)
            pos = len(src) if nl == -1 else nl + 1
            continue
        if src.startswith("export ", pos):
            pos += len("export ")
            while pos < len(src) and src[pos] in " \t":
                pos += 1
        match = _DOTENV_KEY.match(src, pos)
        end = match.end() if match else pos
        key = src[pos:end]
        rest = end
        while rest < len(src) and src[rest] in " \t":
            rest += 1
        if not key or rest >= len(src) or src[rest] not in "=:":
            nl = src.find("\n", pos)
            near = src[pos : (len(src) if nl == -1 else nl + 1)]
            char = src[rest] if rest < len(src) else "\\n"
            raise ProjectError(f'unexpected character "{char}" in variable name near "{near}"')
        pos = rest + 1
        while pos < len(src) and src[pos] in " \t":
            pos += 1
        value, pos = _dotenv_value(src, pos, out)
        out[key] = value
    return out


def _dotenv_value(src: str, pos: int, known: Mapping[str, str]) -> tuple[str, int]:
    quote = src[pos] if pos < len(src) else ""
    if quote in ("'", '"'):
        i = pos + 1
        while i < len(src):
            if src[i] == "\\" and quote == '"':
                i += 2
                continue
            if src[i] == quote:
                break
            i += 1
        if i >= len(src):
            raise ProjectError(f"unterminated quoted value {src[pos : pos + 20]}")
        body = src[pos + 1 : i]
        nl = src.find("\n", i)
        end = len(src) if nl == -1 else nl + 1
        if quote == "'":
            return body, end
        body = re.sub(r"\\([^$])", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), body)
        return _expand(body, known), end
    nl = src.find("\n", pos)
    end = len(src) if nl == -1 else nl
    line = src[pos:end]
    comment = re.search(r"[ \t]#", line)
    if comment:
        line = line[: comment.start()]
    return _expand(line.strip(), known), end + 1


def _expand(value: str, known: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1):  # an escaped \$ stays a literal $
            return m.group(0)[1:]
        name = m.group(4)
        if name is None:
            return m.group(0)
        return known.get(name, "")

    return _EXPAND.sub(sub, value)
