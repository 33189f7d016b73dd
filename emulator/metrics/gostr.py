"""Go's ``%q`` string quoting, used to reproduce Rill's error messages."""

from __future__ import annotations

_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v"}  # fmt: skip


def go_quote(text: str) -> str:
    """Go's ``%q`` for printable strings."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return '"' + "".join(out) + '"'


__all__ = ["go_quote"]
