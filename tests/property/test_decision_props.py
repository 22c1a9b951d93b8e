"""Decisions combine like a lattice, and a rule that raises can never let an order through."""

from __future__ import annotations

import json
import math
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from riskctl import Decision, Gate, Outcome, RuleHit, combine
from riskctl.decision import ACTIONS, BundleRef, sorted_actions

# -- combine -----------------------------------------------------------------------------------

hits = st.builds(
    RuleHit,
    rule_id=st.sampled_from(["a", "b", "c"]),
    policy=st.just("Rules/x"),
    code=st.sampled_from(["rule.a", "limit.max_order_qty", "rule.error"]),
    severity=st.sampled_from(["info", "warning", "error", "critical"]),
    action=st.sampled_from(ACTIONS),
    message=st.just("m"),
    mode=st.sampled_from(["enforce", "audit"]),
)
quantities = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(1000), places=8)
decisions = st.builds(
    Decision,
    stage=st.just("pre_trade"),
    outcome=st.sampled_from(list(Outcome)),
    actions=st.lists(st.sampled_from(ACTIONS), max_size=3).map(sorted_actions),
    hits=st.lists(hits, max_size=2).map(tuple),
    modifications=st.one_of(st.just({}), quantities.map(lambda q: {"qty": q})),
    bundle=st.sampled_from(["", "sha256:1", "sha256:2"]).map(lambda h: BundleRef(h, {})),
    eval_us=st.integers(0, 10**6).map(lambda ns: ns / 1000),
)


# Fixing actions describe how an order is changed; a rejected order is not sent at all.
FIXES = {"clip", "round"}


def key(decision: Decision) -> tuple[Any, ...]:
    return (decision.outcome, decision.actions, dict(decision.modifications))


@given(a=decisions, b=decisions, c=decisions)
def test_combine_is_associative(a: Decision, b: Decision, c: Decision) -> None:
    left = combine(combine(a, b), c)
    right = combine(a, combine(b, c))
    assert key(left) == key(right)
    assert left.hits == right.hits
    assert left.bundle == right.bundle
    assert math.isclose(left.eval_us, right.eval_us)  # float sums differ only in rounding


@given(a=decisions, b=decisions)
def test_combine_is_commutative_on_outcome_actions_and_modifications(
    a: Decision, b: Decision
) -> None:
    assert key(combine(a, b)) == key(combine(b, a))


@given(a=decisions, b=decisions)
def test_combine_is_monotone(a: Decision, b: Decision) -> None:
    combined = combine(a, b)
    assert combined.outcome >= max(a.outcome, b.outcome)
    assert combined.outcome == max(a.outcome, b.outcome)
    if combined.allowed:
        assert a.allowed
        assert b.allowed
    union = set(a.actions) | set(b.actions)
    if combined.outcome is Outcome.REJECT:
        union -= FIXES
    assert set(combined.actions) == union
    assert combined.hits == a.hits + b.hits


@given(a=decisions, b=decisions)
def test_reject_absorbs(a: Decision, b: Decision) -> None:
    reject = Decision("pre_trade", Outcome.REJECT, ("reject",))
    for combined in (combine(reject, a), combine(a, reject), combine(combine(a, reject), b)):
        assert combined.outcome is Outcome.REJECT
        assert not combined.allowed
        assert dict(combined.modifications) == {}
        assert "reject" in combined.actions
        assert not FIXES & set(combined.actions)


@given(a=decisions, b=decisions)
def test_combined_clip_keeps_the_smaller_quantity(a: Decision, b: Decision) -> None:
    combined = combine(a, b)
    if combined.outcome is Outcome.REJECT:
        return
    quantities = [d.modifications["qty"] for d in (a, b) if "qty" in d.modifications]
    if quantities:
        assert combined.modifications["qty"] == min(quantities)
    else:
        assert "qty" not in combined.modifications


@given(a=decisions)
def test_combining_with_an_empty_allow_keeps_the_decision(a: Decision) -> None:
    empty = Decision("pre_trade", Outcome.ALLOW)
    for combined in (combine(a, empty), combine(empty, a)):
        assert combined.outcome == a.outcome
        assert combined.hits == a.hits
        if a.outcome is Outcome.REJECT:
            assert combined.actions == tuple(x for x in a.actions if x not in FIXES)
        else:
            assert combined.actions == a.actions
            assert dict(combined.modifications) == dict(a.modifications)


# -- a rule that raises never yields allow -----------------------------------------------------

