"""Parser: a port of Go's ``text/template/parse/parse.go`` producing ``nodes`` trees.

Errors are Go's parse errors, with the column added: ``template: NAME:LINE:COL: message``.
"""

from __future__ import annotations

from collections.abc import Collection

from emulator.templating import lexer as lx
from emulator.templating import nodes as n
from emulator.templating.errors import TemplateError
from emulator.templating.strconv import SyntaxErr, parse_float, parse_int, parse_uint, unquote, unquote_char

MAX_STACK_DEPTH = 100  # Go allows 10000; Python recursion does not
MAX_PIPELINE_CMDS = 100000


class ParseFailure(Exception):
    """Internal: unwinds the parser (Go panics and recovers)."""


def parse_number(pos: int, text: str, typ: int) -> n.NumberNode:
    """Go's ``newNumber``: the value under every type that can represent it; raises SyntaxErr."""
    node = n.NumberNode(pos, text)
    if typ == lx.CHAR_CONSTANT:
        value, _, nxt = unquote_char(text, 1, "'")
        if text[nxt:] != "'":
            raise SyntaxErr(f"malformed character constant: {text}")
        node.int64 = node.uint64 = value
        node.float64 = float(value)
        node.is_int = node.is_uint = node.is_float = True
        return node
    if typ == lx.COMPLEX:
        split = max(text.rfind("+", 1), text.rfind("-", 1))
        while split > 0 and text[split - 1] in "eEpP":
            split = max(text.rfind("+", 1, split), text.rfind("-", 1, split))
        try:
            node.complex128 = complex(parse_float(text[:split]), parse_float(text[split:-1]))
        except SyntaxErr as exc:
            raise SyntaxErr("expected integer") from exc
        node.is_complex = True
        _simplify_complex(node)
        return node
    if text.endswith("i"):
        try:
            node.complex128 = complex(0, parse_float(text[:-1]))
            node.is_complex = True
            _simplify_complex(node)
            return node
        except SyntaxErr:
            pass
    try:
        node.uint64 = parse_uint(text)
        node.is_uint = True
    except SyntaxErr:
        pass
    try:
        node.int64 = parse_int(text)
        node.is_int = True
        if node.int64 == 0:
            node.is_uint = True
            node.uint64 = 0
    except SyntaxErr:
        pass
    if node.is_int:
        node.is_float = True
        node.float64 = float(node.int64)
    elif node.is_uint:
        node.is_float = True
        node.float64 = float(node.uint64)
    else:
        try:
            f = parse_float(text)
        except SyntaxErr:
            f = None
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise SyntaxErr(f"integer overflow: {lx.go_quote(text)}")
            node.is_float = True
            node.float64 = f
            if f == f and abs(f) != float("inf"):
                if -(2**63) <= f < 2**63 and float(int(f)) == f:
                    node.is_int = True
                    node.int64 = int(f)
                if 0 <= f < 2**64 and float(int(f)) == f:
                    node.is_uint = True
                    node.uint64 = int(f)
    if not (node.is_int or node.is_uint or node.is_float):
        raise SyntaxErr(f"illegal number syntax: {lx.go_quote(text)}")
    return node


def _simplify_complex(node: n.NumberNode) -> None:
    c = node.complex128
    node.is_float = c.imag == 0
    if node.is_float:
        f = c.real
        node.float64 = f
        finite = f == f and abs(f) != float("inf")
        node.is_int = finite and -(2**63) <= f < 2**63 and float(int(f)) == f
        if node.is_int:
            node.int64 = int(f)
        node.is_uint = finite and 0 <= f < 2**64 and float(int(f)) == f
        if node.is_uint:
            node.uint64 = int(f)


def is_empty_tree(node: n.Node | None) -> bool:
    """Go's ``IsEmptyTree``: only spaces (and comments)."""
    if node is None:
        return True
    if isinstance(node, n.ListNode):
        return all(is_empty_tree(x) for x in node.nodes)
    if isinstance(node, n.TextNode):
        return node.value.strip(" \t\r\n\v\f\x85\xa0") == ""
    return False


