"""Security policies of metrics views and APIs, evaluated as Rill's ``runtime/security.go`` does (§6.3).

A policy is an ordered list of rules (``SecurityPolicy``, translated from YAML by the loader). For one
caller the rules are walked in order: access rules set access (an explicit deny wins), field rules
allow or deny fields (the first one turns on "only allowed fields are visible"), row filters are ANDed.
Conditions are templates rendered with ``.user``, ``.env``, ``.environment`` and ``.self``, then
evaluated as boolean SQL by an isolated in-memory DuckDB, as Rill does (``duckdbsql.EvaluateBool``):
no project table is visible there, external access is off, and results are cached per rendered text.

Policies are compiled at load time (templates) and rendered per request; a resolved policy is cached
per (resource, caller attributes), like Rill's security cache.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import duckdb

from emulator import explain
from emulator.errors import BadRequest, EmuError, Forbidden
from emulator.metrics.restrictions import Restrictions
from emulator.project.resources import (
    ApiSpec,
    MetricsViewSpec,
    Problem,
    Project,
    SecurityPolicy,
    SecurityRule,
)
from emulator.templating import TemplateError

if TYPE_CHECKING:
    from emulator.identity import Claims
    from emulator.runtime import Runtime

__all__ = [
    "DUMMY_USER",
    "BoolEvaluator",
    "ExpressionError",
    "ResolvedSecurity",
    "SecurityPolicyError",
    "check_api_access",
    "evaluate_bool",
    "metrics_view_restrictions",
    "resolve_security",
    "template_data",
    "validate_project_security",
]

Kind = Literal["metrics_view", "api"]
_RESOURCE_KINDS = {"metrics_view": "rill.runtime.v1.MetricsView", "api": "rill.runtime.v1.API"}

#: The user Rill validates ``access`` and ``if`` expressions with at parse time (``parser.go``).
DUMMY_USER: Mapping[str, Any] = {
    "name": "dummy",
    "email": "mock@example.org",
    "domain": "example.org",
    "groups": ["all"],
    "admin": False,
}

_ALLOW_ALL = SecurityRule(type="access", allow=True)


class SecurityPolicyError(BadRequest):
    """A policy could not be resolved for a caller (template or expression error): 400."""


class ExpressionError(Exception):
    """A condition that is not a valid boolean SQL expression; ``message`` is Rill's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- boolean SQL expressions -----------------------------------------------------------------------


class BoolEvaluator:
    """Evaluates boolean SQL expressions in a private in-memory DuckDB, caching results by text."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._cache: dict[str, bool | str] = {}
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def evaluate(self, expr: str) -> bool:
        """``expr`` as a SQL boolean; raises ExpressionError with Rill's message otherwise."""
        cached = self._cache.get(expr)
        if cached is None:
            cached = self._run(expr)
            with self._lock:
                if len(self._cache) >= self._max:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[expr] = cached
        if isinstance(cached, str):
            raise ExpressionError(cached)
        return cached

    def _run(self, expr: str) -> bool | str:
        if not expr.strip():
            return "cannot evaluate empty expression"
        sql = f"SELECT v::BOOLEAN AS b, TYPEOF(v) = 'BOOLEAN' AS is_bool FROM (SELECT ({expr}) AS v)"
        with self._lock:
            if self._conn is None:
                self._conn = duckdb.connect(":memory:")
                self._conn.execute("SET enable_external_access = false")
            try:
                row = self._conn.execute(sql).fetchone()
            except duckdb.Error as exc:
                return f"failed to evaluate expression: {exc}"
        if row is None:  # pragma: no cover - a scalar subselect always yields one row
            return "failed to evaluate expression: sql: no rows in result set"
        value, is_bool = row
        if value is None:
            return 'failed to evaluate expression: sql: Scan error on column index 0, name "b": ' + (
                "converting NULL to bool is unsupported"
            )
        if not is_bool:
            return "failed to evaluate expression: expression did not evaluate to a bool"
        return bool(value)


_EVALUATOR = BoolEvaluator()


def evaluate_bool(expr: str) -> bool:
    """Rill's ``parser.EvaluateBoolExpression``: raises ExpressionError unless ``expr`` is a SQL boolean."""
    return _EVALUATOR.evaluate(expr)


# --- resolving a policy for one caller -------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSecurity:
    """A policy resolved for one caller (Rill's ``ResolvedSecurity``).

    ``access`` is None when no access rule matched (denied); ``field_access`` is None when no field rule
    exists (every field visible), else the explicitly allowed/denied names (others are hidden).
    """

    access: bool | None
    field_access: Mapping[str, bool] | None
    row_filter: str

    @property
    def can_access(self) -> bool:
        """Whether the resource may be used at all."""
        return bool(self.access)

    def can_access_field(self, name: str) -> bool:
        """Whether field ``name`` (exact spelling) is visible."""
        if not self.can_access:
            return False
        return self.field_access is None or self.field_access.get(name, False)


