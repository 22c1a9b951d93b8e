"""A decision's hits are built when first read, and read exactly as if built at once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from test_reload_safety import FAT_FINGER

from riskctl import Gate
from riskctl.decision import Decision, Hits, Outcome, RuleHit, combine

REPO = Path(__file__).resolve().parents[3]


def counting_maker() -> tuple[Any, list[int]]:
    calls: list[int] = []

    def make(rule: Any, ctx: Any) -> RuleHit:
        calls.append(1)
        return RuleHit(rule.rule_id, "Rules/r", f"rule.{rule.rule_id}", "error", "reject", ctx)

    return make, calls


def test_when_hits_are_counted_or_tested_then_none_is_built() -> None:
    make, calls = counting_maker()
    rule = SimpleNamespace(rule_id="dust", mode="enforce")
    hits = Hits([(make, rule, "message")])

    assert len(hits) == 1
    assert hits.enforced("dust")
    assert not hits.enforced("other")
    assert calls == []


def test_when_hits_are_read_then_each_is_built_once_and_they_equal_a_tuple() -> None:
    make, calls = counting_maker()
    rule = SimpleNamespace(rule_id="r1", mode="audit")
    ready = RuleHit("r0", "Rules/r", "rule.r0", "error", "reject", "built already")
    hits = Hits([ready, (make, rule, "later")])

    assert [h.rule_id for h in hits] == ["r0", "r1"]
    assert hits[1].message == "later"
    assert hits == (ready, hits[1])
    assert not hits.enforced("r1")  # it fired in audit mode
    assert calls == [1]


def test_when_decisions_combine_then_their_hits_stay_unbuilt() -> None:
    make, calls = counting_maker()
    first = Decision(
        "pre_trade",
        Outcome.REJECT,
        ("reject",),
        Hits([(make, SimpleNamespace(rule_id="a", mode="enforce"), "m")]),
    )
    second = Decision(
        "pre_trade",
        Outcome.ALLOW,
        (),
        Hits([(make, SimpleNamespace(rule_id="b", mode="enforce"), "m")]),
    )

    both = combine(first, second)

    assert calls == []
    assert [h.rule_id for h in both.hits] == ["a", "b"]


def test_when_the_gate_rejects_then_late_hits_report_what_the_rule_saw() -> None:
    gate = Gate.from_path(REPO / "policies")
    ctx = gate.context("pre_trade", FAT_FINGER)  # 81 ETH over max_order_qty 80

    decision = gate.evaluate("pre_trade", ctx)
    again = gate.evaluate("pre_trade", ctx)

    assert decision.enforced("max_order_qty")
    (hit,) = [h for h in decision.hits if h.rule_id == "max_order_qty"]
    assert str(hit.values["order.qty"]) == "81"
    assert decision.to_json()["hits"] == again.to_json()["hits"]
    again.eval_us = decision.eval_us  # the only field that differs between the two
    assert decision == again
