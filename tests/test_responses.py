"""Response shapes: the raw ASGI headers match what a Starlette ``Response`` sends."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from emulator.errors import BadRequest
from emulator.identity import TokenError
from emulator.responses import GENERATION_HEADER, error_parts, error_response, raw_headers


@pytest.mark.parametrize(
    ("headers", "body", "media_type"),
    [
        ({GENERATION_HEADER: "3"}, b"[]", "application/json"),
        (
            {"X-Content-Type-Options": "nosniff", "Server-Timing": "q;dur=1.5"},
            b'{"error":"x"}',
            "application/json; charset=utf-8",
        ),
        ({}, b"", "text/plain; charset=utf-8"),
        ({"X-Rill-Emu-Explain": "é"}, "ü".encode(), "application/json"),
    ],
)
def test_raw_headers_are_starlettes(headers: dict[str, str], body: bytes, media_type: str) -> None:
    expected = Response(body, media_type=media_type, headers=headers).raw_headers
    assert raw_headers(headers, body, media_type) == expected


def test_error_parts_and_response_agree() -> None:
    status, headers, body, media_type = error_parts(BadRequest("nope"), generation=7)
    assert (status, body, media_type) == (400, b'{"error":"nope"}', "application/json; charset=utf-8")
    assert headers == {"X-Content-Type-Options": "nosniff", GENERATION_HEADER: "7"}
    response = error_response(BadRequest("nope"), generation=7)
    assert response.status_code == 400 and response.body == body
    assert response.raw_headers == raw_headers(headers, body, media_type)


def test_token_errors_are_plain_text_as_go_http_error() -> None:
    status, _, body, media_type = error_parts(TokenError("jwt: token is expired"))
    assert (status, body, media_type) == (401, b"jwt: token is expired\n", "text/plain; charset=utf-8")
