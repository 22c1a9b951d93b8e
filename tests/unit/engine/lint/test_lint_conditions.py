"""Constant conditions and division guards, decided from the context models' bounds."""

from __future__ import annotations

import ast
from decimal import Decimal

import pytest

from riskctl.lint.bounds import field_interval, interval_of
from riskctl.lint.conditions import Conditions
from riskctl.lint.expressions import constant_parts, risky_divisors
from riskctl.lint.sets import Interval, NumberSet, StringSet


def body(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("order.qty > 0", True),
        ("order.qty <= 0", False),
        ("order.qty != 0", True),
        ("account.balance_age_ms >= 0", True),
        ("account.drawdown < 0", False),
        ("venue.error_rate_pct > 100", None),  # order_send only: unknown name here, no bounds
        ("1 > 2", False),
        ("2 >= 2", True),
        ("'a' == 'a'", True),
        ("True", True),
        ("not True", False),
        ("order.qty > 5 and order.qty < 3", False),
        ("0 < order.qty < -1", False),
        ("order.qty > 1 or order.qty <= 1", True),
        ("order.qty == 2 and order.qty != 2", False),
        ("order.side == 'buy' and order.side == 'sell'", False),
        ("order.side == 'buy' or order.side == 'sell'", True),
        ("order.side in ('buy', 'sell')", True),
        ("order.side not in ('buy', 'sell')", False),
        ("abs(position.qty) >= 0", True),
        ("abs(position.qty) < 0", False),
        ("-account.drawdown > 1", False),
        ("account.drawdown + 1 > 0", True),
        ("min(order.qty, 5) > 5", False),
        ("max(account.balance_age_ms, 10) >= 10", True),
        ("order.qty > 5", None),
        ("order.qty > 5 and order.qty < 8", None),
        ("account.equity > 0", None),
        ("market.spread_bps is not None and market.spread_bps > 20", None),
        ("order.type == 'market'", None),
        ("state.kill_switch == True", None),
        ("position.qty_after > 0", None),
        ("order.qty / 0 > 1", None),
    ],
)
def test_decide_says_when_a_pre_trade_condition_always_has_one_value(
    text: str, value: bool | None
) -> None:
    assert Conditions("pre_trade").decide(body(text)) is value


@pytest.mark.parametrize(
    ("stage", "text", "value"),
    [
        ("order_send", "venue.error_rate_pct > 100", False),
        ("order_send", "venue.rate_limit_headroom_pct <= 100", True),
        ("order_send", "request.kind == 'create' and request.kind == 'cancel'", False),
        ("ingest", "event.age_ms < 0", None),  # derived: may be negative when clocks drift
        ("monitor", "health.feed_age_ms < 0", False),
        ("signal", "strategy.loss_budget_used_pct < 0", False),
    ],
)
def test_decide_reads_the_bounds_of_each_stage(stage: str, text: str, value: bool | None) -> None:
    assert Conditions(stage).decide(body(text)) is value


def test_only_the_outermost_constant_part_is_reported() -> None:
    found = constant_parts(
        Conditions("pre_trade"),
        body(
            "order.type == 'market' and account.balance_age_ms >= 0"
            " and (order.qty > 0 or order.qty > 9)"
        ),
        in_condition=True,
    )

    assert [(ast.unparse(node), value) for node, value in found] == [
        ("account.balance_age_ms >= 0", True),
        ("order.qty > 0 or order.qty > 9", True),
    ]


def test_a_bool_literal_compared_with_a_field_is_not_a_constant_condition() -> None:
    found = constant_parts(Conditions("ingest"), body("event.crossed == True"), in_condition=True)

    assert list(found) == []


@pytest.mark.parametrize(
    ("text", "risky"),
    [
        ("1 / account.equity > 2", ["account.equity"]),
        ("1 // market.age_ms > 2", ["market.age_ms"]),
        ("1 % account.balance_age_ms > 2", ["account.balance_age_ms"]),
        ("order.qty / 0 > 1", ["0"]),
        ("order.qty / (account.equity - 1) > 1", ["account.equity - 1"]),
        ("account.equity < 0 or 1 / account.equity > 2", ["account.equity"]),
        ("account.equity > 0 and 1 / account.equity > 2", []),
        ("account.equity != 0 and 1 / account.equity > 2", []),
        ("not account.equity == 0 and 1 / account.equity > 2", []),
        ("account.equity <= 0 or 1 / account.equity > 2", []),
        ("account.equity == 0 or 1 / account.equity > 2", []),
        ("(1 / account.equity if account.equity > 0 else 0) > 1", []),
        ("(0 if account.equity == 0 else 1 / account.equity) > 1", []),
        ("(1 / account.equity if account.equity >= 0 else 0) > 1", ["account.equity"]),
        ("order.qty / 2 > 1", []),
        ("1 / order.qty > 1", []),
        ("1 / (account.balance_age_ms + 1) > 1", []),
        ("1 / abs(order.signed_qty) > 1", ["abs(order.signed_qty)"]),
        ("market.mid is not None and 1 / market.mid > 1", []),
    ],
)
def test_risky_divisors_are_those_that_can_be_zero_where_the_division_runs(
    text: str, risky: list[str]
) -> None:
    found = risky_divisors(Conditions("pre_trade"), body(text), ())

    assert [ast.unparse(node) for node in found] == risky


def test_field_bounds_come_from_the_context_models() -> None:
    assert field_interval("pre_trade", "order.qty") == Interval(
        Decimal("1e-18"), Decimal("1e15"), lo_open=False, hi_open=False
    )
    assert field_interval("pre_trade", "account.balance_age_ms") == Interval(
        Decimal(0), Decimal(10**16), lo_open=False, hi_open=False
    )
    # a quote's age may be negative (the venue's clock ahead of ours): not always >= 0
    assert field_interval("pre_trade", "market.age_ms") == Interval(
        Decimal(-(10**16)), Decimal(10**16), lo_open=False, hi_open=False
    )
    assert field_interval("pre_trade", "account.equity") == Interval(
        Decimal("-1e15"), Decimal("1e15"), lo_open=False, hi_open=False
    )
    assert field_interval("order_send", "venue.error_rate_pct") == Interval(
        Decimal(0), Decimal(100), lo_open=False, hi_open=False
    )


def test_interval_of_is_none_for_values_that_are_not_numbers() -> None:
    assert interval_of(body("order.side"), "pre_trade") is None
    assert interval_of(body("order.qty > 1"), "pre_trade") is None
    assert interval_of(body("-3"), "pre_trade") == Interval.point(Decimal(-3))


def test_sets_intersect_and_know_when_they_are_empty() -> None:
    above = NumberSet(Interval(Decimal(5), None, lo_open=True))
    below = NumberSet(Interval(None, Decimal(5), hi_open=False))
    point = NumberSet(Interval.point(Decimal(5)))

    assert above.intersect(below).is_empty()
    assert not point.intersect(below).is_empty()
    assert point.intersect(NumberSet(excluded=frozenset({Decimal(5)}))).is_empty()
    assert StringSet(frozenset({"a"})).intersect(StringSet(excluded=frozenset({"a"}))).is_empty()
    assert not StringSet().intersect(StringSet(excluded=frozenset({"a"}))).is_empty()
