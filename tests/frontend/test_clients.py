"""Typed clients from the live OpenAPI document: TypeScript types (openapi-typescript, checked by tsc)
and a Python client (openapi-python-client) that then calls the APIs."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from emulator.testing import EmuClient

TS_USAGE = """
import type { paths } from "./schema";

type TopProducts = paths["/top_products"]["get"];
type Row = TopProducts["responses"][200]["content"]["application/json"][number];
type Query = NonNullable<TopProducts["parameters"]["query"]>;
type SalesRequest = NonNullable<paths["/sales_by_category"]["post"]["requestBody"]>;
type SalesBody = SalesRequest["content"]["application/json"];

export const row: Row = { product: "Kettle", category: "Home & Kitchen", units: 3, revenue: 89.7 };
export const query: Query = { limit: 3 };
export const body: SalesBody = { categories: ["Books", "Toys"] };
"""

PYTHON_CALLS = """
import json, sys

sys.path.insert(0, sys.argv[1])
from client import Client
from client.api.default import get_top_products, post_sales_by_category
from client.models import GetTopProductsResponse200Item, PostSalesByCategoryBody

with Client(base_url=sys.argv[2]) as http:
    top = get_top_products.sync(client=http, limit=3)
    sales = post_sales_by_category.sync(client=http, body=PostSalesByCategoryBody(categories=["Books"]))
assert all(isinstance(r, GetTopProductsResponse200Item) and isinstance(r.units, int) for r in top), top
print(json.dumps({"top": [r.to_dict() for r in top], "sales": [r.to_dict() for r in sales]}))
"""


@pytest.fixture(scope="module")
def openapi_file(rill_emu: EmuClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clients") / "openapi.json"
    path.write_text(json.dumps(rill_emu.openapi()))
    return path


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_typescript_types_type_check_real_usage_and_reject_wrong_usage(
    frontend_tools, openapi_file: Path
) -> None:
    work = openapi_file.parent
    gen = _run([frontend_tools.npm_tool("openapi-typescript"), str(openapi_file), "-o", "schema.d.ts"], work)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    schema = (work / "schema.d.ts").read_text()
    assert '"/top_products": {' in schema
    assert '"/sales_by_category": {' in schema

    (work / "usage.ts").write_text(TS_USAGE)
    tsc = [frontend_tools.npm_tool("tsc"), "--noEmit", "--strict", "--skipLibCheck", "usage.ts"]
    check = _run(tsc, work)
    assert check.returncode == 0, check.stdout + check.stderr

    (work / "usage.ts").write_text(TS_USAGE.replace("units: 3", 'units: "three"'))
    check = _run(tsc, work)
    assert check.returncode != 0
    assert "usage.ts" in check.stdout and "Type 'string' is not assignable to type 'number'" in check.stdout


def test_a_generated_python_client_calls_the_apis(
    frontend_tools, openapi_file: Path, rill_emu: EmuClient
) -> None:
    work = openapi_file.parent
    tools_bin = str(frontend_tools.tools_python.parent)
    env = {**os.environ, "PATH": tools_bin + os.pathsep + os.environ.get("PATH", "")}
    gen = _run(
        [
            f"{tools_bin}/openapi-python-client",
            "generate",
            "--path",
            str(openapi_file),
            "--output-path",
            "client",
            "--meta",
            "none",
            "--overwrite",
        ],
        work,
        env,
    )
    assert gen.returncode == 0, gen.stdout + gen.stderr
    assert (work / "client" / "api" / "default" / "get_top_products.py").is_file()

    (work / "calls.py").write_text(textwrap.dedent(PYTHON_CALLS))
    base_url = f"{rill_emu.url}/v1/instances/default/api"
    run = _run([str(frontend_tools.tools_python), "calls.py", str(work), base_url], work)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["top"] == rill_emu.call("top_products", limit=3)
    assert result["sales"] == rill_emu.call("sales_by_category", method="POST", categories=["Books"])
