"""The engine's decimal precision is part of its contract: a dividing rule's threshold
decision depends on it, so it is pinned here (issue 14, item 21: changing 50 to 49 or 51
went unnoticed)."""

from __future__ import annotations

from pathlib import Path

from gatekit import make_gate, pre_trade

from riskctl.money import ENGINE_DECIMAL

THIRD_50 = "0." + "3" * 50  # 1/3 rounded to 50 significant digits


def test_the_engine_computes_with_50_significant_digits_and_half_even_rounding() -> None:
    assert ENGINE_DECIMAL.prec == 50
    assert ENGINE_DECIMAL.rounding == "ROUND_HALF_EVEN"


def test_when_a_rule_divides_then_its_threshold_is_decided_at_50_digits(tmp_path: Path) -> None:
    rules = [
        # 1/3 at 50 digits equals THIRD_50: at 49 digits it is smaller, at 51 larger.
        {"id": "at_least_third", "stage": "pre_trade", "when": f"order.qty / 3 >= {THIRD_50}"},
        {"id": "over_third", "stage": "pre_trade", "when": f"order.qty / 3 > {THIRD_50}"},
    ]
    gate = make_gate(tmp_path, rules=rules)
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "1"}))
    assert {hit.rule_id for hit in decision.hits} == {"at_least_third"}