class Parser:
    """Parses one template source into named trees (the top-level one plus ``define``/``block``)."""

    def __init__(self, name: str, text: str, funcs: Collection[str]) -> None:
        self.name = name
        self.text = text
        self.funcs = funcs
        self.tokens = lx.lex(text)
        self.index = 0
        self.high = 0  # index of the most recently lexed token (Go's t.token[0])
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.stack_depth = 0
        self.action_line = 0
        self.trees: dict[str, n.ListNode] = {}
        self.tree_names: list[str] = []

    # -- token stream --------------------------------------------------------------------------
    def next(self) -> lx.Item:
        tok = self.tokens[min(self.index, len(self.tokens) - 1)]
        self.index += 1
        self.high = max(self.high, min(self.index - 1, len(self.tokens) - 1))
        return tok

    def backup(self, count: int = 1) -> None:
        self.index -= count

    def peek(self) -> lx.Item:
        tok = self.next()
        self.backup()
        return tok

    def next_non_space(self) -> lx.Item:
        while True:
            tok = self.next()
            if tok.typ != lx.SPACE:
                return tok

    def peek_non_space(self) -> lx.Item:
        start = self.index
        tok = self.next_non_space()
        self.index = start
        # Go's peekNonSpace drops the spaces it skipped; re-reading them is equivalent here.
        while self.tokens[self.index].typ == lx.SPACE:
            self.index += 1
        return tok

    # -- errors --------------------------------------------------------------------------------
    def errorf(self, message: str) -> ParseFailure:
        tok = self.tokens[self.high]
        line, col = n.location(self.text, tok.pos)
        raise TemplateError(f"template: {self.name}:{line}:{col}: {message}", line=line, col=col)

    def unexpected(self, tok: lx.Item, context: str) -> ParseFailure:
        if tok.typ == lx.ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != tok.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if tok.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            raise self.errorf(f"{tok.val}{extra}")
        raise self.errorf(f"unexpected {tok.describe()} in {context}")

    def expect(self, typ: int, context: str) -> lx.Item:
        tok = self.next_non_space()
        if tok.typ != typ:
            raise self.unexpected(tok, context)
        return tok

    # -- top level -----------------------------------------------------------------------------
    def parse(self) -> dict[str, n.ListNode]:
        root = n.ListNode(self.peek().pos)
        while self.peek().typ != lx.EOF:
            if self.peek().typ == lx.LEFT_DELIM:
                mark = self.index
                self.next()
                if self.next_non_space().typ == lx.DEFINE:
                    self.parse_definition()
                    continue
                self.index = mark
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                raise self.errorf(f"unexpected {node.text()}")
            root.nodes.append(node)
        self.add(self.name, root)
        return self.trees

    def add(self, name: str, root: n.ListNode) -> None:
        existing = self.trees.get(name)
        if existing is None or is_empty_tree(existing):
            if existing is None:
                self.tree_names.append(name)
            self.trees[name] = root
            return
        if not is_empty_tree(root):
            raise self.errorf(f"template: multiple definition of template {lx.go_quote(name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        tok = self.next_non_space()
        if tok.typ not in (lx.STRING, lx.RAW_STRING):
            raise self.unexpected(tok, context)
        name = self._unquote(tok.val)
        self.expect(lx.RIGHT_DELIM, context)
        saved_vars, self.vars = self.vars, ["$"]
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.errorf(f"unexpected {end.text()} in {context}")
        self.vars = saved_vars
        self.add(name, body)

    def item_list(self) -> tuple[n.ListNode, n.Node]:
        lst = n.ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != lx.EOF:
            node = self.text_or_action()
            if isinstance(node, (n.EndNode, n.ElseNode)):
                return lst, node
            lst.nodes.append(node)
        raise self.errorf("unexpected EOF")

    def text_or_action(self) -> n.Node:
        tok = self.next_non_space()
        if tok.typ == lx.TEXT:
            return n.TextNode(tok.pos, tok.val)
        if tok.typ == lx.LEFT_DELIM:
            self.action_line = tok.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        raise self.unexpected(tok, "input")

    def action(self) -> n.Node:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == lx.BLOCK:
            return self.block_control()
        if typ == lx.BREAK:
            return self.loop_control(tok, "break")
        if typ == lx.CONTINUE:
            return self.loop_control(tok, "continue")
        if typ == lx.ELSE:
            return self.else_control()
        if typ == lx.END:
            return n.EndNode(self.expect(lx.RIGHT_DELIM, "end").pos)
        if typ == lx.IF:
            return n.IfNode(*self.parse_control("if"))
        if typ == lx.RANGE:
            return n.RangeNode(*self.parse_control("range"))
        if typ == lx.TEMPLATE:
            return self.template_control()
        if typ == lx.WITH:
            return n.WithNode(*self.parse_control("with"))
        self.backup()
        tok = self.peek()
        return n.ActionNode(tok.pos, tok.line, self.pipeline("command", lx.RIGHT_DELIM))

    def loop_control(self, tok: lx.Item, word: str) -> n.Node:
        nxt = self.next_non_space()
        if nxt.typ != lx.RIGHT_DELIM:
            raise self.unexpected(nxt, "{{" + word + "}}")
        if self.range_depth == 0:
            raise self.errorf("{{" + word + "}} outside {{range}}")
        return n.BreakNode(tok.pos, tok.line) if word == "break" else n.ContinueNode(tok.pos, tok.line)

    def else_control(self) -> n.Node:
        peek = self.peek_non_space()
        if peek.typ in (lx.IF, lx.WITH):
            return n.ElseNode(peek.pos, peek.line)
        tok = self.expect(lx.RIGHT_DELIM, "else")
        return n.ElseNode(tok.pos, tok.line)

    def parse_control(self, context: str) -> tuple[int, int, n.PipeNode, n.ListNode, n.ListNode | None]:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, lx.RIGHT_DELIM)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_body: n.ListNode | None = None
            if isinstance(nxt, n.ElseNode):
                if context == "if" and self.peek().typ == lx.IF:
                    self.next()
                    else_body = n.ListNode(nxt.pos, [n.IfNode(*self.parse_control("if"))])
                elif context == "with" and self.peek().typ == lx.WITH:
                    self.next()
                    else_body = n.ListNode(nxt.pos, [n.WithNode(*self.parse_control("with"))])
                else:
                    else_body, nxt = self.item_list()
                    if not isinstance(nxt, n.EndNode):
                        raise self.errorf(f"expected end; found {nxt.text()}")
            return pipe.pos, pipe.line, pipe, body, else_body
        finally:
            del self.vars[mark:]

    def block_control(self) -> n.Node:
        context = "block clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = self.pipeline(context, lx.RIGHT_DELIM)
        saved = (self.vars, self.range_depth)
        self.vars, self.range_depth = ["$"], 0
        body, end = self.item_list()
        if not isinstance(end, n.EndNode):
            raise self.errorf(f"unexpected {end.text()} in {context}")
        self.vars, self.range_depth = saved
        self.add(name, body)
        return n.TemplateNode(tok.pos, tok.line, name, pipe)

    def template_control(self) -> n.Node:
        context = "template clause"
        tok = self.next_non_space()
        name = self.template_name(tok, context)
        pipe = None
        if self.next_non_space().typ != lx.RIGHT_DELIM:
            self.backup()
            pipe = self.pipeline(context, lx.RIGHT_DELIM)
        return n.TemplateNode(tok.pos, tok.line, name, pipe)

    def template_name(self, tok: lx.Item, context: str) -> str:
        if tok.typ in (lx.STRING, lx.RAW_STRING):
            return self._unquote(tok.val)
        raise self.unexpected(tok, context)

    def _unquote(self, quoted: str) -> str:
        try:
            return unquote(quoted)
        except SyntaxErr as exc:
            raise self.errorf(str(exc)) from None

    # -- pipelines -----------------------------------------------------------------------------
    def pipeline(self, context: str, end: int) -> n.PipeNode:
        tok = self.peek_non_space()
        pipe = n.PipeNode(tok.pos, tok.line)
        while True:  # declarations
            v = self.peek_non_space()
            if v.typ != lx.VARIABLE:
                break
            start = self.index
            self.next_non_space()
            after = self.peek()
            nxt = self.peek_non_space()
            if nxt.typ in (lx.ASSIGN, lx.DECLARE):
                pipe.is_assign = nxt.typ == lx.ASSIGN
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                break
            if nxt.typ == lx.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(n.VariableNode(v.pos, v.val.split(".")))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (lx.VARIABLE, lx.RIGHT_DELIM, lx.RIGHT_PAREN):
                        continue
                    raise self.errorf("range can only initialize variables")
                raise self.errorf(f"too many declarations in {context}")
            del after
            self.index = start
            break
        while True:
            tok = self.next_non_space()
            if tok.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.typ in (
                lx.BOOL, lx.CHAR_CONSTANT, lx.COMPLEX, lx.DOT, lx.FIELD, lx.IDENTIFIER,
                lx.NUMBER, lx.NIL, lx.RAW_STRING, lx.STRING, lx.VARIABLE, lx.LEFT_PAREN,
            ):  # fmt: skip
                self.backup()
                pipe.cmds.append(self.command())
                if len(pipe.cmds) > MAX_PIPELINE_CMDS:
                    raise self.errorf("pipeline too long")
            else:
                raise self.unexpected(tok, context)

    def check_pipeline(self, pipe: n.PipeNode, context: str) -> None:
        if not pipe.cmds:
            raise self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (n.BoolNode, n.DotNode, n.NilNode, n.NumberNode, n.StringNode)):
                raise self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> n.CommandNode:
        cmd = n.CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.typ == lx.SPACE:
                continue
            if tok.typ in (lx.RIGHT_DELIM, lx.RIGHT_PAREN):
                self.backup()
            elif tok.typ != lx.PIPE:
                raise self.unexpected(tok, "operand")
            break
        if not cmd.args:
            raise self.errorf("empty command")
        return cmd

    def operand(self) -> n.Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == lx.FIELD:
            chain = n.ChainNode(self.peek().pos, node)
            while self.peek().typ == lx.FIELD:
                chain.fields.append(self.next().val[1:])
            if isinstance(node, n.FieldNode):
                return n.FieldNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, n.VariableNode):
                return n.VariableNode(chain.pos, [*node.ident, *chain.fields])
            if isinstance(node, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode, n.DotNode)):
                raise self.errorf(f"unexpected . after term {lx.go_quote(node.text())}")
            return chain
        return node

    def term(self) -> n.Node | None:
        tok = self.next_non_space()
        typ = tok.typ
        if typ == lx.IDENTIFIER:
            if tok.val not in self.funcs:
                raise self.errorf(f"function {lx.go_quote(tok.val)} not defined")
            return n.IdentifierNode(tok.pos, tok.val)
        if typ == lx.DOT:
            return n.DotNode(tok.pos)
        if typ == lx.NIL:
            return n.NilNode(tok.pos)
        if typ == lx.VARIABLE:
            return self.use_var(tok.pos, tok.val)
        if typ == lx.FIELD:
            return n.FieldNode(tok.pos, tok.val[1:].split("."))
        if typ == lx.BOOL:
            return n.BoolNode(tok.pos, tok.val == "true")
        if typ in (lx.CHAR_CONSTANT, lx.COMPLEX, lx.NUMBER):
            try:
                return parse_number(tok.pos, tok.val, typ)
            except SyntaxErr as exc:
                raise self.errorf(str(exc)) from None
        if typ == lx.LEFT_PAREN:
            if self.stack_depth >= MAX_STACK_DEPTH:
                raise self.errorf("max expression depth exceeded")
            self.stack_depth += 1
            try:
                return self.pipeline("parenthesized pipeline", lx.RIGHT_PAREN)
            finally:
                self.stack_depth -= 1
        if typ in (lx.STRING, lx.RAW_STRING):
            return n.StringNode(tok.pos, tok.val, self._unquote(tok.val))
        self.backup()
        return None

    def use_var(self, pos: int, name: str) -> n.VariableNode:
        v = n.VariableNode(pos, name.split("."))
        if v.ident[0] not in self.vars:
            raise self.errorf(f"undefined variable {lx.go_quote(v.ident[0])}")
        return v


def parse(name: str, text: str, funcs: Collection[str]) -> tuple[dict[str, n.ListNode], list[str]]:
    """Parse ``text``; returns the trees by name and the names in definition order."""
    p = Parser(name, text, funcs)
    trees = p.parse()
    return trees, p.tree_names
