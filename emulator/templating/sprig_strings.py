"""Sprig v3 string functions (``strings.go``, ``functions.go``, ``crypto.go`` hashes, ``regex.go``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import re
import secrets
import string
import uuid
import zlib
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.funcs import IFACE, INT, STRING, GoFunc, gofunc
from emulator.templating.lexer import go_quote
from emulator.templating.values import GoList, GoMap, go_print, strval

MAX_STRING = 16 * 1024 * 1024  # bytes: larger results fail instead of exhausting memory

# unicode.IsSpace
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def checked(s: str) -> str:
    """Fail (like an allocation failure would) when a result grows beyond the emulator's limit."""
    if len(s) > MAX_STRING:
        raise GoPanic(f"result larger than {MAX_STRING} bytes (emulator limit)")
    return s


def to_bytes(s: str) -> bytes:
    """The bytes of a Go string."""
    return s.encode("utf-8", "surrogatepass")


def from_bytes(b: bytes) -> str:
    """A Go string from bytes; invalid UTF-8 becomes U+FFFD."""
    return b.decode("utf-8", "replace")


def go_upper(s: str) -> str:
    """strings.ToUpper: per-rune simple case mapping."""
    if s.isascii():
        return s.upper()
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in s)


def go_lower(s: str) -> str:
    """strings.ToLower: per-rune simple case mapping."""
    if s.isascii():
        return s.lower()
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


def _is_separator(c: str) -> bool:
    if c < "\x80":
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdigit():
        return False
    return c in GO_SPACE


def go_title(s: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out = []
    prev = " "
    for c in s:
        out.append((c.title() if len(c.title()) == 1 else c) if _is_separator(prev) else c)
        prev = c
    return "".join(out)


def go_split(s: str, sep: str, n: int = -1) -> list[str]:
    """strings.SplitN (n < 0: all)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < n < len(chars):
            return [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    return s.split(sep, n - 1) if n > 0 else s.split(sep)


def strslice(v: Any) -> list[str]:
    """Sprig's ``strslice``: a list of strings from a slice (nils dropped) or a scalar."""
    if isinstance(v, GoList) and v.elem == "string":
        return list(v)
    if isinstance(v, (list, tuple)):
        return [strval(x) for x in v if x is not None]
    if v is None:
        return []
    return [strval(v)]


def _quote(*args: Any) -> str:
    return checked(" ".join(go_quote(strval(a)) for a in args if a is not None))


def _squote(*args: Any) -> str:
    return checked(" ".join(f"'{go_print(a)}'" for a in args if a is not None))


def _cat(*args: Any) -> str:
    return checked(" ".join(go_print(a) for a in args if a is not None))


def _indent(spaces: int, v: str) -> str:
    if spaces < 0:
        raise GoPanic("strings: negative Repeat count")
    if spaces * (v.count("\n") + 1) > MAX_STRING:
        raise GoPanic(f"result larger than {MAX_STRING} bytes (emulator limit)")
    pad = " " * spaces
    return checked(pad + v.replace("\n", "\n" + pad))


def _repeat(count: int, s: str) -> str:
    if count < 0:
        raise GoPanic("strings: negative Repeat count")
    if count * len(s) > MAX_STRING:
        raise GoPanic(f"result larger than {MAX_STRING} bytes (emulator limit)")
    return s * count


def _trunc(c: int, s: str) -> str:
    b = to_bytes(s)
    if c < 0 and len(b) + c > 0:
        return from_bytes(b[len(b) + c :])
    if c >= 0 and len(b) > c:
        return from_bytes(b[:c])
    return s


def _substr(start: int, end: int, s: str) -> str:
    b = to_bytes(s)
    if start < 0:
        if end < 0 or end > len(b):
            raise GoPanic(f"runtime error: slice bounds out of range [:{end}] with length {len(b)}")
        return from_bytes(b[:end])
    if end < 0 or end > len(b):
        if start > len(b):
            raise GoPanic(f"runtime error: slice bounds out of range [{start}:{len(b)}]")
        return from_bytes(b[start:])
    if start > end:
        raise GoPanic(f"runtime error: slice bounds out of range [{start}:{end}]")
    return from_bytes(b[start:end])


def _split(sep: str, orig: str) -> GoMap:
    return GoMap({f"_{i}": p for i, p in enumerate(go_split(orig, sep))}, elem="string")


def _splitn(sep: str, n: int, orig: str) -> GoMap:
    return GoMap({f"_{i}": p for i, p in enumerate(go_split(orig, sep, n))}, elem="string")


def _split_list(sep: str, orig: str) -> GoList:
    return GoList(go_split(orig, sep), elem="string")


def _join(sep: str, v: Any) -> str:
    return checked(sep.join(strslice(v)))


def _sort_alpha(v: Any) -> GoList:
    if isinstance(v, (list, tuple)):
        return GoList(sorted(strslice(v), key=to_bytes), elem="string")
    return GoList([strval(v)], elem="string")


def _b64dec(v: str) -> str:
    try:
        return from_bytes(base64.b64decode(v.encode("utf-8"), validate=True))
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {_bad_b64_offset(v)}"


def _bad_b64_offset(v: str) -> int:
    data = to_bytes(v)
    alphabet = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, c in enumerate(data):
        if c not in alphabet:
            return i
    return len(data) - len(data) % 4 if len(data) % 4 else len(data)


def _b32dec(v: str) -> str:
    try:
        return from_bytes(base64.b32decode(v.encode("utf-8")))
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


def _nospace(s: str) -> str:
    return "".join(c for c in s if c not in GO_SPACE)


def _initials(s: str) -> str:
    out = []
    gap = True
    for ch in to_bytes(s).decode("latin-1"):
        if ch in GO_SPACE:
            gap = True
        elif gap:
            out.append(ch)
            gap = False
    return "".join(out)


def _swapcase(s: str) -> str:
    return "".join(c.lower() if c.isupper() else c.upper() if c.islower() else c for c in s)


def _untitle(s: str) -> str:
    return s[:1].lower() + s[1:] if s else s


def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _rand(chars: str) -> Any:
    def gen(count: int) -> str:
        if count < 0:
            raise GoPanic(f"Requested random string length {count} is less than 0.")
        if count > MAX_STRING:
            raise GoPanic(f"result larger than {MAX_STRING} bytes (emulator limit)")
        return "".join(secrets.choice(chars) for _ in range(count))

    return gen


def _shuffle(s: str) -> str:
    chars = list(s)
    random.shuffle(chars)
    return "".join(chars)


def _case_words(s: str) -> list[str]:
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_|$)|[A-Z]?[a-z]+|[A-Z]+|\d+", s)
    return [w for w in words if w]


