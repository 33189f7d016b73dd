"""Schemathesis against the live OpenAPI document of sample_project: no request gets a 5xx.

Each operation of the document (the built-ins ``sql``, ``metrics-sql``, ``metrics`` and every project
API) is called with bounded numbers of generated requests: valid ones (positive) and requests that
break the schema (negative), on the default server and on one with ``--validate-requests`` and
``--strict-args``. The schemathesis Python API drives Hypothesis directly rather than through its
pytest plugin, so the test is one plain test per mode, with the failing request as a curl command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from emulator.testing import EmuClient, EmuServer

SAMPLE = Path(__file__).resolve().parents[2] / "sample_project"
#: Generated requests per operation and mode (about 17 operations).
EXAMPLES = 25


@pytest.fixture(scope="module")
def checking_server() -> Iterator[EmuServer]:
    with EmuServer(SAMPLE, watch=False, validate_requests=True, strict_args=True) as server:
        yield server


def _fuzz(server: EmuClient, mode: GenerationMode) -> dict[int, int]:
    """Call every operation with generated requests; the count of each status seen."""
    base = server.url + "/v1/instances/default/api"
    schema = schemathesis.openapi.from_url(base + "/openapi")
    statuses: dict[int, int] = {}
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        raw = operation.definition.raw
        if mode == GenerationMode.NEGATIVE and not (raw.get("parameters") or raw.get("requestBody")):
            continue  # nothing in the schema to break

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            resp = case.call(base_url=base, timeout=30)
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
            assert resp.status_code < 500, f"{case.as_curl_command(base_url=base)}\n-> {resp.text[:500]}"

        call()
    assert {"POST /sql", "POST /metrics", "GET /top_products", "POST /customer_orders"} <= set(labels)
    return statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx(rill_emu: EmuClient, mode: GenerationMode) -> None:
    statuses = _fuzz(rill_emu, mode)
    assert 200 in statuses  # the generated requests did reach the APIs


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_with_request_validation_and_strict_args(
    checking_server: EmuServer, mode: GenerationMode
) -> None:
    statuses = _fuzz(checking_server, mode)
    assert 400 in statuses
