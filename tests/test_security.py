"""Security policies (§6.3): Rill's TestResolveMetricsView cases, expressions in DuckDB, and load checks."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from emulator.errors import BadRequest, EmuError, Forbidden
from emulator.identity import ANONYMOUS_ADMIN, Claims
from emulator.olap.duckdb import DuckDBEngine
from emulator.project.resources import SecurityPolicy, SecurityRule
from emulator.runtime import Runtime, RuntimeBuilder
from emulator.security import (
    ExpressionError,
    ResolvedSecurity,
    SecurityPolicyError,
    check_api_access,
    evaluate_bool,
    metrics_view_restrictions,
    resolve_security,
    template_data,
)
from emulator.templating import compile_template, rill_funcs

FUNCS = rill_funcs("dev")
GROUPS_IN = "groups IN ('{{ .user.groups | join \"', '\" }}')"


def access(cond: str | None = None, allow: bool = True) -> SecurityRule:
    return SecurityRule("access", allow=allow, condition=_t(cond), condition_source=cond)


def row_filter(sql: str, cond: str | None = None) -> SecurityRule:
    return SecurityRule("row_filter", condition=_t(cond), condition_source=cond, sql=_t(sql), sql_source=sql)


def fields(
    *names: str, allow: bool = True, cond: str | None = None, all_fields: bool = False
) -> SecurityRule:
    return SecurityRule(
        "field_access",
        allow=allow,
        condition=_t(cond),
        condition_source=cond,
        names=names,
        all_fields=all_fields,
    )


def _t(source: str | None) -> Any:
    return None if source is None else compile_template(source, funcs=FUNCS)


def user(domain: str, *, groups: list[str] | None, admin: bool) -> dict[str, Any]:
    return {"name": "test", "email": f"test@{domain}", "domain": domain, "groups": groups, "admin": admin}


def resolve(
    rules: list[SecurityRule] | None,
    attrs: Mapping[str, Any] | None,
    names: tuple[str, ...] = (),
    **data: Any,
) -> ResolvedSecurity:
    policy = None if rules is None else SecurityPolicy(tuple(rules))
    td = template_data(attrs, kind="metrics_view", name="test", env=data.get("env", {}), environment="dev")
    return resolve_security(policy, td, fields=names)


RILLDATA = user("rilldata.com", groups=["test"], admin=True)
ALL = user("rilldata.com", groups=["all"], admin=True)
GMAIL = user("gmail.com", groups=["test"], admin=True)

# Rill's runtime/security_test.go TestResolveMetricsView: (name, rules, attrs, fields, access, row filter,
# field access). Rules are given in the generic form, as the newest test writes them.
RILL_CASES: list[tuple[str, list[SecurityRule] | None, Any, tuple[str, ...], bool, str, Any]] = [
    (
        "test_domain",
        [access("{{.user.admin}}"), row_filter("domain = '{{.user.domain}}'")],
        RILLDATA,
        (),
        True,
        "domain = 'rilldata.com'",
        None,
    ),
    (
        "test_group",
        [access("'{{.user.domain}}' = 'rilldata.com'"), row_filter(GROUPS_IN)],
        RILLDATA,
        (),
        True,
        "groups IN ('test')",
        None,
    ),
    (
        "test_groups",
        [access("'{{.user.domain}}' = 'rilldata.com'"), row_filter(GROUPS_IN)],
        user("rilldata.com", groups=["g1", "g2"], admin=True),
        (),
        True,
        "groups IN ('g1', 'g2')",
        None,
    ),
    (
        "test_no_groups",
        [access("{{.user.admin}}"), row_filter(GROUPS_IN)],
        user("rilldata.com", groups=None, admin=False),
        (),
        False,
        "groups IN ('')",
        None,
    ),
    (
        "test_include",
        [
            access("'{{.user.domain}}' = 'rilldata.com'"),
            row_filter(GROUPS_IN),
            fields("col1", cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", cond="'{{.user.domain}}' = 'rilldata.com'"),
            fields("col3", cond="{{.user.admin}}"),
        ],
        ALL,
        (),
        True,
        "groups IN ('all')",
        {"col2": True, "col3": True},
    ),
    (
        "test_include_list",
        [
            access("'{{.user.domain}}' = 'rilldata.com'"),
            row_filter(GROUPS_IN),
            fields("col1", "col2", cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", cond="'{{.user.domain}}' = 'rilldata.com'"),
            fields("col3", cond="{{.user.admin}}"),
        ],
        ALL,
        (),
        True,
        "groups IN ('all')",
        {"col2": True, "col3": True},
    ),
    (
        "test_include_empty_condition",
        [fields("col1"), fields("col2", cond="'{{.user.domain}}' = 'rilldata.com'")],
        ALL,
        (),
        False,
        "",
        {"col1": True, "col2": True},
    ),
    (
        "test_no_include_matched",
        [
            fields("col1", "col2", cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", cond="'{{.user.domain}}' = 'rilldata.com'"),
        ],
        GMAIL,
        (),
        False,
        "",
        {},
    ),
    (
        "test_exclude",
        [
            fields("col1", "col2", allow=False, cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", allow=False, cond="'{{.user.domain}}' = 'rilldata.com'"),
        ],
        ALL,
        (),
        False,
        "",
        {"col2": False},
    ),
    (
        "test_exclude_list",
        [
            fields("col1", "col2", allow=False, cond="'{{.user.domain}}' = 'test.com'"),
            fields("col3", allow=False, cond="'{{.user.domain}}' != 'rilldata.com'"),
        ],
        ALL,
        (),
        False,
        "",
        {},
    ),
    (
        "test_deny_precedence",
        [
            fields(all_fields=True),
            fields("col1", "col2", allow=False, cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", allow=False, cond="'{{.user.domain}}' = 'rilldata.com'"),
        ],
        RILLDATA,
        ("col1", "col2"),
        False,
        "",
        {"col1": True, "col2": False},
    ),
    (
        "test_no_exclude_matched",
        [
            fields(all_fields=True),
            fields("col1", "col2", allow=False, cond="'{{.user.domain}}' = 'test.com'"),
            fields("col2", allow=False, cond="'{{.user.domain}}' = 'rilldata.com'"),
        ],
        GMAIL,
        ("col1", "col2"),
        False,
        "",
        {"col1": True, "col2": True},
    ),
    ("test_empty_Security", None, ALL, (), True, "", None),
    ("test_nil_Security", None, ALL, (), True, "", None),
    (
        "test_empty_user_attr",
        [access("'{{.user.domain}}' = 'rilldata.com'"), row_filter("domain = '{{.user.domain}}'")],
        None,
        (),
        False,
        "domain = '<no value>'",
        None,
    ),
    (
        "test_empty_access",
        [row_filter("domain = '{{.user.domain}}'")],
        ALL,
        (),
        False,
        "domain = 'rilldata.com'",
        None,
    ),
    (
        "test_composite_condition_1",
        [
            access("'{{.user.domain}}' = 'rilldata.com' OR '{{.user.domain}}' = 'gmail.com'"),
            row_filter(GROUPS_IN),
        ],
        user("exclude.com", groups=["test"], admin=True),
        (),
        False,
        "groups IN ('test')",
        None,
    ),
    (
        "test_composite_condition_2",
        [
            access(
                "('{{.user.domain}}' = 'rilldata.com' OR '{{.user.domain}}' = 'gmail.com') "
                "AND {{.user.admin}}"
            ),
            row_filter(GROUPS_IN),
        ],
        RILLDATA,
        (),
        True,
        "groups IN ('test')",
        None,
    ),
]


@pytest.mark.parametrize(
    ("rules", "attrs", "names", "can_access", "rf", "field_access"),
    [case[1:] for case in RILL_CASES],
    ids=[case[0] for case in RILL_CASES],
)
def test_rill_resolve_metrics_view_cases(
    rules: list[SecurityRule] | None,
    attrs: Any,
    names: tuple[str, ...],
    can_access: bool,
    rf: str,
    field_access: Any,
) -> None:
    got = resolve(rules, attrs, names)
    assert got.can_access is can_access
    assert got.row_filter == rf
    assert got.field_access == field_access


class TestAccess:
    """Access rules: deny wins, implicit allow, ``security:`` without access denies."""

    def test_an_explicit_deny_wins_over_a_later_allow_and_clears_filters_and_fields(self) -> None:
        rules = [
            access(),
            row_filter("x = 1"),
            fields("a"),
            access("'{{ .user.domain }}' = 'evil.com'", allow=False),
            access(),
        ]
        got = resolve(rules, {"domain": "evil.com"}, ("a", "b"))
        assert got == ResolvedSecurity(False, None, "")
        assert not got.can_access_field("a")
        assert resolve(rules, {"domain": "good.com"}, ("a", "b")) == ResolvedSecurity(
            True, {"a": True}, "x = 1"
        )

    def test_a_deny_before_an_allow_also_wins(self) -> None:
        assert not resolve([access(allow=False), access()], {}).can_access

    def test_no_policy_allows_and_an_empty_policy_denies(self) -> None:
        assert resolve(None, {}).can_access
        assert resolve(None, {}).can_access_field("anything")
        assert not resolve([], {}).can_access

    def test_security_without_access_denies_even_with_a_row_filter(self) -> None:
        got = resolve([access(allow=False), row_filter("x = 1")], {"admin": True})
        assert got == ResolvedSecurity(False, None, "")

    def test_a_false_condition_leaves_access_undecided_which_denies(self) -> None:
        got = resolve([access("false")], {})
        assert got.access is None and not got.can_access

    def test_has_on_groups(self) -> None:
        rules = [access('{{ has "partners" .user.groups }}')]
        assert resolve(rules, {"groups": ["staff", "partners"]}).can_access
        assert not resolve(rules, {"groups": ["staff"]}).can_access
        assert not resolve(rules, {"groups": None}).can_access  # a mock user with no groups
        assert not resolve(rules, {}).can_access

    def test_nil_attributes_render_no_value(self) -> None:
        got = resolve(
            [access("'{{ .user.email }}' = '<no value>'"), row_filter("e = '{{ .user.email }}'")], None
        )
        assert (got.can_access, got.row_filter) == (True, "e = '<no value>'")

    def test_a_missing_admin_attribute_is_a_hard_error(self) -> None:
        with pytest.raises(SecurityPolicyError) as err:
            resolve([access("{{ .user.admin }}")], {"email": "a@b.c"})
        assert err.value.status == 400
        assert err.value.message.startswith(
            "security policy: failed to resolve access: "
            "failed to evaluate expression: Parser Error: syntax error"
        )

    @pytest.mark.parametrize(
        ("cond", "message"),
        [
            ("1 + 1", "failed to evaluate expression: expression did not evaluate to a bool"),
            ("'yes'", "failed to evaluate expression: expression did not evaluate to a bool"),
            ("{{ if false }}x{{ end }}", "cannot evaluate empty expression"),
        ],
    )
    def test_non_boolean_conditions_are_errors(self, cond: str, message: str) -> None:
        with pytest.raises(SecurityPolicyError) as err:
            resolve([access(cond)], {})
        assert err.value.message == f"security policy: failed to resolve access: {message}"

    def test_template_errors_name_the_rule_kind(self) -> None:
        with pytest.raises(
            SecurityPolicyError, match=r"^security policy: failed to resolve row filter: template: "
        ):
            resolve([access(), row_filter("{{ eq .user.n 1 }}")], {"n": "x"})
        with pytest.raises(SecurityPolicyError, match=r"^security policy: failed to resolve field access: "):
            resolve([access(), fields("a", cond="{{ .user.nope }}")], {}, ("a",))

    def test_env_environment_and_self_are_available(self) -> None:
        rules = [
            access(
                "'{{ .env.tier }}' = 'gold' AND '{{ .environment }}' = 'dev' AND '{{ .self.name }}' = 'test'"
            ),
            row_filter("kind = '{{ .self.kind }}' AND v = '{{ .vars.tier }}'"),
        ]
        got = resolve(rules, {}, env={"tier": "gold"})
        assert got.can_access
        assert got.row_filter == "kind = 'rill.runtime.v1.MetricsView' AND v = 'gold'"


class TestRowFilters:
    """Row filters: conditional, ANDed in order."""

    def test_row_filters_are_anded_in_order(self) -> None:
        rules = [
            access(),
            row_filter("a = 1"),
            row_filter("b = 2", cond="{{ .user.admin }}"),
            row_filter("c OR d"),
        ]
        assert resolve(rules, {"admin": True}).row_filter == "((a = 1) AND (b = 2)) AND (c OR d)"
        assert resolve(rules, {"admin": False}).row_filter == "(a = 1) AND (c OR d)"


class TestFieldAccess:
    """Field rules: the first one switches to "only allowed fields", deny is sticky."""

    def test_an_excluded_field_cannot_be_allowed_again(self) -> None:
        rules = [access(), fields("a", allow=False), fields(all_fields=True)]
        got = resolve(rules, {}, ("a", "b"))
        assert got.field_access == {"a": False, "b": True}
        assert not got.can_access_field("a") and got.can_access_field("b") and not got.can_access_field("c")

    def test_field_rules_do_not_apply_to_apis(self) -> None:
        td = template_data({}, kind="api", name="x", env={}, environment="dev")
        got = resolve_security(SecurityPolicy((access(), fields("a", allow=False))), td, kind="api")
        assert got == ResolvedSecurity(True, None, "")


class TestEvaluateBool:
    """Rill's ``duckdbsql.TestEvaluateBool`` (newest version: only real booleans pass)."""

    @pytest.mark.parametrize(
        ("expr", "want"),
        [
            ("true", True),
            ("false", False),
            ("1 = 1", True),
            ("1 < 0", False),
            ("true = 'true'", True),
            ("'hello' = 'world'", False),
            ("CASE WHEN 1 = 1 THEN true ELSE false END", True),
            ("'a' = 'a' AND NOT ('b' IN ('c', 'd'))", True),
        ],
    )
    def test_booleans(self, expr: str, want: bool) -> None:
        assert evaluate_bool(expr) is want

    @pytest.mark.parametrize(
        ("expr", "message"),
        [
            ("0 + 0", "failed to evaluate expression: expression did not evaluate to a bool"),
            ("1 + 1", "failed to evaluate expression: expression did not evaluate to a bool"),
            ("CURRENT_TIMESTAMP", "failed to evaluate expression: Conversion Error"),
            ("10 * 'foo'", "failed to evaluate expression: Conversion Error"),
            ("syntax 'error", "failed to evaluate expression: Parser Error"),
            ("", "cannot evaluate empty expression"),
            ("  ", "cannot evaluate empty expression"),
            ("NULL = 1", 'failed to evaluate expression: sql: Scan error on column index 0, name "b"'),
        ],
    )
    def test_errors(self, expr: str, message: str) -> None:
        with pytest.raises(ExpressionError) as err:
            evaluate_bool(expr)
        assert err.value.message.startswith(message)

    def test_expressions_run_in_an_isolated_database(self, tmp_path: Path) -> None:
        with pytest.raises(ExpressionError, match="Catalog Error"):
            evaluate_bool("(SELECT count(*) FROM orders) > 0")
        (tmp_path / "x.csv").write_text("a\n1\n")
        with pytest.raises(ExpressionError, match="Permission Error"):
            evaluate_bool(f"(SELECT count(*) FROM read_csv('{tmp_path / 'x.csv'}')) > 0")


