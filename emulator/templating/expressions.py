"""Expression code generation: pipelines, commands, field chains, calls and argument checks.

Statements follow Go's ``exec.go`` (``evalPipeline``, ``evalCommand``, ``evalCall``, ``evalArg``,
``validateType``) in order, so that errors surface where and as Go raises them.
"""

from __future__ import annotations

from emulator.templating import funcs as f
from emulator.templating import nodes as n
from emulator.templating.codegen import CodeWriter, Ctx, Var
from emulator.templating.errors import ExecError
from emulator.templating.lexer import go_quote


class ExpressionCompiler(CodeWriter):
    """Generates the statements computing pipeline values."""

    def gen_pipeline(self, pipe: n.PipeNode, ctx: Ctx) -> str:
        self.at(pipe)
        value: str | None = None
        for cmd in pipe.cmds:
            value, maybe_none = self.gen_command(cmd, ctx, value)
            if maybe_none:
                t = self.tmp()
                self.line(f"{t} = NV if {value} is None else {value}")
                value = t
        assert value is not None
        if not value.isidentifier():  # a literal: name it, callers test it with `is`
            named = self.tmp()
            self.line(f"{named} = {value}")
            value = named
        for v in pipe.decl:
            if pipe.is_assign:
                var = self.lookup(v.ident[0])
                if var is None:
                    self.fail(f"undefined variable: {v.ident[0]}")
                    continue
                self.line(f"{var.py} = {value}")
                var.iface = "False"
            else:
                py = self.tmp("v")
                self.line(f"{py} = {value}")
                self.scope.append(Var(v.ident[0], py, "False"))
        return value

    def not_a_function(self, args: list[n.Node], final: str | None) -> None:
        if len(args) > 1 or final is not None:
            self.fail(f"can't give argument to non-function {args[0].text()}")

    def gen_command(self, cmd: n.CommandNode, ctx: Ctx, final: str | None) -> tuple[str, bool]:
        first = cmd.args[0]
        if isinstance(first, n.FieldNode):
            self.at(first)
            return self.gen_field_chain(ctx.dot, ctx.iface, first.ident, cmd.args, final, ctx), True
        if isinstance(first, n.ChainNode):
            self.at(first)
            head, iface = self.gen_chain_head(first, ctx)
            return self.gen_field_chain(head, iface, first.fields, cmd.args, final, ctx), True
        if isinstance(first, n.IdentifierNode):
            return self.gen_call(first, cmd, cmd.args, final, ctx)
        if isinstance(first, n.PipeNode):
            self.not_a_function(cmd.args, final)
            return self.gen_pipeline(first, ctx), False
        if isinstance(first, n.VariableNode):
            return self.gen_variable(first, cmd.args, final, ctx), True
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, n.BoolNode):
            return repr(first.value), False
        if isinstance(first, n.DotNode):
            return ctx.dot, True
        if isinstance(first, n.NilNode):
            return self.fail("nil is not a command"), False
        if isinstance(first, n.NumberNode):
            try:
                return self.const(f.ideal_constant(first)), False
            except ExecError as exc:
                return self.fail(exc.message), False
        if isinstance(first, n.StringNode):
            return self.const(first.value), False
        return self.fail(f"can't evaluate command {go_quote(first.text())}"), False

    def gen_variable(self, node: n.VariableNode, args: list[n.Node], final: str | None, ctx: Ctx) -> str:
        self.at(node)
        var = self.lookup(node.ident[0])
        if var is None:
            return self.fail(f"undefined variable: {node.ident[0]}")
        if len(node.ident) == 1:
            self.not_a_function(args, final)
            return var.py
        return self.gen_field_chain(var.py, var.iface, node.ident[1:], args, final, ctx)

    def gen_chain_head(self, chain: n.ChainNode, ctx: Ctx) -> tuple[str, str]:
        head = chain.node
        self.at(head)
        if isinstance(head, n.PipeNode):
            return self.gen_pipeline(head, ctx), "False"
        if isinstance(head, n.IdentifierNode):
            val, _ = self.gen_call(head, head, [head], None, ctx)
            return val, "True" if self.funcs[head.ident].iface_result else "False"
        val, _ = self.gen_command(n.CommandNode(head.pos, [head]), ctx, None)  # pragma: no cover
        return val, "False"  # pragma: no cover

    def gen_field_chain(
        self, recv: str, iface: str, idents: list[str], args: list[n.Node], final: str | None, ctx: Ctx
    ) -> str:
        t = self.tmp()
        has_args = len(args) > 1 or final is not None
        if has_args:
            self.flush()
            base = recv
            if len(idents) > 1:
                base = self.tmp()
                self.line(f"{base} = _fc({recv}, {tuple(idents[:-1])!r}, {iface})")
                iface = "True"
            argv = []
            for a in args[1:]:
                if isinstance(a, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode)):
                    argv.append(f"(True, {self.const(a)})")
                else:
                    argv.append(f"(False, {self.gen_arg(a, f.RV, ctx)})")
            self.flush()
            fin = final if final is not None else "_MISSING"
            self.line(f"{t} = _method({base}, {idents[-1]!r}, {iface}, [{', '.join(argv)}], {fin})")
            return t
        self.flush()
        if len(idents) == 1:
            self.line(
                f"{t} = {recv}.get({idents[0]!r}, NV) if type({recv}) is dict "
                f"else _fc({recv}, {tuple(idents)!r}, {iface})"
            )
            return t
        self.line(f"{t} = {recv}.get({idents[0]!r}) if type({recv}) is dict else None")
        for k in idents[1:-1]:
            self.line(f"{t} = {t}.get({k!r}) if type({t}) is dict else None")
        self.line(
            f"{t} = {t}.get({idents[-1]!r}, NV) if type({t}) is dict "
            f"else _fc({recv}, {tuple(idents)!r}, {iface})"
        )
        return t

    # -- calls ------------------------------------------------------------------------------------------
    def gen_call(
        self, ident: n.IdentifierNode, node: n.Node, args: list[n.Node], final: str | None, ctx: Ctx
    ) -> tuple[str, bool]:
        self.at(ident)
        name = ident.ident
        fn = self.funcs[name]
        call_args = args[1:] if node is not ident else []
        num_in = len(call_args) + (final is not None)
        nparams = len(fn.params)
        if fn.variadic is not None:
            if num_in < nparams:
                return self.fail(
                    f"wrong number of args for {name}: want at least {nparams} got {len(call_args)}"
                ), False
        elif num_in != nparams:
            return self.fail(f"wrong number of args for {name}: want {nparams} got {num_in}"), False
        if fn.special in ("and", "or"):
            return self.gen_and_or(fn.special, call_args, final, ctx), True
        argv: list[str] = []
        for i, arg in enumerate(call_args):
            typ = fn.params[i] if i < nparams else fn.variadic
            assert typ is not None
            argv.append(self.gen_arg(arg, typ, ctx))
        if final is not None:
            fixed = fn.variadic is None or num_in - 1 < nparams
            final_typ = fn.params[num_in - 1] if fixed else fn.variadic
            assert final_typ is not None
            typ = final_typ
            argv.append(self.gen_validate(final, typ))
        if fn.special == "call":
            callee = self.const(call_args[0].text()) if call_args else f"_fstr({final})"
            argv.insert(0, callee)
        t = self.tmp()
        call_id = self.node_id(node, call=name)
        self.line(f"_n = {call_id}")
        self.emitted = call_id
        self.line(f"{t} = {self.func_ref(name)}({', '.join(argv)})")
        return t, fn.iface_result

    def gen_and_or(self, which: str, args: list[n.Node], final: str | None, ctx: Ctx) -> str:
        result = self.tmp()
        done = self.tmp("m")
        for i, arg in enumerate(args):
            if i:
                self.line(f"if not {done}:")
                self.ind += 1
            v = self.gen_arg(arg, f.RV, ctx)
            self.line(f"{result} = {v}")
            test = self.truth(result)
            self.line(f"{done} = {test}" if which == "or" else f"{done} = not {test}")
            if i:
                self.flush()
                self.ind -= 1
                self.join()
        if final is not None:
            if args:
                self.line(f"if not {done}:")
                self.line(f"    {result} = {final}")
            else:
                self.line(f"{result} = {final}")
        return result

    def gen_arg(self, arg: n.Node, typ: f.GoType, ctx: Ctx | None) -> str:
        """Go's ``evalArg``: evaluate one argument and check it against its parameter type."""
        self.at(arg)
        assert ctx is not None or isinstance(arg, (n.BoolNode, n.StringNode, n.NumberNode, n.NilNode))
        if isinstance(arg, n.DotNode):
            assert ctx is not None
            return self.gen_validate(ctx.dot, typ)
        if isinstance(arg, n.FieldNode):
            assert ctx is not None
            v = self.gen_field_chain(ctx.dot, ctx.iface, arg.ident, [arg], None, ctx)
            return self.gen_validate(v, typ)
        if isinstance(arg, n.VariableNode):
            assert ctx is not None
            return self.gen_validate(self.gen_variable(arg, [arg], None, ctx), typ)
        if isinstance(arg, n.PipeNode):
            assert ctx is not None
            return self.gen_validate(self.gen_pipeline(arg, ctx), typ)
        if isinstance(arg, n.IdentifierNode):
            assert ctx is not None
            v, _ = self.gen_call(arg, arg, [arg], None, ctx)
            return self.gen_validate(v, typ)
        if isinstance(arg, n.ChainNode):
            assert ctx is not None
            head, iface = self.gen_chain_head(arg, ctx)
            self.at(arg)
            return self.gen_validate(self.gen_field_chain(head, iface, arg.fields, [arg], None, ctx), typ)
        try:
            return self.const(f.literal(arg, typ))
        except ExecError as exc:
            return self.fail(exc.message)

    def gen_validate(self, value: str, typ: f.GoType) -> str:
        kind = typ.kind
        if kind == "rv":
            return value
        if not value.isidentifier():  # a literal piped into a call: check it at run time, as Go does
            named = self.tmp()
            self.line(f"{named} = {value}")
            value = named
        t = self.tmp()
        if kind == "iface":
            self.line(f"{t} = None if {value} is NV else {value}")
            return t
        self.flush()
        pytype = {"string": "str", "int": "int", "float64": "float", "bool": "bool", "map": "dict"}.get(kind)
        if pytype is not None:
            self.line(f"{t} = {value} if type({value}) is {pytype} else _val({value}, {self.const(typ)})")
        else:
            self.line(f"{t} = _val({value}, {self.const(typ)})")
        return t
