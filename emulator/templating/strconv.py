"""The parts of Go's ``strconv`` the engine needs: unquoting, integer and float parsing (Go syntax)."""

from __future__ import annotations

import math
import re

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1

_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}


class SyntaxErr(ValueError):
    """strconv.ErrSyntax / ErrRange; ``str()`` is Go's message tail."""


def _bytes_to_str(buf: bytearray) -> str:
    return buf.decode("utf-8", "replace")


def unquote_char(s: str, i: int, quote: str) -> tuple[int, bool, int]:
    """Decode one (possibly escaped) character of a Go literal at ``s[i]``.

    Returns (value, is_byte, next index): ``is_byte`` marks ``\\x``/octal escapes, which denote raw
    bytes in Go strings.
    """
    c = s[i]
    if c == quote and quote in "'\"":
        raise SyntaxErr("invalid syntax")
    if c != "\\":
        return ord(c), False, i + 1
    if i + 1 >= len(s):
        raise SyntaxErr("invalid syntax")
    c = s[i + 1]
    i += 2
    if c in _SIMPLE:
        return _SIMPLE[c], False, i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i : i + n]
        if len(digits) < n or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise SyntaxErr("invalid syntax")
        v = int(digits, 16)
        if c == "x":
            return v, True, i + n
        if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
            raise SyntaxErr("invalid syntax")
        return v, False, i + n
    if c in "01234567":
        digits = s[i - 1 : i + 2]
        if len(digits) < 3 or not all(d in "01234567" for d in digits):
            raise SyntaxErr("invalid syntax")
        v = int(digits, 8)
        if v > 255:
            raise SyntaxErr("invalid syntax")
        return v, True, i + 2
    if c in "'\"":
        if c != quote:
            raise SyntaxErr("invalid syntax")
        return ord(c), False, i
    raise SyntaxErr("invalid syntax")


def unquote(s: str) -> str:
    """Go's ``strconv.Unquote`` for ``"..."`` and raw ```...``` literals."""
    if len(s) < 2 or s[0] != s[-1] or s[0] not in '"`':
        raise SyntaxErr("invalid syntax")
    body = s[1:-1]
    if s[0] == "`":
        if "`" in body:
            raise SyntaxErr("invalid syntax")
        return body.replace("\r", "")
    if "\\" not in body and '"' not in body and "\n" not in body:
        return body
    buf = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\n":
            raise SyntaxErr("invalid syntax")
        v, is_byte, i = unquote_char(body, i, '"')
        if is_byte:
            buf.append(v)
        else:
            buf += chr(v).encode("utf-8", "surrogatepass")
    return _bytes_to_str(buf)


def _underscore_ok(s: str) -> bool:
    """Go's ``underscoreOK``: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s and s[0] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


_BASES = {"b": (2, "01"), "o": (8, "01234567"), "x": (16, "0123456789abcdefABCDEF")}


def parse_uint(s: str, base: int = 0) -> int:
    """Go's ``strconv.ParseUint(s, base, 64)`` (base 0 or 10)."""
    if not s:
        raise SyntaxErr("invalid syntax")
    digits_s = s
    allowed = "0123456789"
    b = 10
    if base == 0:
        if len(s) >= 3 and s[0] == "0" and s[1].lower() in _BASES:
            b, allowed = _BASES[s[1].lower()]
            digits_s = s[2:]
        elif s[0] == "0" and len(s) > 1:
            b, allowed = 8, "01234567"
            digits_s = s[1:]
        allowed += "_"
    if not digits_s or any(c not in allowed for c in digits_s):
        raise SyntaxErr("invalid syntax")
    if "_" in digits_s and not _underscore_ok(s):
        raise SyntaxErr("invalid syntax")
    stripped = digits_s.replace("_", "")
    if not stripped:
        raise SyntaxErr("invalid syntax")
    v = int(stripped, b)
    if v > UINT64_MAX:
        raise SyntaxErr("value out of range")
    return v


def parse_int(s: str, base: int = 0) -> int:
    """Go's ``strconv.ParseInt(s, base, 64)`` (base 0 or 10)."""
    if not s:
        raise SyntaxErr("invalid syntax")
    neg = s[0] == "-"
    body = s[1:] if s[0] in "+-" else s
    u = parse_uint(body, base)
    v = -u if neg else u
    if v < INT64_MIN or v > INT64_MAX:
        raise SyntaxErr("value out of range")
    return v


_DEC_FLOAT = re.compile(r"[+-]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?\Z")
_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP][+-]?\d[\d_]*\Z")
_SPECIAL = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf}


def parse_float(s: str) -> float:
    """Go's ``strconv.ParseFloat(s, 64)``; overflow gives ±Inf with a range error in Go (raised)."""
    low = s.lower()
    if low in _SPECIAL or low in ("+infinity", "-infinity"):
        return -math.inf if low.startswith("-") else math.inf
    if low in ("nan", "+nan", "-nan"):
        if low == "nan":
            return math.nan
        raise SyntaxErr("invalid syntax")
    if _DEC_FLOAT.match(s):
        if "_" in s and not _underscore_ok(s):
            raise SyntaxErr("invalid syntax")
        v = float(s.replace("_", ""))
    elif _HEX_FLOAT.match(s):
        if "_" in s and not _underscore_ok(s):
            raise SyntaxErr("invalid syntax")
        body = s.replace("_", "")
        sign = -1.0 if body.startswith("-") else 1.0
        body = body.lstrip("+-")
        mant = body[2 : body.lower().index("p")]
        if mant in ("", "."):
            raise SyntaxErr("invalid syntax")
        v = sign * float.fromhex(body)
    else:
        raise SyntaxErr("invalid syntax")
    if math.isinf(v):
        raise SyntaxErr("value out of range")
    return v


def atoi(s: str) -> int:
    """Go's ``strconv.Atoi`` (base 10, optional sign, no underscores)."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not body.isascii() or not body.isdigit():
        raise SyntaxErr("invalid syntax")
    return parse_int(s, 10)
