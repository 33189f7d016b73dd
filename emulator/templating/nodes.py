"""Parse-tree nodes, mirroring Go's ``text/template/parse/node.go`` (including ``String()`` output,
which Go prints as the ``<context>`` of execution errors)."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.templating.lexer import go_quote


def location(text: str, pos: int) -> tuple[int, int]:
    """Line (1-based) and Go column (0-based byte offset in the line) of character offset ``pos``."""
    before = text[:pos]
    line = before.count("\n") + 1
    last = before.rfind("\n")
    col_text = before if last < 0 else before[last + 1 :]
    return line, len(col_text.encode("utf-8", "surrogatepass"))


class Node:
    """Base node: ``pos`` is a character offset into the template text."""

    pos: int

    def text(self) -> str:
        """Go's ``Node.String()``."""
        raise NotImplementedError


@dataclass(eq=False)
class ListNode(Node):
    pos: int
    nodes: list[Node] = field(default_factory=list)

    def text(self) -> str:
        return "".join(n.text() for n in self.nodes)


@dataclass(eq=False)
class TextNode(Node):
    pos: int
    value: str

    def text(self) -> str:
        return self.value


@dataclass(eq=False)
class IdentifierNode(Node):
    pos: int
    ident: str

    def text(self) -> str:
        return self.ident


@dataclass(eq=False)
class VariableNode(Node):
    pos: int
    ident: list[str]

    def text(self) -> str:
        return ".".join(self.ident)


@dataclass(eq=False)
class DotNode(Node):
    pos: int

    def text(self) -> str:
        return "."


@dataclass(eq=False)
class NilNode(Node):
    pos: int

    def text(self) -> str:
        return "nil"


@dataclass(eq=False)
class FieldNode(Node):
    pos: int
    ident: list[str]

    def text(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass(eq=False)
class BoolNode(Node):
    pos: int
    value: bool

    def text(self) -> str:
        return "true" if self.value else "false"


@dataclass(eq=False)
class NumberNode(Node):
    pos: int
    source: str
    is_int: bool = False
    is_uint: bool = False
    is_float: bool = False
    is_complex: bool = False
    int64: int = 0
    uint64: int = 0
    float64: float = 0.0
    complex128: complex = 0j

    def text(self) -> str:
        return self.source


@dataclass(eq=False)
class StringNode(Node):
    pos: int
    quoted: str
    value: str

    def text(self) -> str:
        return self.quoted


@dataclass(eq=False)
class CommandNode(Node):
    pos: int
    args: list[Node] = field(default_factory=list)

    def text(self) -> str:
        parts = []
        for a in self.args:
            parts.append(f"({a.text()})" if isinstance(a, PipeNode) else a.text())
        return " ".join(parts)


@dataclass(eq=False)
class PipeNode(Node):
    pos: int
    line: int
    decl: list[VariableNode] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[CommandNode] = field(default_factory=list)

    def text(self) -> str:
        s = ""
        if self.decl:
            s = ", ".join(v.text() for v in self.decl) + (" = " if self.is_assign else " := ")
        return s + " | ".join(c.text() for c in self.cmds)


@dataclass(eq=False)
class ChainNode(Node):
    pos: int
    node: Node
    fields: list[str] = field(default_factory=list)

    def text(self) -> str:
        head = f"({self.node.text()})" if isinstance(self.node, PipeNode) else self.node.text()
        return head + "".join("." + f for f in self.fields)


@dataclass(eq=False)
class ActionNode(Node):
    pos: int
    line: int
    pipe: PipeNode

    def text(self) -> str:
        return "{{" + self.pipe.text() + "}}"


@dataclass(eq=False)
class BranchNode(Node):
    pos: int
    line: int
    pipe: PipeNode
    body: ListNode
    else_body: ListNode | None
    keyword = ""

    def text(self) -> str:
        s = "{{" + self.keyword + " " + self.pipe.text() + "}}" + self.body.text()
        if self.else_body is not None:
            s += "{{else}}" + self.else_body.text()
        return s + "{{end}}"


class IfNode(BranchNode):
    keyword = "if"


class RangeNode(BranchNode):
    keyword = "range"


class WithNode(BranchNode):
    keyword = "with"


@dataclass(eq=False)
class BreakNode(Node):
    pos: int
    line: int

    def text(self) -> str:
        return "{{break}}"


@dataclass(eq=False)
class ContinueNode(Node):
    pos: int
    line: int

    def text(self) -> str:
        return "{{continue}}"


@dataclass(eq=False)
class TemplateNode(Node):
    pos: int
    line: int
    name: str
    pipe: PipeNode | None

    def text(self) -> str:
        s = "{{template " + go_quote(self.name)
        if self.pipe is not None:
            s += " " + self.pipe.text()
        return s + "}}"


@dataclass(eq=False)
class EndNode(Node):
    """``{{end}}``: returned by the parser while parsing, never in a finished tree."""

    pos: int

    def text(self) -> str:
        return "{{end}}"


@dataclass(eq=False)
class ElseNode(Node):
    """``{{else}}``: returned by the parser while parsing, never in a finished tree."""

    pos: int
    line: int

    def text(self) -> str:
        return "{{else}}"
