"""Stop orders: stop_market and stop_limit with a trigger_price.

The trigger is refused when missing on a stop, given on another type, zero or negative
(each located at order.trigger_price); with conformance it must be on the tick grid (float
noise of a grid point passes as that point); the price collar applies to it. A stop-market
order is valued at its trigger, a stop-limit order at its limit price; the venue must list
the stop type among the instrument's order types.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from riskctl.context import PreTradeContext
from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "conformance"
D = Decimal
STOPS_TOO = ["limit", "market", "stop_market", "stop_limit"]


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate.from_path(DATA / "instruments.yaml", DATA / "limits-reject.yaml")


def stop(
    kind: str = "stop_market",
    *,
    trigger: str | None = "95.00",
    price: str | None = None,
    order_types: list[str] | None = None,
    **order: Any,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "venue": "binance",
        "symbol": "TICK1/USDT",
        "side": "sell",
        "type": kind,
        "qty": "1",
        "client_order_id": "cid-1",
        "strategy": "mm",
        **order,
    }
    if trigger is not None:
        fields["trigger_price"] = trigger
    if price is not None:
        fields["price"] = price
    return {
        "now_ms": 1_700_000_000_000,
        "order": fields,
        "market": {"bid": "99.99", "ask": "100.01", "age_ms": 0},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
        "instrument": {
            "venue": "binance",
            "symbol": "TICK1/USDT",
            "price_increment": "0.01",
            "qty_increment": "0.001",
            "order_types": order_types or STOPS_TOO,
        },
    }


def codes(decision: Decision) -> set[str]:
    return {hit.code for hit in decision.hits}


def refused_at(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        PreTradeContext.model_validate(data)
    return [error["loc"] for error in caught.value.errors()]


def test_stop_market_when_trigger_is_on_the_grid_then_allowed_and_valued_at_the_trigger(
    gate: Gate,
) -> None:
    ctx = stop(qty="2")

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW
    order = PreTradeContext.model_validate(ctx).order
    assert order.valuation_price == D("95.00")
    assert order.notional == D("190.00")


def test_stop_limit_when_valued_then_the_limit_price_counts_not_the_trigger(gate: Gate) -> None:
    ctx = stop("stop_limit", trigger="95.00", price="94.50")

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW
    assert PreTradeContext.model_validate(ctx).order.notional == D("94.50")


def test_stop_market_when_quote_sized_then_converted_at_the_trigger() -> None:
    ctx = stop(qty=None, quote_qty="1000", trigger="80.00")
    del ctx["order"]["qty"]

    assert PreTradeContext.model_validate(ctx).order.qty == D("12.5")


@pytest.mark.parametrize("kind", ["stop_market", "stop_limit"])
def test_stop_when_trigger_is_missing_then_the_context_is_refused_at_the_trigger(
    kind: str,
) -> None:
    ctx = stop(kind, trigger=None, price="94.50" if kind == "stop_limit" else None)

    assert refused_at(ctx) == [("order", "trigger_price")]


@pytest.mark.parametrize("kind", ["limit", "market"])
def test_trigger_when_given_on_a_non_stop_type_then_the_context_is_refused_at_it(
    kind: str,
) -> None:
    ctx = stop(kind, price="100.00" if kind == "limit" else None)

    assert refused_at(ctx) == [("order", "trigger_price")]


@pytest.mark.parametrize("trigger", ["0", "-95", "-0.01", "NaN", "Infinity"])
def test_trigger_when_zero_negative_or_not_finite_then_refused_at_the_trigger(
    trigger: str,
) -> None:
    assert refused_at(stop(trigger=trigger)) == [("order", "trigger_price")]


def test_trigger_when_off_the_tick_grid_then_rejected_by_conformance(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", stop(trigger="95.005"))

    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == {"instrument.trigger_off_grid"}
    (hit,) = decision.hits
    assert hit.values["order.trigger_on_grid"] is False


def test_trigger_when_float_noise_of_a_grid_point_then_it_passes_as_that_point(
    gate: Gate,
) -> None:
    noisy = repr(94.0 + 0.1 + 0.3)  # 94.39999999999999
    decision = gate.evaluate("pre_trade", stop(trigger=noisy))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"trigger_price": D("94.4")}
    assert decision.actions == ("round",)


def test_stop_limit_when_the_limit_price_is_off_grid_then_rejected_like_a_limit(
    gate: Gate,
) -> None:
    decision = gate.evaluate("pre_trade", stop("stop_limit", price="94.505"))

    assert codes(decision) == {"instrument.price_off_grid"}


@pytest.mark.parametrize(("kind", "price"), [("stop_market", "94.50"), ("stop_limit", None)])
def test_stop_when_price_does_not_match_its_type_then_order_type_price_rejects(
    gate: Gate, kind: str, price: str | None
) -> None:
    decision = gate.evaluate("pre_trade", stop(kind, price=price))

    assert decision.outcome is Outcome.REJECT
    assert "state.order_type_price" in codes(decision)


def test_stop_when_the_venue_does_not_list_the_stop_type_then_unsupported(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", stop(order_types=["limit", "market"]))

    assert codes(decision) == {"instrument.order_type_unsupported"}


def test_stop_when_the_trigger_is_outside_the_collar_then_the_collar_rejects(
    tmp_path: Path,
) -> None:
    limits = (DATA / "limits-reject.yaml").read_text()
    path = tmp_path / "limits.yaml"
    path.write_text(
        limits.replace(
            "    max_orders_per_second: 5",
            "    price_collar_bps: 600\n    max_orders_per_second: 5",
        )
    )
    gate = Gate.from_path(DATA / "instruments.yaml", path)

    inside = gate.evaluate("pre_trade", stop(trigger="94.00"))  # 600 bps below 100: the edge
    outside = gate.evaluate("pre_trade", stop(trigger="93.99"))
    limit_inside = gate.evaluate("pre_trade", stop("stop_limit", trigger="93.99", price="99.00"))

    assert inside.outcome is Outcome.ALLOW
    assert codes(outside) == {"limit.price_collar_bps"}
    assert codes(limit_inside) == {"limit.price_collar_bps"}  # the trigger, not the limit
