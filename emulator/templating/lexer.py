"""Lexer: a port of Go's ``text/template/parse/lex.go`` (Go 1.22+: trim markers, break/continue).

Positions are character offsets into the source; error columns are converted to Go's byte offsets
when a message is formatted (see ``nodes.location``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

# Item types (the order of Go's itemType constants does not matter here, only the keyword split).
ERROR = 0
BOOL = 1
CHAR = 2
CHAR_CONSTANT = 3
COMPLEX = 4
ASSIGN = 5
DECLARE = 6
EOF = 7
FIELD = 8
IDENTIFIER = 9
LEFT_DELIM = 10
LEFT_PAREN = 11
NUMBER = 12
PIPE = 13
RAW_STRING = 14
RIGHT_DELIM = 15
RIGHT_PAREN = 16
SPACE = 17
STRING = 18
TEXT = 19
VARIABLE = 20
KEYWORD = 30  # everything above is a keyword
BLOCK = 31
BREAK = 32
CONTINUE = 33
DOT = 34
DEFINE = 35
ELSE = 36
END = 37
IF = 38
NIL = 39
RANGE = 40
TEMPLATE = 41
WITH = 42

KEYWORDS = {
    ".": DOT,
    "block": BLOCK,
    "break": BREAK,
    "continue": CONTINUE,
    "define": DEFINE,
    "else": ELSE,
    "end": END,
    "if": IF,
    "range": RANGE,
    "nil": NIL,
    "template": TEMPLATE,
    "with": WITH,
}

LEFT = "{{"
RIGHT = "}}"
SPACE_CHARS = " \t\r\n"


class Item(NamedTuple):
    """A token: type, character offset, text, line (1-based)."""

    typ: int
    pos: int
    val: str
    line: int

    def describe(self) -> str:
        """Go's ``item.String()``, used in "unexpected ..." messages."""
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote`` (``%q``): double quotes, Go escapes, printable runes kept."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o < 0x80 or not is_print(ch):
            out.append(_escape_rune(o))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_SHORT_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _escape_rune(o: int) -> str:
    if o in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[o]
    if o < 0x20 or o == 0x7F:
        return f"\\x{o:02x}"
    if 0xD800 <= o <= 0xDFFF:  # a lone surrogate stands for an invalid byte sequence
        return "\\ufffd"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def is_print(ch: str) -> bool:
    """Go's ``unicode.IsPrint``: letters, marks, numbers, punctuation, symbols and ASCII space."""
    if ch == " ":
        return True
    return unicodedata.category(ch)[0] in "LMNPS"


def format_rune_u(ch: str) -> str:
    """Go's ``%#U``: ``U+0023 '#'``."""
    o = ord(ch)
    if is_print(ch):
        return f"U+{o:04X} '{ch}'"
    return f"U+{o:04X}"


def _is_space(ch: str) -> bool:
    return ch in (" ", "\t", "\r", "\n")


def is_alnum(ch: str) -> bool:
    """Go's ``isAlphaNumeric``: underscore, Unicode letter or digit."""
    if ch == "_":
        return True
    if ch.isascii():
        return ch.isalnum()
    cat = unicodedata.category(ch)
    return cat[0] == "L" or cat == "Nd"


_Next = Callable[[], Any] | None  # a lexer state: the method scanning what comes next


