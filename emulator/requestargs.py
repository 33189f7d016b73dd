"""Request args as Rill builds them: a JSON-object body, then query parameters over it (§3.5).

Pure functions, so the exact Go behaviour (number types, first query value wins, dropped malformed
pairs, Go's JSON error texts) is unit-tested without a server.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from emulator.errors import BadRequest
from emulator.gotypes import go_json_syntax_error, json_kind
from emulator.limits import MAX_JSON_DEPTH, json_too_deep

_GO_TYPE = "map[string]interface {}"
_TOO_DEEP = f"failed to unmarshal request body: exceeded max depth (rill-emu accepts {MAX_JSON_DEPTH} levels)"
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def parse_body(body: bytes) -> dict[str, Any]:
    """Decode a request body as Go's ``json.Unmarshal`` into ``map[string]any`` does.

    Numbers become floats, ``null`` gives an empty map (Go would panic later; see docs/behaviour.md),
    anything but an object is an error with Go's message. Unlike Go, invalid UTF-8 and nesting deeper
    than ``limits.MAX_JSON_DEPTH`` are errors too.
    """
    if not body:
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:  # Go would put U+FFFD in strings: rill-emu refuses (docs)
        raise BadRequest(f"failed to unmarshal request body: invalid UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"failed to unmarshal request body: {go_json_syntax_error(exc)}") from None
    except RecursionError:
        raise BadRequest(_TOO_DEEP) from None
    except _ConstantError:
        raise BadRequest("failed to unmarshal request body: invalid JSON literal") from None
    if len(body) > 2 * MAX_JSON_DEPTH and json_too_deep(value):  # shorter bodies cannot nest so deep
        raise BadRequest(_TOO_DEEP)
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = json_kind(value)
        message = f"json: cannot unmarshal {kind} into Go value of type {_GO_TYPE}"
        raise BadRequest(f"failed to unmarshal request body: {message}")
    return value


def parse_query(raw: bytes | str) -> dict[str, str]:
    """Go's ``url.ParseQuery`` reduced to the first value of each key.

    Pairs containing ``;`` or a malformed percent escape are dropped, ``+`` is a space.
    """
    if isinstance(raw, str):
        raw = raw.encode("latin-1", errors="replace")
    out: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair or b";" in pair:
            continue
        key, _, value = pair.partition(b"=")
        if b"%" in pair and (_BAD_ESCAPE.search(key) or _BAD_ESCAPE.search(value)):
            continue
        k = _unescape(key)
        if k not in out:
            out[k] = _unescape(value)
    return out


def merge_args(body: bytes, query: bytes | str) -> dict[str, Any]:
    """The ``.args`` map: body keys, overridden by query keys (as strings)."""
    args = parse_body(body)
    args.update(parse_query(query))
    return args


def _unescape(part: bytes) -> str:
    if b"%" not in part:
        return part.replace(b"+", b" ").decode("utf-8", errors="replace")
    return unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8", errors="replace")


class _ConstantError(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)
