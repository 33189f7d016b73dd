"""``--strict-args``: a missing arg is a 400 naming it; guards and present args render as without it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.memo import Memo
from emulator.project.resources import ApiSpec
from emulator.strictargs import MissingArgument, StrictArgs, strict_api, strict_template
from emulator.templating import compile_template
from emulator.testing import EmuServer
from tests.e2e.conftest import write_project

SQL = (
    "SELECT {{ .args.a }} AS a, {{ default 3 .args.b }} AS b"
    '{{ if hasKey .args "c" }}, {{ .args.c }} AS c{{ end }}{{ if .args.d }}, {{ .args.d }} AS d{{ end }}'
    ", '{{ .user.email }}' AS e"
)


def _render(args: dict[str, Any]) -> str:
    return strict_template(compile_template(SQL)).render({"args": args, "user": {}})


def test_present_and_guarded_args_render_as_without_the_flag() -> None:
    plain = compile_template(SQL)
    for args in ({"a": 1.0}, {"a": "x", "b": 0.0, "c": True, "d": [1.0]}, {"a": None}):
        assert _render(args) == plain.render({"args": args, "user": {}})


def test_a_missing_printed_arg_fails_naming_it() -> None:
    with pytest.raises(MissingArgument) as info:
        _render({"b": 1.0})
    assert info.value.message == 'missing argument "a"'
    assert info.value.status == 400


def test_several_missing_args_are_all_named() -> None:
    template = strict_template(compile_template("{{ .args.z }} {{ .args.y }} {{ .args.z }}"))
    with pytest.raises(MissingArgument, match=r'^missing arguments "y", "z"$'):
        template.render({"args": {}})


def test_no_value_from_elsewhere_is_not_blamed_on_a_guarded_arg() -> None:
    # .user.email prints <no value> and b was looked up and missing, but only under default.
    assert _render({"a": 1.0}).endswith("'<no value>' AS e")


def test_reads_the_analysis_cannot_see_are_still_caught() -> None:
    template = strict_template(compile_template("{{ with .args }}{{ .x }}{{ end }}"))
    with pytest.raises(MissingArgument, match='"x"'):
        template.render({"args": {"y": 1}})


def test_strict_args_records_lookups_only() -> None:
    args = StrictArgs({"a": 1})
    assert "b" not in args and args.get("a") == 1 and args.missed == []
    assert args.get("b") is None and args.missed == ["b"]
    with pytest.raises(KeyError):
        args["c"]
    assert args.missed == ["b", "c"] and isinstance(args, dict)


def test_strict_api_is_built_once_per_snapshot() -> None:
    api = ApiSpec("a", "/apis/a.yaml", ("/apis/a.yaml",), "sql", {}, template=compile_template(SQL))
    memo = Memo()
    first = strict_api(api, memo)
    assert first is not api and first.template is not api.template
    assert strict_api(api, memo) is first
    no_template = ApiSpec("m", "/apis/m.yaml", ("/apis/m.yaml",), "metrics", {})
    assert strict_api(no_template, memo) is no_template


# --- end to end -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmuServer, EmuServer]]:
    root = write_project(
        tmp_path_factory.mktemp("strict"),
        {
            "apis/pick.yaml": "type: api\nsql: SELECT {{ .args.id }} AS id, {{ default 5 .args.n }} AS n\n",
            "models/t.sql": "SELECT 1 AS x",
            "metrics/mv.yaml": (
                "type: metrics_view\nmodel: t\ndimensions: [{column: x}]\n"
                "measures: [{name: c, expression: count(*)}]\n"
            ),
            "apis/ms.yaml": "type: api\nmetrics_sql: SELECT c FROM mv LIMIT {{ .args.limit }}\n",
        },
    )
    with EmuServer(root, watch=False, strict_args=True) as strict, EmuServer(root, watch=False) as plain:
        yield strict, plain


@pytest.mark.parametrize(
    ("path", "strict_answer", "plain_status"),
    [
        ("/pick?id=7", (200, [{"id": 7, "n": 5}]), 200),
        ("/pick?n=2", (400, {"error": 'missing argument "id"'}), 400),
        ("/ms?limit=1", (200, [{"c": 1}]), 200),
        ("/ms", (400, {"error": 'missing argument "limit"'}), 400),
    ],
)
def test_strict_args_end_to_end(
    servers: tuple[EmuServer, EmuServer], path: str, strict_answer: tuple[int, Any], plain_status: int
) -> None:
    strict, plain = servers
    resp = httpx.get(f"{strict.url}/v1/instances/default/api{path}", timeout=30)
    assert (resp.status_code, resp.json()) == strict_answer
    # Without the flag Rill's behaviour stays: <no value> reaches the SQL (and fails there).
    other = httpx.get(f"{plain.url}/v1/instances/default/api{path}", timeout=30)
    assert other.status_code == plain_status
    assert "missing argument" not in other.text
