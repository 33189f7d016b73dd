"""Go's ``fmt.Sprint``, ``Sprintln`` and ``Sprintf`` (the verbs templates use, with Go's error forms)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from emulator.templating.lexer import go_quote
from emulator.templating.values import NOVALUE, format_complex, format_float, go_print, gotype

MAX_WIDTH = 1_000_000  # Go would allocate whatever is asked; a hostile width must not


def sprint(args: tuple[Any, ...]) -> str:
    """``fmt.Sprint``: a space between operands when neither side is a string."""
    out: list[str] = []
    prev_string = True
    for i, a in enumerate(args):
        is_string = type(a) is str
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(go_print(a))
        prev_string = is_string
    return "".join(out)


def sprintln(args: tuple[Any, ...]) -> str:
    """``fmt.Sprintln``: operands separated by spaces, newline appended."""
    return " ".join(go_print(a) for a in args) + "\n"


def go_syntax(v: Any) -> str:
    """``%#v``: Go-syntax representation (the common cases)."""
    t = type(v)
    if t is str:
        return go_quote(v)
    if v is None:
        return "<nil>"
    if isinstance(v, (list, tuple)):
        return gotype(v) + "{" + ", ".join(go_syntax(e) for e in v) + "}"
    if isinstance(v, Mapping):
        inner = ", ".join(f"{go_quote(k)}:{go_syntax(v[k])}" for k in sorted(v))
        return gotype(v) + "{" + inner + "}"
    if t is float:
        s = format_float(v)
        return s if any(c in s for c in ".eIN") else s + ".0" if False else s
    return go_print(v)


