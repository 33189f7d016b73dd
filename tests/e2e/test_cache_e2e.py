"""The result cache over HTTP: never stale after an edit, never shared between identities."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.testing import EmuServer
from tests.e2e.conftest import ServeFn

API = "/v1/instances/default/api"

FILES = {
    "rill.yaml": """\
        compiler: rillv1
        env:
          label: first
        mock_users:
          - email: eu@x.com
            region: EU
          - email: us@x.com
            region: US
        """,
    "data/sales.csv": "region,amount\nEU,10\nEU,5\nUS,7\n",
    "models/sales.sql": "SELECT * FROM read_csv('data/sales.csv')",
    "models/other.sql": "SELECT 1 AS one",
    "apis/total.yaml": """\
        type: api
        sql: SELECT SUM(amount) AS total, '{{ .env.label }}' AS label FROM sales
        """,
    "apis/mine.yaml": """\
        type: api
        sql: SELECT SUM(amount) AS total FROM sales WHERE region = '{{ .user.region }}'
        """,
    "metrics/sales_mv.yaml": """\
        type: metrics_view
        model: sales
        dimensions:
          - name: region
            column: region
        measures:
          - name: total
            expression: SUM(amount)
        security:
          access: true
          row_filter: "region = '{{ .user.region }}'"
        """,
    "apis/by_region.yaml": """\
        type: api
        metrics_sql: SELECT region, total FROM sales_mv ORDER BY region
        """,
}


def get(server: EmuServer, name: str, user: str | None = None, **headers: str) -> httpx.Response:
    if user is not None:
        headers["X-Rill-User"] = user
    return httpx.get(f"{server.url}{API}/{name}", headers=headers)


def rows(server: EmuServer, name: str, user: str | None = None) -> Any:
    resp = get(server, name, user)
    assert resp.status_code == 200, resp.text
    return resp.json()


def stats(server: EmuServer) -> dict[str, int]:
    cache: dict[str, int] = server.status()["cache"]
    return cache


def edit(server: EmuServer, rel: str, text: str) -> None:
    """Write a project file and reload the server with it (no watcher: deterministic)."""
    path = server.config.project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    reload(server, [str(path)])


def reload(server: EmuServer, paths: list[str] | None = None) -> None:
    asyncio.run(server.state.reloader.reload(paths or []))


@pytest.fixture
def server(serve: ServeFn) -> EmuServer:
    return serve(FILES)


def test_identical_requests_are_answered_from_the_cache(server: EmuServer) -> None:
    first = get(server, "total")
    before = stats(server)
    second = get(server, "total")
    after = stats(server)
    assert first.content == second.content == b'[{"label":"first","total":22}]'
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"]
    assert second.headers["content-type"] == "application/json"


def test_identities_never_share_answers(server: EmuServer) -> None:
    for _ in range(2):  # the second round is answered from the cache
        assert rows(server, "mine", "eu@x.com") == [{"total": 15}]
        assert rows(server, "mine", "us@x.com") == [{"total": 7}]
        assert rows(server, "by_region", "eu@x.com") == [{"region": "EU", "total": 15}]
        assert rows(server, "by_region", "us@x.com") == [{"region": "US", "total": 7}]
        assert rows(server, "by_region") == [{"region": "EU", "total": 15}, {"region": "US", "total": 7}]
    assert stats(server)["hits"] >= 5


def test_a_model_edit_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "total") == [{"label": "first", "total": 22}]
    assert rows(server, "by_region", "eu@x.com") == [{"region": "EU", "total": 15}]
    edit(server, "models/sales.sql", "SELECT * FROM read_csv('data/sales.csv') WHERE amount > 5")
    assert rows(server, "total") == [{"label": "first", "total": 17}]
    assert rows(server, "by_region", "eu@x.com") == [{"region": "EU", "total": 10}]


def test_a_data_file_edit_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "mine", "us@x.com") == [{"total": 7}]
    edit(server, "data/sales.csv", "region,amount\nEU,10\nEU,5\nUS,7\nUS,100\n")
    assert rows(server, "mine", "us@x.com") == [{"total": 107}]


def test_an_api_edit_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "total") == [{"label": "first", "total": 22}]
    edit(server, "apis/total.yaml", "type: api\nsql: SELECT MAX(amount) AS total FROM sales\n")
    assert rows(server, "total") == [{"total": 10}]


def test_a_security_policy_edit_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "by_region", "eu@x.com") == [{"region": "EU", "total": 15}]
    policy = FILES["metrics/sales_mv.yaml"].replace(
        "row_filter: \"region = '{{ .user.region }}'\"", "row_filter: \"region <> '{{ .user.region }}'\""
    )
    edit(server, "metrics/sales_mv.yaml", _dedent(policy))
    assert rows(server, "by_region", "eu@x.com") == [{"region": "US", "total": 7}]
    edit(server, "metrics/sales_mv.yaml", _dedent(policy.replace("access: true", "access: false")))
    resp = get(server, "by_region", "eu@x.com")
    assert resp.status_code == 400 and resp.json() == {"error": "action not allowed"}


def test_a_rill_yaml_edit_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "mine", "eu@x.com") == [{"total": 15}]
    assert rows(server, "by_region", "eu@x.com") == [{"region": "EU", "total": 15}]
    assert rows(server, "total") == [{"label": "first", "total": 22}]
    yaml = (
        _dedent(FILES["rill.yaml"])
        .replace("region: EU", "region: US")
        .replace("label: first", "label: second")
    )
    edit(server, "rill.yaml", yaml)
    assert rows(server, "mine", "eu@x.com") == [{"total": 7}]
    assert rows(server, "by_region", "eu@x.com") == [{"region": "US", "total": 7}]
    assert rows(server, "total") == [{"label": "second", "total": 22}]


def test_an_unrelated_edit_keeps_the_cache(server: EmuServer) -> None:
    rows(server, "total")
    rows(server, "by_region", "eu@x.com")
    before = stats(server)
    edit(server, "models/other.sql", "SELECT 2 AS one")
    edit(server, "apis/new.yaml", "type: api\nsql: SELECT 1 AS x\n")
    assert stats(server)["entries"] == before["entries"]
    rows(server, "total")
    rows(server, "by_region", "eu@x.com")
    after = stats(server)
    assert after["hits"] == before["hits"] + 2 and after["misses"] == before["misses"]


def test_a_rebuilt_model_drops_its_entries(server: EmuServer) -> None:
    rows(server, "total")
    rows(server, "mine", "eu@x.com")
    assert stats(server)["entries"] == 2
    edit(server, "models/sales.sql", "SELECT * FROM read_csv('data/sales.csv') ORDER BY amount")
    assert stats(server)["entries"] == 0


def test_a_model_removed_then_created_again_is_never_served_stale(server: EmuServer) -> None:
    assert rows(server, "total") == [{"label": "first", "total": 22}]
    sales = server.config.project / "models/sales.sql"
    sales.unlink()
    reload(server, [str(sales)])
    assert get(server, "total").status_code == 400
    edit(server, "models/sales.sql", "SELECT 'EU' AS region, 1 AS amount")
    assert rows(server, "total") == [{"label": "first", "total": 1}]


def test_answers_that_change_on_their_own_are_not_cached(serve: ServeFn) -> None:
    server = serve(
        {**FILES, "apis/clock.yaml": "type: api\nsql: SELECT random() AS r, COUNT(*) AS n FROM sales\n"}
    )
    first, second = rows(server, "clock"), rows(server, "clock")
    assert first[0]["r"] != second[0]["r"]
    assert stats(server)["entries"] == 0


def test_errors_are_not_cached(serve: ServeFn) -> None:
    server = serve(
        {**FILES, "apis/many.yaml": "type: api\nsql: SELECT * FROM range(20000) JOIN sales ON true\n"}
    )
    for _ in range(2):
        resp = get(server, "many")
        assert resp.status_code == 400
        assert resp.json() == {"error": "result cap exceeded: returned more than 10000 rows"}
    assert stats(server)["entries"] == 0


def test_explain_tells_a_hit_from_a_miss(server: EmuServer) -> None:
    explain = {"X-Rill-Emu-Explain": "1"}
    first = get(server, "mine", "eu@x.com", **explain)
    second = get(server, "mine", "eu@x.com", **explain)
    assert first.content == second.content
    (miss,) = json.loads(first.headers["x-rill-emu-explain"])["queries"]
    (hit,) = json.loads(second.headers["x-rill-emu-explain"])["queries"]
    assert miss["cache"] == "miss" and hit["cache"] == "hit"
    assert hit["sql"] == miss["sql"] and hit["rows"] == miss["rows"] == 1


def test_no_cache_serves_the_same_bytes(serve: ServeFn) -> None:
    cached, uncached = serve(FILES), serve(FILES, cache=False)
    assert uncached.status()["cache"] is None
    for name, user in [("total", None), ("mine", "eu@x.com"), ("by_region", "us@x.com"), ("by_region", None)]:
        for _ in range(2):
            a, b = get(cached, name, user), get(uncached, name, user)
            assert (a.status_code, a.content) == (b.status_code, b.content)


def _dedent(text: str) -> str:
    return textwrap.dedent(text)


def test_project_files_fixture_is_valid(tmp_path: Path) -> None:
    # The e2e project above loads without problems (a typo there would weaken every test).
    from tests.e2e.conftest import write_project

    root = write_project(tmp_path, FILES)
    with EmuServer(root, watch=False) as server:
        assert server.problems == []
