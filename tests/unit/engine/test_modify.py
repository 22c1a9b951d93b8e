"""Conformance fixes instead of rejects (``conformance: ... modify``).

A price moves onto the tick grid toward the passive side (buys down, sells up); a quantity
rounds down onto the step; an oversized order is clipped to max_qty, or to
floor(max_notional / price) on the step. The decision carries exactly the order that will
pass: applied to the context and evaluated again, it is allowed. When the fixed order still
breaks a rule, the outcome is reject and nothing is modified.

Bundle: tests/data/conformance/instruments.yaml + limits-modify.yaml.
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
INSTRUMENTS = DATA / "instruments.yaml"
D = Decimal


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate.from_path(INSTRUMENTS, DATA / "limits-modify.yaml")


def context(
    symbol: str,
    *,
    side: str = "buy",
    qty: str = "1",
    price: str | None = "100",
    kind: str = "limit",
    bid: str = "1",
    ask: str = "1000000",
    position: str = "0",
    reduce_only: bool = False,
    quote_qty: str | None = None,
) -> dict[str, Any]:
    size = {"qty": qty} if quote_qty is None else {"quote_qty": quote_qty}
    order: dict[str, Any] = {
        "venue": "bitfinex" if symbol == "SIG/USD" else "binance",
        "symbol": symbol,
        "side": side,
        "type": kind,
        **size,
        "reduce_only": reduce_only,
        "client_order_id": "cid-1",
        "strategy": "mm",
    }
    if kind == "limit":
        order["price"] = price
    return {
        "now_ms": 1_700_000_000_000,
        "order": order,
        "market": {"bid": bid, "ask": ask, "age_ms": 0},
        "position": {"qty": position},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
    }


def applied(ctx: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """The context with the decision's modified order, exactly as the README says to send
    it: ``{**order, **decision.modifications}``, nothing removed."""
    fixed = {key: str(value) for key, value in decision.modifications.items()}
    return {**ctx, "order": {**ctx["order"], **fixed}}


def codes(decision: Decision) -> set[str]:
    return {hit.code for hit in decision.hits}


# -- price: toward the passive side -------------------------------------------------------

PRICE_CASES = [
    # symbol, price, qty, buy -> , sell ->
    ("TICK1/USDT", "100.017", "1", "100.01", "100.02"),
    ("TICK1/USDT", "100.0100001", "1", "100.01", "100.02"),
    ("TICK5/USDT", "100.07", "3", "100.05", "100.10"),
    ("TICK5/USDT", "100.03", "3", "100.00", "100.05"),
    ("HALF/USDT", "100.3", "0.5", "100.0", "100.5"),
    ("HALF/USDT", "100.99", "0.5", "100.5", "101.0"),
    ("MICRO/USDT", "0.000012345", "1000000", "0.00001234", "0.00001235"),
    ("SIG/USD", "12345.6", "1", "12345", "12346"),
    ("SIG/USD", "0.000123456", "100", "0.00012345", "0.00012346"),
    ("SIG/USD", "99999.5", "1", "99999", "100000"),
]


@pytest.mark.parametrize("case", PRICE_CASES, ids=[f"{c[0]}-{c[1]}" for c in PRICE_CASES])
def test_price_when_off_grid_and_modify_then_buys_round_down_and_sells_round_up(
    gate: Gate, case: tuple[str, str, str, str, str]
) -> None:
    symbol, price, qty, buy, sell = case
    for side, expected in (("buy", buy), ("sell", sell)):
        ctx = context(symbol, side=side, price=price, qty=qty)

        decision = gate.evaluate("pre_trade", ctx)

        assert decision.outcome is Outcome.MODIFY, (side, [h.message for h in decision.hits])
        assert dict(decision.modifications) == {"price": D(expected)}, side
        assert decision.actions == ("round",)
        assert [(h.code, h.action) for h in decision.hits] == [
            ("instrument.price_off_grid", "round")
        ]
        assert decision.allowed


def test_price_when_modified_then_decision_json_carries_the_new_price(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.017"))

    shown = decision.to_json()

    assert shown["outcome"] == "modify"
    assert shown["modifications"] == {"price": "100.01"}
    assert shown["hits"][0]["action"] == "round"


def test_price_when_exit_is_off_grid_then_also_moved_toward_the_passive_side(gate: Gate) -> None:
    ctx = context("TICK1/USDT", side="sell", price="100.017", position="1", reduce_only=True)

    decision = gate.evaluate("pre_trade", ctx)

    assert dict(decision.modifications) == {"price": D("100.02")}


def test_price_when_buy_is_below_one_tick_then_no_fix_exists_and_rejected(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="0.004", qty="10000"))

    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}
    assert "instrument.price_off_grid" in codes(decision)


# -- quantity: rounds down onto the step ---------------------------------------------------

QTY_CASES = [
    ("TICK1/USDT", "100.00", "0.3005", "0.300"),
    ("TICK1/USDT", "100.00", "0.3009999", "0.300"),
    ("TICK5/USDT", "100.00", "7.9", "7"),
    ("HALF/USDT", "100.0", "0.5005", "0.500"),
    ("MICRO/USDT", "0.00001234", "1000000.5", "1000000"),
    ("SIG/USD", "12345", "1.2345", "1.234"),
    ("SIG/USD", "12345", "12.3456", "12.34"),
]


@pytest.mark.parametrize(
    ("symbol", "price", "qty", "expected"),
    QTY_CASES,
    ids=[f"{c[0]}-{c[2]}" for c in QTY_CASES],
)
def test_qty_when_off_grid_and_modify_then_rounds_down_on_both_sides(
    gate: Gate, symbol: str, price: str, qty: str, expected: str
) -> None:
    for side in ("buy", "sell"):
        decision = gate.evaluate("pre_trade", context(symbol, side=side, price=price, qty=qty))

        assert decision.outcome is Outcome.MODIFY
        assert dict(decision.modifications) == {"qty": D(expected)}
        assert decision.actions == ("round",)
        assert [(h.code, h.action) for h in decision.hits] == [("instrument.qty_off_grid", "round")]


def test_qty_when_rounded_below_min_qty_then_rejected_with_nothing_modified(gate: Gate) -> None:
    # 0.0095 rounds down to 0.009, under TICK1's min_qty 0.01
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="2000.00", qty="0.0095"))

    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}
    assert "round" not in decision.actions
    assert "clip" not in decision.actions
    assert "instrument.qty_below_min" in codes(decision)


def test_qty_when_below_one_step_then_no_fix_exists_and_rejected(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context("TICK5/USDT", price="100.00", qty="0.5"))

    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}


def test_price_and_qty_when_both_off_grid_then_both_are_fixed_in_one_decision(
    gate: Gate,
) -> None:
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.017", qty="0.3005"))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"price": D("100.01"), "qty": D("0.300")}


# -- clips: max_qty and max_notional ------------------------------------------------------

CLIP_CASES = [
    # symbol, side, price, qty, clipped qty, code
    ("TICK1/USDT", "buy", "100.00", "60", "50", "instrument.qty_above_max"),
    ("TICK1/USDT", "sell", "100.00", "50.001", "50", "instrument.qty_above_max"),
    ("TICK5/USDT", "buy", "3.00", "6000", "5000", "instrument.qty_above_max"),
    ("SIG/USD", "buy", "12345", "1500", "1000", "instrument.qty_above_max"),
    # floor(100000 / 2500.00) = 40 ; floor(100000 / 3000.00, 0.001) = 33.333
    ("TICK1/USDT", "buy", "2500.00", "45", "40.000", "instrument.notional_above_max"),
    ("TICK1/USDT", "sell", "3000.00", "45", "33.333", "instrument.notional_above_max"),
    ("TICK1/USDT", "buy", "2500.01", "40", "39.999", "instrument.notional_above_max"),
    # floor(20000 / 100.05) = 199 on a step of 1
    ("TICK5/USDT", "buy", "100.05", "250", "199", "instrument.notional_above_max"),
    # floor(100000 / 0.00001001) = 9990009990
    (
        "MICRO/USDT",
        "buy",
        "0.00001001",
        "10000000000",
        "9990009990",
        "instrument.notional_above_max",
    ),
]


@pytest.mark.parametrize(
    "case", CLIP_CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}x{c[3]}" for c in CLIP_CASES]
)
def test_clip_when_over_max_qty_or_max_notional_then_qty_clipped_on_the_step(
    gate: Gate, case: tuple[str, str, str, str, str, str]
) -> None:
    symbol, side, price, qty, clipped, code = case
    decision = gate.evaluate("pre_trade", context(symbol, side=side, price=price, qty=qty))

    assert decision.outcome is Outcome.MODIFY, [h.message for h in decision.hits]
    assert dict(decision.modifications) == {"qty": D(clipped)}
    assert decision.actions == ("clip",)
    assert [(h.code, h.action) for h in decision.hits] == [(code, "clip")]


def test_clip_when_market_buy_is_over_max_notional_then_clipped_at_the_ask(gate: Gate) -> None:
    ctx = context("TICK1/USDT", kind="market", price=None, qty="45", bid="2000.00", ask="3000.00")

    decision = gate.evaluate("pre_trade", ctx)

    assert dict(decision.modifications) == {"qty": D("33.333")}


def test_clip_when_market_sell_is_over_max_notional_then_clipped_at_the_bid(gate: Gate) -> None:
    ctx = context(
        "TICK1/USDT", side="sell", kind="market", price=None, qty="45", bid="2500.00", ask="9000"
    )

    decision = gate.evaluate("pre_trade", ctx)

    assert dict(decision.modifications) == {"qty": D("40.000")}


def test_clip_when_over_both_max_qty_and_max_notional_then_the_smaller_qty_wins(
    gate: Gate,
) -> None:
    # max_qty 50; floor(100000 / 2500.00) = 40
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="2500.00", qty="60"))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"qty": D("40.000")}
    assert codes(decision) == {"instrument.qty_above_max", "instrument.notional_above_max"}


# -- the modified order passes when evaluated again ------------------------------------------

REEVALUATED = [
    *[
        context(s, side=side, price=p, qty=q)
        for s, p, q, _, _ in PRICE_CASES
        for side in ("buy", "sell")
    ],
    *[
        context(s, side=side, price=p, qty=q)
        for s, p, q, _ in QTY_CASES
        for side in ("buy", "sell")
    ],
    *[context(s, side=side, price=p, qty=q) for s, side, p, q, _, _ in CLIP_CASES],
    context("TICK1/USDT", price="100.017", qty="0.3005"),
    context("TICK1/USDT", side="sell", price="2500.017", qty="60"),
    context("TICK1/USDT", price="300.005", quote_qty="1000"),
    context("TICK1/USDT", price="100.00", quote_qty="10000"),
    context("TICK1/USDT", price="100.017", quote_qty="5001"),
    context("TICK1/USDT", price="2500.00", quote_qty="200000"),
    context("TICK1/USDT", side="sell", price="2500.017", quote_qty="200000"),
    context("TICK1/USDT", kind="market", price=None, quote_qty="200000", ask="3000.00"),
    context("TICK1/USDT", price=repr(100.0 + 0.1 + 0.3), qty=repr(0.1 + 0.2)),
    context("TICK1/USDT", kind="market", price=None, qty="45", bid="2000.00", ask="3000.00"),
    # A sell rounded up can go over max_notional: 39.999 x 2500.061 = 99999.94 fits
    # TICK1's 100000, but 39.999 x 2500.07 = 100000.29993 does not.
    context("TICK1/USDT", side="sell", price="2500.061", qty="39.999"),
    # Both fixes at once on a 0.05 tick: 250 x 83.33 is over TICK5's 20000, the clip at the
    # unrounded price gives floor(20000 / 83.33) = 240, but 240 x 83.35 = 20004.
    context("TICK5/USDT", side="sell", price="83.33", qty="250"),
]


@pytest.mark.parametrize(
    "ctx",
    REEVALUATED,
    ids=[
        f"{c['order']['symbol']}-{c['order']['side']}-"
        f"{c['order'].get('price')}x{c['order'].get('qty', c['order'].get('quote_qty'))}"
        for c in REEVALUATED
    ],
)
def test_modify_when_the_modified_order_is_evaluated_again_then_it_is_allowed(
    gate: Gate, ctx: dict[str, Any]
) -> None:
    decision = gate.evaluate("pre_trade", ctx)
    if decision.outcome is not Outcome.MODIFY:
        assert decision.outcome is Outcome.REJECT
        assert decision.modifications == {}
        return

    again = gate.evaluate("pre_trade", applied(ctx, decision))

    assert again.outcome is Outcome.ALLOW, (
        dict(decision.modifications),
        str(again.outcome),
        dict(again.modifications),
        [h.code for h in again.hits],
    )


def test_modify_when_quote_sized_order_has_off_grid_price_then_price_moves_and_qty_stands(
    gate: Gate,
) -> None:
    # 1000 / 300.005 = 3.33327..., floored to 3.333 on the step; at 300.00 it is 3.333 again
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="300.005", quote_qty="1000"))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"price": D("300.00")}


def test_modify_when_quote_sized_order_is_clipped_then_it_stays_quote_sized(gate: Gate) -> None:
    # 10000 / 100 = 100 over TICK1's max_qty 50: the clip is 50 at 100, sent as 5000 USDT
    ctx = context("TICK1/USDT", price="100.00", quote_qty="10000")

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"quote_qty": D("5000.00")}
    assert "qty" not in applied(ctx, decision)["order"]  # never both sizes


def test_modify_when_a_moved_price_would_buy_more_then_the_order_is_clipped_again(
    gate: Gate,
) -> None:
    # 5001 / 100.017 = 50.002 > 50 and the price moves down to 100.01, where the same USDT
    # buy more: the fixes settle on 50 at 100.01, which {**order, **modifications} converts
    # back to exactly (5000.5 / 100.01 = 50)
    ctx = context("TICK1/USDT", price="100.017", quote_qty="5001")

    decision = gate.evaluate("pre_trade", ctx)

    assert dict(decision.modifications) == {"price": D("100.01"), "quote_qty": D("5000.50")}
    again = gate.evaluate("pre_trade", applied(ctx, decision))
    assert again.outcome is Outcome.ALLOW
    assert again.modifications == {}


def test_modify_when_quote_sized_market_order_is_clipped_then_valued_at_the_ask(
    gate: Gate,
) -> None:
    # 200000 / 3000 = 66.666; max_notional 100000 at 3000 allows 33.333, max_qty 50
    ctx = context("TICK1/USDT", kind="market", price=None, quote_qty="200000", ask="3000.00")

    decision = gate.evaluate("pre_trade", ctx)

    assert dict(decision.modifications) == {"quote_qty": D("99999.00000")}


# -- float noise: the exact grid value passes -----------------------------------------------


def test_noise_when_price_and_qty_carry_float_noise_then_the_exact_grid_values_pass(
    gate: Gate,
) -> None:
    ctx = context("TICK1/USDT", price=repr(100.0 + 0.1 + 0.3), qty=repr(0.1 + 0.2))

    decision = gate.evaluate("pre_trade", ctx)

    assert ctx["order"]["price"] == "100.39999999999999"
    assert ctx["order"]["qty"] == "0.30000000000000004"
    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"price": D("100.4"), "qty": D("0.3")}
    assert [(h.code, h.action) for h in decision.hits] == [("instrument.float_noise", "round")]


def test_noise_when_conformance_rejects_off_grid_then_float_noise_is_still_fixed() -> None:
    gate = Gate.from_path(INSTRUMENTS, DATA / "limits-reject.yaml")

    noisy = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.39999999999999"))
    real = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.305"))

    assert noisy.outcome is Outcome.MODIFY
    assert dict(noisy.modifications) == {"price": D("100.4")}
    assert real.outcome is Outcome.REJECT
    assert codes(real) == {"instrument.price_off_grid"}


# -- modify only where configured ------------------------------------------------------------


def test_modify_when_only_price_is_set_to_modify_then_qty_off_grid_still_rejects(
    tmp_path: Path,
) -> None:
    text = (DATA / "limits-modify.yaml").read_text()
    path = tmp_path / "limits.yaml"
    path.write_text(text.replace("qty_off_grid: modify", "qty_off_grid: reject"))
    gate = Gate.from_path(INSTRUMENTS, path)

    price_only = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.017"))
    both = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.017", qty="0.3005"))

    assert price_only.outcome is Outcome.MODIFY
    assert both.outcome is Outcome.REJECT
    assert both.modifications == {}
    assert codes(both) == {"instrument.price_off_grid", "instrument.qty_off_grid"}


def test_modify_when_conformance_rejects_then_the_same_orders_are_refused() -> None:
    gate = Gate.from_path(INSTRUMENTS, DATA / "limits-reject.yaml")

    for ctx in (
        context("TICK1/USDT", price="100.017"),
        context("TICK1/USDT", price="100.00", qty="0.3005"),
        context("TICK1/USDT", price="100.00", qty="60"),
        context("TICK1/USDT", price="2500.00", qty="45"),
    ):
        decision = gate.evaluate("pre_trade", ctx)
        assert decision.outcome is Outcome.REJECT
        assert decision.modifications == {}
        assert all(h.action == "reject" for h in decision.hits)