def template_data(
    attributes: Mapping[str, Any] | None,
    *,
    kind: Kind,
    name: str,
    env: Mapping[str, Any],
    environment: str,
) -> dict[str, Any]:
    """The data security templates see: ``.user``, ``.env`` (and ``.vars``), ``.environment``, ``.self``."""
    env = dict(env)  # copies: Sprig's ``set`` changes maps in place (see Runtime.template_data)
    return {
        "user": dict(attributes) if attributes is not None else {},
        "env": env,
        "vars": env,
        "environment": environment,
        "state": {},
        "self": {"kind": _RESOURCE_KINDS[kind], "name": name, "spec": None, "state": None},
    }


def resolve_security(
    policy: SecurityPolicy | None,
    data: Mapping[str, Any],
    *,
    kind: Kind = "metrics_view",
    fields: Sequence[str] = (),
) -> ResolvedSecurity:
    """Walk ``policy``'s rules for the caller described by ``data`` (see :func:`template_data`).

    No policy means the implicit allow; a policy without rules denies. ``fields`` are the resource's
    dimension and measure names (field rules only apply to metrics views). Raises
    SecurityPolicyError with Rill's ``security policy: failed to resolve …`` messages.
    """
    rules = (_ALLOW_ALL,) if policy is None else policy.rules
    access: bool | None = None
    field_access: dict[str, bool] | None = None
    row_filter = ""
    for rule in rules:
        if access is False:
            break  # an explicit deny is final
        if rule.type == "access":
            applies = _condition(rule, data, "access")
            if applies is None or applies:
                access = bool(rule.allow)
        elif rule.type == "field_access":
            if kind != "metrics_view":
                continue
            if field_access is None:
                field_access = {}
            if _condition(rule, data, "field access") is False:
                continue
            for name in fields if rule.all_fields else rule.names:
                if field_access.get(name) is not False:  # a denied field stays denied
                    field_access[name] = bool(rule.allow)
        elif rule.type == "row_filter":
            if _condition(rule, data, "row filter") is False or rule.sql is None or not rule.sql_source:
                continue
            sql = _render(rule.sql.render, data, "row filter")
            row_filter = f"({row_filter}) AND ({sql})" if row_filter else sql
    if access is False:
        return ResolvedSecurity(False, None, "")
    return ResolvedSecurity(access, field_access, row_filter)


def _condition(rule: SecurityRule, data: Mapping[str, Any], what: str) -> bool | None:
    """None when the rule has no condition, else whether it holds."""
    if rule.condition is None or not rule.condition_source:
        return None
    expr = _render(rule.condition.render, data, what)
    try:
        return _EVALUATOR.evaluate(expr)
    except ExpressionError as exc:
        raise SecurityPolicyError(f"security policy: failed to resolve {what}: {exc.message}") from None


def _render(render: Any, data: Mapping[str, Any], what: str) -> str:
    try:
        text: str = render(data)
    except TemplateError as exc:
        raise SecurityPolicyError(f"security policy: failed to resolve {what}: {exc.message}") from None
    return text


V = TypeVar("V")


class _ResolvedCache(Generic[V]):
    """Resolved policies per (resource spec, env, caller attributes); the spec objects are kept alive."""

    def __init__(self, max_entries: int = 2048) -> None:
        self._max = max_entries
        self._entries: dict[tuple[int, int, str, bytes], tuple[object, object, V]] = {}
        self._lock = threading.Lock()

    def get(self, spec: object, env: object, environment: str, attrs: bytes) -> V | None:
        hit = self._entries.get((id(spec), id(env), environment, attrs))
        if hit is None or hit[0] is not spec or hit[1] is not env:
            return None
        return hit[2]

    def put(self, spec: object, env: object, environment: str, attrs: bytes, value: V) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[(id(spec), id(env), environment, attrs)] = (spec, env, value)


@dataclass(frozen=True)
class _ViewAccess:
    """A metrics view's resolved policy for one caller, ready for the query builder."""

    can_access: bool
    row_filter: str
    hidden: tuple[str, ...]  # sorted, lower-case
    restrictions: Restrictions


_RESOLVED: _ResolvedCache[ResolvedSecurity] = _ResolvedCache()
_VIEW_ACCESS: _ResolvedCache[_ViewAccess] = _ResolvedCache()


def _resolve_cached(
    runtime: Runtime,
    spec: MetricsViewSpec | ApiSpec,
    claims: Claims,
    kind: Kind,
    fields: Sequence[str],
) -> ResolvedSecurity:
    env, environment = runtime.env_data, runtime.project.environment
    key = claims.attributes_key
    if key is not None:
        cached = _RESOLVED.get(spec, env, environment, key)
        if cached is not None:
            return cached
    data = template_data(claims.attributes, kind=kind, name=spec.name, env=env, environment=environment)
    resolved = resolve_security(spec.security, data, kind=kind, fields=fields)
    if key is not None:
        _RESOLVED.put(spec, env, environment, key, resolved)
    return resolved


