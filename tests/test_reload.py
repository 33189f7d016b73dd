"""Hot reload with real files, the real watcher and a real server: what each kind of save serves.

Each test waits for the server's reload event naming the paths it changed (or, once, polls
``/emu/status``), never for a fixed time, then checks what the server answers.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import watchfiles

from emulator.cli import build_parser
from emulator.sandbox import EventFollower
from emulator.server import GENERATION_HEADER
from emulator.testing import EmuServer

TIMEOUT_S = 15.0
API = "/v1/instances/default/api"
STATUS = "/v1/instances/default/emu/status"
USER = {"X-Rill-User": "ana@example.com"}

PROJECT = {
    "rill.yaml": (
        "compiler: rillv1\nenv:\n  greeting: hello\n"
        "mock_users:\n  - email: ana@example.com\n    admin: false\n    region: EU\n"
    ),
    "models/orders.sql": (
        "SELECT * FROM (VALUES (1, 'EU', 10), (2, 'US', 20), (3, 'EU', 5)) t(id, region, amount)\n"
    ),
    "models/order_totals.sql": "SELECT region, sum(amount) AS total FROM orders GROUP BY region\n",
    "models/prices.sql": "SELECT * FROM read_csv('data/prices.csv')\n",
    "data/prices.csv": "sku,price\na,1\nb,2\n",
    "metrics/orders_metrics.yaml": (
        "type: metrics_view\nmodel: orders\n"
        "dimensions:\n  - name: region\n    column: region\n"
        "measures:\n  - name: total_amount\n    expression: SUM(amount)\n"
        "security:\n  access: true\n  row_filter: \"region = '{{ .user.region }}'\"\n"
    ),
    "apis/hello.yaml": "type: api\nsql: SELECT '{{ .env.greeting }}' AS greeting\n",
    "apis/totals.yaml": "type: api\nsql: SELECT region, total FROM order_totals ORDER BY region\n",
    "apis/by_region.yaml": (
        "type: api\nmetrics_sql: SELECT region, total_amount FROM orders_metrics ORDER BY region\n"
    ),
    "apis/prices.yaml": "type: api\nsql: SELECT sum(price) AS total FROM prices\n",
}


class Watched:
    """A watching server over a project folder, and its events stream."""

    def __init__(self, root: Path, server: EmuServer, events: EventFollower) -> None:
        self.root = root
        self.server = server
        self.events = events
        self.http = httpx.Client(base_url=server.url, timeout=TIMEOUT_S)

    def get(self, name: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.get(f"{API}/{name}", headers=headers)

    def rows(self, name: str, headers: dict[str, str] | None = None) -> Any:
        resp = self.get(name, headers)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.http.get(STATUS).json()
        return status

    def change(self, action: Callable[[], object], *paths: str) -> list[dict[str, Any]]:
        """Run ``action`` and wait for the reloads naming ``paths``; returns the reload events."""
        mark = self.events.mark()
        action()
        self.events.wait_for(set(paths), mark, TIMEOUT_S)
        return self.events.since(mark)

    def write(self, rel: str, text: str) -> list[dict[str, Any]]:
        """Save a file and wait for its reload.

        The save is atomic (a temp file renamed over the file): saved in place, a busy machine may let
        the watcher report the file between its truncation and its new text, and a test would see a
        reload of the empty file first (as Rill would).
        """
        return self.change(lambda: atomic_write(self.root / rel, text), "/" + rel)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")  # the watcher ignores *.tmp
    tmp.write_text(text)
    os.replace(tmp, path)


def one_reload(save: Callable[[int], list[dict[str, Any]]], attempts: int = 3) -> int:
    """Run ``save(attempt)`` until it makes one reload (at most ``attempts`` times); returns the attempt.

    Files saved together reach the watcher well within its 10 ms step, but on a saturated machine the
    watcher's own threads can be held back longer than that and split the batch: a retry tells such
    a case from batching that does not work (every attempt split).
    """
    counts = []
    for attempt in range(attempts):
        events = save(attempt)
        if len(events) == 1:
            return attempt
        counts.append(len(events))
    raise AssertionError(f"every save made several reloads: {counts}")


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    root = tmp_path / "project"
    write_tree(root, PROJECT)
    with EmuServer(root, watch=True) as server:
        events = EventFollower(server.url).start()
        project = Watched(root, server, events)
        try:
            yield project
        finally:
            project.http.close()
            events.close()


def test_an_api_edit_is_served_with_the_next_generation(watched: Watched) -> None:
    assert watched.server.state.reloader.ready.is_set()  # the server starts serving once it watches
    assert watched.status()["watching"] is True
    first = watched.get("hello")
    assert first.json() == [{"greeting": "hello"}]
    events = watched.write("apis/hello.yaml", "type: api\nsql: SELECT 'edited' AS greeting\n")
    assert len(events) == 1
    assert events[0]["changed"] == ["hello"]
    assert events[0]["paths"] == ["/apis/hello.yaml"]
    assert events[0]["error"] is None
    second = watched.get("hello")
    assert second.json() == [{"greeting": "edited"}]
    assert int(second.headers[GENERATION_HEADER]) == int(first.headers[GENERATION_HEADER]) + 1
    status = watched.status()
    assert status["generation"] == events[0]["generation"] == int(second.headers[GENERATION_HEADER])
    assert status["last_reload"]["changed"] == ["hello"]
    assert 0 < status["last_reload"]["duration_ms"] < 5000


def test_an_api_added_in_a_new_folder_is_served(watched: Watched) -> None:
    assert watched.get("fresh").status_code == 404

    def add() -> None:
        # The file is written right after its folders: before the watcher may watch them.
        write_tree(watched.root, {"apis/v2/deeper/fresh.yaml": "type: api\nsql: SELECT 1 AS fresh\n"})

    watched.change(add, "/apis/v2")
    assert watched.rows("fresh") == [{"fresh": 1}]
    # The new folder is watched: an edit inside it reloads.
    watched.write("apis/v2/deeper/fresh.yaml", "type: api\nsql: SELECT 2 AS fresh\n")
    assert watched.rows("fresh") == [{"fresh": 2}]


def test_a_deleted_api_answers_404(watched: Watched) -> None:
    assert watched.get("hello").status_code == 200
    events = watched.change((watched.root / "apis" / "hello.yaml").unlink, "/apis/hello.yaml")
    assert events[-1]["changed"] == ["hello"]
    resp = watched.get("hello")
    assert resp.status_code == 404
    assert resp.json() == {"error": 'api with name "hello" not found'}
    assert "hello" not in {r["name"] for r in watched.status()["resources"]}


def test_a_renamed_api_is_served_under_its_new_name_only(watched: Watched) -> None:
    apis = watched.root / "apis"
    events = watched.change(
        lambda: (apis / "hello.yaml").rename(apis / "greeting.yaml"),
        "/apis/hello.yaml",
        "/apis/greeting.yaml",
    )
    assert len(events) == 1
    assert sorted(events[0]["changed"]) == ["greeting", "hello"]
    assert watched.rows("greeting") == [{"greeting": "hello"}]
    assert watched.get("hello").status_code == 404
    paths = watched.http.get(f"{API}/openapi").json()["paths"]
    assert "/greeting" in paths and "/hello" not in paths


def test_a_security_block_edit_applies_to_the_next_request(watched: Watched) -> None:
    assert watched.rows("by_region", USER) == [{"region": "EU", "total_amount": 15}]
    policy = "region = '{{ .user.region }}'"
    text = (watched.root / "metrics" / "orders_metrics.yaml").read_text()
    events = watched.write(
        "metrics/orders_metrics.yaml", text.replace(policy, "region <> '{{ .user.region }}'")
    )
    assert events[-1]["changed"] == ["orders_metrics"]
    assert watched.rows("by_region", USER) == [{"region": "US", "total_amount": 20}]
    # Anonymous local calls skip security, as in Rill.
    assert len(watched.rows("by_region")) == 2


def test_a_model_edit_rebuilds_its_dependents(watched: Watched) -> None:
    assert watched.rows("totals") == [{"region": "EU", "total": 15}, {"region": "US", "total": 20}]
    models = {r["name"]: r for r in watched.status()["resources"] if r["type"] == "Model"}
    assert set(models) == {"orders", "order_totals", "prices"}
    events = watched.write(
        "models/orders.sql", "SELECT * FROM (VALUES (9, 'APAC', 7)) t(id, region, amount)\n"
    )
    assert events[-1]["changed"] == ["order_totals", "orders"]
    assert watched.rows("totals") == [{"region": "APAC", "total": 7}]


def test_a_data_file_edit_rebuilds_the_model_reading_it(watched: Watched) -> None:
    assert watched.rows("prices") == [{"total": 3}]
    events = watched.write("data/prices.csv", "sku,price\na,10\nb,20\nc,30\n")
    assert events[-1]["changed"] == ["prices"]
    assert watched.rows("prices") == [{"total": 60}]


def test_rill_yaml_edits_rebuild_what_depends_on_them(watched: Watched) -> None:
    text = (
        PROJECT["rill.yaml"]
        .replace("greeting: hello", "greeting: bonjour")
        .replace("region: EU", "region: US")
    )
    watched.write("rill.yaml", text + "ignore_paths:\n  - /apis/totals.yaml\n")
    assert watched.rows("hello") == [{"greeting": "bonjour"}]  # env
    assert watched.rows("by_region", USER) == [{"region": "US", "total_amount": 20}]  # mock_users
    assert watched.get("totals").status_code == 404  # ignore_paths
    watched.write("rill.yaml", PROJECT["rill.yaml"])
    assert watched.rows("totals")[0]["region"] == "EU"
    assert watched.rows("hello") == [{"greeting": "hello"}]


def test_a_dotenv_edit_is_served(watched: Watched) -> None:
    watched.write(".env", "greeting=from-dotenv\n")
    assert watched.rows("hello") == [{"greeting": "from-dotenv"}]
    watched.change((watched.root / ".env").unlink, "/.env")
    assert watched.rows("hello") == [{"greeting": "hello"}]


def test_an_atomic_save_through_a_temp_file_is_one_reload(watched: Watched) -> None:
    path = watched.root / "apis" / "hello.yaml"

    def save() -> None:  # JetBrains' and vim's pattern: write a temp file, rename it over the file
        tmp = path.with_name("hello.yaml___jb_tmp___")
        tmp.write_text("type: api\nsql: SELECT 'atomic' AS greeting\n")
        os.replace(tmp, path)

    events = watched.change(save, "/apis/hello.yaml")
    assert [e["paths"] for e in events] == [["/apis/hello.yaml"]]
    assert watched.rows("hello") == [{"greeting": "atomic"}]


def test_a_save_by_delete_then_create_is_one_reload(watched: Watched) -> None:
    path = watched.root / "apis" / "hello.yaml"

    def save(attempt: int) -> list[dict[str, Any]]:
        def delete_then_create() -> None:
            path.unlink()
            path.write_text(f"type: api\nsql: SELECT 'recreated {attempt}' AS greeting\n")

        return watched.change(delete_then_create, "/apis/hello.yaml")

    attempt = one_reload(save)
    assert watched.rows("hello") == [{"greeting": f"recreated {attempt}"}]


def test_a_broken_save_keeps_its_problem_on_record_until_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "project"
    write_tree(root, PROJECT)
    with EmuServer(root, watch=True, log_format="console") as server:
        events = EventFollower(server.url).start()
        watched = Watched(root, server, events)
        try:
            capsys.readouterr()
            broken = watched.write("apis/hello.yaml", "type: api\nsql: SELECT 1\n  nested: [oops\n")
            problems = broken[-1]["problems"]
            assert [(p["path"], p["severity"]) for p in problems] == [("/apis/hello.yaml", "error")]
            line, message = problems[0]["line"], problems[0]["message"]
            assert isinstance(line, int)
            resp = watched.get("hello")
            assert resp.status_code == 404
            error = resp.json()["error"]
            assert error.startswith('api with name "hello" not found')
            assert f"apis/hello.yaml:{line}: {message}" in error
            assert watched.rows("totals")  # the rest keeps serving
            assert watched.status()["problems"] == problems
            printed = capsys.readouterr().err
            assert f"error: apis/hello.yaml:{line}: {message}" in printed

            fixed = watched.write("apis/hello.yaml", "type: api\nsql: SELECT 'fixed' AS greeting\n")
            assert fixed[-1]["problems"] == []
            assert watched.rows("hello") == [{"greeting": "fixed"}]
            assert f"fixed: apis/hello.yaml:{line}: {message}" in capsys.readouterr().err
        finally:
            watched.http.close()
            events.close()


def test_twenty_files_saved_together_make_one_reload(watched: Watched) -> None:
    staging = watched.root.parent / "staging"
    staging.mkdir()

    def checkout(attempt: int) -> list[dict[str, Any]]:
        names = [f"bulk{attempt}_{i:02d}" for i in range(20)]
        for i, name in enumerate(names):
            (staging / f"{name}.yaml").write_text(f"type: api\nsql: SELECT {i} AS n\n")
        # As `git checkout` does: one program puts every file in place.
        move = ["mv", *(str(staging / f"{name}.yaml") for name in names), str(watched.root / "apis")]
        events = watched.change(lambda: subprocess.run(move, check=True), *(f"/apis/{n}.yaml" for n in names))
        if len(events) == 1:
            assert events[0]["paths"] == [f"/apis/{name}.yaml" for name in names]
            assert sorted(events[0]["changed"]) == names
        return events

    attempt = one_reload(checkout)
    assert [watched.rows(f"bulk{attempt}_{i:02d}") for i in (0, 19)] == [[{"n": 0}], [{"n": 19}]]


def test_a_reload_that_fails_keeps_serving_and_says_why(
    watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = watched.get("hello")
    builder = watched.server.state.builder

    def crash(changed: object = None, *, rescan: bool = False) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(builder, "prepare", crash)
    events = watched.write("apis/hello.yaml", "type: api\nsql: SELECT 'never' AS greeting\n")
    assert "disk on fire" in events[-1]["error"]
    assert events[-1]["generation"] == int(before.headers[GENERATION_HEADER])
    assert watched.get("hello").json() == [{"greeting": "hello"}]
    monkeypatch.undo()
    # The next reload scans the whole project, so the change the failed reload missed lands too.
    watched.write(
        "apis/totals.yaml", PROJECT["apis/totals.yaml"].replace("ORDER BY region", "ORDER BY total")
    )
    assert watched.rows("hello") == [{"greeting": "never"}]


def test_without_watching_nothing_reloads(tmp_path: Path) -> None:
    assert build_parser().parse_args(["serve", "--no-watch"]).watch is False
    root = tmp_path / "project"
    write_tree(root, PROJECT)
    with EmuServer(root, watch=False) as server:
        assert server.state.reloader is not None and not server.state.reloader.ready.is_set()
        (root / "apis" / "hello.yaml").write_text("type: api\nsql: SELECT 'edited' AS greeting\n")
        status = server.status()
        assert status["watching"] is False
        # No watcher runs: nothing would report the edit, however long we waited.
        assert server.call("hello") == [{"greeting": "hello"}]
        assert server.status()["generation"] == status["generation"] == 1


def test_a_watcher_that_fails_is_started_again_and_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import emulator.reload as reload_module

    attempts: list[int] = []
    limit_reached = True
    real_awatch = watchfiles.awatch

    def flaky_awatch(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if limit_reached:
            raise OSError(28, "inotify watch limit reached")
        return real_awatch(*args, **kwargs)

    monkeypatch.setattr(reload_module, "awatch", flaky_awatch)
    monkeypatch.setattr(reload_module, "RETRY_S", 0.05)
    root = tmp_path / "project"
    write_tree(root, PROJECT)
    with EmuServer(root, watch=True) as server:
        assert server.status()["watching"] is False  # the server started anyway
        (root / "apis" / "hello.yaml").write_text("type: api\nsql: SELECT 'missed' AS greeting\n")
        limit_reached = False
        deadline = time.monotonic() + TIMEOUT_S
        while not (status := server.status())["watching"] or status["generation"] < 2:
            assert time.monotonic() < deadline, status
            time.sleep(0.02)
        # The edit made while nothing watched is served: the new watcher started with a full scan.
        assert server.call("hello") == [{"greeting": "missed"}]
        watched = Watched(root, server, EventFollower(server.url).start())
        try:
            watched.write("apis/hello.yaml", "type: api\nsql: SELECT 'seen' AS greeting\n")
            assert watched.rows("hello") == [{"greeting": "seen"}]
        finally:
            watched.http.close()
            watched.events.close()
    assert len(attempts) >= 2
