"""Security restrictions applied by build_sql: the row filter and hidden fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from emulator.errors import BadRequest
from emulator.metrics import Restrictions, build_sql, parse_query
from emulator.project.resources import MetricsViewSpec

Run = Callable[..., list[dict[str, Any]]]


def q(**props: Any) -> Any:
    return parse_query({"metrics_view": "ad_bids_metrics", **props})


def fails(view: MetricsViewSpec, message: str, restrictions: Restrictions, **props: Any) -> None:
    with pytest.raises(BadRequest) as err:
        build_sql(q(**props), view, restrictions)
    assert err.value.message == message


class TestRestrictions:
    """What a security policy contributes: a row filter and hidden fields."""

    def test_row_filter_is_anded_into_where(self, run: Run, ad_bids_metrics: MetricsViewSpec) -> None:
        query = q(
            dimensions=[{"name": "pub"}],
            measures=[{"name": "measure_0"}],
            where={"cond": {"op": "neq", "exprs": [{"name": "pub"}, {"val": "Microsoft"}]}},
        )
        restrictions = Restrictions(row_filter="domain = 'msn.com'")
        compiled = build_sql(query, ad_bids_metrics, restrictions)
        assert "WHERE (((\"publisher\") != ?)) AND (domain = 'msn.com') GROUP BY" in compiled.sql
        assert run(query, None, restrictions) == []
        only_filter = q(
            dimensions=[{"name": "pub"}], measures=[{"name": "measure_0"}], sort=[{"name": "pub"}]
        )
        assert run(only_filter, None, restrictions) == [
            {"pub": "Microsoft", "measure_0": 1},
            {"pub": None, "measure_0": 2},
        ]

    @pytest.mark.parametrize(
        ("props", "message"),
        [
            ({"dimensions": [{"name": "pub"}]}, 'invalid dimension "pub": action not allowed'),
            ({"measures": [{"name": "m1"}]}, 'invalid measure "m1": action not allowed'),
            (
                {"measures": [{"name": "x", "compute": {"count_distinct": {"dimension": "pub"}}}]},
                'invalid measure "x": action not allowed',
            ),
            (
                {"measures": [{"name": "x", "compute": {"expression": {"expression": "m1 * 2"}}}]},
                'invalid measure "x": action not allowed',
            ),
            (
                {
                    "measures": [{"name": "measure_0"}],
                    "where": {"cond": {"op": "eq", "exprs": [{"name": "pub"}, {"val": "x"}]}},
                },
                "failed to compile 'where': invalid dimension reference \"pub\": action not allowed",
            ),
        ],
    )
    def test_hidden_fields(
        self, ad_bids_metrics: MetricsViewSpec, props: dict[str, Any], message: str
    ) -> None:
        fails(ad_bids_metrics, message, Restrictions(hidden_fields=frozenset({"pub", "m1"})), **props)

    def test_hidden_field_names_are_lower_cased(
        self, ad_bids_metrics: MetricsViewSpec, load_view: Callable[[str, str], MetricsViewSpec]
    ) -> None:
        view = load_view(
            "cased_mv",
            "model: ad_bids\ndimensions: [{name: Pub, column: publisher}]\n"
            "measures: [{name: N, expression: count(*)}]",
        )
        with pytest.raises(BadRequest) as err:
            build_sql(
                parse_query({"metrics_view": "cased_mv", "dimensions": [{"name": "Pub"}]}),
                view,
                Restrictions(hidden_fields=frozenset({"pub"})),
            )
        assert err.value.message == 'invalid dimension "Pub": action not allowed'

    def test_time_dimension_is_never_restricted(self, run: Run) -> None:
        query = q(
            dimensions=[
                {"name": "d", "compute": {"time_floor": {"dimension": "timestamp", "grain": "year"}}}
            ],
            measures=[{"name": "measure_0"}],
        )
        restrictions = Restrictions(hidden_fields=frozenset({"timestamp"}))
        assert run(query, None, restrictions) == [{"d": dt.datetime(2022, 1, 1), "measure_0": 8}]
