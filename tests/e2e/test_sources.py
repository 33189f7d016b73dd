"""Sources and models reading local files (CSV, Parquet, JSON) relative to the project root."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx

from tests.e2e.conftest import ServeFn

API = "/v1/instances/default/api"


def test_sources_and_models_read_local_files(serve: ServeFn, tmp_path: Path) -> None:
    files = {
        "data/people.csv": "id,name\n1,Ann\n2,Bob\n",
        "data/scores.json": '[{"id": 1, "score": 3.5}, {"id": 2, "score": 4}]',
        "sources/people.yaml": "type: source\nconnector: local_file\npath: data/people.csv\n",
        "models/scores.yaml": "type: model\nsql: SELECT * FROM read_json_auto('data/scores.json')\n",
        "models/cities.sql": "SELECT * FROM 'data/cities.parquet'",
        "models/joined.sql": (
            'SELECT p.id, p.name, s.score, c.city FROM {{ ref "people" }} p '
            "JOIN scores s USING (id) JOIN cities c USING (id)"
        ),
        "apis/joined.yaml": "type: api\nsql: SELECT * FROM joined ORDER BY id\n",
    }
    root = tmp_path / "parquet"
    root.mkdir()
    duckdb.sql("SELECT * FROM (VALUES (1, 'Oslo'), (2, 'Lima')) t(id, city)").write_parquet(
        str(root / "cities.parquet")
    )
    # the serve fixture writes text files; the Parquet file is copied in after writing the project
    server = serve(files)
    (server.config.project / "data" / "cities.parquet").write_bytes((root / "cities.parquet").read_bytes())
    import asyncio

    asyncio.run(server.state.reloader.reload())
    resp = httpx.get(f"{server.url}{API}/joined", timeout=30)
    assert resp.json() == [
        {"city": "Oslo", "id": 1, "name": "Ann", "score": 3.5},
        {"city": "Lima", "id": 2, "name": "Bob", "score": 4},
    ]
