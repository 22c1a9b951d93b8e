"""The engine computes under its own decimal context, whatever the caller's thread holds
(issue 14, item 3): building a gate, warming, reloading, evaluating and ``to_json``."""

from __future__ import annotations

import decimal
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl import Gate
from riskctl.decision import Decision, Outcome, RuleHit

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "conformance"
BUNDLE = (DATA / "instruments.yaml", DATA / "limits-balance.yaml")
SIGNALS = [
    decimal.Clamped,
    decimal.DivisionByZero,
    decimal.Inexact,
    decimal.InvalidOperation,
    decimal.Overflow,
    decimal.Rounded,
    decimal.Subnormal,
    decimal.Underflow,
    decimal.FloatOperation,
]
ROUNDINGS = [
    decimal.ROUND_UP,
    decimal.ROUND_DOWN,
    decimal.ROUND_CEILING,
    decimal.ROUND_FLOOR,
    decimal.ROUND_HALF_UP,
    decimal.ROUND_HALF_DOWN,
    decimal.ROUND_HALF_EVEN,
    decimal.ROUND_05UP,
]


def buy(quote_free: str, qty: str = "1.000", price: str = "1000.00") -> dict[str, Any]:
    return {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "TICK1/USDT",
            "side": "buy",
            "type": "limit",
            "qty": qty,
            "price": price,
            "client_order_id": "cid-1",
            "strategy": "mm",
        },
        "market": {"bid": "999.00", "ask": "1001.00", "age_ms": 0},
        "position": {"qty": "0"},
        "account": {
            "equity": "1000000",
            "available_balance": "1000000",
            "balance_age_ms": 0,
            "quote_free": quote_free,
        },
    }


def _json(decision: Decision) -> dict[str, Any]:
    data = decision.to_json()
    data.pop("eval_us")
    return data


def test_when_the_caller_holds_precision_3_then_a_buy_short_of_its_fee_reserve_is_rejected() -> (
    None
):
    with decimal.localcontext(decimal.Context(prec=3)):
        gate = Gate.from_path(*BUNDLE)  # the fee factor 1.001 needs four digits
        decision = gate.evaluate("pre_trade", buy("1000"))
    assert decision.outcome is Outcome.REJECT
    assert {h.code for h in decision.hits} == {"balance.insufficient_quote"}


def test_when_the_caller_traps_inexact_then_building_and_reloading_a_gate_do_not_raise() -> None:
    traps = decimal.Context(prec=28, traps=[decimal.Inexact, decimal.Rounded])
    with decimal.localcontext(traps):
        gate = Gate.from_path(*BUNDLE)
        assert gate.reload(*BUNDLE) == ()
        assert gate.evaluate("pre_trade", buy("1001")).outcome is Outcome.ALLOW


def test_when_a_value_has_17_integer_digits_and_13_decimals_then_to_json_renders_it() -> None:
    value = Decimal("12345678901234567.1234567890123")
    hit = RuleHit("r", "p", "c", "error", "reject", "m", {"x": value})
    decision = Decision("pre_trade", Outcome.REJECT, ("reject",), (hit,))
    with decimal.localcontext(decimal.Context(prec=28)):
        shown = decision.to_json()["hits"][0]["values"]["x"]
    assert shown == "12345678901234567.123456789012"


_REFERENCE = Gate.from_path(*BUNDLE)
_QUOTES = ["1000", "1001", "1000.99999999", "2000", "0"]


@settings(max_examples=40, deadline=None)
@given(
    prec=st.integers(min_value=1, max_value=80),
    rounding=st.sampled_from(ROUNDINGS),
    traps=st.lists(st.sampled_from(SIGNALS), unique=True),
    quote=st.sampled_from(_QUOTES),
    qty=st.sampled_from(["1.000", "0.001", "3.141", "999.999"]),
)
def test_under_any_caller_context_the_gate_decides_as_under_the_default(
    prec: int, rounding: str, traps: list[type[decimal.DecimalException]], quote: str, qty: str
) -> None:
    expected = _json(_REFERENCE.evaluate("pre_trade", buy(quote, qty)))
    hostile = decimal.Context(prec=prec, rounding=rounding, traps=traps)
    with decimal.localcontext(hostile):
        gate = Gate.from_path(*BUNDLE)
        got = _json(gate.evaluate("pre_trade", buy(quote, qty)))
        again = _json(_REFERENCE.evaluate("pre_trade", buy(quote, qty)))
    assert got == expected
    assert again == expected
