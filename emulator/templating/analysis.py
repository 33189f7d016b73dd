"""Static analysis of a template: which keys of ``.args`` (or ``.user``) it reads, and how.

A heuristic walk over Go's parse tree, for lints and ``--strict-args``; it never changes how a
template renders. For each read of a key of the root map (``.args.x``, ``$.args.x``,
``index .args "x"``, ``get .args "x"``) it reports:

- ``guard``: why a missing key is handled: ``"default"`` (the value goes through ``default``,
  ``coalesce``, ``empty``, ``or``, ``required``, ...), ``"condition"`` (read inside the pipeline of
  an ``if``, ``with`` or ``range``), ``"branch"`` (read inside the body of an ``if``/``with`` whose
  condition reads or ``hasKey``-checks the same key); None when nothing handles it;
- ``quote``: ``'`` or ``"`` when the value is printed, unescaped, inside a SQL string literal or
  quoted identifier (``'{{ .args.x }}'``). "Unescaped" means it reaches the output through nothing
  but functions that keep quotes as they are (``default``, ``print``, ``lower``, ``squote``, ...);
  any other function (``replace``, ``as_sql_list``, ``int``, ...) counts as deliberate handling.

Reads inside ``with``/``range`` bodies through the changed dot (``{{ with .args }}{{ .x }}``) and
through variables (``$a := .args``) are not followed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from emulator.templating import nodes as n
from emulator.templating.errors import TemplateError
from emulator.templating.parser import parse
from emulator.templating.template import Template

__all__ = ["FieldUse", "arg_uses", "field_uses", "presence_checks"]

#: Functions after which a missing key no longer prints ``<no value>`` (or fails on purpose).
GUARD_FUNCS = frozenset(
    {"default", "coalesce", "empty", "required", "or", "and", "not", "ternary", "hasKey", "kindIs",
     "kindOf", "typeOf", "typeIs", "typeIsLike", "fail"}
)  # fmt: skip
#: Functions whose result still carries the quotes of their string arguments unescaped.
PASS_THROUGH_FUNCS = frozenset(
    {"default", "coalesce", "or", "and", "ternary", "print", "printf", "println", "toString", "toStrings",
     "trim", "trimAll", "trimPrefix", "trimSuffix", "lower", "upper", "title", "untitle", "squote", "quote",
     "nospace", "trunc", "abbrev", "abbrevboth", "cat", "join", "first", "last", "initial", "rest",
     "substr", "repeat", "wrap", "wrapWith", "indent", "nindent", "index", "get", "dig", "pluck", "js",
     "toJson", "toRawJson", "toPrettyJson", "mustToJson", "mustToRawJson", "mustToPrettyJson", "list",
     "camelcase", "snakecase", "kebabcase", "swapcase", "shuffle", "reverse", "sortAlpha", "uniq",
     "compact", "mustFirst", "mustLast", "mustInitial", "mustRest", "mustCompact", "mustUniq", "slice"}
)  # fmt: skip


@dataclass(frozen=True)
class FieldUse:
    """One read of a key of a root map (``.args`` or ``.user``) by a template."""

    root: str
    #: The key read from the root map (``period`` for ``.args.period.start_date``).
    name: str
    #: Every key of the chain (``("period", "start_date")``).
    path: tuple[str, ...]
    guard: str | None
    quote: str | None
    line: int
    col: int
    #: The action or control around the read, as Go prints it (``{{.args.x}}``).
    context: str

    @property
    def guarded(self) -> bool:
        """Whether a missing key is handled by the template (a default, a condition, a check)."""
        return self.guard is not None


class _AnyName(Collection[str]):
    """Every identifier is a function: the template compiled once already, with its own table."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass
class _Use:
    name: str
    path: tuple[str, ...]
    guard: str | None
    node: n.Node
    quote: str | None = None
    context: str = ""