def metrics_view_restrictions(runtime: Runtime, view: MetricsViewSpec, claims: Claims) -> Restrictions:
    """What ``view``'s policy lets ``claims`` see; raises BadRequest ``action not allowed`` if denied."""
    env, environment = runtime.env_data, runtime.project.environment
    key = claims.attributes_key
    access = _VIEW_ACCESS.get(view, env, environment, key) if key is not None else None
    if access is None:
        fields = [d.name for d in view.dimensions] + [m.name for m in view.measures]
        resolved = _resolve_cached(runtime, view, claims, "metrics_view", fields)
        hidden: frozenset[str] = frozenset()
        if resolved.field_access is not None:
            hidden = frozenset(f.lower() for f in fields if not resolved.field_access.get(f, False))
        restrictions = Restrictions(row_filter=resolved.row_filter or None, hidden_fields=hidden)
        access = _ViewAccess(resolved.can_access, resolved.row_filter, tuple(sorted(hidden)), restrictions)
        if key is not None:
            _VIEW_ACCESS.put(view, env, environment, key, access)
    explain.record_security(view.name, access.can_access, access.row_filter, access.hidden)
    if not access.can_access:
        raise BadRequest("action not allowed")
    return access.restrictions


def check_api_access(runtime: Runtime, api: ApiSpec, claims: Claims) -> None:
    """Enforce ``api``'s own ``security.access`` for ``claims`` (newer Rill): 403 when denied.

    A policy that fails to evaluate answers 500, as Rill's handlers answer a failed policy resolution.
    """
    if claims.skip_checks or api.security is None:
        return
    try:
        resolved = _resolve_cached(runtime, api, claims, "api", ())
    except SecurityPolicyError as exc:
        raise EmuError(exc.message) from None
    explain.record_api_access(api.name, resolved.can_access)
    if not resolved.can_access:
        raise Forbidden(f'does not have access to custom API "{api.name}"')


# --- load-time validation with the dummy user ------------------------------------------------------


def validate_project_security(project: Project) -> Project:
    """Rill's parse-time check of every ``access``/``if`` expression, for the dummy user (§6.2).

    Each condition must render and evaluate to a boolean, and each ``row_filter`` must render; a
    resource that fails is dropped from the project (as a parse error drops it in Rill) and a Problem
    with Rill's message is added. Returns ``project`` itself when nothing fails.
    """
    problems: list[Problem] = []
    views = dict(project.metrics_views)
    apis = dict(project.apis)
    for key, view in project.metrics_views.items():
        message = _policy_problem(view.security, view.name, "metrics_view")
        if message is not None:
            problems.append(Problem(view.path, message, view.line))
            del views[key]
    for key, api in project.apis.items():
        message = _policy_problem(api.security, api.name, "api")
        if message is not None:
            problems.append(Problem(api.path, f"failed to parse security rules: {message}", api.line))
            del apis[key]
    if not problems:
        return project
    return replace(project, metrics_views=views, apis=apis, problems=(*project.problems, *problems))


def _policy_problem(policy: SecurityPolicy | None, name: str, kind: Kind) -> str | None:
    if policy is None:
        return None
    data = template_data(DUMMY_USER, kind=kind, name=name, env={}, environment="dev")
    for origin, rule in _origins(policy.rules):
        if rule.type == "row_filter":
            if origin == "row_filter" and rule.sql is not None:
                try:
                    rule.sql.render(data)
                except TemplateError as exc:
                    return f"invalid 'security': 'row_filter' templating is not valid: {exc.message}"
            continue
        if rule.condition is None or not rule.condition_source:
            continue
        what = {
            "access": "invalid 'security': 'access'",
            "include_exclude": "invalid 'security': 'if' condition",
        }
        prefix = what.get(origin, "invalid 'if':")
        try:
            text = rule.condition.render(data)
        except TemplateError as exc:
            return f"{prefix} templating is not valid: {exc.message}"
        try:
            _EVALUATOR.evaluate(text)
        except ExpressionError as exc:
            return f"{prefix} expression error: {exc.message}"
    return None


def _origins(rules: Sequence[SecurityRule]) -> list[tuple[str, SecurityRule]]:
    """Which YAML construct each rule most likely came from, for Rill's error wording.

    The loader emits, in order: the ``access`` rule, the ``row_filter`` rule, the include/exclude field
    rules (always conditional, plus an unconditional allow-all when there are excludes only), then the
    generic ``rules:``. A generic conditional field rule right after that prefix is indistinguishable
    from an include/exclude and is reported with the include/exclude wording.
    """
    out: list[tuple[str, SecurityRule]] = []
    stage = 0
    for i, rule in enumerate(rules):
        if i == 0 and rule.type == "access":
            out.append(("access", rule))
            stage = 1
        elif stage == 1 and rule.type == "row_filter" and rule.condition is None:
            out.append(("row_filter", rule))
            stage = 2
        elif stage in (1, 2, 3) and rule.type == "field_access":
            out.append(("include_exclude", rule))
            stage = 3
        else:
            out.append(("rules", rule))
            stage = 4
    return out
