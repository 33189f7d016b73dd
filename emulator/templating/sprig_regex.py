"""Sprig's regex functions (``regex.go``): Go RE2 patterns run on Python's ``re``."""

from __future__ import annotations

import re
from typing import Any

from emulator.templating.errors import GoPanic
from emulator.templating.funcs import INT, STRING, GoFunc, gofunc
from emulator.templating.lexer import go_quote
from emulator.templating.sprig_strings import checked
from emulator.templating.values import GoList


def go_regex(expr: str) -> re.Pattern[str]:
    """Compile a Go (RE2) regular expression; raises GoPanic with Go's MustCompile message.

    Differences handled: ``$`` outside multi-line mode and ``\\z`` both mean end of text.
    """
    out = []
    in_class = False
    i = 0
    multiline = "(?m" in expr
    while i < len(expr):
        c = expr[i]
        if c == "\\" and i + 1 < len(expr):
            nxt = expr[i + 1]
            out.append("\\Z" if nxt == "z" and not in_class else c + nxt)
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if expr[i + 1 : i + 2] == "^":
                out.append("[^")
                i += 2
                if expr[i : i + 1] == "]":
                    out.append("]")
                    i += 1
                continue
            if expr[i + 1 : i + 2] == "]":
                out.append("[]")
                i += 2
                continue
        elif c == "$" and not multiline:
            out.append("\\Z")
            i += 1
            continue
        out.append(c)
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as exc:
        quoted = f"`{expr}`" if "`" not in expr else go_quote(expr)
        raise GoPanic(f"regexp: Compile({quoted}): error parsing regexp: {_regex_error(exc, expr)}") from None


def _regex_error(exc: re.error, expr: str) -> str:
    """Go's regexp/syntax message for the common errors Python also detects."""
    msg = exc.msg
    pos = exc.pos or 0
    if msg.startswith("missing ), unterminated subpattern"):
        return f"missing closing ): `{expr}`"
    if msg.startswith("unbalanced parenthesis"):
        return f"unexpected ): `{expr}`"
    if msg.startswith("unterminated character set"):
        return f"missing closing ]: `{expr[pos:]}`"
    if msg.startswith("nothing to repeat"):
        return f"missing argument to repetition operator: `{expr[pos : pos + 1]}`"
    if msg.startswith("multiple repeat"):
        return f"invalid nested repetition operator: `{expr[pos - 1 : pos + 1]}`"
    if msg.startswith("bad escape"):
        return f"invalid escape sequence: `{expr[pos : pos + 2]}`"
    if msg.startswith("bad character range"):
        return f"invalid character class range: `{msg.split()[-1]}`"
    return "invalid or unsupported Perl syntax"


def _go_repl(repl: str) -> Any:
    """Go's ``Expand`` syntax ($1, ${1}, $name, ${name}, $$) as a Python replacement function."""
    token = re.compile(r"\$(\$|\{(\w+)\}|(\w+))")

    def fn(m: re.Match[str]) -> str:
        def sub(t: re.Match[str]) -> str:
            if t.group(1) == "$":
                return "$"
            name = t.group(2) or t.group(3)
            try:
                val = m.group(int(name)) if name.isdigit() else m.group(name)
            except (IndexError, KeyError, re.error):
                return ""
            return val or ""

        return token.sub(sub, repl)

    return fn


def _regex_find_all(expr: str, s: str, n: int) -> GoList:
    found = [m.group(0) for m in go_regex(expr).finditer(s)]
    if n >= 0:
        found = found[:n]
    return GoList(found, elem="string", nil=not found)


def _regex_split(expr: str, s: str, n: int) -> GoList:
    if n == 0:
        return GoList(elem="string", nil=True)
    r = go_regex(expr)
    if expr and s == "":
        return GoList([""], elem="string")
    parts: list[str] = []
    beg = 0
    for m in r.finditer(s):
        if 0 < n <= len(parts) + 1:
            break
        if m.end() == 0 and m.start() == 0:
            continue
        parts.append(s[beg : m.start()])
        beg = m.end()
    parts.append(s[beg:])
    return GoList(parts, elem="string")


def _regex_quote(s: str) -> str:
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s)


def _safe_match(expr: str, s: str) -> bool:
    try:
        return go_regex(expr).search(s) is not None
    except GoPanic:
        return False


def _first_match(expr: str, s: str) -> str:
    m = go_regex(expr).search(s)
    return m.group(0) if m else ""


REGEX: dict[str, GoFunc] = {
    "regexMatch": gofunc(STRING, STRING)(lambda r, s: _safe_match(r, s)),
    "mustRegexMatch": gofunc(STRING, STRING)(lambda r, s: go_regex(r).search(s) is not None),
    "regexFindAll": gofunc(STRING, STRING, INT)(_regex_find_all),
    "mustRegexFindAll": gofunc(STRING, STRING, INT)(_regex_find_all),
    "regexFind": gofunc(STRING, STRING)(lambda r, s: _first_match(r, s)),
    "mustRegexFind": gofunc(STRING, STRING)(lambda r, s: _first_match(r, s)),
    "regexReplaceAll": gofunc(STRING, STRING, STRING)(
        lambda r, s, p: checked(go_regex(r).sub(_go_repl(p), s))
    ),
    "mustRegexReplaceAll": gofunc(STRING, STRING, STRING)(
        lambda r, s, p: checked(go_regex(r).sub(_go_repl(p), s))
    ),
    "regexReplaceAllLiteral": gofunc(STRING, STRING, STRING)(
        lambda r, s, p: checked(go_regex(r).sub(lambda _: p, s))
    ),
    "mustRegexReplaceAllLiteral": gofunc(STRING, STRING, STRING)(
        lambda r, s, p: checked(go_regex(r).sub(lambda _: p, s))
    ),
    "regexSplit": gofunc(STRING, STRING, INT)(_regex_split),
    "mustRegexSplit": gofunc(STRING, STRING, INT)(_regex_split),
    "regexQuoteMeta": gofunc(STRING)(_regex_quote),
}
