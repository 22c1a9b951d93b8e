"""Behaviours of the rewritten decision path that a mutation run found unpinned (issue 14, 21).

Each test fails on a mutant that survived the rest of the suite: how a decision's hits read
and print, the time a decision reports, warming, a reload that cannot be built, which problem
an invalid context names, division by zero in a rule, float noise on an exit, and an order
that cannot be valued under a venue's max_notional.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gatekit import make_gate, pre_trade
from test_modify import INSTRUMENTS, context
from test_modify import gate as modify_gate  # noqa: F401  # the fixture, by its name

from riskctl import Gate, Outcome, ruleset
from riskctl import gate as gate_module
from riskctl.bundle import load_bundle
from riskctl.decision import Decision
from riskctl.expr import MAX_STRING, check_expression
from riskctl.grid import grid_value
from riskctl.symbols import Type

DATA = INSTRUMENTS.parent


def division_gate(tmp_path: Path, expr: str) -> Gate:
    return make_gate(tmp_path, rules=[{"id": "ratio", "stage": "pre_trade", "when": expr}])


def test_when_a_decision_is_printed_then_its_hits_print_as_the_tuple_they_equal(
    tmp_path: Path,
) -> None:
    gate = division_gate(tmp_path, "order.qty > 0")
    decision = gate.evaluate("pre_trade", pre_trade())

    assert repr(decision.hits) == repr(tuple(decision.hits))
    assert "ratio" in repr(decision)


def test_when_a_decision_is_built_by_hand_then_it_reports_no_evaluation_time() -> None:
    decision = Decision("pre_trade", Outcome.ALLOW)

    assert decision.eval_us == 0
    assert decision.to_json()["eval_us"] == 0


def test_when_a_hit_reads_ints_and_booleans_then_the_json_keeps_them_numbers_and_booleans(
    tmp_path: Path,
) -> None:
    gate = division_gate(tmp_path, "market.age_ms >= 0 and state.kill_switch == False")

    hit = gate.evaluate("pre_trade", pre_trade()).to_json()["hits"][0]

    assert hit["values"]["market.age_ms"] == 0
    assert hit["values"]["state.kill_switch"] is False


@pytest.mark.parametrize("fires", [False, True])
def test_when_a_context_is_decided_then_eval_us_is_the_gates_clock_between_start_and_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fires: bool
) -> None:
    gate = division_gate(tmp_path, "order.qty > 0" if fires else "order.qty < 0")
    ticks = iter([5_000_000, 5_250_500])
    clock = SimpleNamespace(perf_counter_ns=lambda: next(ticks))
    monkeypatch.setattr(gate_module, "time", clock)

    decision = gate.evaluate("pre_trade", pre_trade())

    assert decision.outcome is (Outcome.REJECT if fires else Outcome.ALLOW)
    assert decision.eval_us == 250.5


def test_when_a_program_cannot_be_built_then_a_default_gate_fails_at_startup_not_per_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_gate(tmp_path, {"max_order_qty": 5})
    bundle = load_bundle(tmp_path)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("codegen broke")

    monkeypatch.setattr(ruleset, "plan", broken)

    with pytest.raises(RuntimeError, match="codegen broke"):
        Gate(bundle)
    lazy = Gate(bundle, warm=False)  # builds nothing yet: the first order finds the fault
    decision = lazy.evaluate("pre_trade", pre_trade())
    assert decision.outcome is Outcome.REJECT
    assert [h.code for h in decision.hits] == ["gate.error"]


def test_when_a_gate_is_not_warmed_then_it_decides_exactly_as_a_warmed_one(
    tmp_path: Path,
) -> None:
    make_gate(tmp_path, {"max_order_qty": 5})
    bundle = load_bundle(tmp_path)
    orders = [pre_trade(order={"qty": q}) for q in ("1", "5", "6")]

    warm = [Gate(bundle).evaluate("pre_trade", o).to_json() for o in orders]
    cold = [Gate(bundle, warm=False).evaluate("pre_trade", o).to_json() for o in orders]

    strip = [{k: v for k, v in d.items() if k != "eval_us"} for d in warm]
    assert strip == [{k: v for k, v in d.items() if k != "eval_us"} for d in cold]
    assert [d["outcome"] for d in warm] == ["allow", "allow", "reject"]


def test_when_a_reload_cannot_be_built_then_it_reports_reload_failed_and_keeps_the_old_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("compiler broke")

    monkeypatch.setattr(gate_module, "compile_bundle", broken)
    problems = gate.reload(tmp_path)

    assert [p.code for p in problems] == ["reload.failed"]
    assert "compiler broke" in problems[0].message
    assert gate.evaluate("pre_trade", pre_trade(order={"qty": "6"})).outcome is Outcome.REJECT


def test_when_a_context_has_several_problems_then_the_message_names_the_first_located_one(
    tmp_path: Path,
) -> None:
    gate = division_gate(tmp_path, "order.qty < 0")
    bad = pre_trade(order={"qty": "-1"}, account={"equity": "lots"})

    decision = gate.evaluate("pre_trade", bad)

    hit = decision.hits[0]
    assert hit.code == "context.invalid"
    assert len(hit.values) >= 2
    first = next(iter(hit.values.values()))
    last = list(hit.values.values())[-1]
    assert first in hit.message
    assert last not in hit.message


@pytest.mark.parametrize(
    "expr",
    [
        "order.qty / (order.qty - order.qty) > 1",  # decimals
        "(market.age_ms + 1) / (market.age_ms - market.age_ms) > 1",  # whole numbers
        "(market.age_ms + 1) % (market.age_ms - market.age_ms) > 1",
        "(market.age_ms + 1) // (market.age_ms - market.age_ms) > 1",
        "(market.age_ms - market.age_ms) / (market.age_ms - market.age_ms) > 1",  # 0/0
        "order.qty * 0 / (order.qty * 0) > 1",  # Decimal 0/0: InvalidOperation
    ],
)
def test_when_a_rule_divides_by_zero_then_the_hit_says_division_by_zero(
    tmp_path: Path, expr: str
) -> None:
    gate = division_gate(tmp_path, expr)

    decision = gate.evaluate("pre_trade", pre_trade())

    assert decision.outcome is Outcome.REJECT
    assert "(division by zero)" in decision.hits[0].message


def test_when_a_string_literal_is_at_the_length_cap_then_it_checks_and_one_more_is_refused() -> (
    None
):
    at_cap = "order.strategy == '" + "m" * MAX_STRING + "'"
    over = "order.strategy == '" + "m" * (MAX_STRING + 1) + "'"

    assert check_expression(at_cap, "pre_trade", expect=Type.BOOL)[1] is None
    checked, problem = check_expression(over, "pre_trade", expect=Type.BOOL)
    assert checked is None
    assert problem is not None


def test_when_float_noise_is_on_a_tick_and_digit_grid_then_the_coarser_grid_decides() -> None:
    # On a 1e-11 tick alone a float cannot tell grid points apart (no allowance), but six
    # significant digits make the points 0.01 apart: the noise is noise of 60000.3.
    value = Decimal(repr(60000.0 + 0.1 + 0.2))

    assert grid_value(value, increment=Decimal("1e-11"), significant=None) is None
    assert grid_value(value, increment=Decimal("1e-11"), significant=6) == Decimal("60000.3")


def test_when_an_exit_carries_float_noise_then_it_is_modified_to_the_exact_grid_price(
    modify_gate: Gate,  # noqa: F811
) -> None:
    ctx = context(
        "TICK1/USDT", side="sell", price=repr(100.0 + 0.1 + 0.3), position="1", reduce_only=True
    )

    decision = modify_gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"price": Decimal("100.4")}


def test_when_a_market_order_cannot_be_valued_under_a_max_notional_then_that_rule_rejects(
    modify_gate: Gate,  # noqa: F811
) -> None:
    ctx = context("TICK1/USDT", kind="market", qty="1")
    ctx["market"] = {"age_ms": 0}

    decision = modify_gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert "gate.error" not in {h.code for h in decision.hits}
    assert "instrument.notional_above_max" in {h.code for h in decision.hits}


def test_when_a_field_is_compared_with_a_literal_of_its_choices_then_only_fields_refuse() -> None:
    # The choices that refuse a literal are a field's (order.side: buy, sell); a literal
    # compared with another literal has no field to be outside of.
    side = check_expression("order.side == 'bye'", "pre_trade", expect=Type.BOOL)[1]
    literals = check_expression("order.qty > 0 or 'a' == 'b'", "pre_trade", expect=Type.BOOL)[1]

    assert side is not None
    assert side.code == "expr.invalid-choice"
    assert literals is None