class _Spec:
    __slots__ = ("minus", "plus", "prec", "sharp", "space", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width = -1
        self.prec = -1


def _pad(s: str, spec: _Spec, numeric: bool = False) -> str:
    if spec.width < 0 or len(s) >= spec.width:
        return s
    fill = spec.width - len(s)
    if spec.minus:
        return s + " " * fill
    if spec.zero and numeric:
        sign = s[0] if s[:1] in ("-", "+", " ") else ""
        return sign + "0" * fill + s[len(sign) :]
    return " " * fill + s


def _bad(verb: str, v: Any) -> str:
    if v is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({gotype(v)}={go_print(v)})"


def _fmt_int(v: int, verb: str, spec: _Spec) -> str:
    neg = v < 0
    a = -v if neg else v
    if verb in "dv":
        body = str(a)
    elif verb == "b":
        body = format(a, "b")
    elif verb == "o":
        body = format(a, "o")
        if spec.sharp and body[0] != "0":
            body = "0" + body
    elif verb == "O":
        body = "0o" + format(a, "o")
    elif verb in "xX":
        body = format(a, "x" if verb == "x" else "X")
        if spec.sharp:
            body = ("0x" if verb == "x" else "0X") + body
    elif verb == "c":
        return _pad(chr(v) if 0 <= v <= 0x10FFFF else "\ufffd", spec)
    elif verb == "q":
        return _pad("'" + go_quote(chr(v))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'", spec)
    elif verb == "U":
        return _pad(f"U+{v:04X}", spec)
    else:
        return _bad(verb, v)
    if spec.prec >= 0:
        body = body.rjust(spec.prec, "0") if spec.prec or a else ""
    sign = "-" if neg else "+" if spec.plus else " " if spec.space else ""
    return _pad(sign + body, spec, numeric=spec.prec < 0)


def _fmt_float(v: float, verb: str, spec: _Spec) -> str:
    if verb not in "vgGeEfF":
        return _bad(verb, v)
    if verb == "v" or verb in "gG":
        s = format_float(v, "g", spec.prec)
    elif verb in "eE":
        s = format_float(v, "e", 6 if spec.prec < 0 else spec.prec)
    else:
        s = format_float(v, "f", 6 if spec.prec < 0 else spec.prec)
    if verb in "GE":
        s = s.upper()
    if spec.plus and not s.startswith(("-", "+")):
        s = "+" + s
    elif spec.space and not s.startswith(("-", "+")):
        s = " " + s
    return _pad(s, spec, numeric=not math.isinf(v) and not math.isnan(v))


def _fmt_str(v: str, verb: str, spec: _Spec) -> str:
    if spec.prec >= 0:
        v = v[: spec.prec]
    if verb in "vs":
        return _pad(v, spec)
    if verb == "q":
        if spec.sharp and "`" not in v:
            return _pad("`" + v + "`", spec)
        return _pad(go_quote(v), spec)
    if verb in "xX":
        h = v.encode("utf-8").hex()
        return _pad(h.upper() if verb == "X" else h, spec)
    return _bad(verb, v)


def format_value(v: Any, verb: str, spec: _Spec) -> str:
    """Format one operand with one verb."""
    if verb == "T":
        return _pad(gotype(v), spec)
    if verb == "v" and spec.sharp:
        return _pad(go_syntax(v), spec)
    t = type(v)
    if t is str:
        return _fmt_str(v, verb, spec)
    if t is bool:
        return _pad("true" if v else "false", spec) if verb in "vt" else _bad(verb, v)
    if t is float:
        return _fmt_float(v, verb, spec)
    if v is None or v is NOVALUE:
        return _pad("<nil>", spec) if verb == "v" else _bad(verb, None)
    if isinstance(v, (list, tuple)):
        return _pad("[" + " ".join(format_value(e, verb, _Spec()) for e in v) + "]", spec)
    if isinstance(v, Mapping):
        inner = " ".join(
            f"{format_value(k, verb, _Spec())}:{format_value(v[k], verb, _Spec())}" for k in sorted(v)
        )
        return _pad("map[" + inner + "]", spec)
    if t is complex:
        return _pad(format_complex(v), spec) if verb in "vgeEfFG" else _bad(verb, v)
    if hasattr(v, "go_string"):
        return _pad(v.go_string(), spec) if verb in "vs" else _bad(verb, v)
    if isinstance(v, int):
        return _fmt_int(int(v), verb, spec)
    return _pad(go_print(v), spec)


def sprintf(fmt: str, args: tuple[Any, ...]) -> str:
    """``fmt.Sprintf``: verbs, flags, width, precision, ``*`` and ``[n]`` argument indexes."""
    out: list[str] = []
    argi = 0
    reordered = False
    i = 0
    n = len(fmt)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        spec = _Spec()
        while i < n and fmt[i] in "+-# 0":
            c = fmt[i]
            if c == "+":
                spec.plus = True
            elif c == "-":
                spec.minus = True
                spec.zero = False
            elif c == "#":
                spec.sharp = True
            elif c == " ":
                spec.space = True
            elif not spec.minus:
                spec.zero = True
            i += 1
        i, argi, reordered = _arg_index(fmt, i, argi, len(args), reordered)
        if i < n and fmt[i] == "*":
            i += 1
            if argi < len(args) and type(args[argi]) is int:
                spec.width = args[argi]
                if spec.width < 0:
                    spec.minus, spec.width = True, -spec.width
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        else:
            start = i
            while i < n and fmt[i].isdigit():
                i += 1
            if i > start:
                spec.width = int(fmt[start:i])
        if i < n and fmt[i] == ".":
            i += 1
            i, argi, reordered = _arg_index(fmt, i, argi, len(args), reordered)
            if i < n and fmt[i] == "*":
                i += 1
                if argi < len(args) and type(args[argi]) is int and args[argi] >= 0:
                    spec.prec = args[argi]
                else:
                    out.append("%!(BADPREC)")
                argi += 1
            else:
                start = i
                while i < n and fmt[i].isdigit():
                    i += 1
                spec.prec = int(fmt[start:i]) if i > start else 0
        if spec.width > MAX_WIDTH or spec.prec > MAX_WIDTH:
            raise ValueError("printf width or precision exceeds the emulator's limit")
        i, argi, reordered = _arg_index(fmt, i, argi, len(args), reordered)
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(format_value(args[argi], verb, spec))
        argi += 1
    if not reordered and argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{gotype(a)}={go_print(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _arg_index(fmt: str, i: int, argi: int, nargs: int, reordered: bool) -> tuple[int, int, bool]:
    if i < len(fmt) and fmt[i] == "[":
        end = fmt.find("]", i)
        if end > i and fmt[i + 1 : end].isdigit():
            idx = int(fmt[i + 1 : end]) - 1
            if 0 <= idx < nargs:
                return end + 1, idx, True
        return (end + 1 if end > 0 else i + 1), nargs, True
    return i, argi, reordered
