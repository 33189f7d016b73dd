"""The command line: ``main(argv)`` for validate/openapi, a real process for serve."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from emulator.cli import build_parser, main
from emulator.testing import free_port
from tests.e2e.conftest import write_project

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("serve", "validate", "openapi"):
        assert command in out


def test_validate_clean_project_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLE)]) == 0
    captured = capsys.readouterr()
    assert "0 errors" in captured.err


def test_validate_prints_problems_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_project(tmp_path, {"apis/a.yaml": "type: api\n", "apis/b.yaml": "type: api\nsql: SELECT 1\n"})
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "error: apis/a.yaml" in out
    assert "does not specify a resolver" in out


def test_missing_project_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", str(tmp_path / "nope")])
    assert info.value.code == 2
    assert "project folder not found" in capsys.readouterr().err


def test_openapi_writes_json_and_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "doc.json"
    assert main(["openapi", str(SAMPLE), "-o", str(out), "--port", "1234"]) == 0
    doc = json.loads(out.read_text())
    assert doc["servers"] == [{"url": "http://localhost:1234/v1/instances/default/api"}]
    assert "post" in doc["paths"]["/customer_orders"]
    out_yaml = tmp_path / "doc.yaml"
    assert main(["openapi", str(SAMPLE), "-o", str(out_yaml)]) == 0
    assert yaml.safe_load(out_yaml.read_text())["paths"].keys() == doc["paths"].keys()


def test_env_flag_overrides_project_variables(tmp_path: Path) -> None:
    from emulator.olap.duckdb import DuckDBEngine
    from emulator.runtime import RuntimeBuilder

    write_project(tmp_path, {"rill.yaml": "env:\n  who: yaml\n"})
    engine = DuckDBEngine(tmp_path)
    try:
        rt = RuntimeBuilder(tmp_path, engine, env_overrides={"who": "flag"}).build()
        assert rt.env_data["who"] == "flag"
    finally:
        engine.close()


def _start_serve(args: list[str], port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "serve", *args, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc, ""
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not start")


def test_serve_prints_urls_and_problems_then_serves(tmp_path: Path) -> None:
    write_project(
        tmp_path, {"apis/ok.yaml": "type: api\nsql: SELECT 1 AS one\n", "apis/bad.yaml": "type: nope\n"}
    )
    port = free_port()
    proc, _ = _start_serve([str(tmp_path), "--no-watch"], port)
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/v1/instances/default/api/ok", timeout=10).text
        assert body == '[{"one":1}]'
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/v1/instances/default/api/ok" in output
    assert f"http://127.0.0.1:{port}/v1/instances/default/api/openapi" in output
    assert 'apis/bad.yaml:1: invalid resource type "nope"' in output


def test_serve_db_file_persists_models(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"models/m.sql": "SELECT 42 AS answer"})
    db = tmp_path / "emu.duckdb"
    port = free_port()
    proc, _ = _start_serve([str(project), "--no-watch", "--db", str(db)], port)
    proc.terminate()
    proc.communicate(timeout=30)
    assert proc.returncode in (0, -15)
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT answer FROM m").fetchall() == [(42,)]


def test_serve_collects_garbage_again_after_a_failed_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # Start-up runs without the garbage collector (cli._serve); a failure must not leave it off.
    import gc

    import emulator.server
    from emulator.cli import _serve
    from emulator.config import EmuConfig

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cannot load")

    monkeypatch.setattr(emulator.server, "create_app", broken)
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="cannot load"):
        _serve(EmuConfig(ROOT / "sample_project"), [])
    assert gc.isenabled()
