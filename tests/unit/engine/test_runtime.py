"""StatefulGate: completes contexts from state, remembers decisions' actions and operator
controls, and records every step in a hash-chained audit log."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from gatekit import make_gate, pre_trade

from riskctl import Outcome
from riskctl.runtime import StatefulGate, describe
from riskctl.state import MemoryStore
from riskctl.state.store import GENESIS


def runtime(
    tmp_path: Path, store: MemoryStore | None = None, *, books: bool = True, **limits: object
) -> StatefulGate:
    gate = make_gate(tmp_path, {"max_order_qty": 5, **limits})
    return StatefulGate(gate, store or MemoryStore(), book_of_record=books)


def codes(step) -> list[str]:
    return [hit.code for hit in step.decision.hits]


def test_when_nothing_is_wrong_then_the_order_passes_and_trading_stays_active(tmp_path) -> None:
    step = runtime(tmp_path).evaluate("pre_trade", pre_trade())
    assert step.decision.outcome is Outcome.ALLOW
    assert (step.trading_state, step.kill_switch) == ("ACTIVE", False)


def test_when_the_bot_claims_a_state_then_the_runtime_state_is_used_and_the_claim_recorded(
    tmp_path,
) -> None:
    gate = runtime(tmp_path)
    gate.kill(by="ops", reason="drill", now_ms=1)
    step = gate.evaluate("pre_trade", pre_trade(state={"kill_switch": False}))
    assert step.decision.outcome is Outcome.REJECT
    assert "state.kill_switch" in codes(step)
    assert step.disagreements == {"state.kill_switch": {"given": False, "used": True}}


def test_when_a_rule_halts_then_later_orders_are_rejected_until_an_operator_resumes(
    tmp_path,
) -> None:
    gate = runtime(tmp_path, books=False, max_daily_loss=100)  # the bot's P&L is used
    losing = pre_trade(account={"daily_pnl": "-500"})
    first = gate.evaluate("pre_trade", losing)
    assert "reduce_only" in first.decision.actions
    assert first.trading_state == "REDUCING"
    healthy = gate.evaluate("pre_trade", pre_trade())
    assert codes(healthy) == ["state.reducing"]  # the loss is remembered, not re-reported
    gate.resume(by="head", reason="reviewed", now_ms=2)
    assert gate.evaluate("pre_trade", pre_trade()).decision.outcome is Outcome.ALLOW


def test_when_a_control_is_posted_to_the_store_then_the_next_decision_applies_it(
    tmp_path,
) -> None:
    store = MemoryStore()
    gate = runtime(tmp_path, store)
    store.post_control("kill", by="ops", reason="venue down", at_ms=1)  # as `riskctl kill` does
    step = gate.evaluate("pre_trade", pre_trade())
    assert step.kill_switch
    assert [e.name for e in step.effects] == ["cancel_all", "kill_switch"]
    assert step.decision.outcome is Outcome.REJECT
    # applied once: the next decision does not re-apply or re-emit it
    assert gate.evaluate("pre_trade", pre_trade()).effects == ()


def test_when_the_runtime_restarts_on_the_store_then_it_resumes_with_the_kill_switch(
    tmp_path,
) -> None:
    store = MemoryStore()
    runtime(tmp_path, store).kill(by="ops", reason="drill", now_ms=1)
    again = StatefulGate(make_gate(tmp_path, {"max_order_qty": 5}), store)
    assert again.evaluate("pre_trade", pre_trade()).kill_switch
    view = describe(store.load().rows)
    assert view["kill_switch"] == {"engaged": True, "by": "ops", "reason": "drill", "at_ms": 1}


def test_when_steps_are_taken_then_each_is_audited_in_one_chain(tmp_path) -> None:
    store = MemoryStore()
    gate = runtime(tmp_path, store)
    gate.evaluate("pre_trade", pre_trade())
    gate.kill(by="ops", reason="drill", now_ms=2)
    gate.evaluate("pre_trade", pre_trade())
    records = list(store.audit())
    assert [r.kind for r in records] == ["decision", "control", "decision"]
    assert records[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert records[2].body["decision"]["outcome"] == "reject"


def test_when_a_line_is_not_a_context_then_the_refusal_is_a_recorded_reject(tmp_path) -> None:
    store = MemoryStore()
    step = runtime(tmp_path, store).refuse("input", "input.invalid", "line 3: bad", {"line": 3})
    assert step.decision.outcome is Outcome.REJECT
    assert next(store.audit()).body["decision"]["hits"][0]["code"] == "input.invalid"


def test_when_a_context_is_invalid_then_it_is_rejected_and_state_is_untouched(tmp_path) -> None:
    gate = runtime(tmp_path)
    step = gate.evaluate("pre_trade", {"now_ms": 5, "order": "nonsense"})
    assert codes(step) == ["context.invalid"]
    assert step.trading_state == "ACTIVE"


@pytest.mark.parametrize(("stage", "context"), [("pre_trade", ["junk"]), ("nope", 5), ("nope", {})])
def test_when_the_input_is_not_a_context_at_all_then_it_is_a_reject_never_a_raise(
    tmp_path, stage, context
) -> None:
    step = runtime(tmp_path).evaluate(stage, context)
    assert step.decision.outcome is Outcome.REJECT


def test_when_a_machine_fails_on_a_context_then_the_order_is_rejected_and_state_is_kept(
    tmp_path, monkeypatch
) -> None:
    store = MemoryStore()
    gate = runtime(tmp_path, store)
    gate.kill(by="ops", reason="drill", now_ms=1)
    gate.resume(by="ops", reason="over", now_ms=2)
    book = next(part for part in gate._parts if part.machine == "book")

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in a machine")

    monkeypatch.setattr(book, "complete", broken)
    step = gate.evaluate("pre_trade", pre_trade())
    assert step.decision.outcome is Outcome.REJECT
    assert codes(step) == ["runtime.error"]
    assert list(store.audit())[-1].body["decision"]["hits"][0]["code"] == "runtime.error"
    monkeypatch.undo()
    assert gate.evaluate("pre_trade", pre_trade()).decision.outcome is Outcome.ALLOW
