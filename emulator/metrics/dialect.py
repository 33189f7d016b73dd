"""SQL dialect hooks for generated metrics SQL (Rill's ``drivers.Dialect``, the parts the emulator needs).

Every identifier, ORDER BY item and time floor in generated SQL goes through a :class:`Dialect`, so a
second OLAP engine (ClickHouse) is a new subclass rather than a rewrite of the builder.
"""

from __future__ import annotations

from emulator.errors import BadRequest

_TRUNC_SPECIFIERS = {
    "millisecond": "MILLISECOND",
    "second": "SECOND",
    "minute": "MINUTE",
    "hour": "HOUR",
    "day": "DAY",
    "week": "WEEK",
    "month": "MONTH",
    "quarter": "QUARTER",
    "year": "YEAR",
}

_UTC_NAMES = ("UTC", "Etc/UTC")


class Dialect:
    """ANSI defaults shared by the OLAP engines Rill supports."""

    name = "ansi"
    param = "?"

    def escape_identifier(self, ident: str) -> str:
        """Double-quote an identifier, doubling embedded quotes (Go ``EscapeIdentifier``)."""
        if ident == "":
            return ident
        return '"' + ident.replace('"', '""') + '"'

    def escape_table(self, table: str) -> str:
        """The underlying table of a metrics view."""
        return self.escape_identifier(table)

    def escape_member(self, table: str, name: str) -> str:
        """``"t1"."name"``, or just the escaped name when ``table`` is empty."""
        if table == "":
            return self.escape_identifier(name)
        return f"{self.escape_identifier(table)}.{self.escape_identifier(name)}"

    def order_by(self, name: str, desc: bool) -> str:
        """One ORDER BY item over an output column."""
        return self.escape_identifier(name) + (" DESC" if desc else "")

    def any_value(self, expr: str) -> str:
        """Pass-through aggregate for grouped wrapper SELECTs."""
        return f"ANY_VALUE({expr})"

    def safe_divide(self, num: str, den: str) -> str:
        """Division that yields NULL (not an error or infinity) for a zero denominator."""
        return f"({num})/NULLIF(CAST({den} AS DOUBLE), 0)"

    def lateral_unnest(self, expr: str, table_alias: str, col: str) -> str:
        """A FROM item unnesting a list expression into ``table_alias(col)``."""
        return f"LATERAL UNNEST({expr}) {table_alias}({self.escape_identifier(col)})"

    def unnest_suffix(self, item: str) -> str:
        """How an unnest FROM item is appended after the underlying table."""
        return f", {item}"

    def trunc_specifier(self, grain: str) -> str:
        """``day`` -> ``DAY``."""
        return _TRUNC_SPECIFIERS[grain]

    def date_trunc(
        self, expr: str, grain: str, tz: str, first_day_of_week: int, first_month_of_year: int
    ) -> str:
        """The time-floor expression of ``expr`` (already a column or parenthesised expression)."""
        raise BadRequest(f"DateTruncExpr not implemented for {self.name} dialect")

    def interval(self, amount: int, unit: str) -> str:
        """An interval literal, e.g. ``INTERVAL 3 DAY``."""
        return f"INTERVAL {amount} {unit.upper()}"


class DuckDBDialect(Dialect):
    """DuckDB, as in ``runtime/drivers/duckdb/dialect.go``."""

    name = "duckdb"

    def order_by(self, name: str, desc: bool) -> str:
        """DuckDB sorts NULLs last explicitly."""
        return super().order_by(name, desc) + " NULLS LAST"

    def date_trunc(
        self, expr: str, grain: str, tz: str, first_day_of_week: int, first_month_of_year: int
    ) -> str:
        """Rill's DuckDB time floor, including week/year shifts and time zones."""
        if tz in _UTC_NAMES:
            tz = ""
        spec = self.trunc_specifier(grain)
        shift = ""
        if grain == "week" and first_day_of_week > 1:
            shift = f"{8 - first_day_of_week} DAY"
        elif grain == "year" and first_month_of_year > 1:
            shift = f"{13 - first_month_of_year} MONTH"
        if tz == "":
            if shift == "":
                return f"date_trunc('{spec}', {expr}::TIMESTAMP)::TIMESTAMP"
            return f"date_trunc('{spec}', {expr}::TIMESTAMP + INTERVAL {shift})::TIMESTAMP - INTERVAL {shift}"
        if grain in ("day", "week", "month", "quarter", "year"):
            if shift == "":
                local = f"timezone('{tz}', {expr}::TIMESTAMPTZ)"
                return f"timezone('{tz}', date_trunc('{spec}', {local}))::TIMESTAMP"
            return (
                f"timezone('{tz}', date_trunc('{spec}', timezone('{tz}', {expr}::TIMESTAMPTZ)"
                f" + INTERVAL {shift}) - INTERVAL {shift})::TIMESTAMP"
            )
        if shift == "":
            return f"time_bucket(INTERVAL '1 {spec}', {expr}::TIMESTAMPTZ, '{tz}')"
        shifted = f"{expr}::TIMESTAMPTZ + INTERVAL {shift}"
        return f"time_bucket(INTERVAL '1 {spec}', {shifted}, '{tz}') - INTERVAL {shift}"


DUCKDB = DuckDBDialect()
