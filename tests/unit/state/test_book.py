"""The book of record: positions, session P&L across lifecycles, own orders, fills, legs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.state.book import FillInput, account_fields, apply_fill, pnl_fields, position_fields
from riskctl.state.codec import decode, encode
from riskctl.state.orders import OrderMemory, OrderRecord, OrdersConfig, leg_effects
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


def _apply(orders: OrderMemory, pos: PositionState, s: SessionPnl, f: FillInput, now: int = 1):
    """apply_fill, then what the runtime does once the fill is applied."""
    result = apply_fill(orders, pos, s, f, session_cfg=UTC_CFG, now_ms=now)
    if not result.view.already_applied:
        orders.note_fill(f.client_order_id, f.trade_id, f.qty)
    return result


def _memory() -> OrderMemory:
    return OrderMemory("bin", OCFG)


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


def _book() -> tuple[OrderMemory, PositionState, SessionPnl]:
    return _memory(), PositionState(), start_session(D(1000), UTC_CFG, 0)


def test_when_two_positions_each_lose_50_then_the_session_lost_100() -> None:
    orders, pos, s = _book()
    for n, (buy, sell) in enumerate([("100", "150"), ("200", "150"), ("300", "250")]):
        orders.record_order(_order(f"b{n}"), 1)
        orders.record_order(_order(f"s{n}", "sell"), 1)
        for cid, tid, side, price in [
            (f"b{n}", f"tb{n}", "buy", buy),
            (f"s{n}", f"ts{n}", "sell", sell),
        ]:
            r = _apply(orders, pos, s, _fill(cid, tid, side, price=price))
            pos, s = r.position, r.session
    fields = account_fields(s, orders, UTC_CFG, 2)
    assert (fields["session_pnl"], fields["drawdown"], s.peak_equity) == (D(-50), D(100), D(1050))
    assert pnl_fields(s, UTC_CFG, 2)["realized"] == D(-50)


@given(st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=10))
def test_when_a_fill_is_applied_twice_then_nothing_changes(replays: list[int]) -> None:
    orders, pos, s = _book()
    orders.record_order(_order("a", qty="10"), 1)
    tids = [f"t{i}" for i in range(3)]  # within the memory bound (3)
    for i in replays:
        r = _apply(orders, pos, s, _fill("a", tids[i]))
        pos, s = r.position, r.session
    distinct = len(set(replays))
    assert pos.qty == D(distinct)
    before = orders.find("a")
    orders.changes()
    again = _apply(orders, pos, s, _fill("a", tids[replays[-1]]))
    assert again.view.already_applied
    assert (again.position, again.session) == (pos, s)
    assert orders.find("a") == before
    assert orders.changes() == {}  # nothing to write


def test_when_a_fill_is_for_an_unknown_order_then_it_is_quarantined_and_alerts() -> None:
    orders, pos, s = _book()
    r = _apply(orders, pos, s, _fill("ghost", "t1"))
    assert not r.view.known
    assert r.position == pos
    assert len(orders) == 0  # no order is touched
    assert orders.has_trade("t1")  # the id is kept: no replay storm
    assert [(e.kind, e.name) for e in r.effects] == [
        ("record", "fill_quarantined"),
        ("alert", "unknown_order_fill"),
    ]
    replay = _apply(orders, pos, s, _fill("ghost", "t1"))
    assert replay.view.already_applied
    assert replay.effects == ()


def test_when_an_order_is_filled_beyond_its_qty_then_it_is_flagged_and_the_view_is_before() -> None:
    orders, pos, s = _book()
    orders.record_order(_order("a", qty="1"), 1)
    first = _apply(orders, pos, s, _fill("a", "t1", qty="0.6"))
    second = _apply(orders, first.position, first.session, _fill("a", "t2", qty="0.6"))
    assert (second.view.filled_qty, second.view.expected_price, second.view.known) == (
        D("0.6"),
        D(100),
        True,
    )
    assert {e.name for e in second.effects} == {"overfill"}
    assert not first.effects


def test_when_orders_age_out_of_the_window_then_the_counts_drop_and_the_log_is_bounded() -> None:
    orders = _memory()
    for t in range(0, 10_000, 500):
        orders.record_order(_order(f"o{t}"), t)
    assert orders.orders_in_window(1_000, 9_600) == 2
    assert orders.orders_in_window(5_000, 9_600) == 10
    assert len(orders.changes()["orders:bin"].new_times) <= 11
    assert (
        account_fields(start_session(D(0), UTC_CFG, 0), orders, UTC_CFG, 9_600)["open_orders"] == 20
    )
    assert orders.close("o0", "canceled")
    assert not orders.close("o0", "canceled")  # closed once
    assert (
        account_fields(start_session(D(0), UTC_CFG, 0), orders, UTC_CFG, 9_600)["open_orders"] == 19
    )


def test_when_many_fills_and_orders_pass_then_the_memory_stays_bounded() -> None:
    orders, pos, s = _book()
    rows: dict[str, object] = {}
    for i in range(20):
        orders.record_order(_order(f"o{i}"), i)
        r = _apply(orders, pos, s, _fill(f"o{i}", f"t{i}"))
        pos, s = r.position, r.session
        rows.update(orders.changes())
    assert [i for i in range(20) if orders.has_trade(f"t{i}")] == [17, 18, 19]
    assert len(orders) == 2  # the two newest closed orders
    stored = {key for key, value in rows.items() if value is not None}
    assert stored == {"orders:bin", "order:bin:o18", "order:bin:o19", "trade:bin:t17",
                      "trade:bin:t18", "trade:bin:t19"}  # fmt: skip


def _legs(timeout: int = 100) -> OrderMemory:
    orders = _memory()
    for cid, side in [("L1", "buy"), ("L2", "sell")]:
        orders.record_order(_order(cid, side, group="g", leg_timeout_ms=timeout), 0)
    return orders


def test_when_a_leg_fills_and_the_sibling_times_out_then_the_basket_is_flattened_once() -> None:
    orders, pos, s = _legs(), PositionState(), start_session(D(0), UTC_CFG, 0)
    _apply(orders, pos, s, _fill("L1", "t1"))
    assert orders.leg_effects(99) == []
    effects = orders.leg_effects(100)
    assert [(e.kind, e.name) for e in effects] == [
        ("action", "flatten"),
        ("alert", "legged_basket"),
    ]
    assert effects[0].detail["legs"] == [
        {"client_order_id": "L1", "venue": "bin", "symbol": "BTC", "side": "sell", "qty": D(1)}
    ]
    # Scoped to the filled leg's pair: an unscoped flatten would close every book everywhere.
    assert effects[0].scope == ("bin", "BTC")
    assert orders.leg_effects(5_000) == []


def test_when_a_leg_fills_and_the_sibling_is_rejected_then_the_basket_is_flattened() -> None:
    orders, pos, s = _legs(timeout=10**9), PositionState(), start_session(D(0), UTC_CFG, 0)
    _apply(orders, pos, s, _fill("L1", "t1"))
    assert orders.leg_effects(1) == []
    orders.close("L2", "rejected")
    assert [e.name for e in orders.leg_effects(1)] == ["flatten", "legged_basket"]


leg_plans = st.lists(
    st.tuples(
        st.sampled_from(["bin", "okx", "byb"]),  # the venue account holding the leg
        st.sampled_from(["unfilled", "partial", "filled"]),
        st.sampled_from(["open", "rejected", "canceled"]),
        st.integers(0, 200),  # leg timeout
    ),
    min_size=2,
    max_size=4,
)


@given(plan=leg_plans, now=st.integers(0, 300))
def test_when_a_baskets_legs_are_spread_over_accounts_then_it_is_judged_as_in_one(
    plan: list[tuple[str, str, str, int]], now: int
) -> None:
    """Where the legs sit never changes whether a basket is legged, what is flattened, or
    that it is flattened once."""

    def build(spread: bool) -> list[OrderMemory]:
        memories: dict[str, OrderMemory] = {}
        for i, (venue, filled, status, timeout) in enumerate(plan):
            memory = memories.setdefault(venue if spread else "one", OrderMemory(venue))
            cid = f"L{i}"
            leg = OrderRecord(cid, venue, "BTC", ("buy", "sell")[i % 2], D(2), D(100), 0,
                              group="g", leg_timeout_ms=timeout)  # fmt: skip
            memory.record_order(leg, 0)
            if filled != "unfilled":
                memory.note_fill(cid, f"t{i}", D(2) if filled == "filled" else D(1))
            if status != "open" and filled != "filled":
                memory.close(cid, status)  # type: ignore[arg-type]
        return list(memories.values())

    def judged(effects: list) -> list:  # the legs' order follows the accounts': not judged
        return sorted(
            (e.kind, e.name, e.scope, sorted(leg["client_order_id"] for leg in e.detail["legs"]))
            for e in effects
        )

    spread, together = build(True), build(False)
    first = leg_effects(spread, now)
    assert judged(first) == judged(leg_effects(together, now))
    flattened = {e.scope for e in first if e.name == "flatten"}
    if first:  # flattened once, however late it is asked again; only the filled legs' books
        assert leg_effects(spread, now + 1_000) == []
        assert flattened == {(v, "BTC") for v, filled, _, _ in plan if filled != "unfilled"}
    else:
        assert flattened == set()


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
    for value in (r.position, r.session, *orders.changes().values()):
        assert decode(type(value), encode(value)) == value


def test_when_the_order_memory_is_rebuilt_from_its_rows_then_it_is_the_same_memory() -> None:
    orders, pos, s = _memory(), PositionState(), start_session(D(0), UTC_CFG, 0)
    for i in range(4):  # more closed orders than the bound (2): the oldest go first
        orders.record_order(_order(f"o{i}"), i)
        _apply(orders, pos, s, _fill(f"o{i}", f"t-o{i}"))
    for cid, side in [("L1", "buy"), ("L2", "sell")]:
        orders.record_order(_order(cid, side, group="g", leg_timeout_ms=100), 10)
    _apply(orders, pos, s, _fill("L1", "t1"))
    orders.record_amend(20)
    rows = {key: encode(value) for key, value in orders.changes().items() if value is not None}
    again = OrderMemory.from_rows("bin", rows, OCFG)
    for cid in ("o2", "o3", "L1", "L2"):
        assert again.find(cid) == orders.find(cid)
    assert orders.find("o2") is None  # evicted by L1's close
    assert orders.find("o3") is not None
    assert [t for t in ("t-o1", "t-o2", "t-o3", "t1") if again.has_trade(t)] == [
        "t-o2",
        "t-o3",
        "t1",
    ]
    assert (again.orders_in_window(1_000, 20), again.amends_in_window(1_000, 20)) == (6, 1)
    assert [o.client_order_id for o in again.open_orders()] == ["L2"]
    legged = again.leg_effects(110)
    assert [e.name for e in legged] == ["flatten", "legged_basket"]
    assert legged == orders.leg_effects(110)
    assert len(again) == len(orders) == 3
    again.record_order(_order("o9"), 30)  # the next close evicts the oldest closed: o3
    again.close("o9", "canceled")
    assert again.find("o3") is None
    assert again.find("L1") is not None


def test_when_a_single_row_order_memory_of_an_older_version_is_loaded_then_it_is_kept() -> None:
    legacy = (
        '{"orders":[{"client_order_id":"b","venue":"bin","symbol":"BTC","side":"buy","qty":"1",'
        '"price":"100","at_ms":5,"status":"open"},{"client_order_id":"a","venue":"bin",'
        '"symbol":"BTC","side":"buy","qty":"1","price":"100","at_ms":1,"filled_qty":"1",'
        '"status":"filled"}],"new_times":[1,5],"amend_times":[],"trade_ids":["t2","t1"],'
        '"flattened_groups":[]}'
    )
    memory = OrderMemory.from_rows("bin", {"orders:bin": legacy}, OCFG)
    filled = memory.find("a")
    assert filled is not None
    assert filled.status == "filled"
    assert [o.client_order_id for o in memory.open_orders()] == ["b"]
    assert memory.has_trade("t1")
    assert memory.has_trade("t2")
    assert memory.orders_in_window(1_000, 5) == 2
    rows = memory.changes()  # split into rows on the next commit
    assert {"orders:bin", "order:bin:a", "order:bin:b", "trade:bin:t1"} <= set(rows)
