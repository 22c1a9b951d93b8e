"""The runtime's book of record: fills move positions and P&L once, losses add up across
positions, unknown fills are quarantined, and a legged basket is flattened."""

from __future__ import annotations

from decimal import Decimal

import pytest
from gatekit import make_gate, pre_trade

from riskctl import Gate, Outcome, PolicyLoadError, load_bundle
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore, SqliteStore

T0 = 1_700_000_000_000


def runtime(tmp_path, **limits: object) -> StatefulGate:
    return StatefulGate(make_gate(tmp_path, {"max_order_qty": 50, **limits}), MemoryStore())


def order(cid: str, side: str, qty: str, price: str, at: int, **extra: object) -> dict:
    data = pre_trade(order={"client_order_id": cid, "side": side, "qty": qty, "price": price})
    data["order"].update(extra)
    data["now_ms"] = at
    data["market"] = {"bid": price, "ask": price, "age_ms": 0}
    return data


def fill(cid: str, trade: str, side: str, qty: str, price: str, at: int) -> dict:  # noqa: PLR0917
    return {
        "now_ms": at,
        "fill": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "client_order_id": cid,
            "trade_id": trade,
            "side": side,
            "qty": qty,
            "price": price,
            "ts_ms": at,
        },
        "books": {"position_qty": "0"},
    }


def round_trip(gate: StatefulGate, n: int, buy: str, sell: str, at: int) -> None:
    """Open 1 at ``buy``, close it at ``sell``: one position lifecycle."""
    for cid, side, price in ((f"o{n}", "buy", buy), (f"c{n}", "sell", sell)):
        assert gate.evaluate("pre_trade", order(cid, side, "1", price, at)).decision.allowed
        gate.evaluate("fill", fill(cid, f"t-{cid}", side, "1", price, at + 1))
        at += 10


def test_when_two_positions_each_lose_50_then_the_session_has_lost_100(tmp_path) -> None:
    gate = runtime(tmp_path)
    round_trip(gate, 1, "100", "50", T0)
    round_trip(gate, 2, "100", "50", T0 + 100)
    claim = order("x", "buy", "1", "100", T0 + 200)
    claim["account"]["daily_pnl"] = "0"  # the bot believes it lost nothing
    step = gate.evaluate("pre_trade", claim)
    assert gate.describe()["session"]["session_pnl"] == "-100"
    assert gate.session_pnl() == Decimal(-100)  # the watchdog's narrow read, the same number
    assert gate.describe()["positions"] == {"binance:BTC/USDT": "0"}
    assert step.disagreements["account.daily_pnl"] == {"given": "0", "used": "-100"}


def test_when_the_session_loss_passes_the_limit_then_opening_orders_are_refused(
    tmp_path,
) -> None:
    gate = runtime(tmp_path, max_daily_loss=80)
    round_trip(gate, 1, "100", "50", T0)
    round_trip(gate, 2, "100", "50", T0 + 100)
    step = gate.evaluate("pre_trade", order("x", "buy", "1", "100", T0 + 200))
    assert step.decision.outcome is Outcome.REJECT
    assert "limit.max_daily_loss" in [hit.code for hit in step.decision.hits]


def test_when_a_fill_arrives_twice_then_it_counts_once(tmp_path) -> None:
    gate = runtime(tmp_path)
    gate.evaluate("pre_trade", order("o1", "buy", "2", "100", T0))
    first = gate.evaluate("fill", fill("o1", "t1", "buy", "1", "100", T0 + 1))
    again = gate.evaluate("fill", fill("o1", "t1", "buy", "1", "100", T0 + 2))
    assert first.decision.outcome is Outcome.ALLOW
    assert gate.describe()["positions"] == {"binance:BTC/USDT": "1"}
    assert again.disagreements["books.position_qty"] == {"given": "0", "used": "1"}


def test_when_a_fill_is_for_an_order_never_sent_then_it_is_quarantined(tmp_path) -> None:
    gate = runtime(tmp_path)
    step = gate.evaluate("fill", fill("ghost", "t9", "buy", "1", "100", T0))
    assert ("alert", "unknown_order_fill") in [(e.kind, e.name) for e in step.effects]
    assert gate.describe()["positions"] == {}
    replayed = gate.evaluate("fill", fill("ghost", "t9", "buy", "1", "100", T0 + 1))
    assert replayed.effects == ()  # one alert per unknown fill, not one per replay


