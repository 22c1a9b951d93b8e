"""The gate fails closed: errors, nulls, bad contexts, unknown stages reject; cancels pass."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

# -- helpers ---------------------------------------------------------------------------
from gatekit import make_gate, pre_trade

from riskctl import Gate, IngestContext, Outcome, PreTradeContext

EXIT = {"order": {"side": "sell", "qty": "4", "reduce_only": True}, "position": {"qty": "10"}}


def exit_order(**parts: dict[str, Any]) -> dict[str, Any]:
    data = pre_trade(**EXIT)
    for part, values in parts.items():
        data[part].update(values)
    return data


def codes(decision) -> list[str]:
    return [hit.code for hit in decision.hits]


# -- allow path --------------------------------------------------------------------------


def test_when_nothing_fires_then_allow_with_bundle_hash_and_versions(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    decision = gate.evaluate("pre_trade", pre_trade())
    assert decision.outcome is Outcome.ALLOW
    assert decision.allowed
    assert decision.hits == ()
    assert decision.actions == ()
    assert decision.bundle.hash == gate.bundle.hash
    assert decision.bundle.hash.startswith("sha256:")
    assert dict(decision.bundle.versions) == {"RiskLimits/test-limits": 1}
    assert decision.eval_us > 0


def test_when_context_model_is_given_then_same_decision_as_the_dict(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    for data in (pre_trade(), pre_trade(order={"qty": "6"})):
        by_dict = gate.evaluate("pre_trade", data)
        by_model = gate.evaluate("pre_trade", PreTradeContext.model_validate(data))
        assert (by_dict.outcome, codes(by_dict)) == (by_model.outcome, codes(by_model))


# -- rules that raise -------------------------------------------------------------------------


def test_when_rule_divides_by_a_zero_field_then_reject_naming_the_rule(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "per-order-equity",
                "stage": "pre_trade",
                "when": "account.equity / account.open_orders > 10000000",
            }
        ],
    )
    decision = gate.evaluate("pre_trade", pre_trade(account={"open_orders": 0}))
    assert decision.outcome is Outcome.REJECT
    assert not decision.allowed
    (hit,) = decision.hits
    assert hit.code == "rule.error"
    assert hit.rule_id == "per-order-equity"
    assert "per-order-equity" in hit.message
    assert "division by zero" in hit.message
    assert hit.values["account.open_orders"] == 0
    assert "reject" in decision.actions
    # the same rule with a non-zero divisor simply evaluates
    assert gate.evaluate("pre_trade", pre_trade(account={"open_orders": 2})).allowed


@pytest.mark.parametrize(
    "when",
    [
        "order.qty / account.drawdown > 1",  # Decimal / Decimal(0)
        "account.drawdown / account.drawdown > 1",  # 0 / 0
        "account.equity // account.open_orders > 1",  # floor division
        "account.equity % account.drawdown > 1",  # modulo
    ],
)
def test_when_any_zero_division_happens_then_reject_with_rule_error(tmp_path, when) -> None:
    gate = make_gate(tmp_path, rules=[{"id": "z", "stage": "pre_trade", "when": when}])
    decision = gate.evaluate("pre_trade", pre_trade())
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["rule.error"]
    assert "rule z" in decision.hits[0].message


def test_when_rule_compares_a_null_field_then_reject_naming_the_field(tmp_path) -> None:
    gate = make_gate(
        tmp_path, rules=[{"id": "cheap", "stage": "pre_trade", "when": "order.price < 50"}]
    )
    market = pre_trade(order={"type": "market", "price": None})
    decision = gate.evaluate("pre_trade", market)
    assert decision.outcome is Outcome.REJECT
    (hit,) = decision.hits
    assert hit.code == "rule.error"
    assert "cheap" in hit.message
    assert "order.price is null" in hit.message
    assert hit.values["order.price"] is None


def test_when_mid_is_null_in_arithmetic_then_reject_naming_mid(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        rules=[{"id": "far", "stage": "pre_trade", "when": "abs(order.price - market.mid) > 1"}],
    )
    decision = gate.evaluate("pre_trade", pre_trade(market={"bid": None}))
    assert decision.outcome is Outcome.REJECT
    assert "market.mid is null" in decision.hits[0].message


def test_when_rule_fails_for_a_reason_other_than_a_null_then_message_does_not_blame_the_null(
    tmp_path,
) -> None:
    """A guarded null is not the cause: the message must say division by zero."""
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "guarded",
                "stage": "pre_trade",
                "when": "(market.mid is not None and market.mid > 0)"
                " or order.qty / account.open_orders > 1",
            }
        ],
    )
    decision = gate.evaluate(
        "pre_trade", pre_trade(market={"bid": None}, account={"open_orders": 0})
    )
    assert decision.outcome is Outcome.REJECT
    (hit,) = decision.hits
    assert hit.code == "rule.error"
    assert "division by zero" in hit.message, hit.message


def test_when_one_rule_raises_then_other_hits_are_still_reported(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 5},
        rules=[
            {"id": "boom", "stage": "pre_trade", "when": "order.qty / account.open_orders > 1"},
            {"id": "watch", "stage": "pre_trade", "when": "order.qty > 2", "action": "alert"},
        ],
    )
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "6"}))
    assert decision.outcome is Outcome.REJECT
    assert sorted(h.rule_id for h in decision.hits) == ["boom", "max_order_qty", "watch"]


@pytest.mark.parametrize("action", ["alert", "reject", "reduce_only"])
def test_when_enforced_rule_raises_then_never_allow_whatever_its_action(tmp_path, action) -> None:
    mode = "enforce"
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "boom",
                "stage": "pre_trade",
                "when": "order.qty / account.open_orders > 1",
                "action": action,
                "mode": mode,
                "applies_to_exits": True,
            }
        ],
    )
    for data in (pre_trade(), exit_order()):
        decision = gate.evaluate("pre_trade", data)
        assert decision.outcome is Outcome.REJECT
        assert codes(decision) == ["rule.error"]


def test_when_audit_rule_raises_then_the_error_is_recorded_and_the_order_allowed(tmp_path) -> None:
    # Audit mode records what would have happened; a broken rule being rolled out in audit
    # must not stop trading, but its failure is visible in every decision.
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "boom",
                "stage": "pre_trade",
                "when": "order.qty / account.open_orders > 1",
                "mode": "audit",
                "applies_to_exits": True,
            }
        ],
    )
    decision = gate.evaluate("pre_trade", pre_trade())
    assert decision.outcome is Outcome.ALLOW
    [hit] = decision.hits
    assert (hit.code, hit.mode == "enforce") == ("rule.error", False)
    assert "in enforce mode it would reject" in hit.message


# -- invalid input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        {},
        None,
        [],
        "order",
        42,
        pre_trade(order={"qty": "-1"}),
        pre_trade(order={"qty": "NaN"}),
        pre_trade(order={"price": float("inf")}),
        pre_trade(order={"notional": "1"}),
        pre_trade(market={"mid": "100"}),
        pre_trade(order={"side": "hold"}),
        pre_trade(account={"unknown": 1}),
        {k: v for k, v in pre_trade().items() if k != "market"},
    ],
)
def test_when_context_is_invalid_then_reject_with_context_invalid_never_raise(
    tmp_path, context
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    decision = gate.evaluate("pre_trade", context)
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]
    assert decision.hits[0].action == "reject"
    assert "fails closed" in decision.hits[0].message
    assert decision.bundle.hash == gate.bundle.hash


def test_when_context_is_invalid_then_values_point_at_the_bad_field(tmp_path) -> None:
    gate = make_gate(tmp_path)
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "-1"}, market={"age_ms": "x"}))
    assert set(decision.hits[0].values) == {"/order/qty", "/market/age_ms"}


@pytest.mark.parametrize("stage", ["", "pretrade", "PRE_TRADE", "execution", None])
def test_when_stage_is_unknown_then_reject(tmp_path, stage) -> None:
    gate = make_gate(tmp_path)
    decision = gate.evaluate(stage, pre_trade())  # type: ignore[arg-type]
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]
    assert "stage" in decision.hits[0].message


def test_when_unknown_stage_gets_a_context_model_then_reject(tmp_path) -> None:
    gate = make_gate(tmp_path)
    decision = gate.evaluate("nope", PreTradeContext.model_validate(pre_trade()))
    assert decision.outcome is Outcome.REJECT


def test_when_context_model_is_of_another_stage_then_reject(tmp_path) -> None:
    gate = make_gate(tmp_path)
    ingest = IngestContext.model_validate(
        {
            "now_ms": 1,
            "event": {"type": "trade", "venue": "binance", "symbol": "BTC/USDT", "ts_ms": 1},
        }
    )
    decision = gate.evaluate("pre_trade", ingest)
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]
    assert "IngestContext" in decision.hits[0].message
    pre = PreTradeContext.model_validate(pre_trade())
    assert gate.evaluate("ingest", pre).outcome is Outcome.REJECT


def test_when_a_dict_of_another_stage_is_given_then_reject(tmp_path) -> None:
    gate = make_gate(tmp_path)
    decision = gate.evaluate("ingest", pre_trade())  # a pre_trade dict is not an ingest context
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["context.invalid"]


# -- modes and actions ------------------------------------------------------------------------


def test_when_audit_rule_fires_then_hit_recorded_with_mode_audit_and_allow(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "thin",
                "stage": "pre_trade",
                "when": "account.available_balance < 0.05 * account.equity",
                "mode": "audit",
            }
        ],
    )
    decision = gate.evaluate("pre_trade", pre_trade(account={"available_balance": "49999"}))
    assert decision.outcome is Outcome.ALLOW
    assert decision.allowed
    assert decision.actions == ()
    (hit,) = decision.hits
    assert hit.rule_id == "thin"
    assert hit.mode == "audit"
    assert hit.to_json()["mode"] == "audit"
    assert decision.to_json()["hits"][0]["mode"] == "audit"
    # exactly at 5% it does not fire
    assert gate.evaluate("pre_trade", pre_trade(account={"available_balance": "50000"})).hits == ()


def test_when_audit_rule_would_reject_then_other_enforced_rules_still_decide(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 5},
        rules=[{"id": "audit-big", "stage": "pre_trade", "when": "order.qty > 2", "mode": "audit"}],
    )
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "6"}))
    assert decision.outcome is Outcome.REJECT
    assert {h.rule_id: h.mode == "enforce" for h in decision.hits} == {
        "max_order_qty": True,
        "audit-big": False,
    }


def test_when_alert_rule_fires_then_allow_with_hit_and_alert_action(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "big",
                "stage": "pre_trade",
                "when": "order.qty > 2",
                "action": "alert",
                "severity": "warning",
            }
        ],
    )
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "3"}))
    assert decision.outcome is Outcome.ALLOW
    assert decision.actions == ("alert",)
    (hit,) = decision.hits
    assert (hit.rule_id, hit.code, hit.action, hit.severity) == (
        "big",
        "rule.big",
        "alert",
        "warning",
    )
    assert hit.values == {"order.qty": Decimal("3")}


@pytest.mark.parametrize("action", ["reject", "halt", "cancel_all", "flatten"])
def test_when_blocking_rule_fires_then_reject_with_its_action(tmp_path, action) -> None:
    gate = make_gate(
        tmp_path,
        rules=[{"id": "r", "stage": "pre_trade", "when": "order.qty > 2", "action": action}],
    )
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "3"}))
    assert decision.outcome is Outcome.REJECT
    assert "reject" in decision.actions
    assert action in decision.actions


def test_when_custom_rule_is_not_for_exits_then_exits_pass_unless_applies_to_exits(
    tmp_path,
) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {"id": "big", "stage": "pre_trade", "when": "order.qty > 2"},
            {
                "id": "far",
                "stage": "pre_trade",
                "when": "order.price < 50",
                "applies_to_exits": True,
            },
        ],
    )
    assert gate.evaluate("pre_trade", exit_order()).allowed
    assert codes(gate.evaluate("pre_trade", exit_order(order={"price": "40"}))) == ["rule.far"]
    # reduce_only flag on an order that opens risk is not an exit (and is refused as such)
    opening = pre_trade(order={"qty": "4", "reduce_only": True})
    assert codes(gate.evaluate("pre_trade", opening)) == [
        "order.reduce_only_would_open",
        "rule.big",
    ]


def test_when_rule_is_scoped_then_it_applies_only_there(tmp_path) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "okx-big",
                "stage": "pre_trade",
                "when": "order.qty > 2",
                "scope": {"venue": "okx"},
            }
        ],
    )
    big = {"qty": "3"}
    assert gate.evaluate("pre_trade", pre_trade(order=big)).allowed
    assert not gate.evaluate("pre_trade", pre_trade(order={**big, "venue": "okx"})).allowed


# -- cancels, kill switch and trading state ----------------------------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        {"state": {"kill_switch": True}},
        {"state": {"trading_state": "HALTED"}},
        {"state": {"trading_state": "REDUCING"}},
        {"state": {"trading_state": "HALTED", "kill_switch": True}},
        {"order": {"venue": "kraken"}},
        {"order": {"qty": "1000", "price": "1"}},
        {"order": {"type": "market"}},  # a market order with a price
        {"account": {"daily_pnl": "-1000000", "open_orders": 10_000}},
    ],
)
def test_when_order_is_a_cancel_then_always_allowed(tmp_path, parts) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 5, "max_daily_loss": 100, "max_open_orders": 10, "price_collar_bps": 50},
        rules=[
            {"id": "all", "stage": "pre_trade", "when": "order.qty > 0", "applies_to_exits": True}
        ],
    )
    data = pre_trade(**parts)
    data["order"]["action"] = "cancel"
    decision = gate.evaluate("pre_trade", data)
    assert decision.outcome is Outcome.ALLOW
    assert decision.hits == ()
    data["order"]["action"] = "new"
    assert gate.evaluate("pre_trade", data).outcome is Outcome.REJECT


@pytest.mark.parametrize("kind", ["cancel", "cancel_all"])
def test_when_request_is_a_cancel_at_order_send_then_allowed(tmp_path, kind) -> None:
    gate = make_gate(
        tmp_path, rules=[{"id": "down", "stage": "order_send", "when": "not venue.connected"}]
    )
    request = {"venue": "binance", "symbol": "BTC/USDT", "kind": kind}
    context = {"now_ms": 1, "request": request, "venue": {"connected": False}}
    assert gate.evaluate("order_send", context).outcome is Outcome.ALLOW
    create = {**context, "request": {**request, "kind": "create"}}
    assert gate.evaluate("order_send", create).outcome is Outcome.REJECT


@pytest.mark.parametrize(
    ("state", "code"),
    [({"kill_switch": True}, "state.kill_switch"), ({"trading_state": "HALTED"}, "state.halted")],
)
def test_when_kill_switch_or_halted_then_even_exits_are_rejected(tmp_path, state, code) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    for data in (pre_trade(state=state), exit_order(state=state)):
        decision = gate.evaluate("pre_trade", data)
        assert decision.outcome is Outcome.REJECT
        assert code in codes(decision)


def test_when_the_symbol_is_paused_then_new_orders_are_rejected_and_exits_pass(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    paused = {"paused": True}
    assert codes(gate.evaluate("pre_trade", pre_trade(state=paused))) == ["state.paused"]
    assert gate.evaluate("pre_trade", exit_order(state=paused)).outcome is Outcome.ALLOW
    assert gate.evaluate("pre_trade", pre_trade()).outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    ("position", "side", "blocked"),
    [("0", "buy", True), ("10", "buy", True), ("10", "sell", False), ("-10", "buy", False)],
)
def test_when_the_band_blocks_increasing_then_only_orders_that_grow_the_position_are_rejected(
    tmp_path, position, side, blocked
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    data = pre_trade(
        state={"block_increasing": True}, order={"side": side}, position={"qty": position}
    )
    decision = gate.evaluate("pre_trade", data)
    assert ("state.band_blocks_increasing" in codes(decision)) is blocked
    assert (decision.outcome is Outcome.REJECT) is blocked


def test_when_reducing_then_opening_orders_are_rejected_and_exits_pass(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    reducing = {"trading_state": "REDUCING"}
    opening = gate.evaluate("pre_trade", pre_trade(state=reducing))
    assert opening.outcome is Outcome.REJECT
    assert codes(opening) == ["state.reducing"]
    exit_ = gate.evaluate("pre_trade", exit_order(state=reducing))
    assert exit_.outcome is Outcome.ALLOW
    assert exit_.hits == ()
    # reducing the position without the reduce_only flag is not an exit
    unflagged = gate.evaluate("pre_trade", exit_order(state=reducing, order={"reduce_only": False}))
    assert unflagged.outcome is Outcome.REJECT


@pytest.mark.parametrize(
    "order",
    [
        {"venue": "kraken"},
        {"symbol": "XRP/USDT"},
        {"venue": "okx", "symbol": "SOL/USDT"},
        {"venue": "Binance"},
    ],
)
def test_when_venue_or_symbol_is_unknown_then_reject_unknown_instrument(tmp_path, order) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    decision = gate.evaluate("pre_trade", pre_trade(order=order))
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["limit.unknown_instrument"]


def test_when_an_exit_is_for_an_unknown_instrument_then_it_is_rejected_too(tmp_path) -> None:
    """RiskLimits.venues: orders outside the universe are rejected; no limit (not even the
    price collar) is configured there, so an exit at any price would go out unchecked."""
    gate = make_gate(tmp_path, {"max_order_qty": 5, "price_collar_bps": 50})
    decision = gate.evaluate("pre_trade", exit_order(order={"symbol": "XRP/USDT", "price": "1"}))
    assert decision.outcome is Outcome.REJECT
    assert "limit.unknown_instrument" in codes(decision)


@pytest.mark.parametrize(
    "order",
    [{"type": "market"}, {"type": "limit", "price": None}],  # market with price; limit without
)
def test_when_order_type_and_price_disagree_then_reject(tmp_path, order) -> None:
    gate = make_gate(tmp_path)
    decision = gate.evaluate("pre_trade", pre_trade(order=order))
    assert decision.outcome is Outcome.REJECT
    assert "state.order_type_price" in codes(decision)


def test_when_no_risk_limits_document_then_every_order_is_rejected(tmp_path) -> None:
    (tmp_path / "rules.yaml").write_text(
        "apiVersion: riskctl/v1\nkind: Rules\nmetadata: {name: r, version: 1, owner: t}\n"
        "spec:\n  rules:\n    - {id: big, stage: pre_trade, when: order.qty > 2, message: m}\n",
        encoding="utf-8",
    )
    gate = Gate.from_path(tmp_path)
    decision = gate.evaluate("pre_trade", pre_trade())
    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == ["limit.unknown_instrument"]


# -- other stages ------------------------------------------------------------------------------


def test_when_ingest_rule_fires_then_reject_and_otherwise_allow(tmp_path) -> None:
    gate = make_gate(
        tmp_path, rules=[{"id": "stale", "stage": "ingest", "when": "event.age_ms > 3000"}]
    )
    event = {"type": "book", "venue": "binance", "symbol": "BTC/USDT", "ts_ms": 1_000}
    assert gate.evaluate("ingest", {"now_ms": 4_000, "event": event}).allowed
    decision = gate.evaluate("ingest", {"now_ms": 4_001, "event": event})
    assert decision.outcome is Outcome.REJECT
    assert decision.stage == "ingest"
    assert decision.hits[0].values == {"event.age_ms": 3001}


def test_when_decision_is_serialised_then_json_has_every_field(tmp_path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    out = gate.evaluate("pre_trade", pre_trade(order={"qty": "5.5"})).to_json()
    assert set(out) >= {
        "stage",
        "outcome",
        "allowed",
        "actions",
        "modifications",
        "hits",
        "bundle",
        "eval_us",
    }
    assert out["outcome"] == "reject"
    assert out["hits"][0]["values"] == {"order.qty": "5.5", "limit": "5", "scope": "*:*"}
    json.dumps(out)  # plain JSON, no Decimals left