# --- against a real runtime --------------------------------------------------------------------------

PROJECT = {
    "rill.yaml": "env:\n  tier: gold\n",
    "models/orders.sql": """
        SELECT * FROM (VALUES
          (1, 'EMEA', 10, 4, TIMESTAMP '2024-01-01'),
          (2, 'AMER', 20, 5, TIMESTAMP '2024-01-02'),
          (3, 'EMEA', 30, 6, TIMESTAMP '2024-01-03')
        ) t(id, region, amount, cost, ts)
    """,
    "metrics/orders_mv.yaml": """
        type: metrics_view
        model: orders
        timeseries: ts
        dimensions:
          - column: region
          - name: Id
            column: id
        measures:
          - name: total
            expression: SUM(amount)
          - name: Cost
            expression: SUM(cost)
        security:
          access: "'{{ .env.tier }}' = 'gold'"
          row_filter: "region = '{{ .user.region }}'"
          exclude:
            - if: "NOT {{ .user.admin }}"
              names: [Cost, Id, ts]
    """,
    "apis/admins.yaml": """
        type: api
        security:
          access: "{{ .user.admin }}"
        sql: SELECT 1 AS one
    """,
    "apis/open.yaml": """
        type: api
        sql: SELECT 1 AS one
    """,
}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    root = write(tmp_path_factory.mktemp("security"), PROJECT)
    engine = DuckDBEngine(root)
    try:
        yield RuntimeBuilder(root, engine).build()
    finally:
        engine.close()


