"""Edges a review found: market-order collars, cancels with broken contexts, order_send
state checks, and arithmetic that cannot be done exactly, each failing closed or passing
exactly as the design says."""

from __future__ import annotations

import decimal
from typing import Any

from gatekit import make_gate

from riskctl import Outcome


def order(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "sell",
            "type": "market",
            "qty": "1.25",
            "reduce_only": True,
            "client_order_id": "c1",
            "strategy": "mm",
        },
        "market": {"bid": "30000", "ask": "65000", "age_ms": 5},
        "position": {"qty": "2"},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
    }
    for part, values in changes.items():
        data[part] = {**data.get(part, {}), **values} if isinstance(values, dict) else values
    return data


def send(**request: Any) -> dict[str, Any]:
    return {
        "now_ms": 1_700_000_000_000,
        "request": {"venue": "binance", "symbol": "BTC/USDT", "kind": "create", **request},
    }


def codes(decision: Any) -> list[str]:
    return [hit.code for hit in decision.hits if hit.mode == "enforce"]


def test_when_a_market_exit_would_sell_far_below_mid_then_the_collar_rejects_it(tmp_path) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    decision = gate.evaluate("pre_trade", order())  # bid 30000 against a mid of 47500
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["limit.price_collar_bps"]


def test_when_a_market_order_takes_a_touch_inside_the_collar_then_it_passes(tmp_path) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    decision = gate.evaluate("pre_trade", order(market={"bid": "64990", "ask": "65010"}))
    assert decision.outcome is Outcome.ALLOW, decision.to_json()


def test_when_a_cancel_has_an_invalid_context_then_it_still_passes_and_says_why(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    broken = order(
        order={"action": "cancel", "qty": None, "quote_qty": "5"}, account={"equity": None}
    )
    decision = gate.evaluate("pre_trade", broken)
    assert decision.outcome is Outcome.ALLOW
    assert [(h.code, h.mode == "enforce") for h in decision.hits] == [("context.invalid", False)]


def test_when_a_cancel_with_an_invalid_context_passes_then_its_hit_says_it_passed(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    broken = order(order={"action": "cancel", "qty": None}, account={"equity": None})
    (hit,) = gate.evaluate("pre_trade", broken).hits
    assert (hit.action, hit.severity) == ("alert", "warning")
    assert "the cancel passed" in hit.message
    assert "fails closed" not in hit.message


def test_when_a_new_order_has_an_invalid_context_then_it_is_rejected(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    decision = gate.evaluate("pre_trade", order(account={"equity": None}))
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]


def test_when_kill_switch_or_halted_then_order_send_refuses_creates(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    for state, code in (
        ({"kill_switch": True}, "state.kill_switch"),
        ({"trading_state": "HALTED"}, "state.halted"),
    ):
        decision = gate.evaluate("order_send", {**send(), "state": state})
        assert decision.outcome is Outcome.REJECT
        assert code in codes(decision)


def test_when_kill_switch_is_on_then_order_send_still_lets_cancels_through(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    for kind in ("cancel", "cancel_all"):
        decision = gate.evaluate("order_send", {**send(kind=kind), "state": {"kill_switch": True}})
        assert decision.outcome is Outcome.ALLOW


def test_when_order_send_targets_a_venue_outside_the_universe_then_it_is_refused(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    decision = gate.evaluate("order_send", send(venue="nowhere"))
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["limit.unknown_instrument"]


def test_when_quote_size_cannot_be_converted_exactly_then_reject_without_raising(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    huge = order(order={"type": "limit", "price": "1e-18", "qty": None, "quote_qty": "1e15"})
    decision = gate.evaluate("pre_trade", huge)
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]


def test_when_the_callers_decimal_context_is_changed_then_decisions_do_not_change(
    tmp_path,
) -> None:
    gate = make_gate(tmp_path, {"price_collar_bps": 50})
    data = order(
        order={"type": "limit", "price": "65000.33"}, market={"bid": "64999", "ask": "65001"}
    )
    expected = gate.evaluate("pre_trade", data).to_json()
    with decimal.localcontext() as ctx:
        ctx.prec, ctx.rounding = 6, decimal.ROUND_UP  # what another library might leave behind
        ctx.traps[decimal.Inexact] = True
        again = gate.evaluate("pre_trade", data).to_json()
    assert {k: again[k] for k in ("outcome", "hits")} == {
        k: expected[k] for k in ("outcome", "hits")
    }


def test_when_reducing_then_the_message_says_which_orders_pass(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 10})
    opening = order(
        order={"reduce_only": False, "side": "buy"}, state={"trading_state": "REDUCING"}
    )
    hit = next(h for h in gate.evaluate("pre_trade", opening).hits if h.rule_id == "reducing")
    assert (
        hit.message == "trading is REDUCING: only reduce_only orders that shrink the position pass"
    )