def _snake(s: str) -> str:
    return "_".join(w.lower() for w in _case_words(s))


def _kebab(s: str) -> str:
    return "-".join(w.lower() for w in _case_words(s))


def _camel(s: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\s]+", s) if w)


def _wrap(width: int, s: str, sep: str = "\n", long_words: bool = False) -> str:
    if width < 1:
        width = 1
    out_lines = []
    for line in s.split("\n"):
        words = line.split(" ")
        cur = ""
        for w in words:
            if not cur:
                cur = w
            elif len(cur) + 1 + len(w) <= width:
                cur += " " + w
            else:
                out_lines.append(cur)
                cur = w
            while long_words and len(cur) > width:
                out_lines.append(cur[:width])
                cur = cur[width:]
        out_lines.append(cur)
    return sep.join(out_lines)


def _abbrev(width: int, s: str) -> str:
    if width < 4 or len(s) <= width:
        return s
    return s[: width - 3] + "..."


def _abbrevboth(left: int, right: int, s: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return s
    if len(s) <= right:
        return s
    if left > len(s):
        left = len(s)
    if len(s) - left < right - 3:
        left = len(s) - (right - 3)
    if left <= 4:
        return s[: right - 3] + "..."
    if left + right - 3 < len(s):
        return "..." + _abbrev(right - 3, s[left:])
    return "..." + s[len(s) - (right - 3) :]


STRINGS: dict[str, GoFunc] = {
    "hello": gofunc()(lambda: "Hello!"),
    "abbrev": gofunc(INT, STRING)(_abbrev),
    "abbrevboth": gofunc(INT, INT, STRING)(_abbrevboth),
    "trunc": gofunc(INT, STRING)(_trunc),
    "trim": gofunc(STRING)(lambda s: s.strip(GO_SPACE)),
    "upper": gofunc(STRING)(go_upper),
    "lower": gofunc(STRING)(go_lower),
    "title": gofunc(STRING)(go_title),
    "untitle": gofunc(STRING)(_untitle),
    "substr": gofunc(INT, INT, STRING)(_substr),
    "repeat": gofunc(INT, STRING)(_repeat),
    "trimall": gofunc(STRING, STRING)(lambda a, b: b.strip(a)),
    "trimAll": gofunc(STRING, STRING)(lambda a, b: b.strip(a)),
    "trimSuffix": gofunc(STRING, STRING)(lambda a, b: b.removesuffix(a)),
    "trimPrefix": gofunc(STRING, STRING)(lambda a, b: b.removeprefix(a)),
    "nospace": gofunc(STRING)(_nospace),
    "initials": gofunc(STRING)(_initials),
    "randAlphaNum": gofunc(INT)(_rand(string.ascii_letters + string.digits)),
    "randAlpha": gofunc(INT)(_rand(string.ascii_letters)),
    "randAscii": gofunc(INT)(_rand("".join(chr(c) for c in range(32, 127)))),
    "randNumeric": gofunc(INT)(_rand(string.digits)),
    "swapcase": gofunc(STRING)(_swapcase),
    "shuffle": gofunc(STRING)(_shuffle),
    "snakecase": gofunc(STRING)(_snake),
    "camelcase": gofunc(STRING)(_camel),
    "kebabcase": gofunc(STRING)(_kebab),
    "wrap": gofunc(INT, STRING)(lambda w, s: _wrap(w, s)),
    "wrapWith": gofunc(INT, STRING, STRING)(lambda w, sep, s: _wrap(w, s, sep, True)),
    "contains": gofunc(STRING, STRING)(lambda sub, s: sub in s),
    "hasPrefix": gofunc(STRING, STRING)(lambda p, s: s.startswith(p)),
    "hasSuffix": gofunc(STRING, STRING)(lambda p, s: s.endswith(p)),
    "quote": gofunc(variadic=IFACE)(_quote),
    "squote": gofunc(variadic=IFACE)(_squote),
    "cat": gofunc(variadic=IFACE)(_cat),
    "indent": gofunc(INT, STRING)(_indent),
    "nindent": gofunc(INT, STRING)(lambda n, v: "\n" + _indent(n, v)),
    "replace": gofunc(STRING, STRING, STRING)(lambda old, new, src: checked(src.replace(old, new))),
    "plural": gofunc(STRING, STRING, INT)(_plural),
    "sha1sum": gofunc(STRING)(lambda s: hashlib.sha1(to_bytes(s)).hexdigest()),
    "sha256sum": gofunc(STRING)(lambda s: hashlib.sha256(to_bytes(s)).hexdigest()),
    "sha512sum": gofunc(STRING)(lambda s: hashlib.sha512(to_bytes(s)).hexdigest()),
    "adler32sum": gofunc(STRING)(lambda s: str(zlib.adler32(to_bytes(s)))),
    "toString": gofunc(IFACE)(strval),
    "split": gofunc(STRING, STRING)(_split),
    "splitList": gofunc(STRING, STRING)(_split_list),
    "splitn": gofunc(STRING, INT, STRING)(_splitn),
    "toStrings": gofunc(IFACE)(lambda v: GoList(strslice(v), elem="string")),
    "join": gofunc(STRING, IFACE)(_join),
    "sortAlpha": gofunc(IFACE)(_sort_alpha),
    "b64enc": gofunc(STRING)(lambda v: checked(base64.b64encode(to_bytes(v)).decode("ascii"))),
    "b64dec": gofunc(STRING)(_b64dec),
    "b32enc": gofunc(STRING)(lambda v: checked(base64.b32encode(to_bytes(v)).decode("ascii"))),
    "b32dec": gofunc(STRING)(_b32dec),
    "uuidv4": gofunc()(lambda: str(uuid.uuid4())),
    "randBytes": gofunc(INT)(
        lambda n: base64.b64encode(secrets.token_bytes(max(0, min(n, MAX_STRING)))).decode()
    ),
    "fail": gofunc(STRING)(lambda msg: (_ for _ in ()).throw(GoPanic(msg))),
}
