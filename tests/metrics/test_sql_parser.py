"""Metrics SQL -> MetricsQuery: the dialect's rules and each error message (Rill's metricssql package)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.errors import BadRequest
from emulator.metrics import build_sql, compile_metrics_sql
from emulator.metrics.query import (
    Condition,
    DimensionCompute,
    Expression,
    MetricsQuery,
    QueryDimension,
    QueryMeasure,
    Sort,
    Subquery,
    TimeFloor,
)
from emulator.project.resources import MetricsViewSpec

Compile = Callable[[str], MetricsQuery]


@pytest.fixture
def compile_(ad_bids_metrics: MetricsViewSpec) -> Compile:
    return lambda sql: compile_metrics_sql(sql, {"ad_bids_metrics": ad_bids_metrics})


def cond(op: str, *exprs: Expression) -> Expression:
    return Expression(cond=Condition(op, exprs))


def name(n: str) -> Expression:
    return Expression(name=n)


def val(v: object) -> Expression:
    return Expression(value=v)


def test_select_fields_and_clauses(compile_: Compile) -> None:
    query = compile_(
        "SELECT pub, \"measure_0\" AS alias_is_ignored, date_trunc('MONTH', timestamp) AS month "
        "FROM AD_BIDS_METRICS WHERE dom = 'msn.com' GROUP BY anything HAVING measure_0 > 1 "
        "ORDER BY pub DESC NULLS FIRST, month LIMIT 10 OFFSET 5"
    )
    assert query == MetricsQuery(
        metrics_view="ad_bids_metrics",
        dimensions=(
            QueryDimension("pub"),
            QueryDimension("month", DimensionCompute(TimeFloor("timestamp", "month"))),
        ),
        measures=(QueryMeasure("measure_0"),),
        where=cond("eq", name("dom"), val("msn.com")),
        having=cond("gt", name("measure_0"), val(1)),
        sort=(Sort("pub", True), Sort("month", False)),
        limit=10,
        offset=5,
    )


def test_date_trunc_without_alias_is_named_by_the_restored_expression(compile_: Compile) -> None:
    query = compile_("select date_trunc('Day', \"timestamp\") from ad_bids_metrics")
    assert query.dimensions == (
        QueryDimension("DATE_TRUNC('Day', \"timestamp\")", DimensionCompute(TimeFloor("timestamp", "day"))),
    )


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("pub = 'a'", cond("eq", name("pub"), val("a"))),
        ("pub != 'a'", cond("neq", name("pub"), val("a"))),
        ("pub <> 'a'", cond("neq", name("pub"), val("a"))),
        ("pub < 1", cond("lt", name("pub"), val(1))),
        ("pub <= 1.5", cond("lte", name("pub"), val(1.5))),
        ("pub > 1", cond("gt", name("pub"), val(1))),
        ("pub >= 1", cond("gte", name("pub"), val(1))),
        ("pub IN ('a', 'b')", cond("in", name("pub"), val(["a", "b"]))),
        ("pub NOT IN ('a', NULL)", cond("nin", name("pub"), val(["a", None]))),
        ("pub LIKE 'a%'", cond("ilike", name("pub"), val("a%"))),
        ("pub ILIKE 'a%'", cond("ilike", name("pub"), val("a%"))),
        ("pub NOT LIKE 'a%'", cond("nilike", name("pub"), val("a%"))),
        ("pub IS NULL", cond("eq", name("pub"), val(None))),
        ("pub IS NOT NULL", cond("neq", name("pub"), val(None))),
        ("null_publisher IS TRUE", cond("eq", name("null_publisher"), val("TRUE"))),
        ("null_publisher IS NOT TRUE", cond("neq", name("null_publisher"), val("TRUE"))),
        # Rill compares with 'TRUE' for IS FALSE too, and ignores NOT on BETWEEN; both are reproduced.
        ("null_publisher IS FALSE", cond("eq", name("null_publisher"), val("TRUE"))),
        (
            "pub BETWEEN 'a' AND 'b'",
            cond("and", cond("gte", name("pub"), val("a")), cond("lte", name("pub"), val("b"))),
        ),
        (
            "pub NOT BETWEEN 'a' AND 'b'",
            cond("and", cond("gte", name("pub"), val("a")), cond("lte", name("pub"), val("b"))),
        ),
        (
            "(pub = 'a' OR dom = 'b') AND tld = 'c'",
            cond(
                "and",
                cond("or", cond("eq", name("pub"), val("a")), cond("eq", name("dom"), val("b"))),
                cond("eq", name("tld"), val("c")),
            ),
        ),
        ("pub = true", cond("eq", name("pub"), val(True))),
        (
            "timestamp > date_add('2024-01-31', INTERVAL 1 MONTH)",
            cond("gt", name("timestamp"), val("2024-03-02T00:00:00Z")),
        ),
        (
            "timestamp > date_sub('2024-03-01T10:00:00Z', INTERVAL 2 WEEK)",
            cond("gt", name("timestamp"), val("2024-02-16T10:00:00Z")),
        ),
        (
            "timestamp > '2024-01-01' + INTERVAL 30 MINUTE",
            cond("gt", name("timestamp"), val("2024-01-01T00:30:00Z")),
        ),
        (
            "timestamp > '07-30-2024' - INTERVAL 1 YEAR",
            cond("gt", name("timestamp"), val("2023-07-30T00:00:00Z")),
        ),
        # Arithmetic parses but is rejected when the query is built (Rill passes the opcode name through).
        ("pub + 1 > 2", cond("gt", cond("plus", name("pub"), val(1)), val(2))),
    ],
)
def test_where(compile_: Compile, where: str, expected: Expression) -> None:
    assert compile_(f"select pub from ad_bids_metrics where {where}").where == expected


def test_now_is_an_rfc3339_string(compile_: Compile) -> None:
    where = compile_("select pub from ad_bids_metrics where timestamp < now()").where
    assert where is not None and where.cond is not None and where.cond.exprs[1] is not None
    assert where.cond.exprs[1].value.endswith("Z")


def test_in_subquery(compile_: Compile) -> None:
    query = compile_(
        "select pub from ad_bids_metrics where dom in "
        "(select dom from ad_bids_metrics where pub = 'x' group by dom "
        "having measure_1 > 2 and measure_0 > 1)"
    )
    assert query.where == cond(
        "in",
        name("dom"),
        Expression(
            subquery=Subquery(
                QueryDimension("dom"),
                (QueryMeasure("measure_0"), QueryMeasure("measure_1")),
                cond("eq", name("pub"), val("x")),
                cond("and", cond("gt", name("measure_1"), val(2)), cond("gt", name("measure_0"), val(1))),
            )
        ),
    )


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("", "metrics sql: expected exactly one SQL statement"),
        (
            "select pub from ad_bids_metrics; select dom from ad_bids_metrics",
            "metrics sql: expected exactly one SQL statement",
        ),
        (
            "select pub from ad_bids_metrics union select dom from ad_bids_metrics",
            "metrics sql: expected a SELECT statement",
        ),
        ("select 1", "metrics sql: need `FROM metrics_view` clause"),
        ("select pub from ad_bids_metrics a join b on true", "metrics sql: join is not supported"),
        ("select pub from ad_bids_metrics, other", "metrics sql: join is not supported"),
        ("select pub from (select 1) x", "metrics sql: only FROM `metrics_view` is supported"),
        ("select pub from nope", "metrics sql: metrics view `nope` not found"),
        ("select * from ad_bids_metrics", "metrics sql: unsupported expression in select field"),
        ("select pub || 'x' from ad_bids_metrics", "metrics sql: unsupported expression in select field"),
        ("select count(*) from ad_bids_metrics", "metrics sql: unsupported expression in select field"),
        ("select 1 from ad_bids_metrics", "metrics sql: unsupported expression in select field"),
        (
            "select upper(pub) from ad_bids_metrics",
            "metrics sql: function `upper` not supported in select field",
        ),
        (
            "select date_trunc('day') from ad_bids_metrics",
            "metrics sql: expected 2 arguments in date_trunc function",
        ),
        (
            "select date_trunc(1, timestamp) from ad_bids_metrics",
            "metrics sql: expected string for grain, got int",
        ),
        (
            "select date_trunc(day, timestamp) from ad_bids_metrics",
            "metrics sql: expected value expression, got *ast.ColumnNameExpr",
        ),
        (
            "select date_trunc('day', measure_0) from ad_bids_metrics",
            "metrics sql: expected dimension in date_trunc function",
        ),
        (
            "select dom1 from ad_bids_metrics",
            "metrics sql: selected column `dom1` not found in dimensions/measures in metrics view",
        ),
        (
            "select PUB from ad_bids_metrics",
            "metrics sql: selected column `PUB` not found in dimensions/measures in metrics view",
        ),
        (
            "select t.pub from ad_bids_metrics t",
            "metrics sql: no alias or table reference is supported in column name. Found in `t.pub`",
        ),
        ("select pub from ad_bids_metrics limit 'x'", "metrics sql: expected int for limit, got string"),
        (
            "select pub from ad_bids_metrics limit 1 offset 'x'",
            "metrics sql: expected int for offset, got string",
        ),
        ("select pub from ad_bids_metrics order by 1", "metrics sql: expected column name expression"),
        (
            "select pub from ad_bids_metrics where pub like 'a' escape '!'",
            "metrics sql: `ESCAPE` is not supported",
        ),
        (
            "select pub from ad_bids_metrics where pub like dom",
            "metrics sql: expected value expression, got *ast.ColumnNameExpr",
        ),
        (
            "select pub from ad_bids_metrics where pub in (dom)",
            "metrics sql: expected value expression, got *ast.ColumnNameExpr",
        ),
        (
            "select pub from ad_bids_metrics where upper(pub) = 'A'",
            "metrics sql: function `upper` not supported in where clause",
        ),
        (
            "select pub from ad_bids_metrics where pub = -1",
            'metrics sql: unsupported type *ast.UnaryOperationExpr, expression "-1"',
        ),
        (
            "select pub from ad_bids_metrics where not (pub = 'a')",
            "metrics sql: unsupported type *ast.UnaryOperationExpr, expression \"NOT (pub = 'a')\"",
        ),
        (
            "select pub from ad_bids_metrics where count(*) > 1",
            'metrics sql: unsupported type *ast.AggregateFuncExpr, expression "COUNT(*)"',
        ),
        (
            "select pub from ad_bids_metrics where case when pub = 'a' then true end",
            "metrics sql: unsupported type *ast.CaseExpr, expression \"CASE WHEN pub = 'a' THEN TRUE END\"",
        ),
        (
            "select pub from ad_bids_metrics where timestamp > timestamp - INTERVAL 1 DAY",
            "metrics sql: expected time value in date_add/date_sub function",
        ),
        (
            "select pub from ad_bids_metrics where timestamp > '2024-01-01' - INTERVAL 1 QUARTER",
            'invalid time unit "QUARTER"',
        ),
        (
            "select pub from ad_bids_metrics where timestamp > 'soon' - INTERVAL 1 DAY",
            'Could not find format for "soon"',
        ),
        (
            "select pub from ad_bids_metrics where timestamp > time_range_start('7D')",
            "metrics sql: time_range_start is not supported by rill-emu",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select distinct pub from ad_bids_metrics)",
            "metrics sql: subquery with DISTINCT is not supported",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from ad_bids_metrics order by pub)",
            "metrics sql: subquery with ORDER BY is not supported",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from ad_bids_metrics limit 1)",
            "metrics sql: subquery with LIMIT is not supported",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select 'a')",
            "metrics sql: subquery must have a FROM clause",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from ad_bids_metrics, x)",
            "metrics sql: subquery with JOIN is not supported",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from other)",
            'metrics sql: subquery must select from the metrics view "ad_bids_metrics"',
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub, dom from ad_bids_metrics)",
            "metrics sql: subquery must select exactly one dimension "
            "(note: you can still reference other measures in the HAVING expression)",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select * from ad_bids_metrics)",
            "metrics sql: subquery must select a specific field, not a wildcard",
        ),
        (
            "select pub from ad_bids_metrics where pub in "
            "(select pub from ad_bids_metrics group by pub, dom)",
            "metrics sql: subquery must group by exactly one dimension",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from ad_bids_metrics group by dom)",
            'metrics sql: subquery must group by the same dimension "pub" as the subquery\'s SELECT clause',
        ),
        (
            "select pub from ad_bids_metrics where pub in (select pub from ad_bids_metrics group by 1)",
            "metrics sql: failed to parse GROUP BY expression in subquery: "
            "metrics sql: expected column name expression",
        ),
    ],
)
def test_errors(compile_: Compile, sql: str, message: str) -> None:
    with pytest.raises(BadRequest) as err:
        compile_(sql)
    assert err.value.message == message
    assert err.value.status == 400


def test_syntax_error_is_a_bad_request(compile_: Compile) -> None:
    with pytest.raises(BadRequest) as err:
        compile_("select pub from ad_bids_metrics where (")
    assert err.value.message.startswith("line 1 column ")


def test_view_lookup_is_case_insensitive(ad_bids_metrics: MetricsViewSpec) -> None:
    query = compile_metrics_sql("select pub from Ad_Bids_Metrics", {"ad_bids_metrics": ad_bids_metrics})
    assert query.metrics_view == "ad_bids_metrics"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "select pub from ad_bids_metrics where pub + 1 > 2",
            "failed to compile 'where': invalid expression operator \"plus\"",
        ),
        (
            "select pub from ad_bids_metrics where measure_0 > 1",
            "failed to compile 'where': invalid dimension reference "
            '"measure_0": dimension "measure_0" not found',
        ),
        ("select pub from ad_bids_metrics order by dom", 'can\'t sort by "dom": name not present in context'),
        (
            "select pub from ad_bids_metrics having measure_0 > 1",
            "failed to compile 'having': name \"measure_0\" in expression is not a dimension or measure "
            "available in the current context",
        ),
        (
            "select pub from ad_bids_metrics where pub in (select dom from ad_bids_metrics having dom = 'x')",
            "failed to compile 'where': failed to create AST for subquery: invalid measure \"dom\": "
            'measure "dom" not found',
        ),
        (
            "select pub from ad_bids_metrics limit 10001",
            "query limit of 10001 rows exceeds the system cap of 10000 rows",
        ),
    ],
)
def test_errors_when_building(ad_bids_metrics: MetricsViewSpec, sql: str, message: str) -> None:
    query = compile_metrics_sql(sql, {"ad_bids_metrics": ad_bids_metrics})
    with pytest.raises(BadRequest) as err:
        build_sql(query, ad_bids_metrics)
    assert err.value.message == message
