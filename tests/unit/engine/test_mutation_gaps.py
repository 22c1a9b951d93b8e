"""Behaviours a mutation run of the core found unpinned (issue 14, item 21).

Each test here fails on a mutant that survived the rest of the suite: a gate holding a
dust position, a subclassed stage context, the exponent bounds, a fix whose re-evaluation
rejects and the rounding of ``eval_us`` (where a reload reports an immutable change is
pinned in test_reload_safety).
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from gatekit import make_gate, pre_trade

from riskctl import Gate, Outcome
from riskctl import gate as gate_module
from riskctl.builtins import DEFAULT_CLOCK_SKEW_MS, LIMIT_RULES
from riskctl.context import OrderSendContext, PreTradeContext
from riskctl.decision import Decision
from riskctl.expr import MAX_POWER, check_expression
from riskctl.grid import grid_value
from riskctl.symbols import Type

REPO = Path(__file__).resolve().parents[3]
CONFORMANCE = REPO / "tests" / "data" / "conformance"


def dust_exit() -> dict[str, Any]:
    """Close a 0.005 TICK1/USDT long (min_qty 0.01): dust, refused at pre_trade."""
    return {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "TICK1/USDT",
            "side": "sell",
            "qty": "0.005",
            "price": "5000.00",
            "reduce_only": True,
            "client_order_id": "cid-exit",
            "strategy": "mm",
        },
        "market": {"bid": "5000.00", "ask": "5000.00", "age_ms": 0},
        "position": {"qty": "0.005"},
        "account": {"equity": "100000", "available_balance": "100000", "balance_age_ms": 0},
    }


@pytest.fixture
def dusty() -> Gate:
    gate = Gate.from_path(CONFORMANCE / "instruments.yaml", CONFORMANCE / "limits-reject.yaml")
    refused = gate.evaluate("pre_trade", dust_exit())
    assert refused.outcome is Outcome.REJECT
    assert set(gate.unclosable()) == {("binance", "TICK1/USDT")}
    return gate


# -- a gate that holds a dust position --------------------------------------------------------


@pytest.mark.parametrize("kind", ["cancel", "cancel_all", "create"])
def test_when_a_dust_position_is_recorded_then_order_send_still_decides_normally(
    dusty: Gate, kind: str
) -> None:
    context = {"now_ms": 1, "request": {"venue": "binance", "symbol": "TICK1/USDT", "kind": kind}}

    decision = dusty.evaluate("order_send", context)

    assert decision.outcome is Outcome.ALLOW
    assert decision.hits == ()
    assert decision.actions == ()
    assert ("binance", "TICK1/USDT") in dusty.unclosable()  # untouched by another stage


def test_when_a_dust_position_is_recorded_then_a_cancel_at_pre_trade_is_allowed(
    dusty: Gate,
) -> None:
    cancel = dust_exit()
    cancel["order"]["action"] = "cancel"

    decision = dusty.evaluate("pre_trade", cancel)

    assert decision.outcome is Outcome.ALLOW
    assert decision.hits == ()


def test_when_a_dust_position_is_recorded_then_an_order_for_another_symbol_passes_cleanly(
    dusty: Gate,
) -> None:
    other = dust_exit()
    other["order"].update(symbol="TICK2/USDT", qty="1", price="100.00", reduce_only=False)
    other["position"] = {"qty": "0"}
    other["market"] = {"bid": "100.00", "ask": "100.00", "age_ms": 0}
    reference = Gate.from_path(
        CONFORMANCE / "instruments.yaml", CONFORMANCE / "limits-reject.yaml"
    ).evaluate("pre_trade", other)

    decision = dusty.evaluate("pre_trade", other)

    assert (decision.outcome, decision.actions) == (reference.outcome, reference.actions)
    assert [h.code for h in decision.hits] == [h.code for h in reference.hits]
    assert ("binance", "TICK1/USDT") in dusty.unclosable()


# -- subclassed stage contexts --------------------------------------------------------------


class MyPreTrade(PreTradeContext):
    """A bot's own subclass, e.g. one that adds helpers."""


