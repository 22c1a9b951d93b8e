"""A fixed order is re-evaluated on new order and position groups; the caller's stay untouched."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from test_reload_safety import FAT_FINGER

from riskctl import Gate, Outcome

REPO = Path(__file__).resolve().parents[3]

OFF_STEP_BUY = {
    "now_ms": 1763600000000,
    "order": {
        "venue": "binance",
        "symbol": "BTC/USDT",
        "side": "buy",
        "qty": "0.123456",  # binance's step is 0.00001: rounded down to 0.12345
        "price": "64999.99",
        "client_order_id": "mm-btc-000201",
        "strategy": "mm-btc",
    },
    "market": {"bid": "64990", "ask": "65010", "age_ms": 40},
    "position": {"qty": "1"},
    "account": FAT_FINGER["account"],
}


def test_when_a_prebuilt_order_is_fixed_then_its_context_keeps_every_derived_value() -> None:
    gate = Gate.from_path(REPO / "policies")
    ctx = gate.context("pre_trade", OFF_STEP_BUY)
    before = (ctx.order.qty, ctx.order.notional, ctx.position.qty_after, ctx.position.notional)

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.MODIFY
    assert decision.modifications == {"qty": Decimal("0.12345")}
    after = (ctx.order.qty, ctx.order.notional, ctx.position.qty_after, ctx.position.notional)
    assert after == before
    assert ctx.position.qty_after == Decimal("1.123456")
    # the same context decides the same again: nothing of the fix leaked into it
    assert gate.evaluate("pre_trade", ctx).modifications == decision.modifications
