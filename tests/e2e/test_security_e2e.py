"""Acting as a user over HTTP: identities, metrics-view security, API access, cloud routes, explain."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from emulator.testing import EmuServer
from tests.e2e.conftest import ServeFn

API = "/v1/instances/default/api"
CLOUD = "/v1/organizations/acme/projects/shop/runtime/api"
LEGACY_CLOUD = "/v1/orgs/acme/projects/shop/runtime/api"

FILES = {
    "rill.yaml": """
        mock_users:
          - email: ada@acme.com
            name: Ada
            admin: true
          - email: emma@acme.eu
            name: Emma
            groups: [sales]
          - email: al@acme.com
            groups: [sales, partners]
    """,
    "models/orders.sql": """
        SELECT * FROM (VALUES
          (1, 'EMEA', 10, 4), (2, 'AMER', 20, 5), (3, 'EMEA', 30, 6), (4, 'APAC', 40, 7)
        ) t(id, region, amount, cost)
    """,
    # Which regions each user may see: the row filter reads it through a subquery.
    "models/region_access.sql": """
        SELECT * FROM (VALUES ('emma@acme.eu', 'EMEA'), ('al@acme.com', 'AMER'), ('al@acme.com', 'APAC'))
          t(email, region)
    """,
    "metrics/orders_mv.yaml": """
        type: metrics_view
        model: orders
        dimensions:
          - column: region
        measures:
          - name: total
            expression: SUM(amount)
          - name: cost
            expression: SUM(cost)
        security:
          access: true
          row_filter: >
            {{ if not .user.admin }}
            region IN (SELECT region FROM region_access WHERE email = '{{ .user.email }}')
            {{ else }} TRUE {{ end }}
          exclude:
            - if: "NOT {{ .user.admin }}"
              names: [cost]
    """,
    "metrics/partners_mv.yaml": """
        type: metrics_view
        model: orders
        dimensions: [{column: region}]
        measures: [{name: total, expression: SUM(amount)}]
        security:
          access: '{{ has "partners" .user.groups }}'
    """,
    "metrics/locked_mv.yaml": """
        type: metrics_view
        model: orders
        dimensions: [{column: region}]
        measures: [{name: total, expression: SUM(amount)}]
        security:
          row_filter: "region = 'EMEA'"
    """,
    "apis/totals.yaml": """
        type: api
        metrics_sql: SELECT region, total FROM orders_mv ORDER BY region
    """,
    "apis/costs.yaml": """
        type: api
        metrics_sql: SELECT region, cost FROM orders_mv ORDER BY region
    """,
    "apis/totals_struct.yaml": """
        type: api
        metrics:
          metrics_view: orders_mv
          dimensions: [{name: region}]
          measures: [{name: total}]
          sort: [{name: region}]
    """,
    "apis/partners.yaml": """
        type: api
        metrics_sql: SELECT region, total FROM partners_mv ORDER BY region
    """,
    "apis/locked.yaml": """
        type: api
        metrics_sql: SELECT region, total FROM locked_mv ORDER BY region
    """,
    "apis/raw.yaml": """
        type: api
        sql: SELECT region, SUM(amount) AS total FROM orders GROUP BY 1 ORDER BY 1
    """,
    "apis/global.yaml": """
        type: api
        skip_nested_security: true
        metrics_sql: SELECT total FROM orders_mv
    """,
    "apis/admin_global.yaml": """
        type: api
        skip_nested_security: true
        security:
          access: "{{ .user.admin }}"
        metrics_sql: SELECT total FROM orders_mv
    """,
    "apis/admin_only.yaml": """
        type: api
        security:
          access: "{{ .user.admin }}"
        sql: SELECT 'secret' AS s
    """,
    "apis/bad_rules.yaml": """
        type: api
        security:
          access: true
          row_filter: "1 = 1"
        sql: SELECT 1 AS one
    """,
    "rill-emu.json": """
        {"tokens": {"rill_usr_emma": "emma@acme.eu",
                    "rill_svc_bi": {"attributes": {"admin": false, "email": "al@acme.com"}}}}
    """,
}

EMMA_ROWS = [{"region": "EMEA", "total": 40}]
AL_ROWS = [{"region": "AMER", "total": 20}, {"region": "APAC", "total": 40}]
ALL_ROWS = [{"region": "AMER", "total": 20}, {"region": "APAC", "total": 40}, {"region": "EMEA", "total": 40}]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.e2e.conftest import write_project

    root = write_project(tmp_path_factory.mktemp("security_e2e"), FILES)
    with EmuServer(root, watch=False) as srv:
        yield srv


def get(server: EmuServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers)


def user(email: str) -> dict[str, str]:
    return {"X-Rill-User": email}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dev_jwt(server: EmuServer, **body: Any) -> str:
    resp = httpx.post(server.url + "/v1/dev-jwt", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    token: str = resp.json()["jwt"]
    return token


class TestIdentities:
    """Each way of saying who calls."""

    def test_anonymous_skips_all_security(self, server: EmuServer) -> None:
        assert get(server, f"{API}/totals").json() == ALL_ROWS
        assert get(server, f"{API}/locked").status_code == 200
        assert get(server, f"{API}/admin_only").json() == [{"s": "secret"}]

    def test_mock_users_get_different_rows(self, server: EmuServer) -> None:
        assert get(server, f"{API}/totals", **user("emma@acme.eu")).json() == EMMA_ROWS
        assert get(server, f"{API}/totals", **user("al@acme.com")).json() == AL_ROWS
        assert get(server, f"{API}/totals", **user("ada@acme.com")).json() == ALL_ROWS

    def test_a_dev_jwt_from_v1_dev_jwt(self, server: EmuServer) -> None:
        token = dev_jwt(server, name="Emma", email="emma@acme.eu", groups=["sales"])
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert payload["attr"]["domain"] == "acme.eu"
        assert payload["perm"] == [1, 17, 18, 32, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28]
        assert get(server, f"{API}/totals", **bearer(token)).json() == EMMA_ROWS

    def test_dev_jwt_errors_come_in_grpc_gateway_shape(self, server: EmuServer) -> None:
        resp = httpx.post(server.url + "/v1/dev-jwt", json={"admin": "yes"})
        assert resp.status_code == 400
        assert resp.json() == {
            "code": 3,
            "message": "proto: invalid value for bool field admin",
            "details": [],
        }

    def test_ad_hoc_attributes(self, server: EmuServer) -> None:
        headers = {"X-Rill-Attributes": json.dumps({"admin": False, "email": "al@acme.com"})}
        assert get(server, f"{API}/totals", **headers).json() == AL_ROWS

    def test_a_malformed_token_is_a_plain_text_401(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/totals", **bearer("not-a-jwt"))
        assert resp.status_code == 401
        assert resp.headers["content-type"] == "text/plain; charset=utf-8"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.text == "token contains an invalid number of segments\n"

    def test_an_unknown_mock_user_is_a_401_listing_the_known_ones(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/totals", **user("eve@acme.com"))
        assert resp.status_code == 401
        assert resp.headers["content-type"] == "application/json; charset=utf-8"
        assert resp.json() == {
            "error": 'unknown mock user "eve@acme.com" (X-Rill-User header); '
            "known mock users: ada@acme.com, emma@acme.eu, al@acme.com"
        }

    def test_malformed_attributes_are_a_400(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/totals", **{"X-Rill-Attributes": "[]"})
        assert (resp.status_code, resp.json()) == (
            400,
            {"error": "invalid X-Rill-Attributes header: expected a JSON object"},
        )

    def test_a_token_without_read_api_is_a_403(self, server: EmuServer) -> None:
        header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
        payload = base64.urlsafe_b64encode(b'{"attr":{"admin":true},"perm":[23]}').rstrip(b"=").decode()
        resp = get(server, f"{API}/totals", **bearer(f"{header}.{payload}."))
        assert (resp.status_code, resp.json()) == (403, {"error": "does not have access to custom APIs"})


class TestMetricsViewSecurity:
    """The policy applies to metrics_sql, metrics and the built-ins, not to sql."""

    def test_structured_metrics_and_the_builtin_are_filtered(self, server: EmuServer) -> None:
        assert get(server, f"{API}/totals_struct", **user("emma@acme.eu")).json() == EMMA_ROWS
        query = {
            "metrics_view": "orders_mv",
            "dimensions": [{"name": "region"}],
            "measures": [{"name": "total"}],
        }
        resp = httpx.post(server.url + f"{API}/metrics", json=query, headers=user("emma@acme.eu"))
        assert resp.json() == EMMA_ROWS

    def test_the_sql_resolver_ignores_metrics_view_security(self, server: EmuServer) -> None:
        assert get(server, f"{API}/raw", **user("emma@acme.eu")).json() == ALL_ROWS

    def test_the_builtin_metrics_sql_is_for_admins(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/metrics-sql?sql=SELECT total FROM orders_mv", **user("emma@acme.eu"))
        assert (resp.status_code, resp.json()) == (
            400,
            {"error": "must be an admin to run arbitrary SQL queries"},
        )
        resp = get(server, f"{API}/metrics-sql?sql=SELECT total FROM orders_mv", **user("ada@acme.com"))
        assert resp.json() == [{"total": 100}]

    def test_a_hidden_field_is_a_400(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/costs", **user("emma@acme.eu"))
        assert (resp.status_code, resp.json()) == (
            400,
            {"error": 'invalid measure "cost": action not allowed'},
        )
        assert get(server, f"{API}/costs", **user("ada@acme.com")).status_code == 200

    def test_access_denied_is_a_400_action_not_allowed(self, server: EmuServer) -> None:
        assert get(server, f"{API}/partners", **user("al@acme.com")).json() == ALL_ROWS
        resp = get(server, f"{API}/partners", **user("emma@acme.eu"))
        assert (resp.status_code, resp.json()) == (400, {"error": "action not allowed"})

    def test_security_without_access_denies_everyone(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/locked", **user("ada@acme.com"))
        assert (resp.status_code, resp.json()) == (400, {"error": "action not allowed"})

    def test_skip_nested_security(self, server: EmuServer) -> None:
        assert get(server, f"{API}/global", **user("emma@acme.eu")).json() == [{"total": 100}]
        assert get(server, f"{API}/admin_global", **user("ada@acme.com")).json() == [{"total": 100}]
        resp = get(server, f"{API}/admin_global", **user("emma@acme.eu"))
        assert resp.status_code == 403


class TestApiSecurity:
    """An API's own access rule: 403 at call time, the OpenAPI document unfiltered."""

    def test_a_denied_caller_gets_403(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/admin_only", **user("emma@acme.eu"))
        assert resp.status_code == 403
        assert resp.headers["content-type"] == "application/json; charset=utf-8"
        assert resp.json() == {"error": 'does not have access to custom API "admin_only"'}
        assert get(server, f"{API}/admin_only", **user("ada@acme.com")).json() == [{"s": "secret"}]

    def test_the_openapi_document_is_not_filtered(self, server: EmuServer) -> None:
        doc = get(server, f"{API}/openapi", **user("emma@acme.eu")).json()
        assert "/admin_only" in doc["paths"]

    def test_non_access_rules_on_an_api_are_a_load_problem(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/bad_rules")
        assert resp.status_code == 404
        assert "the 'api' resource type only supports 'access' security rules" in resp.json()["error"]


class TestCloudRoutes:
    """Rill Cloud's runtime proxy paths, served by the same handlers."""

    @pytest.mark.parametrize("base", [CLOUD, LEGACY_CLOUD])
    def test_no_token_is_a_401(self, server: EmuServer, base: str) -> None:
        resp = get(server, f"{base}/totals")
        assert resp.status_code == 401
        assert resp.json() == {"error": "does not have permission to access the production deployment"}

    def test_an_unknown_token_is_rejected_as_rill_cloud_rejects_it(self, server: EmuServer) -> None:
        resp = get(server, f"{CLOUD}/totals", **bearer("rill_usr_nobody"))
        assert (resp.status_code, resp.text) == (401, "token contains an invalid number of segments\n")

    @pytest.mark.parametrize("base", [CLOUD, LEGACY_CLOUD])
    def test_opaque_tokens_from_rill_emu_json(self, server: EmuServer, base: str) -> None:
        assert get(server, f"{base}/totals", **bearer("rill_usr_emma")).json() == EMMA_ROWS
        assert get(server, f"{base}/totals", **bearer("rill_svc_bi")).json() == AL_ROWS

    def test_dev_jwts_and_mock_user_headers_work_there_too(self, server: EmuServer) -> None:
        token = dev_jwt(server, email="al@acme.com")
        assert get(server, f"{CLOUD}/totals", **bearer(token)).json() == AL_ROWS
        assert get(server, f"{CLOUD}/totals", **user("emma@acme.eu")).json() == EMMA_ROWS
        assert get(server, f"{CLOUD}/admin_only", **user("emma@acme.eu")).status_code == 403

    def test_openapi_is_served_with_the_cloud_server_url(self, server: EmuServer) -> None:
        resp = get(server, f"{CLOUD}/openapi", **bearer("rill_usr_emma"))
        assert resp.status_code == 200
        assert resp.json()["servers"] == [{"url": f"{server.url}{CLOUD}"}]
        assert get(server, f"{CLOUD}/openapi").status_code == 401


class TestExplain:
    """``X-Rill-Emu-Explain: 1`` adds headers; the body never changes."""

    def test_explain_headers(self, server: EmuServer) -> None:
        plain = get(server, f"{API}/totals", **user("emma@acme.eu"))
        assert "x-rill-emu-explain" not in plain.headers
        resp = get(server, f"{API}/totals", **user("emma@acme.eu"), **{"X-Rill-Emu-Explain": "1"})
        assert resp.content == plain.content
        doc = json.loads(resp.headers["x-rill-emu-explain"])
        assert doc["identity"]["source"] == "mock_user"
        assert doc["identity"]["subject"] == "emma@acme.eu"
        assert doc["identity"]["skip_checks"] is False
        assert doc["api"] == {"name": "totals", "resolver": "metrics_sql", "args": {}}
        (security,) = doc["security"]
        assert security["metrics_view"] == "orders_mv" and security["hidden_fields"] == ["cost"]
        assert "region_access WHERE email = 'emma@acme.eu'" in security["row_filter"]
        (query,) = doc["queries"]
        assert "region_access" in query["sql"] and query["rows"] == 1
        assert doc["duration_ms"] >= query["duration_ms"] >= 0
        assert resp.headers["server-timing"].startswith("total;dur=")

    def test_explain_on_errors(self, server: EmuServer) -> None:
        resp = get(server, f"{API}/admin_only", **user("emma@acme.eu"), **{"X-Rill-Emu-Explain": "true"})
        assert resp.status_code == 403
        doc = json.loads(resp.headers["x-rill-emu-explain"])
        assert doc["security"] == [{"api": "admin_only", "access": False}]
        assert doc["queries"] == []


def test_serve_as_a_default_user(serve: ServeFn) -> None:
    server = serve({k: v for k, v in FILES.items() if k != "rill-emu.json"}, default_user="emma@acme.eu")
    assert get(server, f"{API}/totals").json() == EMMA_ROWS
    assert get(server, f"{API}/totals", **user("al@acme.com")).json() == AL_ROWS
    assert get(server, f"{CLOUD}/totals").json() == EMMA_ROWS
    status = get(server, "/v1/instances/default/emu/status").json()
    assert [p["path"] for p in status["problems"]] == ["/apis/bad_rules.yaml"]


def test_a_policy_failing_the_dummy_user_check_is_a_load_problem(serve: ServeFn) -> None:
    files = {
        "models/m.sql": "SELECT 1 AS a",
        "metrics/mv.yaml": """
            type: metrics_view
            model: m
            dimensions: [{column: a}]
            measures: [{name: n, expression: COUNT(*)}]
            security:
              access: "{{ .user.tier }} = 'gold'"
        """,
        "apis/q.yaml": "type: api\nmetrics_sql: SELECT n FROM mv\n",
    }
    server = serve(files)
    (problem,) = get(server, "/v1/instances/default/emu/status").json()["problems"]
    assert problem["path"] == "/metrics/mv.yaml"
    assert problem["message"].startswith(
        "invalid 'security': 'access' expression error: failed to evaluate expression"
    )
    assert get(server, f"{API}/q").status_code == 400
