"""The book of record: positions, session P&L across lifecycles, own orders, fills, legs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.state.book import FillInput, account_fields, apply_fill, pnl_fields, position_fields
from riskctl.state.codec import decode, encode
from riskctl.state.orders import (
    OrderRecord,
    OrdersConfig,
    OrdersState,
    close_order,
    leg_effects,
    orders_in_window,
    record_order,
)
from riskctl.state.pnl import SessionConfig, SessionPnl, day_of, on_mark, start_session
from riskctl.state.positions import PositionState, apply_trade, signed, unrealized

D = Decimal
UTC_CFG = SessionConfig()
OCFG = OrdersConfig(max_window_ms=5_000, max_trade_ids=3, max_closed_orders=2, max_groups=2)
qtys = st.decimals(min_value=D("0.001"), max_value=D(100), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2)
sides = st.sampled_from(["buy", "sell"])


def _order(cid: str, side: str = "buy", qty: str = "1", **kw: object) -> OrderRecord:
    return OrderRecord(cid, "bin", "BTC", side, D(qty), D(100), 0, **kw)  # type: ignore[arg-type]


def _fill(cid: str, tid: str, side: str = "buy", qty: str = "1", price: str = "100") -> FillInput:
    return FillInput("bin", "BTC", cid, tid, side, D(qty), D(price))  # type: ignore[arg-type]


def _apply(orders: OrdersState, pos: PositionState, s: SessionPnl, f: FillInput, now: int = 1):
    return apply_fill(orders, pos, s, f, orders_cfg=OCFG, session_cfg=UTC_CFG, now_ms=now)


@given(st.lists(st.tuples(sides, qtys, prices), max_size=12), prices)
def test_when_fills_are_applied_then_realized_plus_unrealized_equals_the_cash_flows(
    fills: list[tuple[str, Decimal, Decimal]], mark: Decimal
) -> None:
    pos, cash = PositionState(), D(0)
    for side, qty, price in fills:
        pos, _ = apply_trade(pos, side, qty, price, D(0))  # type: ignore[arg-type]
        cash -= signed(side, qty) * price  # type: ignore[arg-type]
    assert pos.realized + unrealized(pos, mark) == cash + pos.qty * mark


@given(st.tuples(sides, qtys, prices), sides, st.lists(qtys, min_size=1, max_size=5), prices)
def test_when_a_fill_is_split_into_parts_then_position_and_realized_are_the_same(
    opened: tuple[str, Decimal, Decimal], side: str, parts: list[Decimal], p: Decimal
) -> None:
    open_side, open_qty, open_price = opened
    start, _ = apply_trade(PositionState(), open_side, open_qty, open_price, D(0))  # type: ignore[arg-type]
    whole, _ = apply_trade(start, side, sum(parts, D(0)), p, D(0))  # type: ignore[arg-type]
    split = start
    for part in parts:
        split, _ = apply_trade(split, side, part, p, D(0))  # type: ignore[arg-type]
    assert (split.qty, split.cost, split.realized) == (whole.qty, whole.cost, whole.realized)


def test_when_a_fill_flips_through_zero_then_the_rest_opens_at_the_fill_price() -> None:
    pos, _ = apply_trade(PositionState(), "buy", D(2), D(100), D(0))
    pos, realized = apply_trade(pos, "sell", D(5), D(110), D(1))
    assert (realized, pos.qty, pos.cost, pos.fees) == (D(20), D(-3), D(-330), D(1))
    assert position_fields(pos) == {"qty": D(-3), "avg_price": D(110)}


def _book() -> tuple[OrdersState, PositionState, SessionPnl]:
    return OrdersState(), PositionState(), start_session(D(1000), UTC_CFG, 0)


def test_when_two_positions_each_lose_50_then_the_session_lost_100() -> None:
    orders, pos, s = _book()
    for n, (buy, sell) in enumerate([("100", "150"), ("200", "150"), ("300", "250")]):
        orders = record_order(orders, _order(f"b{n}"), OCFG, 1)
        orders = record_order(orders, _order(f"s{n}", "sell"), OCFG, 1)
        for cid, tid, side, price in [
            (f"b{n}", f"tb{n}", "buy", buy),
            (f"s{n}", f"ts{n}", "sell", sell),
        ]:
            r = _apply(orders, pos, s, _fill(cid, tid, side, price=price))
            orders, pos, s = r.orders, r.position, r.session
    fields = account_fields(s, orders, UTC_CFG, 2)
    assert (fields["session_pnl"], fields["drawdown"], s.peak_equity) == (D(-50), D(100), D(1050))
    assert pnl_fields(s, UTC_CFG, 2)["realized"] == D(-50)


@given(st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=10))
def test_when_a_fill_is_applied_twice_then_nothing_changes(replays: list[int]) -> None:
    orders, pos, s = _book()
    orders = record_order(orders, _order("a", qty="10"), OCFG, 1)
    tids = [f"t{i}" for i in range(3)]  # within the memory bound (3)
    for i in replays:
        r = _apply(orders, pos, s, _fill("a", tids[i]))
        orders, pos, s = r.orders, r.position, r.session
    distinct = len(set(replays))
    assert pos.qty == D(distinct)
    again = _apply(orders, pos, s, _fill("a", tids[replays[-1]]))
    assert again.view.already_applied
    assert (again.orders, again.position, again.session) == (
        orders,
        pos,
        s,
    )


def test_when_a_fill_is_for_an_unknown_order_then_it_is_quarantined_and_alerts() -> None:
    orders, pos, s = _book()
    r = _apply(orders, pos, s, _fill("ghost", "t1"))
    assert not r.view.known
    assert r.position == pos
    assert r.orders.orders == orders.orders  # no order is touched
    assert r.orders.trade_ids == ("t1", *orders.trade_ids)  # the id is kept: no replay storm
    assert [(e.kind, e.name) for e in r.effects] == [
        ("record", "fill_quarantined"),
        ("alert", "unknown_order_fill"),
    ]
    replay = _apply(r.orders, pos, s, _fill("ghost", "t1"))
    assert replay.view.already_applied
    assert replay.effects == ()


def test_when_an_order_is_filled_beyond_its_qty_then_it_is_flagged_and_the_view_is_before() -> None:
    orders, pos, s = _book()
    orders = record_order(orders, _order("a", qty="1"), OCFG, 1)
    first = _apply(orders, pos, s, _fill("a", "t1", qty="0.6"))
    second = _apply(first.orders, first.position, first.session, _fill("a", "t2", qty="0.6"))
    assert (second.view.filled_qty, second.view.expected_price, second.view.known) == (
        D("0.6"),
        D(100),
        True,
    )
    assert {e.name for e in second.effects} == {"overfill"}
    assert not first.effects


def test_when_orders_age_out_of_the_window_then_the_counts_drop_and_the_log_is_bounded() -> None:
    orders = OrdersState()
    for t in range(0, 10_000, 500):
        orders = record_order(orders, _order(f"o{t}"), OCFG, t)
    assert orders_in_window(orders, 1_000, 9_600) == 2
    assert orders_in_window(orders, 5_000, 9_600) == 10
    assert len(orders.new_times) <= 10
    assert (
        account_fields(start_session(D(0), UTC_CFG, 0), orders, UTC_CFG, 9_600)["open_orders"] == 20
    )
    closed = close_order(orders, "o0", "canceled", OCFG)
    assert (
        account_fields(start_session(D(0), UTC_CFG, 0), closed, UTC_CFG, 9_600)["open_orders"] == 19
    )


def test_when_many_fills_and_orders_pass_then_the_memory_stays_bounded() -> None:
    orders, pos, s = _book()
    for i in range(20):
        orders = record_order(orders, _order(f"o{i}"), OCFG, i)
        r = _apply(orders, pos, s, _fill(f"o{i}", f"t{i}"))
        orders, pos, s = r.orders, r.position, r.session
    assert len(orders.trade_ids) == 3
    assert len(orders.orders) == 2


def _legs(timeout: int = 100) -> OrdersState:
    orders = OrdersState()
    for cid, side in [("L1", "buy"), ("L2", "sell")]:
        orders = record_order(orders, _order(cid, side, group="g", leg_timeout_ms=timeout), OCFG, 0)
    return orders


def test_when_a_leg_fills_and_the_sibling_times_out_then_the_basket_is_flattened_once() -> None:
    orders, pos, s = _legs(), PositionState(), start_session(D(0), UTC_CFG, 0)
    orders = _apply(orders, pos, s, _fill("L1", "t1")).orders
    assert leg_effects(orders, OCFG, 99)[1] == []
    orders, effects = leg_effects(orders, OCFG, 100)
    assert [(e.kind, e.name) for e in effects] == [
        ("action", "flatten"),
        ("alert", "legged_basket"),
    ]
    assert effects[0].detail["legs"] == [
        {"client_order_id": "L1", "venue": "bin", "symbol": "BTC", "side": "sell", "qty": D(1)}
    ]
    assert leg_effects(orders, OCFG, 5_000)[1] == []


def test_when_a_leg_fills_and_the_sibling_is_rejected_then_the_basket_is_flattened() -> None:
    orders, pos, s = _legs(timeout=10**9), PositionState(), start_session(D(0), UTC_CFG, 0)
    orders = _apply(orders, pos, s, _fill("L1", "t1")).orders
    assert leg_effects(orders, OCFG, 1)[1] == []
    orders = close_order(orders, "L2", "rejected", OCFG)
    assert [e.name for e in leg_effects(orders, OCFG, 1)[1]] == ["flatten", "legged_basket"]


def test_when_the_day_rolls_in_the_session_timezone_then_daily_pnl_restarts() -> None:
    cfg = SessionConfig(day_roll_ms_of_day=0, timezone="America/New_York")
    start = 1_700_000_000_000 - (1_700_000_000_000 % 86_400_000) + 4 * 3_600_000  # 04:00 UTC
    s = start_session(D(100), cfg, start)
    s = on_mark(s, D(-30), cfg, start + 3_600_000)  # 05:00 UTC = 00:00 New York: a new day
    assert day_of(cfg, start) + 1 == s.day
    assert pnl_fields(s, cfg, start + 3_600_000)["daily"] == D(-30)
    s = on_mark(s, D(-30), cfg, start + 3_600_000 + 1)
    assert day_of(cfg, start + 3_600_000) == day_of(cfg, start + 3_600_000 + 1)
    later = start + 3_600_000 + 86_400_000
    assert pnl_fields(s, cfg, later) == {
        "daily": D(0),
        "session": D(-30),
        "realized": D(0),
        "unrealized": D(-30),
    }


def test_when_a_session_config_is_bad_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="day_roll"):
        SessionConfig(day_roll_ms_of_day=86_400_000)
    with pytest.raises(Exception):  # noqa: B017, PT011 - zoneinfo's own error type
        SessionConfig(timezone="Mars/Olympus")


def test_when_book_states_are_encoded_then_they_decode_to_the_same_value() -> None:
    orders, pos, s = _legs(), PositionState(), start_session(D("1000.5"), UTC_CFG, 0)
    r = _apply(orders, pos, s, _fill("L1", "t1", price="100.25"))
    for value in (r.orders, r.position, r.session):
        assert decode(type(value), encode(value)) == value
