"""Args as Rill builds them: JSON body first, query parameters over it (§3.5)."""

from __future__ import annotations

import pytest

from emulator.errors import BadRequest
from emulator.requestargs import merge_args, parse_body, parse_query

_MAP = "Go value of type map[string]interface {}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", {}),
        (b'{"limit": 10}', {"limit": 10.0}),
        (b'{"a": [1, "x", null, true], "b": {"c": 2.5}}', {"a": [1.0, "x", None, True], "b": {"c": 2.5}}),
        (b"null", {}),
        (b'{"a": 1, "a": 2}', {"a": 2.0}),
    ],
)
def test_body_decodes_as_go(body: bytes, expected: dict[str, object]) -> None:
    assert parse_body(body) == expected


def test_numbers_are_floats() -> None:
    assert type(parse_body(b'{"n": 3}')["n"]) is float


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", f"json: cannot unmarshal array into {_MAP}"),
        (b'"x"', f"json: cannot unmarshal string into {_MAP}"),
        (b"3", f"json: cannot unmarshal number into {_MAP}"),
        (b"true", f"json: cannot unmarshal bool into {_MAP}"),
        (b"{", "unexpected end of JSON input"),
        (b'{"a": 1', "unexpected end of JSON input"),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a": 1 "b": 2}', "invalid character '\"' after object key:value pair"),
        (b'{"a": [1 2]}', "invalid character '2' after array element"),
        (b"{a: 1}", "invalid character 'a' looking for beginning of object key string"),
        (b"{} x", "invalid character 'x' after top-level value"),
    ],
)
def test_body_errors_use_go_text(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_body(body)
    assert info.value.message == f"failed to unmarshal request body: {message}"
    assert info.value.status == 400


def test_nan_literal_is_rejected() -> None:
    with pytest.raises(BadRequest):
        parse_body(b'{"a": NaN}')


def test_deep_nesting_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="exceeded max depth"):
        parse_body(b"[" * 100_000)


def test_invalid_utf8_is_a_bad_request_where_go_would_replace_it() -> None:
    # A deliberate difference: Go puts U+FFFD in strings; rill-emu refuses the body.
    with pytest.raises(BadRequest) as info:
        parse_body(b'{"s": "\xff"}')
    assert info.value.message == "failed to unmarshal request body: invalid UTF-8 at byte 7"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", {}),
        (b"a=1&a=2", {"a": "1"}),
        (b"x=", {"x": ""}),
        (b"x", {"x": ""}),
        (b"q=a+b%20c", {"q": "a b c"}),
        (b"a=1;b=2&c=3", {"c": "3"}),
        (b"bad=%zz&ok=1", {"ok": "1"}),
        (b"%C3%A9t%C3%A9=%E2%9C%93", {"été": "✓"}),
        (b"&&a=1&", {"a": "1"}),
    ],
)
def test_query_parses_as_go(query: bytes, expected: dict[str, str]) -> None:
    assert parse_query(query) == expected


def test_query_overrides_body_as_strings() -> None:
    args = merge_args(b'{"limit": 5, "domain": "x.com"}', b"limit=7")
    assert args == {"limit": "7", "domain": "x.com"}
