"""Bad project files each give a problem naming file and line, and every other API still serves."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import ServeFn

API = "/v1/instances/default/api"

GOOD = {
    "models/base.sql": "SELECT 1 AS id, 'x' AS name",
    "apis/good.yaml": "type: api\nsql: SELECT id, name FROM base\n",
}

BAD = {
    "apis/invalid_yaml.yaml": "type: api\nsql: [unclosed\n",
    "apis/unknown_type.yaml": "type: apii\nsql: SELECT 1\n",
    "apis/two_resolvers.yaml": "type: api\nsql: SELECT 1\nmetrics_sql: SELECT x FROM y\n",
    "apis/template_error.yaml": "type: api\nsql: |\n  SELECT 1\n  WHERE {{ if }}\n",
    "models/broken_model.sql": "SELECT nope FROM nowhere",
    "apis/on_broken.yaml": "type: api\nsql: SELECT * FROM downstream\n",
    "models/downstream.sql": "SELECT * FROM broken_model",
    "models/missing_data.sql": "SELECT * FROM read_csv('data/missing.csv')",
    "models/remote.sql": "SELECT * FROM 's3://no-such-bucket/x.parquet'",
}


def test_bad_files_are_problems_and_the_rest_serves(serve: ServeFn) -> None:
    server = serve({**GOOD, **BAD})
    problems = {p.path: p for p in server.state.runtime.problems}

    assert problems["/apis/invalid_yaml.yaml"].line == 3  # where the parser hit the stream end
    assert problems["/apis/invalid_yaml.yaml"].message.startswith("yaml: line 3:")
    assert problems["/apis/unknown_type.yaml"].message == 'invalid resource type "apii"'
    assert problems["/apis/unknown_type.yaml"].line == 1
    assert "more than one resolver" in problems["/apis/two_resolvers.yaml"].message
    assert problems["/apis/template_error.yaml"].line == 4
    assert problems["/apis/template_error.yaml"].message == "template: :2:12: missing value for if"
    assert "nowhere" in problems["/models/broken_model.sql"].message
    assert 'model "broken_model" failed' in problems["/models/downstream.sql"].message
    assert "missing.csv" in problems["/models/missing_data.sql"].message
    assert "httpfs" in problems["/models/remote.sql"].message

    resp = httpx.get(f"{server.url}{API}/good", timeout=30)
    assert resp.json() == [{"id": 1, "name": "x"}]
    # an API whose file failed answers 404, as in Rill, and the body names the file, line and problem
    resp = httpx.get(f"{server.url}{API}/template_error", timeout=30)
    assert resp.status_code == 404
    error = resp.json()["error"]
    assert error.startswith('api with name "template_error" not found')
    assert "apis/template_error.yaml:4:" in error
    # an API over a failed model answers Rill's 400 with DuckDB's text
    resp = httpx.get(f"{server.url}{API}/on_broken", timeout=30)
    assert resp.status_code == 400
    assert "downstream" in resp.json()["error"]


def test_status_lists_problems_and_resources(serve: ServeFn) -> None:
    server = serve({**GOOD, "apis/unknown_type.yaml": BAD["apis/unknown_type.yaml"]})
    status = httpx.get(f"{server.url}/v1/instances/default/emu/status", timeout=30).json()
    assert status["generation"] == 1
    assert {"type": "API", "name": "good", "status": "Idle", "error": ""} in status["resources"]
    assert [p["text"] for p in status["problems"]] == [
        'apis/unknown_type.yaml:1: invalid resource type "apii"'
    ]