class Lexer:
    """Scans the whole input into a list of items; an ERROR item, if any, ends the list."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.items: list[Item] = []

    # -- primitives ---------------------------------------------------------------------------
    def next(self) -> str:
        if self.pos >= len(self.input):
            self.pos += 1  # a virtual eof of width 1 so that backup() restores the position
            return ""
        ch = self.input[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def backup(self) -> None:
        self.pos -= 1
        if self.pos < len(self.input) and self.input[self.pos] == "\n":
            self.line -= 1

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def emit(self, typ: int) -> None:
        self.items.append(Item(typ, self.start, self.input[self.start : self.pos], self.start_line))
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def accept(self, valid: str) -> bool:
        ch = self.next()
        if ch and ch in valid:
            return True
        self.backup()
        return False

    def accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if not ch or ch not in valid:
                break
        self.backup()

    def errorf(self, message: str) -> None:
        self.items.append(Item(ERROR, self.start, message, self.start_line))

    # -- driver -------------------------------------------------------------------------------
    def run(self) -> list[Item]:
        state: _Next = self.lex_text
        while state is not None:
            state = state()
        return self.items

    def at_right_delim(self) -> tuple[bool, bool]:
        s = self.input
        p = self.pos
        if p + 1 < len(s) and _is_space(s[p]) and s[p + 1] == "-" and s.startswith(RIGHT, p + 2):
            return True, True
        if s.startswith(RIGHT, p):
            return True, False
        return False, False

    def lex_text(self) -> _Next:
        s = self.input
        x = s.find(LEFT, self.pos)
        if x >= 0:
            self.pos = x
            trim = 0
            if _has_left_trim(s, x + 2):
                trim = len(s[self.start : x]) - len(s[self.start : x].rstrip(SPACE_CHARS))
            self.pos -= trim
            if self.pos > self.start:
                self.line += s.count("\n", self.start, self.pos)
                self.emit(TEXT)
            self.pos += trim
            self.ignore()
            return self.lex_left_delim
        self.pos = len(s)
        if self.pos > self.start:
            self.line += s.count("\n", self.start, self.pos)
            self.emit(TEXT)
        self.emit(EOF)
        return None

    def lex_left_delim(self) -> _Next:
        self.pos += 2
        trim = _has_left_trim(self.input, self.pos)
        after = 2 if trim else 0
        if self.input.startswith("/*", self.pos + after):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(LEFT_DELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self) -> _Next:
        self.pos += 2
        i = self.input.find("*/", self.pos)
        if i < 0:
            self.errorf("unclosed comment")
            return None
        self.pos = i + 2
        delim, trim = self.at_right_delim()
        if not delim:
            self.errorf("comment ends before closing delimiter")
            return None
        if trim:
            self.pos += 2
        self.pos += 2
        if trim:
            self.pos += _left_trim_length(self.input, self.pos)
        self.ignore()
        return self.lex_text

    def lex_right_delim(self) -> _Next:
        _, trim = self.at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += 2
        self.emit(RIGHT_DELIM)
        if trim:
            self.pos += _left_trim_length(self.input, self.pos)
            self.ignore()
        return self.lex_text

    def lex_inside_action(self) -> _Next:
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.errorf("unclosed left paren")
            return None
        ch = self.next()
        if ch == "":
            self.errorf("unclosed action")
            return None
        if _is_space(ch):
            self.backup()
            return self.lex_space
        if ch == "=":
            self.emit(ASSIGN)
        elif ch == ":":
            if self.next() != "=":
                self.errorf("expected :=")
                return None
            self.emit(DECLARE)
        elif ch == "|":
            self.emit(PIPE)
        elif ch == '"':
            return self.lex_quote
        elif ch == "`":
            return self.lex_raw_quote
        elif ch == "$":
            return self.lex_variable
        elif ch == "'":
            return self.lex_char
        elif ch == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self.lex_field
        elif ch in "+-." or "0" <= ch <= "9":
            self.backup()
            return self.lex_number
        elif is_alnum(ch):
            self.backup()
            return self.lex_identifier
        elif ch == "(":
            self.emit(LEFT_PAREN)
            self.paren_depth += 1
        elif ch == ")":
            self.emit(RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.errorf("unexpected right paren")
                return None
        elif ord(ch) < 0x80 and is_print(ch):
            self.emit(CHAR)
        else:
            self.errorf(f"unrecognized character in action: {format_rune_u(ch)}")
            return None
        return self.lex_inside_action

    def lex_space(self) -> _Next:
        num = 0
        while _is_space(self.peek()):
            self.next()
            num += 1
        s = self.input
        p = self.pos - 1
        if p + 1 < len(s) and s[p + 1] == "-" and s.startswith(RIGHT, p + 2):
            self.backup()  # before the space of " -}}"
            if num == 1:
                return self.lex_right_delim
        self.emit(SPACE)
        return self.lex_inside_action

    def lex_identifier(self) -> _Next:
        while is_alnum(self.peek()):
            self.next()
        word = self.input[self.start : self.pos]
        if not self.at_terminator():
            self.errorf(f"bad character {format_rune_u(self.peek())}")
            return None
        kw = KEYWORDS.get(word, 0)
        if kw > KEYWORD:
            self.emit(kw)
        elif word in ("true", "false"):
            self.emit(BOOL)
        else:
            self.emit(IDENTIFIER)
        return self.lex_inside_action

    def lex_field(self) -> _Next:
        return self._field_or_variable(FIELD)

    def lex_variable(self) -> _Next:
        if self.at_terminator():
            self.emit(VARIABLE)
            return self.lex_inside_action
        return self._field_or_variable(VARIABLE)

    def _field_or_variable(self, typ: int) -> _Next:
        if self.at_terminator():
            self.emit(VARIABLE if typ == VARIABLE else DOT)
            return self.lex_inside_action
        while is_alnum(self.peek()):
            self.next()
        if not self.at_terminator():
            self.errorf(f"bad character {format_rune_u(self.peek())}")
            return None
        self.emit(typ)
        return self.lex_inside_action

    def at_terminator(self) -> bool:
        ch = self.peek()
        return ch == "" or _is_space(ch) or ch in ".,|:)(}"

    def lex_char(self) -> _Next:
        return self._lex_delimited("'", CHAR_CONSTANT, "unterminated character constant")

    def lex_number(self) -> _Next:
        if not self.scan_number():
            self.errorf(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
            return None
        if self.peek() in ("+", "-"):
            if not self.scan_number() or self.input[self.pos - 1] != "i":
                self.errorf(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
                return None
            self.emit(COMPLEX)
        else:
            self.emit(NUMBER)
        return self.lex_inside_action

    def scan_number(self) -> bool:
        self.accept("+-")
        digits = "0123456789_"
        if self.accept("0"):
            if self.accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self.accept("oO"):
                digits = "01234567_"
            elif self.accept("bB"):
                digits = "01_"
        self.accept_run(digits)
        if self.accept("."):
            self.accept_run(digits)
        if len(digits) == 11 and self.accept("eE"):
            self.accept("+-")
            self.accept_run("0123456789_")
        if len(digits) == 23 and self.accept("pP"):
            self.accept("+-")
            self.accept_run("0123456789_")
        self.accept("i")
        if self.peek() and is_alnum(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self) -> _Next:
        return self._lex_delimited('"', STRING, "unterminated quoted string")

    def _lex_delimited(self, close: str, token: int, unterminated: str) -> _Next:
        """Scan to ``close``, skipping backslash escapes; a newline or the end is an error (Go's lexer)."""
        while True:
            ch = self.next()
            if ch == "\\":
                ch = self.next()
                if ch not in ("", "\n"):
                    continue
            if ch in ("", "\n"):
                self.errorf(unterminated)
                return None
            if ch == close:
                break
        self.emit(token)
        return self.lex_inside_action

    def lex_raw_quote(self) -> _Next:
        end = self.input.find("`", self.pos)
        if end < 0:
            self.pos = len(self.input)
            self.errorf("unterminated raw quoted string")
            return None
        self.line += self.input.count("\n", self.pos, end + 1)
        self.pos = end + 1
        self.emit(RAW_STRING)
        return self.lex_inside_action


def _has_left_trim(s: str, p: int) -> bool:
    return p + 1 < len(s) and s[p] == "-" and _is_space(s[p + 1])


def _left_trim_length(s: str, p: int) -> int:
    rest = s[p:]
    return len(rest) - len(rest.lstrip(SPACE_CHARS))


def lex(text: str) -> list[Item]:
    """Tokenise ``text``; the list ends with EOF or with the ERROR item that stopped the scan."""
    return Lexer(text).run()