def test_when_one_leg_fills_and_its_sibling_is_rejected_then_the_filled_leg_is_flattened(
    tmp_path,
) -> None:
    gate = runtime(tmp_path)
    basket = {"group": "arb-1", "leg_timeout_ms": 5000}
    gate.evaluate("pre_trade", order("leg-a", "buy", "1", "100", T0, **basket))
    gate.evaluate("fill", fill("leg-a", "ta", "buy", "1", "100", T0 + 1))
    too_big = gate.evaluate("pre_trade", order("leg-b", "sell", "500", "100", T0 + 2, **basket))
    assert too_big.decision.outcome is Outcome.REJECT
    step = gate.evaluate("pre_trade", order("other", "buy", "1", "100", T0 + 3))
    flattens = [e for e in step.effects if e.name == "flatten"]
    assert len(flattens) == 1
    assert flattens[0].detail["legs"][0]["side"] == "sell"
    later = gate.evaluate("pre_trade", order("other2", "buy", "1", "100", T0 + 4))
    assert [e for e in later.effects if e.name == "flatten"] == []  # once


def test_when_orders_are_sent_then_the_runtime_counts_them_itself(tmp_path) -> None:
    gate = runtime(tmp_path, max_orders_per_second=2)
    for i in range(2):
        sent = gate.evaluate("pre_trade", order(f"o{i}", "buy", "1", "100", T0 + i))
        assert sent.decision.allowed
    third = gate.evaluate("pre_trade", order("o3", "buy", "1", "100", T0 + 5))
    assert "limit.max_orders_per_second" in [hit.code for hit in third.decision.hits]
    assert gate.evaluate("pre_trade", order("o4", "buy", "1", "100", T0 + 1100)).decision.allowed
    assert Decimal(gate.describe()["positions"].get("binance:BTC/USDT", "0")) == 0


DAY_LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: day-limits, version: 1, owner: tests}}
spec:
  environment: paper
  venues:
    - {{venue: binance, account: mm-1, symbols: [BTC/USDT]}}
  defaults: {{max_order_qty: 50}}
  trading_day: {{timezone: {zone}, roll_at: "17:00"}}
  scoped: []
