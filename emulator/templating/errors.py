"""Errors of the template engine: the public ``TemplateError`` and the internal execution signal."""

from __future__ import annotations

from emulator.errors import BadRequest


class TemplateError(BadRequest):
    """A template failed to parse or to execute (HTTP 400).

    The message is Go's text (``template: NAME:LINE:COL: ...``); ``line`` and ``col`` locate the
    error when known. Columns are Go's: a 0-based byte offset into the line, of the node being
    executed (as in Go's execution errors) or of the token the parser was looking at (Go's parse
    errors give only that token's line; the column is added here).
    """

    def __init__(self, message: str, *, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.col = col


class ExecError(Exception):
    """Raised inside a render; the template turns it into a located ``TemplateError``.

    ``node`` overrides the node the error is reported at (Go's ``s.at(node)`` before ``errorf``);
    ``call`` marks a failure of a function call, reported as ``error calling NAME: ...``.
    """

    def __init__(self, message: str, node: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


class GoPanic(Exception):
    """A function failed the way a Go function panics or returns an error; the text is Go's."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