class _Ctx(NamedTuple):
    dot_is_root: bool  # whether ``.`` is the template data (not inside with/range)
    guard: str | None
    tested: frozenset[str]  # keys the enclosing if/with conditions test


class _SqlQuotes:
    """Tracks whether the text printed so far leaves SQL inside a quoted string, identifier or comment."""

    def __init__(self) -> None:
        self.state: str | None = None

    def feed(self, text: str) -> None:
        state, i, size = self.state, 0, len(text)
        while i < size:
            c = text[i]
            if state is None:
                if c in "'\"":
                    state = c
                elif text.startswith("--", i):
                    state, i = "--", i + 1
                elif text.startswith("/*", i):
                    state, i = "/*", i + 1
            elif state in ("'", '"'):
                if c == state:  # a doubled quote closes and reopens: the state comes out right
                    state = None
            elif state == "--":
                if c == "\n":
                    state = None
            elif text.startswith("*/", i):
                state, i = None, i + 1
            i += 1
        self.state = state

    @property
    def quote(self) -> str | None:
        return self.state if self.state in ("'", '"') else None


class _Walker:
    def __init__(self, root: str) -> None:
        self.root = root
        self.uses: list[_Use] = []
        self.checks: list[str] = []
        self.sql = _SqlQuotes()

    # -- lists and controls ------------------------------------------------------------------------
    def walk(self, lst: n.ListNode | None, dot_is_root: bool, tested: frozenset[str]) -> None:
        if lst is None:
            return
        for node in lst.nodes:
            if isinstance(node, n.TextNode):
                self.sql.feed(node.value)
            elif isinstance(node, n.ActionNode):
                start = len(self.uses)
                raw = self.pipe(node.pipe, _Ctx(dot_is_root, None, tested))
                context = node.text()
                for use in self.uses[start:]:
                    use.context = context
                quote = self.sql.quote
                if quote is not None and not node.pipe.decl:
                    for use in raw:
                        use.quote = quote
            elif isinstance(node, n.BranchNode):
                start, checks_start = len(self.uses), len(self.checks)
                self.pipe(node.pipe, _Ctx(dot_is_root, "condition", tested))
                context = "{{" + node.keyword + " " + node.pipe.text() + "}}"
                names = {use.name for use in self.uses[start:]} | set(self.checks[checks_start:])
                for use in self.uses[start:]:
                    use.context = context
                body_tested = tested if isinstance(node, n.RangeNode) else tested | names
                body_dot = dot_is_root and isinstance(node, n.IfNode)
                self.walk(node.body, body_dot, frozenset(body_tested))
                self.walk(node.else_body, dot_is_root, tested)
            elif isinstance(node, n.TemplateNode) and node.pipe is not None:
                start = len(self.uses)
                self.pipe(node.pipe, _Ctx(dot_is_root, None, tested))
                for use in self.uses[start:]:
                    use.context = node.text()

    # -- pipelines ---------------------------------------------------------------------------------
    def pipe(self, pipe: n.PipeNode, ctx: _Ctx) -> list[_Use]:
        """Walk a pipeline; returns the reads whose value reaches its result unescaped."""
        cmds = pipe.cmds
        heads = [_head(cmd) for cmd in cmds]
        guarded_after = [any(h in GUARD_FUNCS for h in heads[i + 1 :]) for i in range(len(cmds))]
        raw: list[_Use] = []
        for i, cmd in enumerate(cmds):
            head = heads[i]
            if ctx.guard is None and (guarded_after[i] or head in GUARD_FUNCS):
                out = self.command(cmd, head, ctx._replace(guard="default"))
            else:
                out = self.command(cmd, head, ctx)
            if i == 0:
                raw = out
            elif head in PASS_THROUGH_FUNCS:
                raw = raw + out
            else:
                raw = []
        return raw

    def command(self, cmd: n.CommandNode, head: str | None, ctx: _Ctx) -> list[_Use]:
        args = cmd.args
        if head is None:
            first = self.operand(args[0], ctx)
            for arg in args[1:]:  # a method call's arguments
                self.operand(arg, ctx)
            return first
        if (
            head in ("index", "get", "hasKey")
            and len(args) >= 3
            and isinstance(args[2], n.StringNode)
            and self.is_root_map(args[1], ctx.dot_is_root)
        ):
            key = args[2].value
            if head == "hasKey":
                self.checks.append(key)
                return []
            return [self.record(key, (key,), ctx, cmd)]
        out: list[_Use] = []
        for arg in args[1:]:
            found = self.operand(arg, ctx)
            if head in PASS_THROUGH_FUNCS:
                out.extend(found)
        return out

    def operand(self, node: n.Node, ctx: _Ctx) -> list[_Use]:
        if isinstance(node, n.FieldNode):
            if ctx.dot_is_root and len(node.ident) > 1 and node.ident[0] == self.root:
                return [self.record(node.ident[1], tuple(node.ident[1:]), ctx, node)]
        elif isinstance(node, n.VariableNode):
            ident = node.ident
            if len(ident) > 2 and ident[0] == "$" and ident[1] == self.root:
                return [self.record(ident[2], tuple(ident[2:]), ctx, node)]
        elif isinstance(node, n.PipeNode):
            return self.pipe(node, ctx)
        elif isinstance(node, n.ChainNode):
            self.operand(node.node, ctx)
        return []

    def is_root_map(self, node: n.Node, dot_is_root: bool) -> bool:
        if isinstance(node, n.FieldNode):
            return dot_is_root and node.ident == [self.root]
        if isinstance(node, n.VariableNode):
            return node.ident == ["$", self.root]
        return False

    def record(self, name: str, path: tuple[str, ...], ctx: _Ctx, node: n.Node) -> _Use:
        guard = ctx.guard
        if guard is None and name in ctx.tested:
            guard = "branch"
        use = _Use(name, path, guard, node)
        self.uses.append(use)
        return use