def write(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def as_user(**attrs: Any) -> Claims:
    return Claims(attrs, source="attributes")


class TestMetricsViewRestrictions:
    """What the metrics layer receives: a row filter and lower-cased hidden fields."""

    def test_anonymous_skips_every_check(self, runtime: Runtime) -> None:
        view = runtime.project.metrics_views["orders_mv"]
        assert runtime.metrics_restrictions(view, ANONYMOUS_ADMIN) == runtime.metrics_restrictions(
            view, Claims({}, skip_checks=True)
        )
        assert runtime.metrics_restrictions(view, ANONYMOUS_ADMIN).row_filter is None

    def test_restrictions_for_a_non_admin(self, runtime: Runtime) -> None:
        view = runtime.project.metrics_views["orders_mv"]
        got = metrics_view_restrictions(runtime, view, as_user(admin=False, region="EMEA"))
        assert got.row_filter == "region = 'EMEA'"
        assert got.hidden_fields == {"cost", "id", "ts"}
        admin = metrics_view_restrictions(runtime, view, as_user(admin=True, region="EMEA"))
        assert admin.hidden_fields == frozenset()

    def test_results_are_cached_per_attributes(self, runtime: Runtime) -> None:
        view = runtime.project.metrics_views["orders_mv"]
        first = metrics_view_restrictions(runtime, view, as_user(admin=False, region="AMER"))
        assert metrics_view_restrictions(runtime, view, as_user(admin=False, region="AMER")) == first
        other = metrics_view_restrictions(runtime, view, as_user(admin=False, region="APAC"))
        assert other.row_filter == "region = 'APAC'"

    def test_cached_answers_keep_value_types_and_view_versions_apart(self, runtime: Runtime) -> None:
        view = runtime.project.metrics_views["orders_mv"]
        as_int = metrics_view_restrictions(runtime, view, as_user(admin=False, region=1))
        as_bool = metrics_view_restrictions(runtime, view, as_user(admin=False, region=True))
        assert (as_int.row_filter, as_bool.row_filter) == ("region = '1'", "region = 'true'")
        assert view.security is not None
        rules = tuple(
            dataclasses.replace(r, sql=compile_template("1 = 1")) if r.type == "row_filter" else r
            for r in view.security.rules
        )
        edited = dataclasses.replace(view, security=dataclasses.replace(view.security, rules=rules))
        emea = as_user(admin=False, region="EMEA")
        assert metrics_view_restrictions(runtime, view, emea).row_filter == "region = 'EMEA'"
        assert metrics_view_restrictions(runtime, edited, emea).row_filter == "1 = 1"

    def test_a_denied_caller_gets_action_not_allowed(self, runtime: Runtime) -> None:
        view = runtime.project.metrics_views["orders_mv"]
        denied = dataclasses.replace(runtime, env_data={"tier": "silver"})
        with pytest.raises(BadRequest) as err:
            metrics_view_restrictions(denied, view, as_user(admin=True))
        assert (err.value.status, err.value.message) == (400, "action not allowed")

    def test_hidden_fields_and_the_time_dimension_through_a_query(self, runtime: Runtime) -> None:
        emea = as_user(admin=False, region="EMEA")
        rows = _metrics_sql(runtime, "SELECT region, total FROM orders_mv", emea)
        assert rows == [("EMEA", 40)]
        by_day = _metrics_sql(
            runtime, "SELECT date_trunc('day', ts) AS d, total FROM orders_mv ORDER BY d", emea
        )
        assert [r[1] for r in by_day] == [10, 30]
        with pytest.raises(BadRequest, match=r'^invalid measure "Cost": action not allowed$'):
            _metrics_sql(runtime, "SELECT region, Cost FROM orders_mv", emea)
        with pytest.raises(BadRequest, match=r'^invalid dimension "Id": action not allowed$'):
            _metrics_sql(runtime, "SELECT Id, total FROM orders_mv", emea)


def _metrics_sql(runtime: Runtime, sql: str, claims: Claims) -> list[tuple[Any, ...]]:
    from emulator.project.resources import ApiSpec

    api = ApiSpec("q", "/q.yaml", ("/q.yaml",), "metrics_sql", {"sql": sql}, template=compile_template(sql))
    return runtime.resolve(api, {}, claims).rows


class TestApiAccess:
    """An API's own ``security.access``, enforced at call time (newer Rill)."""

    def test_denied_callers_get_403(self, runtime: Runtime) -> None:
        api = runtime.project.apis["admins"]
        check_api_access(runtime, api, as_user(admin=True))
        check_api_access(runtime, api, ANONYMOUS_ADMIN)
        with pytest.raises(Forbidden) as err:
            check_api_access(runtime, api, as_user(admin=False))
        assert err.value.message == 'does not have access to custom API "admins"'

    def test_apis_without_security_are_open(self, runtime: Runtime) -> None:
        check_api_access(runtime, runtime.project.apis["open"], as_user())

    def test_a_policy_that_cannot_be_evaluated_is_a_server_error(self, runtime: Runtime) -> None:
        with pytest.raises(EmuError) as err:
            check_api_access(runtime, runtime.project.apis["admins"], as_user(email="x@y.z"))
        assert err.value.status == 500
        assert err.value.message.startswith("security policy: failed to resolve access: failed to evaluate")


class TestLoadTimeValidation:
    """Rill checks every access/if expression for a dummy user at parse time."""

    @pytest.fixture
    def build(self, tmp_path: Path) -> Iterator[Callable[[Mapping[str, str]], Runtime]]:
        engines: list[DuckDBEngine] = []

        def run(files: Mapping[str, str]) -> Runtime:
            root = write(tmp_path / f"p{len(engines)}", {"rill.yaml": "", **files})
            engines.append(DuckDBEngine(root))
            return RuntimeBuilder(root, engines[-1]).build()

        yield run
        for engine in engines:
            engine.close()

    MODEL = {"models/m.sql": "SELECT 1 AS a, 2 AS b"}

    @staticmethod
    def view(security: str) -> dict[str, str]:
        body = (
            "type: metrics_view\nmodel: m\ndimensions: [{column: a}]\n"
            "measures: [{name: n, expression: COUNT(*)}]\n"
        )
        return {"metrics/mv.yaml": body + "security:\n" + textwrap.indent(textwrap.dedent(security), "  ")}

    @pytest.mark.parametrize(
        ("security", "message"),
        [
            (
                'access: "1 + 1"',
                "invalid 'security': 'access' expression error: failed to evaluate expression: "
                "expression did not evaluate to a bool",
            ),
            (
                "access: \"'{{ .env.x }}' = 'y' AND {{ .env.x }}\"",
                "invalid 'security': 'access' expression error: failed to evaluate expression: Parser Error",
            ),
            (
                'access: true\nexclude:\n  - if: "{{ .user.groups }}"\n    names: [n]',
                "invalid 'security': 'if' condition expression error: failed to evaluate expression: ",
            ),
            (
                'access: true\nrow_filter: "{{ eq .user.admin 1 }}"',
                "invalid 'security': 'row_filter' templating is not valid: template: ",
            ),
            (
                'access: true\nrules:\n  - type: access\n    action: deny\n    if: "2"',
                "invalid 'if': expression error: failed to evaluate expression: "
                "expression did not evaluate to a bool",
            ),
        ],
    )
    def test_invalid_expressions_drop_the_view_with_rills_message(
        self, build: Callable[[Mapping[str, str]], Runtime], security: str, message: str
    ) -> None:
        runtime = build({**self.MODEL, **self.view(security)})
        assert "mv" not in runtime.project.metrics_views
        found = [p for p in runtime.problems if p.path == "/metrics/mv.yaml"]
        assert len(found) == 1 and found[0].message.startswith(message), runtime.problems

    def test_the_dummy_user_is_not_an_admin_and_has_groups(
        self, build: Callable[[Mapping[str, str]], Runtime]
    ) -> None:
        security = """
            access: "NOT {{ .user.admin }} AND '{{ .user.domain }}' = 'example.org'"
            exclude:
              - if: "{{ has \\"all\\" .user.groups }}"
                names: [n]
        """
        runtime = build({**self.MODEL, **self.view(security)})
        assert "mv" in runtime.project.metrics_views and not runtime.problems

    def test_api_problems_are_wrapped_as_rill_wraps_them(
        self, build: Callable[[Mapping[str, str]], Runtime]
    ) -> None:
        api = 'type: api\nsecurity:\n  access: "{{ .user.tier }}"\nsql: SELECT 1 AS one\n'
        runtime = build({"apis/a.yaml": api, "apis/b.yaml": "type: api\nsql: SELECT 1 AS one\n"})
        assert set(runtime.project.apis) == {"b"}
        (problem,) = runtime.problems
        assert problem.path == "/apis/a.yaml"
        assert problem.message.startswith(
            "failed to parse security rules: invalid 'security': 'access' expression error: "
            "failed to evaluate expression: Parser Error"
        )