BENIGN = [
    "order.qty > {n}",
    "order.qty < {n}",
    "order.price is not None and order.price < {n}",
    "account.available_balance < 0.05 * account.equity",
    "market.spread_bps is not None and market.spread_bps > {n}",
    "order.side == 'buy'",
    "order.side == 'sell' and position.qty > {n}",
    "state.kill_switch",
    "abs(position.qty_after) > {n}",
    "order.reduces_position",
]
RAISING = [
    "order.qty / account.open_orders > {n}",  # open_orders is 0
    "account.equity / account.drawdown > {n}",  # drawdown is 0
    "account.drawdown / account.drawdown > {n}",  # 0 / 0
    "account.equity // account.orders_last_second > {n}",
    "account.equity % account.drawdown > {n}",
    "order.qty * (1 / account.open_orders) > {n}",
    "max(order.qty, account.equity / account.open_orders) > {n}",
]
ACTION = st.sampled_from(["reject", "reduce_only", "halt", "cancel_all", "flatten", "alert"])


@st.composite
def rules(draw: st.DrawFn, template: st.SearchStrategy[str], **fixed: Any) -> dict[str, Any]:
    text = draw(template).format(n=draw(st.integers(0, 20)))
    rule = {
        "stage": "pre_trade",
        "when": text,
        "action": draw(ACTION),
        "mode": draw(st.sampled_from(["enforce", "audit"])),
        "applies_to_exits": draw(st.booleans()),
        "message": "m",
    }
    rule.update(fixed)
    return rule


@st.composite
def rule_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    benign = draw(st.lists(rules(st.sampled_from(BENIGN)), max_size=6))
    raising = draw(rules(st.sampled_from(RAISING), applies_to_exits=True))
    raising["mode"] = "enforce"  # an audit rule that raises only records it (tested in test_gate)
    position = draw(st.integers(0, len(benign)))
    chosen = [*benign[:position], raising, *benign[position:]]
    for index, rule in enumerate(chosen):
        rule["id"] = "boom" if rule is raising else f"r{index}"
    return chosen


@st.composite
def contexts(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["limit", "market"]))
    price = draw(st.sampled_from(["99", "100", "101"]))
    return {
        "now_ms": 1,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": draw(st.sampled_from(["buy", "sell"])),
            "type": kind,
            "action": draw(st.sampled_from(["new", "amend"])),
            "qty": str(draw(st.integers(1, 30))),
            "price": price if kind == "limit" else None,
            "reduce_only": draw(st.booleans()),
            "client_order_id": "c",
            "strategy": "s",
        },
        "market": {"bid": "99.5", "ask": "100.5", "age_ms": draw(st.integers(0, 5000))},
        "position": {"qty": str(draw(st.integers(-40, 40)))},
        "account": {
            "equity": str(draw(st.integers(0, 10**6))),
            "available_balance": str(draw(st.integers(0, 10**6))),
            "balance_age_ms": 0,
            "open_orders": 0,
            "orders_last_second": 0,
            "drawdown": "0",
        },
        "state": {
            "trading_state": draw(st.sampled_from(["ACTIVE", "REDUCING", "HALTED"])),
            "kill_switch": draw(st.booleans()),
        },
    }


LIMIT_CHOICES = st.fixed_dictionaries(
    {},
    optional={
        "max_order_qty": st.integers(1, 20),
        "max_position_qty": st.integers(1, 40),
        "max_order_notional": st.integers(100, 5000),
        "clip_order_qty": st.booleans(),
        "price_collar_bps": st.integers(1, 200),
    },
)


def build_gate(directory: Path, limits: dict[str, Any], chosen: list[dict[str, Any]]) -> Gate:
    defaults = ", ".join(f"{k}: {json.dumps(v)}" for k, v in limits.items())
    (directory / "limits.yaml").write_text(
        "apiVersion: riskctl/v1\nkind: RiskLimits\nmetadata: {name: l, version: 1, owner: t}\n"
        "spec:\n  environment: paper\n  venues:\n"
        "    - {venue: binance, account: a-1, symbols: [BTC/USDT]}\n"
        f"  defaults: {{{defaults}}}\n",
        encoding="utf-8",
    )
    body = "\n".join(f"    - {json.dumps(rule)}" for rule in chosen)
    (directory / "rules.yaml").write_text(
        "apiVersion: riskctl/v1\nkind: Rules\nmetadata: {name: r, version: 1, owner: t}\n"
        f"spec:\n  rules:\n{body}\n",
        encoding="utf-8",
    )
    return Gate.from_path(directory)


@given(chosen=rule_sets(), limits=LIMIT_CHOICES, ctxs=st.lists(contexts(), min_size=1, max_size=4))
def test_when_one_rule_divides_by_zero_then_the_decision_is_always_reject(
    chosen: list[dict[str, Any]], limits: dict[str, Any], ctxs: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        gate = build_gate(Path(tmp), limits, chosen)
        for ctx in ctxs:
            decision = gate.evaluate("pre_trade", ctx)
            assert decision.outcome is Outcome.REJECT, (chosen, ctx, decision.to_json())
            assert not decision.allowed
            assert decision.modifications == {}
            errors = [h.rule_id for h in decision.hits if h.code == "rule.error"]
            assert errors == ["boom"], decision.to_json()
