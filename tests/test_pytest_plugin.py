"""The pytest plugin: ``rill_project``, ``rill_emu``, ``rill_emu_sandbox``, used as downstream suites do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulator.sandbox import EmuSandbox, ReloadTimeout
from emulator.testing import EmuCallError, EmuClient

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"
MODELS = {"orders", "customers", "products", "order_facts"}
ONE_ROW_API = "type: api\nsql: SELECT 1 AS n, 'one' AS label\n"


# --- rill_project and rill_emu ------------------------------------------------------------------


def test_rill_project_is_the_ini_key_relative_to_the_rootdir(rill_project: Path) -> None:
    assert rill_project == SAMPLE


def test_rill_emu_is_a_real_server_on_a_loopback_port(rill_emu: EmuClient) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", rill_emu.url)
    assert httpx.get(rill_emu.url + "/v1/health").status_code == 200
    doc = rill_emu.openapi()
    assert doc["openapi"] == "3.0.3"
    assert "/top_products" in doc["paths"]
    with rill_emu.client() as http:
        assert http.get("/v1/instances/default/api/openapi").json() == doc


def test_call_returns_the_rows(rill_emu: EmuClient) -> None:
    rows = rill_emu.call("top_products", limit=3)
    assert len(rows) == 3
    assert set(rows[0]) == {"product", "category", "units", "revenue"}
    assert rows == sorted(rows, key=lambda r: -r["revenue"])
    books = rill_emu.call("sales_by_category", method="POST", categories=["Books"])
    assert [r["category"] for r in books] == ["Books"]


def test_call_raises_with_status_and_message(rill_emu: EmuClient) -> None:
    with pytest.raises(EmuCallError) as err:
        rill_emu.call("no_such_api")
    assert err.value.status == 404
    assert err.value.message == 'api with name "no_such_api" not found'
    with pytest.raises(TypeError, match="method='POST'"):
        rill_emu.call("sales_by_category", categories=["Books"])


def test_as_user_and_user_call_as_a_mock_user(rill_emu: EmuClient) -> None:
    emilie = rill_emu.as_user("emilie@sample-shop.eu")
    assert emilie.url == rill_emu.url
    with emilie.client() as http:
        assert http.headers["X-Rill-User"] == "emilie@sample-shop.eu"
    # category_summary hides cost columns from non-admins and keeps their region's orders only.
    admin_rows = rill_emu.call("category_summary")
    emilie_rows = emilie.call("category_summary")
    assert "total_cost" in admin_rows[0] and "total_cost" not in emilie_rows[0]
    assert sum(r["orders"] for r in emilie_rows) < sum(r["orders"] for r in admin_rows)
    assert rill_emu.call("category_summary", user="emilie@sample-shop.eu") == emilie_rows
    with pytest.raises(EmuCallError) as err:
        rill_emu.as_user("nobody@example.com").call("category_summary")
    assert err.value.status == 401
    assert 'unknown mock user "nobody@example.com"' in err.value.message


def test_problems_and_generation(rill_emu: EmuClient) -> None:
    assert rill_emu.problems == []
    assert rill_emu.generation >= 1


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, emulator.pytest_plugin\n"
        "print(sorted(m for m in ('duckdb', 'uvicorn', 'httpx', 'emulator.server', 'emulator.testing')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- rill_emu_sandbox -------------------------------------------------------------------------------


def test_sandbox_is_a_private_copy(rill_emu_sandbox: EmuSandbox, rill_emu: EmuClient) -> None:
    assert rill_emu_sandbox.root != SAMPLE
    assert (rill_emu_sandbox.root / "rill.yaml").read_bytes() == (SAMPLE / "rill.yaml").read_bytes()
    assert rill_emu_sandbox.url != rill_emu.url
    assert rill_emu_sandbox.openapi()["paths"].keys() == rill_emu.openapi()["paths"].keys()


def test_write_returns_once_the_change_is_served(rill_emu_sandbox: EmuSandbox) -> None:
    before = rill_emu_sandbox.generation
    rill_emu_sandbox.write("apis/sandbox_one.yaml", ONE_ROW_API)
    assert rill_emu_sandbox.generation > before
    assert "/sandbox_one" in rill_emu_sandbox.openapi()["paths"]
    assert rill_emu_sandbox.call("sandbox_one") == [{"label": "one", "n": 1}]
    rill_emu_sandbox.write("apis/sandbox_one.yaml", ONE_ROW_API.replace("'one'", "'uno'"))
    assert rill_emu_sandbox.call("sandbox_one") == [{"label": "uno", "n": 1}]


def test_writing_the_same_content_returns_at_once_without_a_reload(rill_emu_sandbox: EmuSandbox) -> None:
    text = (rill_emu_sandbox.root / "apis/top_products.yaml").read_text()
    before = rill_emu_sandbox.generation
    rill_emu_sandbox.write("apis/top_products.yaml", text)
    assert rill_emu_sandbox.generation == before


def test_writes_in_new_folders_and_of_files_the_watcher_ignores(rill_emu_sandbox: EmuSandbox) -> None:
    rill_emu_sandbox.write("apis/deep/er/nested_api.yaml", ONE_ROW_API)
    assert "/nested_api" in rill_emu_sandbox.openapi()["paths"]
    before = rill_emu_sandbox.generation
    rill_emu_sandbox.write("NOTES.md", "not a project file: no reload to wait for\n")
    assert rill_emu_sandbox.generation == before


def test_remove_returns_once_the_removal_is_served(rill_emu_sandbox: EmuSandbox) -> None:
    rill_emu_sandbox.remove("apis/top_products.yaml")
    assert "/top_products" not in rill_emu_sandbox.openapi()["paths"]
    with pytest.raises(EmuCallError) as err:
        rill_emu_sandbox.call("top_products")
    assert err.value.status == 404
    rill_emu_sandbox.remove("apis/admin")
    assert "/customer_list" not in rill_emu_sandbox.openapi()["paths"]
    with pytest.raises(FileNotFoundError):
        rill_emu_sandbox.remove("apis/top_products.yaml")


def test_problems_follow_the_files(rill_emu_sandbox: EmuSandbox) -> None:
    assert rill_emu_sandbox.problems == []
    rill_emu_sandbox.write("apis/broken.yaml", "type: api\nsql: [\n")
    [problem] = rill_emu_sandbox.problems
    assert problem.path == "/apis/broken.yaml"
    assert problem.severity == "error"
    rill_emu_sandbox.remove("apis/broken.yaml")
    assert rill_emu_sandbox.problems == []


def test_paths_outside_the_project_are_refused(rill_emu_sandbox: EmuSandbox) -> None:
    for bad in ("../escape.yaml", "apis/../../escape.yaml", ""):
        with pytest.raises(ValueError, match="not a path inside the project"):
            rill_emu_sandbox.write(bad, "x")


def test_a_reset_puts_back_only_what_changed_and_rebuilds_no_model_for_an_api(
    rill_emu_sandbox: EmuSandbox,
) -> None:
    original = (rill_emu_sandbox.root / "apis/top_products.yaml").read_bytes()
    rill_emu_sandbox.write("apis/top_products.yaml", ONE_ROW_API)
    rill_emu_sandbox.write("apis/extra/new_api.yaml", ONE_ROW_API)
    rill_emu_sandbox.remove("apis/orders_by_status.yaml")
    rill_emu_sandbox.reset()
    assert (rill_emu_sandbox.root / "apis/top_products.yaml").read_bytes() == original
    assert (rill_emu_sandbox.root / "apis/orders_by_status.yaml").is_file()
    assert not (rill_emu_sandbox.root / "apis/extra").exists()
    assert not rill_emu_sandbox.dirty
    changed = set(rill_emu_sandbox.status()["last_reload"]["changed"])
    assert not changed & MODELS, changed
    assert {"/top_products", "/orders_by_status"} <= rill_emu_sandbox.openapi()["paths"].keys()
    assert "/new_api" not in rill_emu_sandbox.openapi()["paths"]


def test_a_reset_puts_rill_yaml_back_first(rill_emu_sandbox: EmuSandbox) -> None:
    rill_yaml = rill_emu_sandbox.root / "rill.yaml"
    original = rill_yaml.read_text()
    rill_emu_sandbox.write("rill.yaml", original + "\nignore_paths:\n  - /apis/extra\n")
    before = rill_emu_sandbox.generation
    rill_emu_sandbox.write("apis/extra/hidden_api.yaml", ONE_ROW_API)  # ignored: nothing to wait for
    assert "/hidden_api" not in rill_emu_sandbox.openapi()["paths"]
    rill_emu_sandbox.reset()
    assert rill_yaml.read_text() == original
    assert not (rill_emu_sandbox.root / "apis/extra").exists()
    assert rill_emu_sandbox.generation > before
    assert rill_emu_sandbox.problems == []


def test_a_reset_with_nothing_changed_reloads_nothing(rill_emu_sandbox: EmuSandbox) -> None:
    before = rill_emu_sandbox.generation
    assert not rill_emu_sandbox.dirty
    rill_emu_sandbox.reset()
    assert rill_emu_sandbox.generation == before


def test_edits_made_behind_the_sandboxs_back_are_reset_too(rill_emu_sandbox: EmuSandbox) -> None:
    path = rill_emu_sandbox.root / "apis/top3_products.yaml"
    original = path.read_bytes()
    path.write_text(ONE_ROW_API)
    assert rill_emu_sandbox.dirty
    rill_emu_sandbox.reset()
    assert path.read_bytes() == original


def test_a_reload_that_never_comes_times_out_with_a_clear_error(tmp_path: Path) -> None:
    # A server that does not watch never reloads: write must say so instead of hanging.
    (tmp_path / "p").mkdir()
    (tmp_path / "p/rill.yaml").write_text("compiler: rillv1\n")
    expected = r"no reload containing /rill\.yaml was served within 0\.5s"
    with (
        EmuSandbox(tmp_path / "p", tmp_path / "work", timeout=0.5, watch=False) as sandbox,
        pytest.raises(ReloadTimeout, match=expected),
    ):
        sandbox.write("rill.yaml", "compiler: rillv1\ntitle: changed\n")


# --- how downstream suites configure the plugin -----------------------------------------------------


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Hypothesis' plugin (installed here, not downstream) spends a second on each summary.
    return pytester.runpytest_inprocess("-p", "no:hypothesispytest", *args)


def _downstream(pytester: pytest.Pytester, ini: str = "") -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(
        test_downstream="""
        def test_serves(rill_emu, rill_project):
            assert rill_project.name == "sample_project"
            assert "/top_products" in rill_emu.openapi()["paths"]
        """
    )


def test_ini_key_relative_to_the_rootdir(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _downstream(pytester, "rill_project = shop")
    (pytester.path / "shop").symlink_to(SAMPLE)
    # Run from a subfolder: the key is relative to the rootdir (the ini's folder), not to the cwd.
    sub = pytester.mkdir("sub")
    (pytester.path / "test_downstream.py").rename(sub / "test_downstream.py")
    monkeypatch.chdir(sub)
    _run(pytester).assert_outcomes(passed=1)


def test_the_option_wins_over_the_ini_key(pytester: pytest.Pytester) -> None:
    _downstream(pytester, "rill_project = nowhere")
    _run(pytester, f"--rill-project={SAMPLE}").assert_outcomes(passed=1)


def test_a_missing_project_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _downstream(pytester)
    result = _run(pytester)
    result.stdout.fnmatch_lines(["*set --rill-project PATH or the rill_project ini key*"])
    _downstream(pytester, "rill_project = nowhere")
    result = _run(pytester)
    result.stdout.fnmatch_lines(["*the Rill project folder */nowhere does not exist*"])


def test_the_project_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    _downstream(pytester)
    pytester.makeconftest(
        f"""
        import pathlib
        import pytest

        @pytest.fixture(scope="session")
        def rill_project():
            return pathlib.Path({str(SAMPLE)!r})
        """
    )
    _run(pytester).assert_outcomes(passed=1)


def test_rill_emu_url_attaches_to_a_running_emulator(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, rill_emu: EmuClient
) -> None:
    monkeypatch.setenv("RILL_EMU_URL", rill_emu.url)
    pytester.makeini("[pytest]\nrill_project = nowhere-needed-but-must-exist\n")
    (pytester.path / "nowhere-needed-but-must-exist").mkdir()
    pytester.makepyfile(
        test_attach="""
        import os
        from emulator.testing import EmuServer

        def test_attached(rill_emu):
            assert rill_emu.url == os.environ["RILL_EMU_URL"]
            assert not isinstance(rill_emu, EmuServer)
            assert "/top_products" in rill_emu.openapi()["paths"]
        """
    )
    _run(pytester).assert_outcomes(passed=1)
    monkeypatch.setenv("RILL_EMU_URL", "http://127.0.0.1:9")
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*RILL_EMU_URL=http://127.0.0.1:9: no rill-emu answers at http://127.0.0.1:9*"]
    )


def test_the_sandbox_resets_between_tests_and_tests_that_change_nothing_reload_nothing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(f"[pytest]\nrill_project = {SAMPLE}\n")
    pytester.makepyfile(
        test_sandbox=f"""
        GENERATIONS = []

        def test_a_writes(rill_emu_sandbox):
            rill_emu_sandbox.write("apis/from_a.yaml", {ONE_ROW_API!r})
            assert "/from_a" in rill_emu_sandbox.openapi()["paths"]

        def test_b_sees_it_gone(rill_emu_sandbox):
            assert "/from_a" not in rill_emu_sandbox.openapi()["paths"]
            GENERATIONS.append(rill_emu_sandbox.generation)

        def test_c_changes_nothing(rill_emu_sandbox):
            GENERATIONS.append(rill_emu_sandbox.generation)

        def test_d_changes_nothing_either(rill_emu_sandbox):
            GENERATIONS.append(rill_emu_sandbox.generation)
            assert GENERATIONS[0] == GENERATIONS[1] == GENERATIONS[2]
        """
    )
    _run(pytester).assert_outcomes(passed=4)


def test_a_suite_using_no_fixture_needs_no_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    _run(pytester).assert_outcomes(passed=1)
