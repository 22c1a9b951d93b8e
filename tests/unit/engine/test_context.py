"""Stage contexts: derived fields exact and read-only; bad numbers refused."""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import pytest
from pydantic import ValidationError

from riskctl.context import (
    CONTEXTS,
    STAGES,
    FillContext,
    IngestContext,
    PreTradeContext,
    SignalContext,
)
from riskctl.money import ENGINE_DECIMAL


def pre_trade_data(**parts: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy",
            "qty": "2",
            "price": "100",
            "client_order_id": "c-1",
            "strategy": "mm",
        },
        "market": {"bid": "99", "ask": "101", "age_ms": 0},
        "position": {"qty": "0"},
        "account": {"equity": "1000", "available_balance": "1000", "balance_age_ms": 0},
    }
    for part, values in parts.items():
        data[part].update(values)
    return data


def pre_trade(**parts: dict[str, Any]) -> PreTradeContext:
    return PreTradeContext.model_validate(pre_trade_data(**parts))


def error_types(exc: ValidationError) -> set[str]:
    return {e["type"] for e in exc.errors()}


# -- order valuation -----------------------------------------------------------------------


def test_when_limit_order_then_valued_at_its_price() -> None:
    ctx = pre_trade(order={"qty": "0.3", "price": "0.1"}, market={"bid": "0.09", "ask": "0.11"})
    assert ctx.order.valuation_price == Decimal("0.1")
    assert ctx.order.notional == Decimal(
        "0.03"
    )  # exact; 0.3 * 0.1 is 0.030000000000000002 in floats


@pytest.mark.parametrize(("side", "expected"), [("buy", Decimal("101")), ("sell", Decimal("99"))])
def test_when_market_order_then_valued_at_the_far_side(side: str, expected: Decimal) -> None:
    ctx = pre_trade(order={"type": "market", "price": None, "side": side, "qty": "3"})
    assert ctx.order.valuation_price == expected
    assert ctx.order.notional == 3 * expected


@pytest.mark.parametrize(
    ("side", "market"),
    [("buy", {"ask": None}), ("sell", {"bid": None}), ("buy", {"ask": None, "bid": None})],
)
def test_when_market_order_has_no_quote_on_its_side_then_notional_is_none(side, market) -> None:
    ctx = pre_trade(order={"type": "market", "price": None, "side": side}, market=market)
    assert ctx.order.valuation_price is None
    assert ctx.order.notional is None


def test_when_market_order_has_quote_on_its_side_only_then_it_is_valued() -> None:
    ctx = pre_trade(order={"type": "market", "price": None, "side": "sell"}, market={"ask": None})
    assert ctx.order.valuation_price == Decimal("99")
    assert ctx.market.mid is None
    assert ctx.market.spread_bps is None


def test_when_limit_order_has_no_price_then_notional_is_none() -> None:
    ctx = pre_trade(order={"price": None})
    assert ctx.order.valuation_price is None
    assert ctx.order.notional is None


# -- market --------------------------------------------------------------------------------


def test_when_both_sides_quoted_then_mid_and_spread_bps_are_exact() -> None:
    ctx = pre_trade(market={"bid": "99.95", "ask": "100.05"})
    assert ctx.market.mid == Decimal("100")
    assert ctx.market.spread_bps == Decimal("10")
    ctx = pre_trade(market={"bid": "64999.5", "ask": "65000.5"})
    assert ctx.market.mid == Decimal("65000")
    # derived under the engine's 50-digit decimal context, whatever the caller's is
    with localcontext(ENGINE_DECIMAL):
        assert ctx.market.spread_bps == Decimal(1) / Decimal(65000) * 10000


@pytest.mark.parametrize("market", [{"bid": None}, {"ask": None}, {"bid": None, "ask": None}])
def test_when_a_side_is_missing_then_mid_and_spread_are_none(market) -> None:
    ctx = pre_trade(market=market)
    assert ctx.market.mid is None
    assert ctx.market.spread_bps is None


