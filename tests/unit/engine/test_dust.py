"""Dust: an exit below the venue's minimum can never be sent.

The gate refuses it with rule ``dust``, adds an ``alert`` the first time it sees that
position size (not on repeats, again when the position grew), and ``Gate.unclosable()``
reports the position. An opening order below the minimum is not dust: it is refused with
``instrument.qty_below_min`` / ``instrument.notional_below_min``.

TICK1/USDT: step 0.001, min_qty 0.01, min_notional 10.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "conformance"
D = Decimal
KEY = ("binance", "TICK1/USDT")


@pytest.fixture
def gate() -> Gate:
    """A fresh gate per test: the dust ledger lives in the gate."""
    return Gate.from_path(DATA / "instruments.yaml", DATA / "limits-reject.yaml")


def exit_order(
    position: str,
    *,
    qty: str | None = None,
    price: str = "100.00",
    symbol: str = "TICK1/USDT",
    reduce_only: bool = True,
) -> dict[str, Any]:
    """Close ``position`` (signed) with a reduce-only order of the opposite side."""
    size = D(position)
    return {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": symbol,
            "side": "sell" if size > 0 else "buy",
            "qty": qty if qty is not None else str(abs(size)),
            "price": price,
            "reduce_only": reduce_only,
            "client_order_id": "cid-exit",
            "strategy": "mm",
        },
        "market": {"bid": price, "ask": price, "age_ms": 0},
        "position": {"qty": position},
        "account": {"equity": "100000", "available_balance": "100000", "balance_age_ms": 0},
    }


def rule_ids(decision: Decision) -> set[str]:
    return {hit.rule_id for hit in decision.hits}


def test_dust_when_exit_is_below_min_qty_then_rejected_as_dust_with_an_alert(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", exit_order("0.005", price="5000.00"))

    assert decision.outcome is Outcome.REJECT
    assert rule_ids(decision) == {"dust"}
    assert [h.code for h in decision.hits] == ["instrument.dust"]
    assert "alert" in decision.actions
    assert "reject" in decision.actions
    assert decision.hits[0].values["instrument.min_qty"] == D("0.01")


def test_dust_when_exit_is_below_min_notional_only_then_rejected_as_dust(gate: Gate) -> None:
    # 0.050 x 100.00 = 5, under min_notional 10; the quantity itself is above min_qty
    decision = gate.evaluate("pre_trade", exit_order("0.050"))

    assert rule_ids(decision) == {"dust"}
    assert "alert" in decision.actions


def test_dust_when_short_position_is_dust_then_the_buy_exit_is_dust_too(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", exit_order("-0.005"))

    assert rule_ids(decision) == {"dust"}
    assert gate.unclosable() == {KEY: D("0.005")}


@pytest.mark.parametrize(
    ("qty", "price"),
    [("0.010", "1000.00"), ("0.100", "100.00")],  # at min_qty (notional 10); at min_notional
)
def test_dust_when_exit_is_exactly_at_the_minimums_then_it_passes(
    gate: Gate, qty: str, price: str
) -> None:
    decision = gate.evaluate("pre_trade", exit_order(qty, price=price))

    assert decision.outcome is Outcome.ALLOW
    assert gate.unclosable() == {}


def test_dust_when_repeated_with_the_same_size_then_no_second_alert(gate: Gate) -> None:
    first = gate.evaluate("pre_trade", exit_order("0.005"))
    second = gate.evaluate("pre_trade", exit_order("0.005"))
    third = gate.evaluate("pre_trade", exit_order("0.005"))

    assert "alert" in first.actions
    for repeat in (second, third):
        assert repeat.outcome is Outcome.REJECT
        assert rule_ids(repeat) == {"dust"}
        assert "alert" not in repeat.actions


def test_dust_when_position_grew_but_is_still_dust_then_alert_again(gate: Gate) -> None:
    first = gate.evaluate("pre_trade", exit_order("0.005"))
    repeat = gate.evaluate("pre_trade", exit_order("0.005"))
    grown = gate.evaluate("pre_trade", exit_order("0.008"))
    grown_repeat = gate.evaluate("pre_trade", exit_order("0.008"))

    assert ["alert" in d.actions for d in (first, repeat, grown, grown_repeat)] == [
        True,
        False,
        True,
        False,
    ]
    assert gate.unclosable() == {KEY: D("0.008")}


def test_dust_when_exit_sells_part_of_a_dust_position_then_size_is_the_position_not_the_order(
    gate: Gate,
) -> None:
    gate.evaluate("pre_trade", exit_order("0.008", qty="0.005"))

    assert gate.unclosable() == {KEY: D("0.008")}


def test_unclosable_when_dust_is_found_then_reports_venue_symbol_and_size(gate: Gate) -> None:
    assert gate.unclosable() == {}

    gate.evaluate("pre_trade", exit_order("0.005"))

    assert gate.unclosable() == {KEY: D("0.005")}


def test_unclosable_when_position_grew_and_the_exit_went_out_then_no_longer_reported(
    gate: Gate,
) -> None:
    gate.evaluate("pre_trade", exit_order("0.005"))
    assert gate.unclosable() == {KEY: D("0.005")}

    closed = gate.evaluate("pre_trade", exit_order("0.500"))

    assert closed.outcome is Outcome.ALLOW
    assert gate.unclosable() == {}


def test_unclosable_when_snapshot_is_mutated_then_the_gate_is_unaffected(gate: Gate) -> None:
    gate.evaluate("pre_trade", exit_order("0.005"))
    snapshot = gate.unclosable()
    snapshot.clear()

    assert gate.unclosable() == {KEY: D("0.005")}


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        ("0.005", "5000.00", "instrument.qty_below_min"),
        ("0.050", "100.00", "instrument.notional_below_min"),
    ],
)
def test_opening_order_when_below_min_then_rejected_as_below_min_not_dust(
    gate: Gate, qty: str, price: str, code: str
) -> None:
    for side in ("buy", "sell"):
        ctx = exit_order("0", qty=qty, price=price)
        ctx["order"]["side"] = side
        ctx["order"]["reduce_only"] = False

        decision = gate.evaluate("pre_trade", ctx)

        assert decision.outcome is Outcome.REJECT
        assert {h.code for h in decision.hits} == {code}
        assert "alert" not in decision.actions
    assert gate.unclosable() == {}


def test_dust_when_reduce_only_order_has_no_position_to_reduce_then_it_is_not_an_exit(
    gate: Gate,
) -> None:
    ctx = exit_order("0", qty="0.005", price="5000.00")
    ctx["order"]["side"] = "sell"

    decision = gate.evaluate("pre_trade", ctx)

    # reduce_only with nothing to reduce would open a position: refused for that too
    assert {h.code for h in decision.hits} == {
        "instrument.qty_below_min",
        "order.reduce_only_would_open",
    }
    assert gate.unclosable() == {}


def test_dust_when_exit_is_not_flagged_reduce_only_then_it_is_an_opening_size_check(
    gate: Gate,
) -> None:
    decision = gate.evaluate("pre_trade", exit_order("0.005", price="5000.00", reduce_only=False))

    assert {h.code for h in decision.hits} == {"instrument.qty_below_min"}
    assert gate.unclosable() == {}


def test_dust_when_two_symbols_are_dust_then_each_is_tracked_separately(gate: Gate) -> None:
    first = gate.evaluate("pre_trade", exit_order("0.005"))
    other = gate.evaluate("pre_trade", exit_order("1", symbol="TICK5/USDT"))  # min_qty 2

    assert "alert" in first.actions
    assert "alert" in other.actions
    assert gate.unclosable() == {KEY: D("0.005"), ("binance", "TICK5/USDT"): D("1")}
