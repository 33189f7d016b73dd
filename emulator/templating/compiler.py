"""Compile parse trees to Python source, once per template.

Every Go template (the top one and each ``define``/``block``) becomes a Python function whose
statements follow Go's ``exec.go`` evaluation order exactly: fields, arguments (checked against the
function's Go signature), calls, pipelines, variables. Go records the node it is executing
(``s.at(node)``) to locate errors; the generated code keeps that in the local ``_n``, written only
before statements that can fail. Control flow is flattened (else-if chains and ``and``/``or`` use
flags) so that nesting in the generated code stays shallow.
"""

from __future__ import annotations

from typing import Any

from emulator.templating import nodes as n
from emulator.templating import runtime as rt
from emulator.templating.codegen import Ctx, Var
from emulator.templating.expressions import ExpressionCompiler
from emulator.templating.lexer import go_quote


class Compiler(ExpressionCompiler):
    """Generates the source of one module holding one function per template tree."""

    def compile(self) -> tuple[str, dict[str, Any], list[rt.NodeInfo], bool]:
        for tname, root in self.trees.items():
            self.exec_name = tname
            self.gen_tree(self.tree_fn[tname], root)
        return "\n".join(self.lines) + "\n", self.consts, self.table, self.uses_state

    def gen_tree(self, fname: str, root: n.ListNode) -> None:
        self.line(f"def {fname}(ap, d0, depth, st):")
        self.ind += 1
        self.line("_n = -1")
        self.line("try:")
        self.ind += 1
        self.scope = [Var("$", "d0", "False")]
        self.pending = self.emitted = None
        start = len(self.lines)
        self.walk_list(root, Ctx("d0", "False"))
        if len(self.lines) == start:
            self.line("pass")
        self.ind -= 1
        self.line("except _TE:")
        self.line("    raise")
        self.line("except Exception as e:")
        self.line(f"    raise _locate(e, _n, _TABLE, {self.name!r}) from None")
        self.ind -= 1
        self.line("")

    # -- walking ----------------------------------------------------------------------------------------
    def walk_list(self, lst: n.ListNode, ctx: Ctx) -> None:
        self.at(lst)
        texts: list[str] = []
        for node in lst.nodes:
            if isinstance(node, n.TextNode):
                texts.append(node.value)
                continue
            if texts:
                self.line(f"ap({''.join(texts)!r})")
                texts = []
            self.walk(node, ctx)
        if texts:
            self.line(f"ap({''.join(texts)!r})")

    def walk(self, node: n.Node, ctx: Ctx) -> None:
        self.at(node)
        if isinstance(node, n.ActionNode):
            val = self.gen_pipeline(node.pipe, ctx)
            if not node.pipe.decl:
                self.line(f"ap({val} if type({val}) is str else _pv({val}))")
        elif isinstance(node, n.IfNode | n.WithNode):
            self.walk_if_chain(node, ctx)
        elif isinstance(node, n.RangeNode):
            self.walk_range(node, ctx)
        elif isinstance(node, n.TemplateNode):
            self.walk_template(node, ctx)
        elif isinstance(node, n.BreakNode):
            self.line("break")
        elif isinstance(node, n.ContinueNode):
            self.line("continue")
        elif isinstance(node, n.ListNode):
            self.walk_list(node, ctx)
        elif isinstance(node, n.TextNode):
            self.line(f"ap({node.value!r})")
        else:  # pragma: no cover - the parser produces no other node
            self.fail(f"unknown node: {node.text()}")

    def walk_if_chain(self, node: n.BranchNode, ctx: Ctx) -> None:
        """if/with with their else-if / else-with chain, flattened with a 'matched' flag."""
        mark = len(self.scope)
        matched = self.tmp("m")
        self.line(f"{matched} = False")
        current: n.BranchNode | None = node
        first = True
        else_body: n.ListNode | None = None
        while current is not None:
            if not first:
                self.line(f"if not {matched}:")
                self.ind += 1
                self.at(current)
            val = self.gen_pipeline(current.pipe, ctx)
            self.line(f"if {self.truth(val)}:")
            self.ind += 1
            self.line(f"{matched} = True")
            body_ctx = Ctx(val, "False") if isinstance(current, n.WithNode) else ctx
            self.walk_list(current.body, body_ctx)
            self.flush()
            self.ind -= 1
            if not first:
                self.flush()
                self.ind -= 1
            self.join()
            first = False
            nxt = current.else_body
            current = None
            if nxt is not None:
                # {{else if}} (or {{else}}{{if}}{{end}}) continues the flat chain
                if len(nxt.nodes) == 1 and type(nxt.nodes[0]) is type(node):
                    current = nxt.nodes[0]
                else:
                    else_body = nxt
        if else_body is not None:
            self.line(f"if not {matched}:")
            self.block(else_body, ctx)
        del self.scope[mark:]

    def block(self, body: n.ListNode, ctx: Ctx) -> None:
        """An indented block walking ``body`` (``pass`` when it generates nothing)."""
        self.ind += 1
        start = len(self.lines)
        self.walk_list(body, ctx)
        self.flush()
        if len(self.lines) == start:
            self.line("pass")
        self.ind -= 1
        self.join()

    def walk_range(self, node: n.RangeNode, ctx: Ctx) -> None:
        self.uses_state = True
        mark = len(self.scope)
        rid = self.node_id(node)
        pipe = node.pipe
        val = self.gen_pipeline(pipe, ctx)
        self.flush()
        items = self.tmp("r")
        self.line(f"{items} = _rng({val}, {len(pipe.decl)})")
        self.line(f"if {items} is not None:")
        self.ind += 1
        flag = self.tmp("w")
        key = self.tmp("k")
        elem = self.tmp("e")
        self.line(f"{flag} = {items}[1]")
        self.line(f"for {key}, {elem} in {items}[0]:")
        self.ind += 1
        self.line("st.n -= 1")
        self.line("if not st.n & 255:")
        self.line(f"    st.check({rid})")
        decl = [self.lookup(v.ident[0]) for v in pipe.decl]
        if len(decl) == 2:
            self.assign(decl[0], key, "False", pipe, node)
            self.assign(decl[1], elem, flag, pipe, node)
        elif len(decl) == 1:
            self.assign(decl[0], elem, flag, pipe, node)
        inner_mark = len(self.scope)
        self.join()
        self.walk_list(node.body, Ctx(elem, flag))
        del self.scope[inner_mark:]
        self.ind -= 1
        self.ind -= 1
        self.join()
        if node.else_body is not None:
            self.line(f"if {items} is None:")
            self.block(node.else_body, ctx)
        del self.scope[mark:]

    def assign(self, var: Var | None, value: str, iface: str, pipe: n.PipeNode, node: n.Node) -> None:
        if var is None:
            self.fail("undefined variable")
            return
        self.line(f"{var.py} = {value}")
        if iface != var.iface:
            var.iface = iface if not pipe.is_assign else "True"

    def walk_template(self, node: n.TemplateNode, ctx: Ctx) -> None:
        self.uses_state = True
        if node.name not in self.trees:
            self.fail(f"template {go_quote(node.name)} not defined")
            return
        self.flush()
        self.line(f"if depth >= {rt.MAX_TEMPLATE_DEPTH}:")
        self.line(f"    raise _EE('exceeded maximum template depth ({rt.MAX_TEMPLATE_DEPTH})', None)")
        self.line("st.n -= 1")  # template calls share the loop budget: recursion can fan out
        self.line("if not st.n & 255:")
        self.line(f"    st.check({self.node_id(node)})")
        val = "NV" if node.pipe is None else self.gen_pipeline(node.pipe, ctx)
        self.line(f"{self.tree_fn[node.name]}(ap, {val}, depth + 1, st)")
        self.join()