# -- position and exits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "side", "qty", "reduce_only", "expected"),
    [
        ("0", "buy", "2", False, (False, False, "2")),
        ("0", "sell", "2", True, (False, False, "-2")),
        ("10", "sell", "4", False, (True, False, "6")),
        ("10", "sell", "4", True, (True, True, "6")),
        ("10", "sell", "10", True, (True, True, "0")),  # a full flatten still reduces
        ("10", "sell", "10.00000001", True, (False, False, "-0.00000001")),  # flips: not an exit
        ("10", "buy", "4", True, (False, False, "14")),  # same side: never reduces
        ("-10", "buy", "4", True, (True, True, "-6")),
        ("-10", "sell", "4", True, (False, False, "-14")),
        ("-0.5", "buy", "0.5", True, (True, True, "0")),
    ],
)
def test_when_order_meets_position_then_reduces_is_exit_and_qty_after_follow(
    position, side, qty, reduce_only, expected
) -> None:
    reduces, is_exit, after = expected
    ctx = pre_trade(
        order={"side": side, "qty": qty, "reduce_only": reduce_only}, position={"qty": position}
    )
    assert ctx.order.reduces_position is reduces
    assert ctx.order.is_exit is is_exit
    assert ctx.position.qty_after == Decimal(after)
    assert ctx.order.signed_qty == (Decimal(qty) if side == "buy" else -Decimal(qty))


def test_when_position_has_a_mark_then_notional_uses_mid_else_avg_price() -> None:
    ctx = pre_trade(position={"qty": "-3", "avg_price": "90"})
    assert ctx.position.notional == Decimal("300")  # |qty| x mid
    ctx = pre_trade(position={"qty": "-3", "avg_price": "90"}, market={"bid": None})
    assert ctx.position.notional == Decimal("270")  # no mid: avg_price
    ctx = pre_trade(position={"qty": "-3"}, market={"bid": None})
    assert ctx.position.notional is None


# -- other stages' derived fields -------------------------------------------------------------


def test_when_event_arrives_then_age_gap_and_crossed_are_derived() -> None:
    base = {
        "now_ms": 5_000,
        "event": {"type": "book", "venue": "okx", "symbol": "BTC/USDT", "ts_ms": 4_000},
    }
    ctx = IngestContext.model_validate(base)
    assert (ctx.event.age_ms, ctx.event.seq_gap, ctx.event.crossed) == (1000, None, None)
    ctx = IngestContext.model_validate(
        {
            **base,
            "event": {**base["event"], "seq": 15, "bid": "10", "ask": "10"},
            "feed": {"last_seq": 11},
        }
    )
    assert ctx.event.seq_gap == 3
    assert ctx.event.crossed is True
    ctx = IngestContext.model_validate(
        {**base, "now_ms": 3_000, "event": {**base["event"], "seq": 12}, "feed": {"last_seq": 11}}
    )
    assert ctx.event.seq_gap == 0
    assert ctx.event.age_ms == -1000  # venue clock ahead


def test_when_strategy_has_a_budget_then_used_pct_is_derived() -> None:
    signal = {"strategy": "mm", "venue": "okx", "symbol": "BTC/USDT", "side": "buy", "qty": "1"}
    ctx = SignalContext.model_validate(
        {"now_ms": 1, "signal": signal, "strategy": {"loss_budget": "400", "pnl_today": "-100"}}
    )
    assert ctx.strategy.loss_budget_used_pct == Decimal("25")
    ctx = SignalContext.model_validate(
        {"now_ms": 1, "signal": signal, "strategy": {"loss_budget": "400", "pnl_today": "50"}}
    )
    assert ctx.strategy.loss_budget_used_pct == 0
    ctx = SignalContext.model_validate({"now_ms": 1, "signal": signal})
    assert ctx.strategy.loss_budget_used_pct is None


