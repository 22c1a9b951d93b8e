"""Circuit breakers under the StatefulGate: trips restrict later orders, cooldowns and
operator resets lift them, half-open lets probes out, and nothing storms."""

from __future__ import annotations

from pathlib import Path

from gatekit import make_gate, pre_trade

from riskctl import Gate, Outcome
from riskctl.runtime import StatefulGate, describe
from riskctl.state import MemoryStore

T0 = 1_700_000_000_000


def breakers_gate(tmp_path: Path, *breakers: str) -> Gate:
    make_gate(tmp_path, {"max_order_qty": 5})
    lines = [
        "apiVersion: riskctl/v1",
        "kind: CircuitBreakers",
        "metadata: {name: test-breakers, version: 1, owner: tests}",
        "spec:",
        "  breakers:",
        *(f"    - {b}" for b in breakers),
    ]
    (tmp_path / "breakers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Gate.from_path(tmp_path)


STALE_HALT = (
    "{name: stale, stage: pre_trade, when: 'market.age_ms > 5000', action: halt,"
    " cooldown_ms: 1000, reset: auto, message: stale quotes}"
)


def order(at: int, age_ms: int = 0, **order_fields: str) -> dict:
    return pre_trade(market={"age_ms": age_ms}, order=dict(order_fields)) | {"now_ms": at}


def codes(step) -> list[str]:
    return [hit.code for hit in step.decision.hits]


def test_when_a_breaker_trips_then_later_orders_are_halted_until_its_cooldown_ends(
    tmp_path,
) -> None:
    gate = StatefulGate(breakers_gate(tmp_path, STALE_HALT), MemoryStore())
    trip = gate.evaluate("pre_trade", order(T0, age_ms=9000))
    assert [(e.kind, e.name) for e in trip.effects] == [("action", "halt"), ("alert", "stale")]
    halted = gate.evaluate("pre_trade", order(T0 + 999))
    assert "state.halted" in codes(halted)
    assert halted.effects == ()  # open: no second trip, no second alert
    after = gate.evaluate("pre_trade", order(T0 + 1000))
    assert after.decision.outcome is Outcome.ALLOW
    assert [e.name for e in after.effects] == ["resume", "stale"]


def test_when_a_manual_breaker_is_reset_by_an_operator_then_orders_pass_again(tmp_path) -> None:
    manual = STALE_HALT.replace("reset: auto", "reset: manual")
    store = MemoryStore()
    gate = StatefulGate(breakers_gate(tmp_path, manual), store)
    gate.evaluate("pre_trade", order(T0, age_ms=9000))
    assert "state.halted" in codes(gate.evaluate("pre_trade", order(T0 + 10_000)))
    store.post_control("reset", by="head", reason="feed fixed", at_ms=T0, target="stale")
    step = gate.evaluate("pre_trade", order(T0 + 10_001))
    assert step.decision.outcome is Outcome.ALLOW
    assert "reset" in [e.name for e in step.effects]
    assert describe(store.load().rows)["breakers"]["stale"]["status"] == "closed"


def test_when_a_closed_breaker_is_reset_then_the_refusal_is_recorded(tmp_path) -> None:
    gate = StatefulGate(breakers_gate(tmp_path, STALE_HALT), MemoryStore())
    step = gate.reset("stale", by="ops", reason="check", now_ms=T0)
    assert [(e.name, e.detail["code"]) for e in step.effects] == [
        ("control_refused", "breaker.not_open")
    ]
    unknown = gate.reset("nope", by="ops", reason="typo", now_ms=T0)
    assert unknown.effects[0].detail["code"] == "breaker.unknown"


def test_when_a_pause_symbol_breaker_trips_then_only_that_symbol_is_paused(tmp_path) -> None:
    pause = (
        "{name: pause, stage: pre_trade, when: 'market.age_ms > 5000', action: pause_symbol,"
        " cooldown_ms: 60000, reset: auto, message: paused}"
    )
    gate = StatefulGate(breakers_gate(tmp_path, pause), MemoryStore())
    gate.evaluate("pre_trade", order(T0, age_ms=9000))
    assert codes(gate.evaluate("pre_trade", order(T0 + 1))) == ["state.paused"]
    eth = order(T0 + 2, symbol="ETH/USDT")
    assert gate.evaluate("pre_trade", eth).decision.outcome is Outcome.ALLOW


def test_when_a_breaker_condition_raises_then_it_counts_as_a_match(tmp_path) -> None:
    broken = (
        "{name: broken, stage: pre_trade, when: 'market.age_ms / (market.age_ms - market.age_ms)"
        " > 1', action: halt, cooldown_ms: 1000, reset: auto, message: broken}"
    )
    gate = StatefulGate(breakers_gate(tmp_path, broken), MemoryStore())
    step = gate.evaluate("pre_trade", order(T0, age_ms=3))
    assert [e.name for e in step.effects] == ["halt", "broken"]
    assert "could not be evaluated" in step.effects[0].detail["reason"]


def test_when_half_open_then_probes_pass_and_a_clean_evaluation_after_them_closes_it(
    tmp_path,
) -> None:
    probing = (
        "{name: probing, stage: pre_trade, when: 'market.age_ms > 5000', action: cancel_all,"
        " cooldown_ms: 1000, reset: auto, half_open: {probe_orders: 1, probe_qty_ratio: 0.5},"
        " message: probing}"
    )
    gate = StatefulGate(breakers_gate(tmp_path, probing), MemoryStore())
    trip = gate.evaluate("pre_trade", order(T0, age_ms=9000))
    assert ("action", "cancel_all") in [(e.kind, e.name) for e in trip.effects]
    assert codes(gate.evaluate("pre_trade", order(T0 + 10))) == ["state.paused"]
    probe = gate.evaluate("pre_trade", order(T0 + 1000))
    assert probe.decision.outcome is Outcome.ALLOW
    assert codes(gate.evaluate("pre_trade", order(T0 + 1001))) == ["state.paused"]  # used up
    closed = gate.evaluate("pre_trade", order(T0 + 1002))  # the one before it was clean
    assert closed.decision.outcome is Outcome.ALLOW


def test_when_the_runtime_restarts_then_an_open_breaker_is_still_open(tmp_path) -> None:
    store = MemoryStore()
    bundle_gate = breakers_gate(tmp_path, STALE_HALT.replace("reset: auto", "reset: manual"))
    StatefulGate(bundle_gate, store).evaluate("pre_trade", order(T0, age_ms=9000))
    again = StatefulGate(bundle_gate, store)
    assert "state.halted" in codes(again.evaluate("pre_trade", order(T0 + 5)))


def test_when_a_probe_is_larger_than_its_share_of_max_order_qty_then_it_is_held(
    tmp_path,
) -> None:
    probing = (
        "{name: probing, stage: pre_trade, when: 'market.age_ms > 5000', action: cancel_all,"
        " cooldown_ms: 1000, reset: auto, half_open: {probe_orders: 1, probe_qty_ratio: 0.5},"
        " message: probing}"
    )
    gate = StatefulGate(breakers_gate(tmp_path, probing), MemoryStore())  # max_order_qty 5
    gate.evaluate("pre_trade", order(T0, age_ms=9000))
    big = gate.evaluate("pre_trade", order(T0 + 1000, qty="3"))  # over 0.5 x 5
    assert codes(big) == ["state.paused"]
    small = gate.evaluate("pre_trade", order(T0 + 1001, qty="2.5"))  # the probe is still free
    assert small.decision.outcome is Outcome.ALLOW


def test_when_a_breaker_halts_a_scope_then_the_step_reports_halted_there(tmp_path) -> None:
    gate = StatefulGate(breakers_gate(tmp_path, STALE_HALT), MemoryStore())
    trip = gate.evaluate("pre_trade", order(T0, age_ms=9000))
    assert trip.trading_state == "HALTED"  # in force after this step, where it happened
    assert gate.evaluate("pre_trade", order(T0 + 1)).trading_state == "HALTED"
    assert gate.evaluate("pre_trade", order(T0 + 1000)).trading_state == "ACTIVE"  # cooled
