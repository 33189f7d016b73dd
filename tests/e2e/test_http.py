"""The HTTP contract of §4, against a real uvicorn server on a loopback port."""

from __future__ import annotations

import httpx
import pytest

from emulator.identity import issue_dev_jwt

API = "/v1/instances/default/api"

FILES = {
    "models/items.sql": """
        SELECT * FROM (VALUES (1, 'a', 2.5), (2, 'b', 10.0), (3, 'c', NULL)) t(id, name, price)
    """,
    "apis/items.yaml": """
        type: api
        sql: |
          SELECT id, name, price FROM items
          {{ if hasKey .args "name" }} WHERE name = '{{ .args.name }}' {{ end }}
          ORDER BY id LIMIT {{ default 10 .args.limit }}
    """,
    "apis/echo.yaml": """
        type: api
        sql: SELECT '{{ .args.v }}' AS v, '{{ .user.admin }}' AS admin
    """,
    "apis/big.yaml": """
        type: api
        sql: SELECT range AS n FROM range({{ .args.n }})
    """,
    "apis/proxy.yaml": """
        type: api
        api: items
        args: {limit: 1}
    """,
    "apis/loop.yaml": """
        type: api
        api: loop
    """,
    "apis/bad_sql.yaml": """
        type: api
        sql: SELECT nope FROM items
    """,
    "apis/eqerr.yaml": """
        type: api
        sql: SELECT {{ if eq .args.x 1 }}1{{ else }}2{{ end }} AS v
    """,
    "apis/sql.yaml": """
        type: api
        sql: SELECT 'shadowed' AS v
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from emulator.testing import EmuServer
    from tests.e2e.conftest import write_project

    root = write_project(tmp_path_factory.mktemp("http"), FILES)
    with EmuServer(root, watch=False) as srv:
        yield srv


def get(server, path: str, **kwargs):  # type: ignore[no-untyped-def]
    return httpx.request(kwargs.pop("method", "GET"), server.url + path, timeout=30, **kwargs)


def test_success_body_and_headers(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert (
        resp.text
        == '[{"id":1,"name":"a","price":2.5},{"id":2,"name":"b","price":10},{"id":3,"name":"c","price":null}]'
    )
    assert resp.headers["x-rill-emu-generation"] == "1"
    assert "date" in resp.headers and "server" not in resp.headers  # as Go's net/http


def test_forwarded_headers_change_nothing(server) -> None:  # type: ignore[no-untyped-def]
    # Rill's server does not read X-Forwarded-*: neither does rill-emu (uvicorn would by default).
    # The cloud-shaped OpenAPI route names the URL it was fetched from: the scheme stays http.
    auth = {"Authorization": "Bearer " + issue_dev_jwt({"name": "a", "email": "a@b.c"})}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    plain = get(server, "/v1/orgs/o/projects/p/runtime/api/openapi", headers=auth)
    proxied = get(server, "/v1/orgs/o/projects/p/runtime/api/openapi", headers={**auth, **forwarded})
    assert plain.status_code == 200
    assert plain.json()["servers"][0]["url"].startswith("http://")
    assert proxied.content == plain.content


def test_query_args_override_body(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items?limit=1", method="POST", content=b'{"limit": 2, "name": "b"}')
    assert resp.json() == [{"id": 2, "name": "b", "price": 10}]
    resp = get(server, f"{API}/items?limit=1&limit=3", method="POST", content=b'{"limit": 2}')
    assert [r["id"] for r in resp.json()] == [1]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_and_body_on_any(server, method: str) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/echo", method=method, content=b'{"v": 1000000}')
    assert resp.status_code == 200
    assert resp.json() == [{"admin": "true", "v": "1e+06"}]


def test_missing_arg_renders_no_value(server) -> None:  # type: ignore[no-untyped-def]
    assert get(server, f"{API}/echo").json() == [{"admin": "true", "v": "<no value>"}]


def test_name_lookup_is_case_insensitive(server) -> None:  # type: ignore[no-untyped-def]
    assert get(server, f"{API}/ITEMS?limit=1").status_code == 200


def test_404_unknown_api(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/nope")
    assert resp.status_code == 404
    assert resp.text == '{"error":"api with name \\"nope\\" not found"}'
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_trailing_slash_is_another_name(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items/")
    assert resp.status_code == 404
    assert resp.json() == {"error": 'api with name "items/" not found'}


def test_404_unknown_instance(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, "/v1/instances/other/api/items")
    assert resp.status_code == 404
    assert 'instance "other" not found' in resp.json()["error"]


def test_400_bad_body(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items", method="POST", content=b"[1,2]")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "failed to unmarshal request body: json: cannot unmarshal array into "
        "Go value of type map[string]interface {}"
    }


def test_400_sql_error_is_duckdb_text(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/bad_sql")
    assert resp.status_code == 400
    assert resp.json()["error"].startswith('Binder Error: Referenced column "nope" not found')


def test_400_template_error(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/eqerr?x=1")
    assert resp.status_code == 400
    assert "error calling eq: incompatible types for comparison" in resp.json()["error"]


def test_row_cap(server) -> None:  # type: ignore[no-untyped-def]
    assert len(get(server, f"{API}/big?n=10000").json()) == 10000
    resp = get(server, f"{API}/big?n=10001")
    assert resp.status_code == 400
    assert resp.json() == {"error": "result cap exceeded: returned more than 10000 rows"}


def test_priority_arg_is_decoded_strictly(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items?priority=1")
    assert resp.status_code == 400
    assert "'priority' expected type 'int', got unconvertible type 'string'" in resp.json()["error"]
    assert get(server, f"{API}/items", method="POST", content=b'{"priority": 1}').status_code == 200


def test_api_proxy_static_args_win(server) -> None:  # type: ignore[no-untyped-def]
    assert get(server, f"{API}/proxy?limit=5").json() == [{"id": 1, "name": "a", "price": 2.5}]


def test_api_recursion_guard(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/loop")
    assert resp.status_code == 400
    assert resp.json() == {"error": 'infinite recursion detected: the API "loop" proxies to itself'}


def test_builtin_sql_shadows_project_api(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/sql?sql=SELECT 42 AS answer")
    assert resp.json() == [{"answer": 42}]


def test_openapi_route_wins_and_is_get_only(server) -> None:  # type: ignore[no-untyped-def]
    doc = get(server, f"{API}/openapi").json()
    assert "/items" in doc["paths"]
    assert doc["servers"] == [{"url": f"http://localhost:{server.config.port}/v1/instances/default/api"}]
    resp = get(server, f"{API}/openapi", method="POST")
    assert resp.status_code == 405
    assert resp.json() == {"error": "GET only"}


def test_openapi_yaml_on_exact_accept(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/openapi", headers={"Accept": "application/yaml"})
    assert resp.headers["content-type"] == "application/yaml"
    assert resp.text.startswith("components:\n")
    resp = get(server, f"{API}/openapi", headers={"Accept": "application/yaml, */*"})
    assert resp.headers["content-type"] == "application/json"


def test_health(server) -> None:  # type: ignore[no-untyped-def]
    assert get(server, "/v1/health").status_code == 200


def test_bad_bearer_token_is_401(server) -> None:  # type: ignore[no-untyped-def]
    resp = get(server, f"{API}/items", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401