"""


def test_when_the_trading_day_rolls_in_the_policy_timezone_then_daily_pnl_restarts(
    tmp_path,
) -> None:
    (tmp_path / "limits.yaml").write_text(DAY_LIMITS.format(zone="America/New_York"), "utf-8")
    gate = StatefulGate(Gate.from_path(tmp_path), MemoryStore())
    five_pm_ny = 1_700_085_600_000  # 2023-11-15 22:00 UTC = 17:00 in New York
    round_trip(gate, 1, "100", "50", five_pm_ny - 60_000)  # closed before the roll
    after = gate.evaluate("pre_trade", order("x", "buy", "1", "100", five_pm_ny + 1))
    assert after.decision.allowed
    session = gate.describe()["session"]
    assert (session["session_pnl"], session["daily_pnl"]) == ("-50", "0")


def test_when_the_trading_day_names_an_unknown_timezone_then_the_policy_is_refused_there(
    tmp_path,
) -> None:
    (tmp_path / "limits.yaml").write_text(DAY_LIMITS.format(zone="Mars/Olympus"), "utf-8")
    with pytest.raises(PolicyLoadError) as refused:
        load_bundle(tmp_path)
    (problem,) = refused.value.diagnostics
    assert "Mars/Olympus" in problem.message
    assert problem.location.line == 9


def test_when_restarted_then_other_positions_still_count_at_their_last_marks(tmp_path) -> None:
    """A restart used to forget the marks: the next order's mark on one symbol then counted
    every other open position at cost, and their unrealized losses vanished from drawdown."""
    gate = make_gate(tmp_path, {"max_order_qty": 50})
    eth = {"symbol": "ETH/USDT"}
    items = [
        ("pre_trade", order("a", "buy", "1", "100", T0)),
        ("fill", fill("a", "ta", "buy", "1", "100", T0 + 1)),
        ("pre_trade", _on(order("b", "buy", "1", "200", T0 + 10), eth)),
        ("fill", _on(fill("b", "tb", "buy", "1", "200", T0 + 11), eth, "fill")),
        ("pre_trade", order("c", "buy", "1", "60.0", T0 + 20)),  # BTC marked at 60: -40
        ("pre_trade", _on(order("d", "buy", "1", "150", T0 + 30), eth)),  # ETH at 150: -50
    ]
    later = ("pre_trade", order("e", "buy", "1", "60", T0 + 40))
    uninterrupted = StatefulGate(gate.fresh(), MemoryStore())
    for stage, context in items:
        uninterrupted.evaluate(stage, context)
    expected = uninterrupted.evaluate(*later)
    first = StatefulGate(gate.fresh(), SqliteStore(tmp_path / "state.db"))
    for stage, context in items:
        first.evaluate(stage, context)
    first.close()
    restarted = StatefulGate(gate.fresh(), SqliteStore(tmp_path / "state.db"))
    step = restarted.evaluate(*later)
    assert restarted.describe()["session"] == uninterrupted.describe()["session"]
    assert restarted.describe()["session"]["drawdown"] == "90.0"
    assert step.disagreements == expected.disagreements


def _on(data: dict, where: dict, section: str = "order") -> dict:
    data[section].update(where)
    return data


def okx_fill(cid: str, trade: str, side: str, qty: str, price: str, at: int) -> dict:  # noqa: PLR0917
    data = fill(cid, trade, side, qty, price, at)
    data["fill"]["venue"] = "okx"
    return data


def test_when_a_basket_spans_two_venues_and_one_leg_is_legged_then_the_filled_leg_is_flattened(
    tmp_path,
) -> None:
    """An arbitrage basket buys at one venue and sells at another: the legs are joined by
    group across accounts, so a rejected okx leg flattens the filled binance one."""
    gate = runtime(tmp_path)
    basket = {"group": "xarb-1", "leg_timeout_ms": 5000}
    gate.evaluate("pre_trade", order("leg-a", "buy", "1", "100", T0, **basket))
    gate.evaluate("fill", fill("leg-a", "ta", "buy", "1", "100", T0 + 1))
    too_big = gate.evaluate(
        "pre_trade", order("leg-b", "sell", "500", "100", T0 + 2, venue="okx", **basket)
    )
    assert too_big.decision.outcome is Outcome.REJECT
    step = gate.evaluate("pre_trade", order("other", "buy", "1", "100", T0 + 3))
    flattens = [e for e in step.effects if e.name == "flatten"]
    assert [e.scope for e in flattens] == [("binance", "BTC/USDT")]  # the filled leg's book only
    leg = {"client_order_id": "leg-a", "venue": "binance", "symbol": "BTC/USDT"}
    assert flattens[0].detail["legs"] == [{**leg, "side": "sell", "qty": Decimal(1)}]
    assert "legged_basket" in [e.name for e in step.effects if e.kind == "alert"]
    later = gate.evaluate("pre_trade", order("other2", "buy", "1", "100", T0 + 4))
    assert [e for e in later.effects if e.name == "flatten"] == []  # once


def test_when_both_legs_of_a_two_venue_basket_fill_then_nothing_is_flattened(tmp_path) -> None:
    gate = runtime(tmp_path)
    basket = {"group": "xarb-2", "leg_timeout_ms": 50}
    gate.evaluate("pre_trade", order("leg-a", "buy", "1", "100", T0, **basket))
    gate.evaluate("pre_trade", order("leg-b", "sell", "1", "101", T0 + 1, venue="okx", **basket))
    gate.evaluate("fill", fill("leg-a", "ta", "buy", "1", "100", T0 + 2))
    gate.evaluate("fill", okx_fill("leg-b", "tb", "sell", "1", "101", T0 + 3))
    step = gate.evaluate("pre_trade", order("later", "buy", "1", "100", T0 + 500))
    assert [e.name for e in step.effects if e.name == "flatten"] == []


def test_when_a_two_venue_basket_was_flattened_then_a_restart_does_not_flatten_it_again(
    tmp_path,
) -> None:
    path = tmp_path / "state.db"
    gate = make_gate(tmp_path, {"max_order_qty": 50})
    first = StatefulGate(gate, SqliteStore(path))
    basket = {"group": "xarb-3", "leg_timeout_ms": 10}
    first.evaluate("pre_trade", order("leg-a", "buy", "1", "100", T0, **basket))
    first.evaluate("pre_trade", order("leg-b", "sell", "1", "101", T0 + 1, venue="okx", **basket))
    first.evaluate("fill", fill("leg-a", "ta", "buy", "1", "100", T0 + 2))
    step = first.evaluate("pre_trade", order("x", "buy", "1", "100", T0 + 100))
    assert [e.scope for e in step.effects if e.name == "flatten"] == [("binance", "BTC/USDT")]
    first.close()
    again = StatefulGate(gate.fresh(), SqliteStore(path))
    later = again.evaluate("pre_trade", order("y", "buy", "1", "100", T0 + 200))
    assert [e for e in later.effects if e.name == "flatten"] == []
    again.close()
