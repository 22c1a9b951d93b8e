"""Typed limits: every limit rejects an opening breach and lets the same-size exit through.

The price collar applies to exits too. Scopes resolve limit by limit (venue+symbol > symbol >
venue > defaults), and ``clip_order_qty`` turns a size breach into a modify that is rechecked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

# -- helpers ---------------------------------------------------------------------------
from gatekit import make_gate, pre_trade

from riskctl import Outcome


def opening(qty: str = "1", **parts: dict[str, Any]) -> dict[str, Any]:
    """A buy from flat: it opens risk."""
    data = pre_trade(**parts)
    data["order"]["qty"] = qty
    return data


def exiting(qty: str = "1", **parts: dict[str, Any]) -> dict[str, Any]:
    """A reduce-only sell of ``qty`` against a larger long position: an exit."""
    data = pre_trade(**parts)
    data["order"].update(side="sell", qty=qty, reduce_only=True)
    data["position"] = {"qty": "10", **parts.get("position", {})}
    return data


def codes(decision) -> list[str]:
    return [hit.code for hit in decision.hits]


def hit_for(decision, code: str):
    found = [hit for hit in decision.hits if hit.code == code]
    assert found, f"no {code} in {codes(decision)}"
    return found[0]


# -- every typed limit: opening breach rejected, same-size exit passes -------------------------

# name, limits, parts that breach (qty, **parts), parts exactly at the limit, limit value
LIMITS = [
    pytest.param("max_order_qty", {"max_order_qty": 5}, ("6", {}), ("5", {}), id="max_order_qty"),
    pytest.param(
        "max_order_notional",
        {"max_order_notional": 500},
        ("6", {}),
        ("5", {}),
        id="max_order_notional",
    ),
    pytest.param(
        "max_position_qty", {"max_position_qty": 5}, ("6", {}), ("5", {}), id="max_position_qty"
    ),
    pytest.param(
        "max_position_notional",
        {"max_position_notional": 500},
        ("6", {}),
        ("5", {}),
        id="max_position_notional",
    ),
    pytest.param(
        "max_gross_exposure",
        {"max_gross_exposure": 1000},
        ("6", {"account": {"gross_exposure": "500"}}),
        ("5", {"account": {"gross_exposure": "500"}}),
        id="max_gross_exposure",
    ),
    pytest.param(
        "max_open_orders",
        {"max_open_orders": 3},
        ("6", {"account": {"open_orders": 3}}),
        ("6", {"account": {"open_orders": 2}}),
        id="max_open_orders",
    ),
    pytest.param(
        "max_orders_per_second",
        {"max_orders_per_second": 3},
        ("6", {"account": {"orders_last_second": 3}}),
        ("6", {"account": {"orders_last_second": 2}}),
        id="max_orders_per_second",
    ),
    pytest.param(
        "max_daily_loss",
        {"max_daily_loss": 1000},
        ("6", {"account": {"daily_pnl": "-1000.01"}}),
        ("6", {"account": {"daily_pnl": "-1000"}}),
        id="max_daily_loss",
    ),
    pytest.param(
        "max_drawdown",
        {"max_drawdown": 1000},
        ("6", {"account": {"drawdown": "1000.00000001"}}),
        ("6", {"account": {"drawdown": "1000"}}),
        id="max_drawdown",
    ),
    pytest.param(
        "stale_market_data_ms",
        {"stale_market_data_ms": 1000},
        ("6", {"market": {"age_ms": 1001}}),
        ("6", {"market": {"age_ms": 1000}}),
        id="stale_market_data_ms",
    ),
    pytest.param(
        "stale_balance_ms",
        {"stale_balance_ms": 1000},
        ("6", {"account": {"balance_age_ms": 1001}}),
        ("6", {"account": {"balance_age_ms": 1000}}),
        id="stale_balance_ms-default-reduce",
    ),
    pytest.param(
        "stale_balance_ms",
        {"stale_balance_ms": 1000, "on_stale_balance": "reduce"},
        ("6", {"account": {"balance_age_ms": 1001}}),
        ("6", {"account": {"balance_age_ms": 1000}}),
        id="stale_balance_ms-reduce",
    ),
]


@pytest.mark.parametrize(("name", "limits", "breach", "at"), LIMITS)
def test_when_opening_order_breaches_a_limit_then_reject_with_its_code(
    tmp_path, name, limits, breach, at
) -> None:
    gate = make_gate(tmp_path, limits)
    qty, parts = breach
    decision = gate.evaluate("pre_trade", opening(qty, **parts))
    assert decision.outcome is Outcome.REJECT, codes(decision)
    assert codes(decision) == [f"limit.{name}"]
    hit = decision.hits[0]
    assert hit.rule_id == name
    assert hit.policy == "RiskLimits/test-limits"
    assert hit.values["limit"] == limits[name]
    assert hit.values["scope"] == "*:*"
    assert "reject" in decision.actions


@pytest.mark.parametrize(("name", "limits", "breach", "at"), LIMITS)
def test_when_order_is_exactly_at_a_limit_then_it_passes(
    tmp_path, name, limits, breach, at
) -> None:
    gate = make_gate(tmp_path, limits)
    qty, parts = at
    decision = gate.evaluate("pre_trade", opening(qty, **parts))
    assert decision.outcome is Outcome.ALLOW, codes(decision)
    assert decision.hits == ()


# Order counts and rates guard the venue relationship (an API ban traps every later
# exit), not opening risk: they apply to exits too. Cancels are never limited.
VENUE_LIMITS = {"max_open_orders", "max_orders_per_second"}
OPENING_RISK = [p for p in LIMITS if p.values[0] not in VENUE_LIMITS]
VENUE_RATE = [p for p in LIMITS if p.values[0] in VENUE_LIMITS]


@pytest.mark.parametrize(("name", "limits", "breach", "at"), VENUE_RATE)
def test_when_reduce_only_exit_breaches_an_order_rate_limit_then_it_is_rejected_too(
    tmp_path, name, limits, breach, at
) -> None:
    gate = make_gate(tmp_path, limits)
    qty, parts = breach
    decision = gate.evaluate("pre_trade", exiting(qty, **parts))
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == [f"limit.{name}"]


@pytest.mark.parametrize(("name", "limits", "breach", "at"), OPENING_RISK)
def test_when_reduce_only_exit_of_the_same_size_breaches_then_it_passes(
    tmp_path, name, limits, breach, at
) -> None:
    gate = make_gate(tmp_path, limits)
    qty, parts = breach
    data = exiting(qty, **parts)
    if name == "max_gross_exposure":
        data["account"]["gross_exposure"] = "5000"  # already over: the exit must still pass
    decision = gate.evaluate("pre_trade", data)
    assert decision.outcome is Outcome.ALLOW, codes(decision)
    assert f"limit.{name}" not in codes(decision)


@pytest.mark.parametrize(("name", "limits", "breach", "at"), LIMITS)
def test_when_sell_opens_a_short_that_breaches_then_reject(
    tmp_path, name, limits, breach, at
) -> None:
    gate = make_gate(tmp_path, limits)
    qty, parts = breach
    data = opening(qty, **parts)
    data["order"]["side"] = "sell"
    data["order"]["reduce_only"] = True  # flagged, but it opens a short: not an exit
    decision = gate.evaluate("pre_trade", data)
    assert decision.outcome is Outcome.REJECT
    assert f"limit.{name}" in codes(decision)


@pytest.mark.parametrize(
    ("name", "value", "parts"),
    [
        ("max_daily_loss", 1000, {"account": {"daily_pnl": "-1000.01"}}),
        ("max_drawdown", 1000, {"account": {"drawdown": "1000.01"}}),
        ("stale_balance_ms", 1000, {"account": {"balance_age_ms": 1001}}),
    ],
)
def test_when_a_reduce_only_limit_is_breached_then_actions_say_reduce_only(
    tmp_path, name, value, parts
) -> None:
    gate = make_gate(tmp_path, {name: value})
    decision = gate.evaluate("pre_trade", opening("1", **parts))
    assert decision.outcome is Outcome.REJECT
    assert set(decision.actions) == {"reject", "reduce_only"}
    assert hit_for(decision, f"limit.{name}").action == "reduce_only"


def test_when_position_limit_is_met_by_a_reducing_order_then_it_passes(tmp_path) -> None:
    """Already over max_position_qty: an order that shrinks the position is not refused."""
    gate = make_gate(tmp_path, {"max_position_qty": 5, "max_position_notional": 500})
    unflagged = pre_trade(order={"side": "sell", "qty": "3"}, position={"qty": "10"})
    assert gate.evaluate("pre_trade", unflagged).allowed
    adding = pre_trade(order={"side": "buy", "qty": "0.00000001"}, position={"qty": "10"})
    decision = gate.evaluate("pre_trade", adding)
    assert set(codes(decision)) == {"limit.max_position_qty", "limit.max_position_notional"}


# -- stale balance: skip / reduce / halt -------------------------------------------------------


def test_when_stale_balance_is_skip_then_opening_order_is_allowed_with_an_alert_hit(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"stale_balance_ms": 1000, "on_stale_balance": "skip"})
    decision = gate.evaluate("pre_trade", opening("6", account={"balance_age_ms": 1001}))
    assert decision.outcome is Outcome.ALLOW
    assert decision.actions == ("alert",)
    hit = hit_for(decision, "limit.stale_balance_ms")
    assert hit.action == "alert"
    assert hit.severity == "warning"
    exit_ = gate.evaluate("pre_trade", exiting("6", account={"balance_age_ms": 1001}))
    assert exit_.outcome is Outcome.ALLOW


def test_when_stale_balance_is_halt_then_opening_orders_and_exits_are_rejected(tmp_path) -> None:
    gate = make_gate(tmp_path, {"stale_balance_ms": 1000, "on_stale_balance": "halt"})
    for data in (
        opening("6", account={"balance_age_ms": 1001}),
        exiting("6", account={"balance_age_ms": 1001}),
    ):
        decision = gate.evaluate("pre_trade", data)
        assert decision.outcome is Outcome.REJECT
        assert set(decision.actions) == {"reject", "halt"}
        assert hit_for(decision, "limit.stale_balance_ms").action == "halt"
    fresh = gate.evaluate("pre_trade", opening("6", account={"balance_age_ms": 1000}))
    assert fresh.allowed


def test_when_on_stale_balance_is_set_without_stale_balance_ms_then_nothing_happens(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"on_stale_balance": "halt"})
    assert gate.evaluate("pre_trade", opening("6", account={"balance_age_ms": 10**9})).allowed


# -- price collar: applies to exits too --------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "price", "allowed"),
    [
        ("buy", "100.5", True),  # mid 100, 50 bps exactly
        ("buy", "100.50000001", False),
        ("buy", "99.5", True),
        ("buy", "99.49999999", False),
        ("sell", "99.5", True),
        ("sell", "99.49", False),
        ("sell", "100.51", False),
    ],
)
def test_when_limit_price_is_outside_the_collar_then_reject(tmp_path, side, price, allowed) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    decision = gate.evaluate("pre_trade", pre_trade(order={"side": side, "price": price}))
    assert decision.allowed is allowed
    if not allowed:
        assert codes(decision) == ["limit.price_collar_bps"]


@pytest.mark.parametrize(
    ("price", "allowed"), [("99.5", True), ("99.49", False), ("1", False), ("250", False)]
)
def test_when_exit_price_is_outside_the_collar_then_the_exit_is_rejected_too(
    tmp_path, price, allowed
) -> None:
    gate = make_gate(
        tmp_path,
        {
            "price_collar_bps": 50,
            "max_order_qty": 5,
            "max_daily_loss": 10,
            "stale_market_data_ms": 10,
        },
    )
    data = exiting(
        "6", order={"price": price}, account={"daily_pnl": "-100"}, market={"age_ms": 50}
    )
    decision = gate.evaluate("pre_trade", data)
    assert decision.allowed is allowed
    assert codes(decision) == ([] if allowed else ["limit.price_collar_bps"])


def test_when_collar_has_no_mid_to_check_then_limit_orders_and_exits_are_rejected(tmp_path) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    for data in (pre_trade(market={"bid": None}), exiting("1", market={"ask": None})):
        decision = gate.evaluate("pre_trade", data)
        assert decision.outcome is Outcome.REJECT
        assert "limit.price_collar_bps" in codes(decision)


def test_when_order_is_market_then_the_collar_does_not_apply(tmp_path) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    decision = gate.evaluate("pre_trade", pre_trade(order={"type": "market", "price": None}))
    assert decision.allowed
    assert decision.hits == ()


def test_when_eth_uses_a_wider_collar_then_the_same_distance_passes_there(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {"price_collar_bps": 50},
        scoped=(({"symbol": "ETH/USDT"}, {"price_collar_bps": 75}),),
    )
    order = {"price": "100.6"}
    assert not gate.evaluate("pre_trade", pre_trade(order=order)).allowed
    assert gate.evaluate("pre_trade", pre_trade(order={**order, "symbol": "ETH/USDT"})).allowed


def test_when_market_order_cannot_be_valued_then_notional_limits_reject(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {
            "max_order_notional": 1000000,
            "max_position_notional": 1000000,
            "max_gross_exposure": 1000000,
        },
    )
    decision = gate.evaluate(
        "pre_trade", pre_trade(order={"type": "market", "price": None}, market={"ask": None})
    )
    assert decision.outcome is Outcome.REJECT
    assert {
        "limit.max_order_notional",
        "limit.max_position_notional",
        "limit.max_gross_exposure",
    } <= set(codes(decision))


# -- scopes ------------------------------------------------------------------------------------

# Most specific first in the file, so a result that depends on file order shows.
SCOPED = (
    ({"venue": "binance", "symbol": "BTC/USDT"}, {"max_order_qty": 10}),
    ({"symbol": "BTC/USDT"}, {"max_order_qty": 20, "max_position_qty": 30}),
    ({"venue": "binance"}, {"max_order_qty": 50, "max_open_orders": 5}),
)
DEFAULTS = {"max_order_qty": 100, "max_order_notional": 1000000}


@pytest.mark.parametrize(
    ("venue", "symbol", "limit", "scope"),
    [
        ("binance", "BTC/USDT", 10, "binance:BTC/USDT"),
        ("okx", "BTC/USDT", 20, "*:BTC/USDT"),
        ("binance", "ETH/USDT", 50, "binance:*"),
        ("okx", "ETH/USDT", 100, "*:*"),
    ],
)
def test_when_scopes_overlap_then_the_most_specific_sets_the_limit(
    tmp_path, venue, symbol, limit, scope
) -> None:
    gate = make_gate(tmp_path, DEFAULTS, scoped=SCOPED)
    where = {"venue": venue, "symbol": symbol, "price": "1"}
    at = gate.evaluate("pre_trade", pre_trade(order={**where, "qty": str(limit)}))
    assert at.allowed, codes(at)
    over = gate.evaluate("pre_trade", pre_trade(order={**where, "qty": f"{limit}.00000001"}))
    assert codes(over) == ["limit.max_order_qty"]
    assert over.hits[0].values["limit"] == limit
    assert over.hits[0].values["scope"] == scope


def test_when_a_scope_overrides_one_limit_then_it_inherits_the_others(tmp_path) -> None:
    gate = make_gate(tmp_path, DEFAULTS, scoped=SCOPED)
    btc = {"venue": "binance", "symbol": "BTC/USDT"}
    # max_open_orders comes from the venue scope
    decision = gate.evaluate("pre_trade", pre_trade(order=btc, account={"open_orders": 5}))
    assert codes(decision) == ["limit.max_open_orders"]
    assert decision.hits[0].values["scope"] == "binance:*"
    # max_position_qty from the symbol scope
    decision = gate.evaluate(
        "pre_trade", pre_trade(order={**btc, "qty": "6"}, position={"qty": "25"})
    )
    assert codes(decision) == ["limit.max_position_qty"]
    assert decision.hits[0].values["scope"] == "*:BTC/USDT"
    # max_order_notional from the defaults
    decision = gate.evaluate(
        "pre_trade", pre_trade(order={**btc, "qty": "10", "price": "100000.01"})
    )
    assert codes(decision) == ["limit.max_order_notional"]
    assert decision.hits[0].values["scope"] == "*:*"
    # none of the binance or BTC overrides leak to okx ETH
    okx_eth = {"venue": "okx", "symbol": "ETH/USDT"}
    decision = gate.evaluate(
        "pre_trade",
        pre_trade(
            order={**okx_eth, "qty": "99"}, account={"open_orders": 500}, position={"qty": "500"}
        ),
    )
    assert decision.allowed, codes(decision)


def test_when_defaults_are_empty_then_only_scoped_limits_apply(tmp_path) -> None:
    gate = make_gate(tmp_path, {}, scoped=(({"venue": "okx"}, {"max_order_qty": 1}),))
    assert gate.evaluate("pre_trade", pre_trade(order={"qty": "1000"})).allowed
    okx = gate.evaluate("pre_trade", pre_trade(order={"qty": "2", "venue": "okx"}))
    assert codes(okx) == ["limit.max_order_qty"]


# -- clipping ----------------------------------------------------------------------------------


def test_when_clip_is_on_and_order_is_over_max_order_qty_then_modify_to_the_limit(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", opening("8"))
    assert decision.outcome is Outcome.MODIFY
    assert decision.allowed
    assert dict(decision.modifications) == {"qty": Decimal("5")}
    assert decision.actions == ("clip",)
    assert hit_for(decision, "limit.max_order_qty").action == "clip"
    assert decision.to_json()["modifications"] == {"qty": "5"}


@pytest.mark.parametrize(
    ("side", "position", "qty", "clipped"),
    [
        ("buy", "7", "8", "3"),
        ("buy", "-2", "20", "12"),
        ("sell", "-7", "8", "3"),
        ("sell", "4", "20", "14"),
        ("buy", "0", "10.5", "10"),
    ],
)
def test_when_clip_is_on_and_position_would_be_over_then_modify_to_fit(
    tmp_path, side, position, qty, clipped
) -> None:
    gate = make_gate(tmp_path, {"max_position_qty": 10, "clip_order_qty": True})
    data = pre_trade(order={"side": side, "qty": qty}, position={"qty": position})
    decision = gate.evaluate("pre_trade", data)
    assert decision.outcome is Outcome.MODIFY, codes(decision)
    assert dict(decision.modifications) == {"qty": Decimal(clipped)}
    data["order"]["qty"] = clipped
    assert gate.evaluate("pre_trade", data).outcome is Outcome.ALLOW


def test_when_both_size_limits_clip_then_the_smaller_quantity_wins(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5, "max_position_qty": 10, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "8"}, position={"qty": "7"}))
    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"qty": Decimal("3")}
    assert sorted(codes(decision)) == ["limit.max_order_qty", "limit.max_position_qty"]


def test_when_position_is_already_over_then_clipping_cannot_help_and_rejects(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_position_qty": 10, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "1"}, position={"qty": "12"}))
    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}


def test_when_clip_is_off_then_size_breaches_reject(tmp_path) -> None:
    for clip in ({}, {"clip_order_qty": False}):
        gate = make_gate(tmp_path, {"max_order_qty": 5, "max_position_qty": 5, **clip})
        decision = gate.evaluate("pre_trade", opening("8"))
        assert decision.outcome is Outcome.REJECT
        assert decision.modifications == {}


def test_when_clip_is_on_then_other_limits_still_reject_not_clip(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_gross_exposure": 500, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", opening("8"))
    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}


def test_when_clip_is_on_and_notional_is_over_then_qty_is_clipped_to_max_order_notional(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_notional": 500, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", opening("8"))  # 8 x 100 = 800 over 500
    assert decision.outcome is Outcome.MODIFY
    assert decision.modifications == {"qty": Decimal("5")}
    assert decision.actions == ("clip",)


def test_when_both_qty_and_notional_clip_then_the_smaller_clip_wins(tmp_path) -> None:
    gate = make_gate(
        tmp_path, {"max_order_qty": 5, "max_order_notional": 400, "clip_order_qty": True}
    )
    decision = gate.evaluate("pre_trade", opening("8"))
    assert decision.outcome is Outcome.MODIFY
    assert decision.modifications == {"qty": Decimal("4")}
    assert {"limit.max_order_qty", "limit.max_order_notional"} <= set(codes(decision))


def test_when_notional_clip_does_not_divide_evenly_then_it_rounds_down_exactly(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_notional": 100, "clip_order_qty": True})
    decision = gate.evaluate("pre_trade", opening("40", order={"price": "3"}))
    # 100 / 3 = 33.33..., rounded down (never to nearest) onto 8 decimals without a step
    assert decision.modifications == {"qty": Decimal("33.33333333")}
    assert decision.outcome is Outcome.MODIFY


def test_when_notional_clip_has_no_price_to_value_at_then_reject(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_notional": 100, "clip_order_qty": True})
    market = opening("8", order={"type": "market", "price": None}, market={"ask": None})
    decision = gate.evaluate("pre_trade", market)
    assert decision.outcome is Outcome.REJECT


def test_when_only_the_clipped_order_breaks_a_rule_then_the_recheck_rejects(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": "0.5", "clip_order_qty": True},
        rules=[{"id": "min-size", "stage": "pre_trade", "when": "order.qty < 1"}],
    )
    decision = gate.evaluate("pre_trade", opening("8"))  # 8 is not under the minimum; 0.5 is
    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}
    (min_size,) = [hit for hit in decision.hits if hit.code == "rule.min-size"]
    assert min_size.values["order.qty"] == Decimal("0.5")


def test_when_clipped_order_passes_its_recheck_then_only_the_clip_hit_is_reported(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 5, "max_order_notional": 600, "clip_order_qty": True},
        rules=[{"id": "watch", "stage": "pre_trade", "when": "order.qty > 6", "action": "alert"}],
    )
    decision = gate.evaluate("pre_trade", opening("5.5"))
    assert decision.outcome is Outcome.MODIFY
    assert codes(decision) == ["limit.max_order_qty"]
    assert dict(decision.modifications) == {"qty": Decimal("5")}
