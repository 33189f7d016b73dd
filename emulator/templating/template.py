"""``Template`` and ``compile_template``: parse once, generate Python once, render many times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.templating import nodes as n
from emulator.templating.codegen import namespace
from emulator.templating.compiler import Compiler
from emulator.templating.errors import TemplateError
from emulator.templating.funcs import GoFunc, as_gofunc
from emulator.templating.parser import parse
from emulator.templating.runtime import State

Ref = tuple[str | None, str]

_CANONICAL_KINDS = {
    "source": "model",  # Rill: sources are now emitted as models
    "model": "model",
    "metricsview": "metrics_view",
    "metrics_view": "metrics_view",
    "migration": "migration",
    "report": "report",
    "alert": "alert",
    "theme": "theme",
    "component": "component",
    "canvas": "canvas",
    "explore": "explore",
    "dashboard": "dashboard",
    "api": "api",
    "connector": "connector",
}


def canonical_kind(kind: str) -> str | None:
    """Rill's ``ParseResourceKind`` spelled canonically; None for an unknown kind."""
    return _CANONICAL_KINDS.get(kind.strip().lower())


class Template:
    """A compiled template: immutable and safe to render from many threads at once.

    ``refs`` lists the literal-argument calls of ``ref`` (kind canonical, ``source`` read as
    ``model``); ``uses_templating`` is Rill's notion: the top template is more than one text node.
    """

    __slots__ = ("_render", "name", "refs", "source", "uses_templating")

    _render: Callable[[Mapping[str, Any]], str]
    source: str
    name: str
    refs: tuple[Ref, ...]
    uses_templating: bool

    def __init__(
        self,
        source: str,
        name: str,
        render: Callable[[Mapping[str, Any]], str],
        refs: tuple[Ref, ...],
        uses_templating: bool,
    ) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_render", render)
        object.__setattr__(self, "refs", refs)
        object.__setattr__(self, "uses_templating", uses_templating)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Template is immutable")

    def render(self, data: Mapping[str, Any]) -> str:
        """Execute the template against ``data``; raises ``TemplateError`` only."""
        try:
            return self._render(data)
        except TemplateError:
            raise
        except Exception as exc:  # pragma: no cover - the generated code converts everything
            raise TemplateError(f"template: {self.name}: {type(exc).__name__}: {exc}") from None

    def __repr__(self) -> str:
        return f"Template(name={self.name!r}, source={self.source[:40]!r})"


def _collect_refs(trees: Mapping[str, n.ListNode]) -> tuple[Ref, ...]:
    """Literal-argument ``ref`` calls, in source order, without duplicates."""
    found: list[tuple[int, Ref]] = []

    def visit(node: n.Node | None) -> None:
        if node is None:
            return
        if isinstance(node, n.ListNode):
            for child in node.nodes:
                visit(child)
        elif isinstance(node, n.ActionNode):
            visit(node.pipe)
        elif isinstance(node, n.BranchNode):
            visit(node.pipe)
            visit(node.body)
            visit(node.else_body)
        elif isinstance(node, n.TemplateNode):
            visit(node.pipe)
        elif isinstance(node, n.PipeNode):
            for cmd in node.cmds:
                visit(cmd)
        elif isinstance(node, n.CommandNode):
            args = node.args
            head = args[0]
            if isinstance(head, n.IdentifierNode) and head.ident == "ref":
                lits = [a.value for a in args[1:] if isinstance(a, n.StringNode)]
                if len(lits) == len(args) - 1:
                    ref = _ref_of(lits)
                    if ref is not None:
                        found.append((node.pos, ref))
            for a in args:
                visit(a)
        elif isinstance(node, n.ChainNode):
            visit(node.node)

    for root in trees.values():
        visit(root)
    refs: list[Ref] = []
    for _, ref in sorted(found, key=lambda item: item[0]):
        if ref not in refs:
            refs.append(ref)
    return tuple(refs)


def _ref_of(parts: list[str]) -> Ref | None:
    if len(parts) == 1:
        return (None, parts[0])
    if len(parts) == 2:
        kind = canonical_kind(parts[0])
        if kind is not None:
            return (kind if parts[0].strip() else None, parts[1])
    return None


def compile_template(
    source: str, *, name: str = "", funcs: Mapping[str, Callable[..., Any]] | None = None
) -> Template:
    """Parse and compile ``source`` once; raises ``TemplateError`` (with line and column) on errors.

    ``funcs`` are merged over the defaults (Go builtins, Sprig, Rill extras for ``dev``); a plain
    callable takes ``...interface{}``, a ``GoFunc`` declares its Go signature.
    """
    from emulator.templating.library import default_funcs

    table: dict[str, GoFunc] = dict(default_funcs())
    if funcs:
        for key, fn in funcs.items():
            table[key] = as_gofunc(fn)
    try:
        trees, _ = parse(name, source, table)
        compiler = Compiler(name, source, trees, table)
        code, consts, nodes, uses_state = compiler.compile()
        ns = namespace(consts, nodes)
        exec(compile(code, f"<template {name!r}>", "exec"), ns)
    except TemplateError:
        raise
    except (RecursionError, MemoryError, SyntaxError) as exc:
        raise TemplateError(
            f"template: {name}: template too deeply nested for the emulator ({exc})"
        ) from None
    top = ns[compiler.tree_fn[name]]
    render = _make_render(top, uses_state)
    root = trees[name]
    uses = not (len(root.nodes) == 0 or (len(root.nodes) == 1 and isinstance(root.nodes[0], n.TextNode)))
    return Template(source, name, render, _collect_refs(trees), uses)


def _make_render(top: Callable[..., None], uses_state: bool) -> Callable[[Mapping[str, Any]], str]:
    if uses_state:

        def render(data: Mapping[str, Any]) -> str:
            out: list[str] = []
            top(out.append, data, 0, State())
            return "".join(out)

    else:

        def render(data: Mapping[str, Any]) -> str:
            out: list[str] = []
            top(out.append, data, 0, None)
            return "".join(out)

    return render