@pytest.mark.parametrize(("side", "price", "bps"), [("buy", "101", "100"), ("sell", "101", "-100")])
def test_when_fill_has_expected_price_then_slippage_is_adverse_positive(side, price, bps) -> None:
    fill = {
        "venue": "okx",
        "symbol": "BTC/USDT",
        "client_order_id": "c",
        "trade_id": "t",
        "side": side,
        "qty": "1",
        "price": price,
        "ts_ms": 1,
    }
    ctx = FillContext.model_validate(
        {
            "now_ms": 1,
            "fill": fill,
            "order": {"expected_price": "100"},
            "books": {"position_qty": "1"},
        }
    )
    assert ctx.fill.slippage_bps == Decimal(bps)


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "field", "value"),
    [
        ("order", "notional", "1"),
        ("order", "valuation_price", "1"),
        ("order", "signed_qty", "1"),
        ("order", "reduces_position", True),
        ("order", "is_exit", True),
        ("market", "mid", "100"),
        ("market", "spread_bps", "1"),
        ("position", "qty_after", "1"),
        ("position", "notional", "1"),
    ],
)
def test_when_derived_field_is_given_then_context_is_refused(part, field, value) -> None:
    with pytest.raises(ValidationError) as caught:
        pre_trade(**{part: {field: value}})
    assert field in str(caught.value)
    assert "derived" in str(caught.value)


def test_when_derived_event_field_is_given_then_ingest_context_is_refused() -> None:
    event = {"type": "book", "venue": "okx", "symbol": "BTC/USDT", "ts_ms": 1, "crossed": False}
    with pytest.raises(ValidationError, match="crossed"):
        IngestContext.model_validate({"now_ms": 1, "event": event})


@pytest.mark.parametrize(
    "bad",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "Infinity",
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-Infinity"),
    ],
)
@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("order", "qty"),
        ("order", "price"),
        ("market", "bid"),
        ("position", "qty"),
        ("account", "equity"),
        ("account", "daily_pnl"),
    ],
)
def test_when_number_is_not_finite_then_context_is_refused(part, field, bad) -> None:
    with pytest.raises(ValidationError) as caught:
        pre_trade(**{part: {field: bad}})
    assert error_types(caught.value) & {"finite_number", "greater_than"}


@pytest.mark.parametrize("qty", ["-1", "0", "-0.00000001", -5, 0])
def test_when_qty_is_not_positive_then_context_is_refused(qty) -> None:
    with pytest.raises(ValidationError) as caught:
        pre_trade(order={"qty": qty})
    assert "greater_than_equal" in error_types(caught.value)  # qty >= 1e-18


@pytest.mark.parametrize(
    ("part", "values"),
    [
        ("order", {"price": "-1"}),
        ("market", {"bid": "0"}),
        ("market", {"age_ms": -(10**16) - 1}),  # negative ages are skew, within bounds
        ("market", {"age_ms": "-5"}),
        ("account", {"drawdown": "-1"}),
        ("account", {"gross_exposure": "-0.01"}),
        ("account", {"open_orders": -1}),
        ("order", {"side": "hold"}),
        ("order", {"colour": "red"}),
        ("state", {"trading_state": "PAUSED"}),
    ],
)
def test_when_value_is_out_of_range_or_unknown_then_context_is_refused(part, values) -> None:
    data = pre_trade_data()
    data.setdefault(part, {}).update(values)
    with pytest.raises(ValidationError):
        PreTradeContext.model_validate(data)


def test_when_numbers_arrive_as_strings_or_ints_then_they_are_exact_decimals() -> None:
    ctx = pre_trade(order={"qty": "0.1", "price": 3}, account={"equity": "1e3"})
    assert isinstance(ctx.order.qty, Decimal)
    assert ctx.order.qty == Decimal("0.1")
    assert ctx.order.notional == Decimal("0.3")
    assert ctx.account.equity == 1000


def test_when_context_is_validated_then_it_is_frozen() -> None:
    ctx = pre_trade()
    with pytest.raises(ValidationError):
        ctx.order.qty = Decimal("5")  # type: ignore[misc]


def test_every_stage_has_a_context_model() -> None:
    assert list(CONTEXTS) == list(STAGES)
    assert [model.STAGE for model in CONTEXTS.values()] == list(STAGES)