def test_when_a_subclass_of_the_stage_context_is_given_then_it_is_decided_like_the_base(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    for qty, outcome in (("1", Outcome.ALLOW), ("6", Outcome.REJECT)):
        data = gate.complete("pre_trade", pre_trade(order={"qty": qty}))
        mine = MyPreTrade.model_validate(data)

        decision = gate.evaluate("pre_trade", mine)

        assert decision.outcome is outcome
        assert summary(decision) == summary(gate.evaluate("pre_trade", data))


def summary(decision: Decision) -> tuple[Any, ...]:
    return (decision.outcome, decision.actions, tuple(h.code for h in decision.hits))


def test_when_a_context_of_another_stage_is_given_then_the_context_is_invalid(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    send = OrderSendContext.model_validate(
        {"now_ms": 1, "request": {"venue": "binance", "symbol": "BTC/USDT", "kind": "create"}}
    )

    decision = gate.evaluate("pre_trade", send)

    assert decision.outcome is Outcome.REJECT
    assert [h.code for h in decision.hits] == ["context.invalid"]


# -- exponent bounds ------------------------------------------------------------------------


@pytest.mark.parametrize("exponent", [0, 1, MAX_POWER])
def test_when_the_exponent_is_within_0_to_4_then_the_expression_loads(exponent: int) -> None:
    checked, problem = check_expression(
        f"order.qty ** {exponent} > 1", "pre_trade", expect=Type.BOOL
    )
    assert problem is None
    assert checked is not None


@pytest.mark.parametrize("exponent", ["-1", str(MAX_POWER + 1), "2.0", "True", "order.qty"])
def test_when_the_exponent_is_outside_0_to_4_then_the_expression_is_refused(exponent: str) -> None:
    checked, problem = check_expression(
        f"order.qty ** {exponent} > 1", "pre_trade", expect=Type.BOOL
    )
    assert checked is None
    assert problem is not None
    assert problem.code == "expr.forbidden"


def test_max_power_is_four() -> None:
    assert MAX_POWER == 4


# -- a fix whose re-evaluation rejects -----------------------------------------------------


@pytest.mark.parametrize("size", [{"qty": "3"}, {"qty": None, "quote_qty": "300"}])
def test_when_a_clipped_order_fails_another_rule_then_the_reject_keeps_every_reason(
    tmp_path: Path, size: dict[str, Any]
) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 1, "clip_order_qty": True},
        rules=[{"id": "one-lot-buys", "stage": "pre_trade", "when": "order.qty >= 1"}],
    )

    decision = gate.evaluate("pre_trade", pre_trade(order=size))

    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}
    ids = {h.rule_id for h in decision.hits}
    assert {"max_order_qty", "one-lot-buys"} <= ids
    assert not {"gate.error", "order.fix-not-converging"} & {h.code for h in decision.hits}


def test_when_a_clipped_order_passes_then_the_decision_is_modify(tmp_path: Path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1, "clip_order_qty": True})

    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "3"}))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"qty": 1}
    assert [h.rule_id for h in decision.hits] == ["max_order_qty"]


# -- eval_us -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "shown"),
    [(0.0, 0.0), (0.001, 0.001), (1.4994, 1.499), (1234.5678, 1234.568), (2000.5, 2000.5)],
)
def test_eval_us_is_rounded_to_3_places_in_json(elapsed: float, shown: float) -> None:
    assert Decision("pre_trade", Outcome.ALLOW, eval_us=elapsed).to_json()["eval_us"] == shown


# -- built-in checks: shared, exact and never exempting what a venue refuses ---------------


def test_when_code_tries_to_change_a_builtin_check_then_it_is_refused() -> None:
    # Built-in definitions are shared by every gate in the process: none may be weakened.
    with pytest.raises(dataclasses.FrozenInstanceError):
        LIMIT_RULES["max_order_qty"].when = "False"  # type: ignore[misc]


def big_exit(qty: str) -> dict[str, Any]:
    """A reduce-only sell of ``qty`` TICK1/USDT (max_qty 50) closing a long of ``qty``."""
    data = dust_exit()
    data["order"].update(qty=qty, price="100.00")
    data["position"] = {"qty": qty}
    data["market"] = {"bid": "100.00", "ask": "100.00", "age_ms": 0}
    return data


def test_when_an_exit_is_above_the_venues_max_qty_then_it_is_still_refused() -> None:
    gate = Gate.from_path(CONFORMANCE / "instruments.yaml", CONFORMANCE / "limits-reject.yaml")

    decision = gate.evaluate("pre_trade", big_exit("60"))

    assert decision.outcome is Outcome.REJECT
    assert [h.code for h in decision.hits] == ["instrument.qty_above_max"]


def test_when_an_exit_is_above_the_venues_max_qty_and_fixes_are_on_then_it_is_clipped() -> None:
    gate = Gate.from_path(CONFORMANCE / "instruments.yaml", CONFORMANCE / "limits-modify.yaml")

    decision = gate.evaluate("pre_trade", big_exit("60"))

    assert decision.outcome is Outcome.MODIFY
    assert dict(decision.modifications) == {"qty": 50}


