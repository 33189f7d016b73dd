"""Adhoc measure expressions: the allowlist, re-rendering, and each rejection message."""
# ruff: noqa: E501  (tables of inputs and outputs read best one case per line)

from __future__ import annotations

import pytest

from emulator.metrics.measure_expression import MeasureExpressionError, parse_measure_expression


def render(text: str) -> str:
    return parse_measure_expression(text).render(lambda n: f'"{n}"', lambda a, b: f"SAFE({a}, {b})")


@pytest.mark.parametrize(
    ("text", "sql", "refs"),
    [
        ("revenue - cost", '("revenue" - "cost")', ["revenue", "cost"]),
        ("round((revenue - cost) / revenue * 100, 1)", 'round((SAFE(("revenue" - "cost"), "revenue") * 100), 1)', ["revenue", "cost"]),
        ("-a % 2", '((-"a") % 2)', ["a"]),
        ('"total volume" + coalesce(a, 0, NULL)', '("total volume" + coalesce("a", 0, NULL))', ["total volume", "a"]),
        ("GREATEST(a, b) + least(a, 1.5) + power(a, 2) + abs(a) + floor(a) + ceil(a)",
         '(((((greatest("a", "b") + least("a", 1.5)) + power("a", 2)) + abs("a")) + floor("a")) + ceil("a"))', ["a", "b"]),
        ("sqrt(a) + ln(a) + exp(a) + nullif(a, 0)", '(((sqrt("a") + ln("a")) + exp("a")) + nullif("a", 0))', ["a"]),
    ],
)  # fmt: skip
def test_render(text: str, sql: str, refs: list[str]) -> None:
    assert render(text) == sql
    assert parse_measure_expression(text).refs == refs


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expression is empty"),
        ("a" * 1025, "expression exceeds the maximum length of 1024 characters"),
        ("a -- b", 'comments are not allowed in the expression (found "--"); use parentheses for double negation, e.g. "a - (-b)"'),
        ("a # b", 'comments are not allowed in the expression (found "#")'),
        ("a; b", "expected a single expression"),
        ("a from t", "expected a scalar expression without SQL clauses"),
        ("a, b", "expected exactly one expression"),
        ("*", "expected an expression, not a wildcard"),
        ("a AS b", "an alias is not allowed in the expression"),
        ("1 + 2", "expression must reference at least one measure"),
        ("t.a + 1", 'qualified references are not allowed (found ""t"."a""); reference measures by name only'),
        ("a + 'x'", "string literals are not allowed in the expression"),
        ("sum(a)", 'aggregate function "sum" is not allowed; expressions combine measures that are already aggregated'),
        ("upper(a)", 'unsupported function "upper"'),
        ("round(a, 1, 2)", 'function "round" does not accept 3 argument(s)'),
        ("coalesce(a)", 'function "coalesce" does not accept 1 argument(s)'),
        ("a + (select 1)", "subqueries are not allowed in the expression"),
        ("case when a > 1 then a end", "CASE expressions are not allowed"),
        ("a > b", 'unsupported operator "gt" (only + - * / % are allowed)'),
        ("(" * 40 + "a" + ")" * 40, "expression is too deeply nested"),
    ],
)  # fmt: skip
def test_rejected(text: str, message: str) -> None:
    with pytest.raises(MeasureExpressionError) as err:
        parse_measure_expression(text)
    assert str(err.value) == message


def test_syntax_error() -> None:
    with pytest.raises(MeasureExpressionError, match=r"^invalid expression: "):
        parse_measure_expression("a +")
