"""Go ``text/template`` + Sprig v3, as Rill renders API SQL, security expressions and row filters.

Design: a port of Go's lexer and parser (``text/template/parse``) builds Go's parse tree; the
compiler then generates one Python function per template (``compile()``d once at load time) whose
statements follow Go's ``exec.go`` evaluation order, so rendering walks no tree. Compiling to
Jinja2 was considered and rejected: Jinja2's expression language cannot express Go's semantics
(pipelines whose piped value is the last argument, ``and``/``or`` returning operands, per-argument
Go type checks with Go's error texts, missing keys printing ``<no value>``, Go ``%v`` printing)
without wrapping every operation in helpers, at which point the direct translation is simpler,
faster and easier to keep faithful.

Values are plain Python values standing for Rill's Go values (see ``values``); every function
carries its Go signature (``funcs.GoFunc``) so argument errors match Go's. Errors are
``TemplateError`` (HTTP 400) with Go's texts, adding the column Go omits from parse errors.

Bounds Go does not have (a hostile template fails with a TemplateError instead of hanging):
1,000,000 range iterations and template calls together and 5 s per render (checked while looping),
100 nested ``{{template}}`` calls, 100 nested parentheses, lists of at most 1,000,000 elements
from ``until``/``untilStep``/``seq``, strings of at most 16 MiB from Sprig's string builders,
printf widths of at most 1,000,000. Structures nested deeper than Python can compile (about 20
nested ``range`` or 45 nested ``if``) fail to compile with a TemplateError. Regular expressions
run on Python's ``re`` (backtracking), not RE2: a pathological pattern can be slow.
"""

from __future__ import annotations

from emulator.templating.analysis import FieldUse, arg_uses, field_uses, presence_checks
from emulator.templating.errors import TemplateError
from emulator.templating.funcs import GoFunc, gofunc
from emulator.templating.rill import rill_funcs
from emulator.templating.template import Template, compile_template
from emulator.templating.values import go_print

__all__ = [
    "FieldUse",
    "GoFunc",
    "Template",
    "TemplateError",
    "arg_uses",
    "compile_template",
    "field_uses",
    "go_print",
    "gofunc",
    "presence_checks",
    "rill_funcs",
]
