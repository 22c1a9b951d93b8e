"""A context number may carry only the digits the engine computes exactly (issue 14, item 4):
a 50-digit position such as 20.000...0001 plus a 5 BTC buy once passed max_position_qty 25."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from gatekit import make_gate, pre_trade
from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl import Gate, Outcome
from riskctl.context.base import MAX_PLACES


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    return make_gate(tmp_path_factory.mktemp("digits"), {"max_position_qty": 25})


def _position(qty: str) -> dict[str, object]:
    return pre_trade(order={"qty": "5"}, position={"qty": qty})


def test_when_a_position_carries_more_places_than_the_engine_computes_then_it_is_refused(
    gate: Gate,
) -> None:
    decision = gate.evaluate("pre_trade", _position("20." + "0" * 47 + "1"))
    assert decision.outcome is Outcome.REJECT
    (hit,) = decision.hits
    assert hit.code == "context.invalid"
    assert "position.qty" in hit.message
    assert f"at most {MAX_PLACES} decimal places" in hit.message


def test_when_a_position_has_exactly_the_most_places_then_a_sum_over_the_limit_fails(
    gate: Gate,
) -> None:
    at_bound = "20." + "0" * (MAX_PLACES - 1) + "1"
    decision = gate.evaluate("pre_trade", _position(at_bound))
    assert [h.rule_id for h in decision.hits] == ["max_position_qty"]


def test_when_a_position_has_one_place_more_than_the_bound_then_it_is_refused(
    gate: Gate,
) -> None:
    over = "20." + "0" * MAX_PLACES + "1"
    decision = gate.evaluate("pre_trade", _position(over))
    assert [h.code for h in decision.hits] == ["context.invalid"]


def test_when_a_bot_sends_float_noise_then_its_digits_are_accepted(gate: Gate) -> None:
    noisy = pre_trade(order={"qty": 3e-7 * 3, "price": 60000.0 + 0.1 + 0.2})
    decision = gate.evaluate("pre_trade", noisy)
    assert "context.invalid" not in {h.code for h in decision.hits}, decision.to_json()


@settings(max_examples=200, deadline=None)
@given(
    places=st.integers(min_value=1, max_value=MAX_PLACES),
    buy=st.integers(min_value=1, max_value=5),
)
def test_a_position_plus_a_buy_over_the_limit_always_fails(
    tmp_path_factory: pytest.TempPathFactory, places: int, buy: int
) -> None:
    gate = _GATE.get("g") or _GATE.setdefault(
        "g", make_gate(tmp_path_factory.mktemp("prop"), {"max_position_qty": 25})
    )
    # just over the limit by one unit in the last place, written as text (no rounding)
    qty = f"{25 - buy}." + "0" * (places - 1) + "1"
    ctx = pre_trade(order={"qty": str(buy)}, position={"qty": qty})
    decision = gate.evaluate("pre_trade", ctx)
    assert "max_position_qty" in {h.rule_id for h in decision.hits}


_GATE: dict[str, Gate] = {}


def test_the_bound_is_exact_for_every_sum_at_the_extremes(tmp_path: Path) -> None:
    # 16 whole digits + 32 places = 48 digits; a sum of two has at most 49, under 50.
    biggest = Decimal("999999999999999." + "9" * MAX_PLACES)
    assert len(biggest.as_tuple().digits) + 1 <= 50