def _head(cmd: n.CommandNode) -> str | None:
    first = cmd.args[0] if cmd.args else None
    return first.ident if isinstance(first, n.IdentifierNode) else None


def _trees(template: Template | str) -> tuple[str, dict[str, n.ListNode]] | None:
    source = template.source if isinstance(template, Template) else template
    name = template.name if isinstance(template, Template) else ""
    try:
        trees, _ = parse(name, source, _AnyName())
    except (TemplateError, RecursionError):
        return None
    return source, trees


def _analyse(template: Template | str, root: str) -> tuple[list[FieldUse], frozenset[str]]:
    parsed = _trees(template)
    if parsed is None:
        return [], frozenset()
    source, trees = parsed
    walker = _Walker(root)
    for tree in trees.values():
        walker.sql = _SqlQuotes()
        try:
            walker.walk(tree, True, frozenset())
        except RecursionError:  # deeper than Python allows: the compiler refused it anyway
            return [], frozenset()
    uses = []
    for use in walker.uses:
        line, col = n.location(source, use.node.pos)
        uses.append(FieldUse(root, use.name, use.path, use.guard, use.quote, line, col, use.context))
    uses.sort(key=lambda u: (u.line, u.col))
    return uses, frozenset(walker.checks)


def field_uses(template: Template | str, root: str) -> tuple[FieldUse, ...]:
    """Every read of a key of ``.<root>`` by ``template`` (source order); () if it does not parse."""
    return tuple(_analyse(template, root)[0])


def arg_uses(template: Template | str) -> tuple[FieldUse, ...]:
    """Every read of a request arg (``.args.x``) by ``template``, in source order."""
    return field_uses(template, "args")


def presence_checks(template: Template | str, root: str) -> frozenset[str]:
    """The keys of ``.<root>`` that ``template`` tests with ``hasKey``."""
    return _analyse(template, root)[1]
