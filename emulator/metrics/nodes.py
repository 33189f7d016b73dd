"""The SELECT tree of a compiled metrics query and its rendering to SQL (Rill's ``ast.go``/``astsql.go``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from emulator.metrics.dialect import Dialect


@dataclass
class Frag:
    """A SQL fragment with its bound parameters (Rill's ``ExprNode``)."""

    sql: str
    args: list[Any] = field(default_factory=list)

    @staticmethod
    def and_(base: Frag | None, sql: str, args: list[Any]) -> Frag | None:
        """``(<base>) AND (<sql>)``; an empty ``sql`` leaves ``base`` unchanged."""
        if sql == "":
            return base
        if base is None or base.sql == "":
            return Frag(sql, list(args))
        return Frag(f"({base.sql}) AND ({sql})", [*base.args, *args])


@dataclass
class FieldNode:
    """An output column: ``name`` always denotes the same value wherever it appears in the tree."""

    name: str
    display_name: str
    expr: str
    unnest: bool = False
    treat_null_as: str = ""


@dataclass
class SelectNode:
    """One SELECT: from the underlying table (``from_table``) or from a sub-select (``from_select``)."""

    alias: str
    dim_fields: list[FieldNode] = field(default_factory=list)
    measure_fields: list[FieldNode] = field(default_factory=list)
    from_table: str | None = None
    from_select: SelectNode | None = None
    unnests: list[str] = field(default_factory=list)
    group: bool = False
    where: Frag | None = None
    time_where: Frag | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None

    def has_name(self, name: str) -> bool:
        """Whether ``name`` is a dimension or measure output of this node."""
        return any(f.name == name for f in self.dim_fields) or self.has_measure(name)

    def has_measure(self, name: str) -> bool:
        """Whether ``name`` is a measure output of this node."""
        return any(f.name == name for f in self.measure_fields)


def wrap_select(dialect: Dialect, node: SelectNode, inner_alias: str) -> None:
    """Move ``node`` into a sub-select aliased ``inner_alias``; ``node`` becomes a pass-through over it.

    ``SELECT a, count(*) AS b FROM c`` -> ``SELECT t.a, t.b FROM (SELECT a, count(*) AS b FROM c) t``.
    """
    inner = replace(node, alias=inner_alias)
    node.dim_fields = [
        FieldNode(f.name, f.display_name, dialect.escape_member(inner_alias, f.name))
        for f in inner.dim_fields
    ]
    node.measure_fields = [
        FieldNode(f.name, f.display_name, dialect.escape_member(inner_alias, f.name))
        for f in inner.measure_fields
    ]
    node.from_table = None
    node.from_select = inner
    node.unnests = []
    node.group = False
    node.where = None
    node.time_where = None
    node.order_by = list(inner.order_by)
    node.limit = None
    node.offset = None


class SQLWriter:
    """Renders a SELECT tree; collects the bound parameters in order."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.out: list[str] = []
        self.args: list[Any] = []

    def write_with_display_names(self, node: SelectNode) -> None:
        """``SELECT "name" AS "Display Name", ... FROM (<node>)``."""
        esc = self.dialect.escape_identifier
        items = [
            f"{esc(f.name)} AS {esc(f.display_name or f.name)}" for f in node.dim_fields + node.measure_fields
        ]
        self.out.append("SELECT " + ", ".join(items) + " FROM (")
        self.write_select(node)
        self.out.append(")")

    def write_select(self, node: SelectNode) -> None:
        """Render one SELECT node (recursively)."""
        esc = self.dialect.escape_identifier
        items = []
        for f in node.dim_fields:
            items.append("*" if f.expr == "*" else f"({f.expr}) AS {esc(f.name)}")
        for f in node.measure_fields:
            if f.treat_null_as:
                items.append(f"COALESCE(({f.expr}), {f.treat_null_as}) AS {esc(f.name)}")
            else:
                items.append(f"({f.expr}) AS {esc(f.name)}")
        self.out.append("SELECT " + ", ".join(items) + " FROM ")
        if node.from_table is not None:
            self.out.append(node.from_table)
            for item in node.unnests:
                self.out.append(self.dialect.unnest_suffix(item))
        elif node.from_select is not None:
            self.out.append("(")
            self.write_select(node.from_select)
            self.out.append(") " + node.from_select.alias)
        else:
            raise AssertionError("internal: FromTable and FromSelect are both nil")

        wrote_where = False
        if node.time_where is not None and node.time_where.sql:
            wrote_where = True
            self.out.append(f" WHERE ({node.time_where.sql})")
            self.args.extend(node.time_where.args)
        if node.where is not None and node.where.sql:
            self.out.append(f" AND ({node.where.sql})" if wrote_where else f" WHERE {node.where.sql}")
            self.args.extend(node.where.args)
        if node.group and node.dim_fields:
            self.out.append(" GROUP BY " + ", ".join(str(i + 1) for i in range(len(node.dim_fields))))
        if node.order_by:
            self.out.append(" ORDER BY " + ", ".join(self.dialect.order_by(n, d) for n, d in node.order_by))
        if node.limit is not None:
            self.out.append(f" LIMIT {node.limit}")
        if node.offset is not None:
            self.out.append(f" OFFSET {node.offset}")

    def sql(self) -> str:
        """The rendered SQL."""
        return "".join(self.out)
