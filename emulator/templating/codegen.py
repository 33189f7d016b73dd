"""The code writer under the template compiler: output, temporaries, constants, node table, scopes.

Go records the node it is executing (``s.at(node)``) to locate errors; generated code keeps that
in the local ``_n``. ``at`` notes the node Go would be at, ``flush`` writes ``_n`` only before a
statement that can fail, ``join`` forgets it where control flow merges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.templating import funcs as f
from emulator.templating import nodes as n
from emulator.templating import runtime as rt
from emulator.templating.errors import ExecError, TemplateError
from emulator.templating.values import NOVALUE, print_value, truth

_SIMPLE_CONST = (str, int, float, bool, type(None))


class Var:
    """A Go template variable in scope: its Go name, its Python local, its interface flag."""

    __slots__ = ("go", "iface", "py")

    def __init__(self, go: str, py: str, iface: str) -> None:
        self.go = go
        self.py = py
        self.iface = iface  # a Python expression: "False", "True" or a local flag


class Ctx:
    """The dot of the code being generated: a Python local and its interface flag expression."""

    __slots__ = ("dot", "iface")

    def __init__(self, dot: str, iface: str) -> None:
        self.dot = dot
        self.iface = iface


class CodeWriter:
    """State shared by the statement and expression generators of one template module."""

    def __init__(self, name: str, text: str, trees: Mapping[str, n.ListNode], funcs: Mapping[str, f.GoFunc]):
        self.name = name
        self.text = text
        self.trees = trees
        self.funcs = funcs
        self.tree_fn = {tname: f"T{i}" for i, tname in enumerate(trees)}
        self.lines: list[str] = []
        self.ind = 0
        self.ntmp = 0
        self.table: list[rt.NodeInfo] = []
        self.node_ids: dict[int, int] = {}
        self.consts: dict[str, Any] = {}
        self.const_ids: dict[int, str] = {}
        self.func_names: dict[str, str] = {}
        self.pending: int | None = None
        self.emitted: int | None = None
        self.scope: list[Var] = []
        self.exec_name = name
        self.uses_state = False

    # -- output helpers --------------------------------------------------------------------------
    def line(self, s: str) -> None:
        self.lines.append("    " * self.ind + s)

    def tmp(self, prefix: str = "t") -> str:
        self.ntmp += 1
        return f"{prefix}{self.ntmp}"

    def const(self, value: Any) -> str:
        t = type(value)
        if t in _SIMPLE_CONST and (t is not float or value - value == 0):
            return repr(value)
        key = id(value)
        if key not in self.const_ids:
            name = f"K{len(self.const_ids)}"
            self.const_ids[key] = name
            self.consts[name] = value
        return self.const_ids[key]

    def func_ref(self, name: str) -> str:
        if name not in self.func_names:
            ref = f"F{len(self.func_names)}"
            self.func_names[name] = ref
            self.consts[ref] = self.funcs[name].impl
        return self.func_names[name]

    def node_id(self, node: n.Node, call: str = "") -> int:
        key = id(node)
        if call:
            key = -key
        if key not in self.node_ids:
            line, col = n.location(self.text, node.pos)
            info = rt.NodeInfo(f"{self.name}:{line}:{col}", line, col, node.text(), self.exec_name, call)
            self.node_ids[key] = len(self.table)
            self.table.append(info)
        return self.node_ids[key]

    # -- the s.at(node) protocol ------------------------------------------------------------------
    def at(self, node: n.Node) -> None:
        self.pending = self.node_id(node)

    def flush(self) -> None:
        if self.pending is not None and self.pending != self.emitted:
            self.line(f"_n = {self.pending}")
            self.emitted = self.pending

    def join(self) -> None:
        """After a control-flow join the current node is only known at run time."""
        self.pending = None
        self.emitted = None

    def fail(self, message: str, node: int | None = None) -> str:
        self.flush()
        self.line(f"raise _EE({message!r}, {node!r})")
        return "NV"

    # -- variables and truth --------------------------------------------------------------------------
    def lookup(self, go_name: str) -> Var | None:
        for var in reversed(self.scope):
            if var.go == go_name:
                return var
        return None

    def truth(self, val: str) -> str:
        return f"({val} if type({val}) is bool else _truth({val}))"


def namespace(consts: dict[str, Any], table: list[rt.NodeInfo]) -> dict[str, Any]:
    """Globals of the generated module."""
    ns: dict[str, Any] = {
        "NV": NOVALUE,
        "_EE": ExecError,
        "_TE": TemplateError,
        "_pv": print_value,
        "_truth": truth,
        "_fc": rt.field_chain,
        "_method": rt.call_method,
        "_MISSING": rt.MISSING,
        "_rng": rt.range_items,
        "_val": f.validate,
        "_fstr": rt.final_string,
        "_locate": rt.locate,
        "_TABLE": table,
    }
    ns.update(consts)
    return ns