@pytest.mark.parametrize("loose_file", ["a-loose.yaml", "z-loose.yaml"])  # read first, last
def test_when_two_documents_set_different_skew_bounds_then_the_tighter_one_holds(
    tmp_path: Path, loose_file: str
) -> None:
    # One document allows 200 ms of skew, another covers the same symbol at the default 50:
    # each bound is its own check, so a quote 60 ms ahead is refused.
    make_gate(tmp_path, {"max_clock_skew_ms": 200})
    loose = (tmp_path / "limits.yaml").read_text()
    make_gate(tmp_path)  # limits.yaml now at the default bound
    (tmp_path / loose_file).write_text(loose.replace("name: test-limits", "name: loose"))
    gate = Gate.from_path(tmp_path)

    decision = gate.evaluate("pre_trade", pre_trade(market={"age_ms": -60}))

    assert decision.outcome is Outcome.REJECT
    hits = [(h.code, h.values["limit"]) for h in decision.hits]
    assert hits == [("market.clock_skew", DEFAULT_CLOCK_SKEW_MS)]


# -- a custom reduce_only rule that applies to exits --------------------------------------


def test_when_a_reduce_only_rule_applies_to_exits_then_an_exit_passes_and_opening_is_refused(
    tmp_path: Path,
) -> None:
    gate = make_gate(
        tmp_path,
        rules=[
            {
                "id": "wind-down",
                "stage": "pre_trade",
                "when": "order.qty > 0",
                "action": "reduce_only",
                "applies_to_exits": True,
            }
        ],
    )
    exit_order = pre_trade(order={"side": "sell", "reduce_only": True}, position={"qty": "5"})

    passed = gate.evaluate("pre_trade", exit_order)
    opening = gate.evaluate("pre_trade", pre_trade())

    assert passed.outcome is Outcome.ALLOW
    assert passed.actions == ("reduce_only",)
    assert [h.rule_id for h in passed.hits] == ["wind-down"]
    assert opening.outcome is Outcome.REJECT
    assert opening.actions == ("reject", "reduce_only")


# -- a clip that cannot help -----------------------------------------------------------------


@pytest.mark.parametrize("held", ["5", "5.5"])
def test_when_the_position_is_already_at_its_limit_then_a_clip_cannot_help_and_it_rejects(
    tmp_path: Path, held: str
) -> None:
    # Clipping leaves nothing (or less than nothing) to buy: the limit's own reject, never a
    # zero-sized fix or a gate error.
    gate = make_gate(tmp_path, {"max_position_qty": 5, "clip_order_qty": True})

    decision = gate.evaluate("pre_trade", pre_trade(position={"qty": held}))

    assert decision.outcome is Outcome.REJECT
    assert decision.modifications == {}
    assert [h.code for h in decision.hits] == ["limit.max_position_qty"]


# -- eval_us is microseconds -------------------------------------------------------------------


@pytest.mark.parametrize("allowed", [True, False])
def test_eval_us_is_the_evaluation_time_in_microseconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: bool
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 5})
    context = pre_trade(order={"qty": "1" if allowed else "6"})
    ticks = iter(range(0, 10**12, 2_500_000))  # a clock that moves 2.5 ms per reading
    monkeypatch.setattr(gate_module.time, "perf_counter_ns", lambda: next(ticks))

    decision = gate.evaluate("pre_trade", context)

    assert decision.allowed is allowed
    assert decision.eval_us == 2500.0


# -- how far float noise may reach ----------------------------------------------------------

# Between 2**52 and 2**53 a float's unit in the last place is exactly 1, so the noise bound
# reads in whole numbers: a grid point on a 100 tick, and values 1, 2, ... units above it.
POINT = 2**52 + 104  # 4503599627370600, a multiple of 100


def test_unit_in_the_last_place_is_one_around_the_point() -> None:
    assert math.ulp(float(POINT)) == 1.0
    assert POINT % 100 == 0


@pytest.mark.parametrize("units", [1, 4])
def test_when_a_price_is_within_four_ulps_of_the_grid_then_it_passes_as_the_grid_value(
    units: int,
) -> None:
    price = Decimal(repr(float(POINT + units)))

    assert grid_value(price, increment=Decimal(100), significant=None) == POINT


def test_when_a_price_is_five_ulps_from_the_grid_then_it_is_off_the_grid() -> None:
    price = Decimal(repr(float(POINT + 5)))

    assert grid_value(price, increment=Decimal(100), significant=None) is None
