"""Lints: warnings about templates Rill accepts but that are likely mistakes.

They never fail a load (Rill accepts every one of these); they are ``Problem``s of severity
``warning``, printed on load and by ``rill-emu validate``, listed by the status endpoint.

- ``'{{ .args.x }}'``: an arg printed unescaped inside SQL quotes; a value holding a quote rewrites
  the query (SQL injection). Rill has one escaping helper, ``as_sql_list``.
- an arg read with no default, no condition around it, and not declared in ``openapi.parameters``
  nor ``openapi.request_schema``: a request without it renders ``<no value>`` into the SQL.
- a security expression reading a user attribute that no ``mock_users`` entry of rill.yaml has: the
  rule cannot be tried locally, and it is often a typo (only checked when there are mock users).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from emulator.project.resources import ApiSpec, MockUser, OpenAPIBlock, Problem, Project, SecurityPolicy
from emulator.templating import FieldUse, Template, arg_uses, field_uses, presence_checks

__all__ = ["Linter", "declared_args", "lint_api", "lint_project", "lint_security"]


def declared_args(block: OpenAPIBlock) -> frozenset[str]:
    """Arg names an ``openapi:`` block declares: parameter names and request_schema properties."""
    names = {str(p["name"]) for p in block.parameters or () if isinstance(p.get("name"), str)}
    schema = block.request_schema
    if isinstance(schema, Mapping):
        names.update(_schema_properties(schema, schema.get("$defs"), depth=0))
    return frozenset(names)


def _schema_properties(schema: Mapping[str, Any], defs: Any, depth: int) -> set[str]:
    if depth > 8:
        return set()
    out: set[str] = set()
    props = schema.get("properties")
    if isinstance(props, Mapping):
        out.update(str(k) for k in props)
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and isinstance(defs, Mapping):
        target = defs.get(ref[len("#/$defs/") :])
        if isinstance(target, Mapping):
            out |= _schema_properties(target, defs, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        parts = schema.get(key)
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, Mapping):
                    out |= _schema_properties(part, defs, depth + 1)
    return out


def _file_line(api: ApiSpec, template: Template, use: FieldUse) -> int | None:
    """The line of ``use`` in the API's file, as near as the spec tells.

    A SQL file is the template itself; a YAML block scalar (``sql: |``) starts on the line after its
    key; a one-line value sits on the key's line.
    """
    if api.path.endswith(".sql"):
        return use.line
    if api.line is None:
        return None
    return api.line + use.line if "\n" in template.source else api.line


def lint_api(api: ApiSpec) -> list[Problem]:
    """The args lints of one API (``sql`` and ``metrics_sql`` templates)."""
    template = api.template
    if template is None:
        return []
    declared = declared_args(api.openapi)
    problems: list[Problem] = []
    quoted: set[str] = set()
    undeclared: set[str] = set()
    key = "metrics_sql" if api.resolver == "metrics_sql" else "sql"
    for use in arg_uses(template):
        line = _file_line(api, template, use)
        dotted = ".".join(use.path)
        if use.quote is not None and dotted not in quoted:
            quoted.add(dotted)
            what = "string literal" if use.quote == "'" else "quoted identifier"
            problems.append(
                Problem(
                    api.path,
                    f"{key}: arg {_q(dotted)} is printed unescaped inside a SQL {what} "
                    f"({use.context}): a value containing {use.quote} rewrites the query (SQL "
                    "injection); use as_sql_list (without the quotes), or escape quotes with "
                    f"replace {_escape_hint(use.quote)}",
                    line,
                    "warning",
                )
            )
        if not use.guarded and use.name not in declared and use.name not in undeclared:
            undeclared.add(use.name)
            problems.append(
                Problem(
                    api.path,
                    f"{key}: arg {_q(use.name)} is used without a default ({use.context}) and is not "
                    "declared in openapi.parameters or openapi.request_schema: a request without it "
                    "renders <no value>",
                    line,
                    "warning",
                )
            )
    return problems


def _escape_hint(quote: str) -> str:
    return '"\'" "\'\'"' if quote == "'" else '"\\"" "\\"\\""'


def _q(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lint_security(
    path: str, line: int | None, policy: SecurityPolicy | None, mock_users: Sequence[MockUser]
) -> list[Problem]:
    """Warnings for user attributes a policy reads that no mock user has (none without mock users)."""
    if policy is None or not mock_users:
        return []
    known: set[str] = set()
    for user in mock_users:
        known.update(user.attributes)
    problems: list[Problem] = []
    reported: set[str] = set()
    for rule in policy.rules:
        for template in (rule.condition, rule.sql):
            if template is None:
                continue
            checked = presence_checks(template, "user")
            for use in field_uses(template, "user"):
                if use.name in known or use.name in checked or use.name in reported:
                    continue
                reported.add(use.name)
                emails = ", ".join(u.email for u in mock_users)
                problems.append(
                    Problem(
                        path,
                        f"security: user attribute {_q(use.name)} ({use.context}) is set for no mock user "
                        f"of rill.yaml ({emails}): the rule cannot be tried locally (a typo?)",
                        line,
                        "warning",
                    )
                )
    return problems


def lint_project(project: Project) -> list[Problem]:
    """Every lint of ``project``: APIs in name order, then metrics views."""
    return Linter().lints(project)


class Linter:
    """Lints projects, remembering the warnings of each spec object across reloads.

    The loader reuses the spec objects of unchanged files, so a reload lints only what changed.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[object, tuple[MockUser, ...], list[Problem]]] = {}

    def lints(self, project: Project) -> list[Problem]:
        """The warnings of ``project``."""
        users = project.config.mock_users
        cache: dict[tuple[str, str], tuple[object, tuple[MockUser, ...], list[Problem]]] = {}
        out: list[Problem] = []
        specs: Iterable[tuple[str, str, Any]] = [
            *(("api", k, project.apis[k]) for k in sorted(project.apis)),
            *(("metrics_view", k, project.metrics_views[k]) for k in sorted(project.metrics_views)),
        ]
        for kind, key, spec in specs:
            found = self._cache.get((kind, key))
            if found is None or found[0] is not spec or found[1] != users:
                problems = lint_security(spec.path, spec.line, spec.security, users)
                if kind == "api":
                    problems = lint_api(spec) + problems
                found = (spec, users, problems)
            cache[(kind, key)] = found
            out.extend(found[2])
        self._cache = cache
        return out

    def apply(self, project: Project) -> Project:
        """``project`` with its lint warnings appended to its problems."""
        warnings = self.lints(project)
        if not warnings:
            return project
        return replace(project, problems=(*project.problems, *warnings))
