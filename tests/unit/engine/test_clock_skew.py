"""Clock skew: a quote's age may be slightly negative (the venue's clock ahead of ours).

Real Binance perp quotes arrived 4-19 ms ahead. Within max_clock_skew_ms (default 50) such
a quote is fresh; further ahead, the order is rejected as market.clock_skew (exits pass, as
on stale data). A negative age is a valid context, never context.invalid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gatekit import make_gate, pre_trade

from riskctl.builtins import DEFAULT_CLOCK_SKEW_MS
from riskctl.context import IngestContext, PreTradeContext
from riskctl.decision import Outcome

CODE = "market.clock_skew"


@pytest.mark.parametrize("age", [-4, -19, -DEFAULT_CLOCK_SKEW_MS, 0])
def test_clock_skew_when_a_quote_is_a_few_ms_ahead_then_it_is_fresh_and_allowed(
    tmp_path: Path, age: int
) -> None:
    gate = make_gate(tmp_path, {"stale_market_data_ms": 1000})

    decision = gate.evaluate("pre_trade", pre_trade(market={"age_ms": age}))

    assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


def test_clock_skew_when_beyond_the_default_bound_then_rejected_with_its_own_code(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path)

    decision = gate.evaluate("pre_trade", pre_trade(market={"age_ms": -DEFAULT_CLOCK_SKEW_MS - 1}))

    assert decision.outcome is Outcome.REJECT
    (hit,) = decision.hits
    assert hit.code == CODE
    assert hit.values["limit"] == DEFAULT_CLOCK_SKEW_MS
    assert hit.values["market.age_ms"] == -51


def test_clock_skew_when_the_policy_sets_the_bound_then_it_applies_at_its_scope(
    tmp_path: Path,
) -> None:
    gate = make_gate(
        tmp_path, {"max_clock_skew_ms": 0}, scoped=(({"venue": "okx"}, {"max_clock_skew_ms": 200}),)
    )

    binance = gate.evaluate("pre_trade", pre_trade(market={"age_ms": -1}))
    okx = gate.evaluate("pre_trade", pre_trade(order={"venue": "okx"}, market={"age_ms": -200}))

    assert [h.code for h in binance.hits] == [CODE]
    assert binance.hits[0].values["scope"] == "*:*"
    assert okx.outcome is Outcome.ALLOW


def test_clock_skew_when_the_order_is_an_exit_then_it_passes_as_on_stale_data(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path)
    ctx = pre_trade(
        order={"side": "sell", "reduce_only": True}, position={"qty": "5"}, market={"age_ms": -500}
    )

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


def test_clock_skew_when_a_negative_age_is_validated_then_the_context_is_valid() -> None:
    ctx = PreTradeContext.model_validate(
        {
            "now_ms": 1_700_000_000_000,
            "order": {
                "venue": "binance",
                "symbol": "BTC/USDT",
                "side": "buy",
                "qty": "1",
                "price": "100",
                "client_order_id": "c",
                "strategy": "s",
            },
            "market": {"bid": "99", "ask": "101", "age_ms": -19},
            "account": {"equity": "1", "available_balance": "1", "balance_age_ms": 0},
        }
    )

    assert ctx.market.age_ms == -19


def test_clock_skew_when_an_ingest_event_is_from_the_future_then_its_age_is_negative() -> None:
    ctx = IngestContext.model_validate(
        {
            "now_ms": 1_700_000_000_000,
            "event": {
                "type": "book",
                "venue": "binance",
                "symbol": "BTC/USDT",
                "ts_ms": 1_700_000_000_019,
            },
        }
    )

    assert ctx.event.age_ms == -19
