"""tools/strategies/avellaneda_stoikov.py: the model's prices, the quoting rules and a small
simulated session against a random-walk book with fills at touched quotes."""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.venues.replay.strategy import BookView, CancelOrder, FillView, NewOrder

TOOL = Path(__file__).resolve().parents[3] / "tools" / "strategies" / "avellaneda_stoikov.py"


def load(name: str, *, register: bool) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


asm = load("avellaneda_stoikov_tool", register=True)
BTC = asm.BTC_USDT_BINANCE
TICK = Decimal("0.01")


def var(annual: float) -> Decimal:
    return Decimal(f"{asm.variance_per_s(annual):.12g}")


def book(
    bid: str | Decimal | None = "60000.00",
    ask: str | Decimal | None = "60000.01",
    *,
    ts_ms: int = 0,
    position: str | Decimal = "0",
    open_orders: tuple[str, ...] = (),
    symbol: str = "BTC/USDT",
    venue: str = "binance",
) -> BookView:
    return BookView(
        venue=venue,
        symbol=symbol,
        bid=None if bid is None else Decimal(bid),
        ask=None if ask is None else Decimal(ask),
        bid_qty=Decimal(1),
        ask_qty=Decimal(1),
        ts_ms=ts_ms,
        position=Decimal(position),
        open_orders=open_orders,
    )


def model(position: str = "0", annual: float = 0.5, mid: str = "60000") -> Any:
    m = Decimal(mid)
    return asm.quote(
        BTC, best_bid=m - TICK, best_ask=m + TICK, position=Decimal(position), variance=var(annual)
    )


def news(actions: Any) -> list[NewOrder]:
    return [a for a in actions if isinstance(a, NewOrder)]


def cancels(actions: Any) -> list[CancelOrder]:
    return [a for a in actions if isinstance(a, CancelOrder)]


def by_side(actions: Any) -> dict[str, NewOrder]:
    return {a.side: a for a in news(actions)}


# --- the model -------------------------------------------------------------------------


def test_when_long_then_reservation_below_mid_and_both_quotes_lower() -> None:
    flat, long = model("0"), model("0.05")

    assert long.reservation < long.mid == flat.reservation
    assert long.bid < flat.bid
    assert long.ask < flat.ask


def test_when_short_then_reservation_above_mid_and_both_quotes_higher() -> None:
    flat, short = model("0"), model("-0.05")

    assert short.reservation > short.mid
    assert short.bid > flat.bid
    assert short.ask > flat.ask


def test_when_sigma_rises_then_the_spread_widens() -> None:
    spreads = [model(annual=v).spread for v in (0.2, 0.5, 1.0, 3.0)]
    quoted = [model(annual=v).ask - model(annual=v).bid for v in (0.2, 0.5, 1.0, 3.0)]

    assert spreads == sorted(spreads)
    assert len(set(spreads)) == 4
    assert quoted == sorted(quoted)
    assert len(set(quoted)) == 4


def test_when_flat_at_50pct_vol_then_the_spread_is_a_few_bps_as_documented() -> None:
    q = model(annual=0.5)

    assert Decimal("2.5") < q.spread / q.mid * 10_000 < Decimal("2.8")  # README: 2.64 bps
    assert q.reservation == q.mid


def test_spread_is_exactly_the_paper_formula() -> None:
    q = model(position="0.02", annual=0.5)
    risk = BTC.gamma * var(0.5) * q.mid * q.mid * BTC.horizon_s

    assert q.reservation == q.mid - 2 * risk
    assert q.spread == risk + 2 / BTC.gamma * (1 + BTC.gamma / BTC.k).ln()
    # not clamped here: the raw prices, rounded away from the mid
    raw_bid, raw_ask = q.reservation - q.spread / 2, q.reservation + q.spread / 2
    assert raw_bid % TICK != 0
    assert raw_ask % TICK != 0
    assert q.bid == (raw_bid / TICK).to_integral_value(rounding=ROUND_FLOOR) * TICK
    assert q.ask == (raw_ask / TICK).to_integral_value(rounding=ROUND_CEILING) * TICK


@given(
    bid_ticks=st.integers(min_value=100_000, max_value=20_000_000),
    spread_ticks=st.integers(min_value=1, max_value=2_000),
    position_steps=st.integers(min_value=-1_000, max_value=1_000),  # within ±max_inventory
    annual=st.floats(min_value=0.2, max_value=3.0),
)
def test_property_bid_le_reservation_le_ask_on_tick_and_never_crossing(
    bid_ticks: int, spread_ticks: int, position_steps: int, annual: float
) -> None:
    best_bid = bid_ticks * TICK
    best_ask = (bid_ticks + spread_ticks) * TICK
    q = asm.quote(
        BTC,
        best_bid=best_bid,
        best_ask=best_ask,
        position=position_steps * BTC.qty_step,
        variance=var(annual),
    )

    assert q.bid <= q.reservation <= q.ask
    assert q.bid < q.ask
    assert q.bid < best_ask
    assert q.ask > best_bid
    assert q.bid % TICK == 0
    assert q.ask % TICK == 0


@given(
    bid_ticks=st.integers(min_value=100_000, max_value=20_000_000),
    spread_ticks=st.integers(min_value=1, max_value=2_000),
    position_steps=st.integers(min_value=-1_200, max_value=1_200),  # past the cap too
)
def test_property_orders_sent_are_makers_on_the_grid_and_never_pass_the_cap(
    bid_ticks: int, spread_ticks: int, position_steps: int
) -> None:
    best_bid, best_ask = bid_ticks * TICK, (bid_ticks + spread_ticks) * TICK
    position = position_steps * BTC.qty_step
    actions = asm.STRATEGY(seed=0).on_book(book(best_bid, best_ask, position=position))

    orders = news(actions)
    assert len(orders) == len(actions) == len(by_side(actions))  # one per side, no cancels
    for order in orders:
        assert order.price is not None
        assert order.time_in_force == "PO"
        assert order.price % BTC.tick == 0
        assert order.qty % BTC.qty_step == 0
        assert 0 < order.qty <= BTC.quote_size
        if order.side == "buy":
            assert order.price < best_ask
            assert position + order.qty <= BTC.max_inventory
        else:
            assert order.price > best_bid
            assert position - order.qty >= -BTC.max_inventory


# --- quoting ---------------------------------------------------------------------------


def test_when_flat_then_one_post_only_bid_and_ask_on_the_grid() -> None:
    actions = asm.STRATEGY(seed=1).on_book(book())

    sides = by_side(actions)
    assert set(sides) == {"buy", "sell"}
    assert len(actions) == 2
    for order in sides.values():
        assert order.time_in_force == "PO"
        assert order.type == "limit"
        assert order.qty == Decimal("0.01")
        assert order.price is not None
        assert order.price.as_tuple().exponent == -2  # exactly on the tick, no float tail
    assert sides["buy"].price < Decimal("60000.01")
    assert sides["sell"].price > Decimal("60000.00")
    assert [o.client_order_id for o in news(actions)] == ["as-mm-BTCUSDT-1", "as-mm-BTCUSDT-2"]


@pytest.mark.parametrize(
    ("bid", "ask"), [(None, "60000.01"), ("60000.00", None), (None, None), ("60000.01", "60000.00")]
)
def test_when_the_book_is_one_sided_or_crossed_then_no_actions(
    bid: str | None, ask: str | None
) -> None:
    assert asm.STRATEGY(seed=0).on_book(book(bid, ask)) == ()


def test_when_the_market_is_not_configured_then_no_actions() -> None:
    strategy = asm.STRATEGY(seed=0)

    assert strategy.on_book(book(venue="okx")) == ()
    assert strategy.on_book(book(symbol="SOL/USDT")) == ()


def test_when_long_at_the_cap_then_only_the_ask_is_quoted() -> None:
    sides = by_side(asm.STRATEGY(seed=0).on_book(book(position="0.1")))

    assert set(sides) == {"sell"}


def test_when_at_the_cap_without_a_minimum_notional_then_no_zero_sized_bid() -> None:
    params = replace(asm.DEFAULT_PARAMS, markets=(replace(BTC, min_notional=Decimal(0)),))
    strategy = asm.AvellanedaStoikov(seed=0, params=params)

    assert set(by_side(strategy.on_book(book(position="0.1")))) == {"sell"}


def test_when_the_room_shrinks_below_a_live_bid_then_it_is_replaced_by_a_smaller_one() -> None:
    strategy = asm.STRATEGY(seed=0)
    first = by_side(strategy.on_book(book(position="0.08")))
    live = tuple(o.client_order_id for o in first.values())

    # 1 ms later: far too young to move for price, but a fill of 0.01 would pass the cap
    actions = strategy.on_book(book(ts_ms=1, position="0.095", open_orders=live))

    assert [c.client_order_id for c in cancels(actions)] == [first["buy"].client_order_id]
    assert [(o.side, o.qty) for o in news(actions)] == [("buy", Decimal("0.005"))]


def test_when_short_at_the_cap_then_only_the_bid_is_quoted() -> None:
    sides = by_side(asm.STRATEGY(seed=0).on_book(book(position="-0.1")))

    assert set(sides) == {"buy"}


def test_when_near_the_cap_then_the_bid_is_cut_to_the_room_left() -> None:
    sides = by_side(asm.STRATEGY(seed=0).on_book(book(position="0.0962")))

    assert sides["buy"].qty == Decimal("0.0038")
    assert sides["sell"].qty == Decimal("0.01")


def test_when_the_position_reaches_the_cap_then_the_live_bid_is_cancelled() -> None:
    strategy = asm.STRATEGY(seed=0)
    first = by_side(strategy.on_book(book(position="0.09")))
    live = tuple(o.client_order_id for o in first.values())

    actions = strategy.on_book(book(ts_ms=10, position="0.1", open_orders=live))

    assert [c.client_order_id for c in cancels(actions)] == [first["buy"].client_order_id]
    assert news(actions) == []


def quoted(strategy: Any, **kwargs: Any) -> tuple[dict[str, NewOrder], tuple[str, ...]]:
    sides = by_side(strategy.on_book(book(**kwargs)))
    return sides, tuple(o.client_order_id for o in sides.values())


def test_when_the_model_moved_less_than_requote_ticks_then_quotes_stay() -> None:
    strategy = asm.STRATEGY(seed=0)
    _, live = quoted(strategy)

    # the mid moves 2 USDT (the model by less than 300 ticks), long after the minimum life
    assert strategy.on_book(book("60002.00", "60002.01", ts_ms=5_000, open_orders=live)) == []


def test_when_the_model_moved_requote_ticks_then_cancel_then_new_with_fresh_ids() -> None:
    strategy = asm.STRATEGY(seed=0)
    first, live = quoted(strategy)

    actions = strategy.on_book(book("60010.00", "60010.01", ts_ms=5_000, open_orders=live))

    assert [type(a) for a in actions] == [CancelOrder, CancelOrder, NewOrder, NewOrder]
    assert [c.client_order_id for c in cancels(actions)] == list(live)
    assert [o.client_order_id for o in news(actions)] == ["as-mm-BTCUSDT-3", "as-mm-BTCUSDT-4"]
    moved = by_side(actions)
    assert moved["buy"].price > first["buy"].price
    assert moved["sell"].price > first["sell"].price


def test_when_the_model_moved_but_the_quote_is_young_then_it_stays() -> None:
    strategy = asm.STRATEGY(seed=0)
    _, live = quoted(strategy)

    assert strategy.on_book(book("60010.00", "60010.01", ts_ms=499, open_orders=live)) == []
    assert len(strategy.on_book(book("60010.00", "60010.01", ts_ms=500, open_orders=live))) == 4


def test_when_a_seen_order_is_gone_then_only_that_side_is_requoted() -> None:
    strategy = asm.STRATEGY(seed=0)
    first, live = quoted(strategy)
    assert strategy.on_book(book(ts_ms=1, open_orders=live)) == []

    actions = strategy.on_book(book(ts_ms=2, open_orders=(first["sell"].client_order_id,)))

    assert cancels(actions) == []
    assert [(o.side, o.client_order_id) for o in news(actions)] == [("buy", "as-mm-BTCUSDT-3")]


def test_when_an_order_is_not_yet_open_then_it_is_pending_until_the_grace_ends() -> None:
    strategy = asm.STRATEGY(seed=0)
    quoted(strategy)

    assert strategy.on_book(book(ts_ms=999)) == []  # sent, not acked yet: still pending
    assert len(news(strategy.on_book(book(ts_ms=1_000)))) == 2  # never opened: rejected


def test_when_a_quote_is_filled_then_its_side_is_requoted_at_the_next_book() -> None:
    strategy = asm.STRATEGY(seed=0)
    first, _ = quoted(strategy)
    bid = first["buy"]
    strategy.on_fill(
        FillView(
            venue="binance",
            symbol="BTC/USDT",
            client_order_id=bid.client_order_id,
            side="buy",
            qty=bid.qty,
            price=bid.price or Decimal(0),
            ts_ms=3,
        )
    )

    actions = strategy.on_book(
        book(ts_ms=4, position="0.01", open_orders=(first["sell"].client_order_id,))
    )

    assert [o.side for o in news(actions)] == ["buy"]


def test_when_an_untracked_order_is_open_then_it_is_cancelled_once_per_grace() -> None:
    strategy = asm.STRATEGY(seed=0)
    _, live = quoted(strategy)
    stray = ("as-mm-BTCUSDT-99", *live)

    first = strategy.on_book(book(ts_ms=10, open_orders=stray))
    again = strategy.on_book(book(ts_ms=20, open_orders=stray))
    later = strategy.on_book(book(ts_ms=1_010, open_orders=stray))

    assert [c.client_order_id for c in cancels(first)] == ["as-mm-BTCUSDT-99"]
    assert again == []
    assert [c.client_order_id for c in cancels(later)] == ["as-mm-BTCUSDT-99"]


def test_when_the_mid_is_volatile_then_the_estimate_and_the_spread_rise() -> None:
    calm, wild = asm.STRATEGY(seed=0), asm.STRATEGY(seed=0)
    rng = random.Random(5)
    for i in range(600):
        ts = i * 1_000  # ten minutes: ten half-lives of the prior
        calm.on_book(book("60000.00", "60000.01", ts_ms=ts))
        jump = Decimal(rng.choice((-30, 30)))
        wild.on_book(book(60000 + jump, 60000 + jump + TICK, ts_ms=ts))

    calm_q = calm.last_quote("binance", "BTC/USDT")
    wild_q = wild.last_quote("binance", "BTC/USDT")
    floor = asm.quote(
        BTC,
        best_bid=Decimal("60000.00"),
        best_ask=Decimal("60000.01"),
        position=Decimal(0),
        variance=var(0.2),
    ).spread
    assert calm_q.spread == floor  # a still tape decays to the floor, not below
    assert wild_q.spread > 2 * floor


def test_ewma_variance_starts_at_the_prior_and_is_capped() -> None:
    vol = asm.EwmaVariance(asm.VolParams())
    assert vol.per_second() == pytest.approx(asm.variance_per_s(0.5))

    vol.update(60_000.0, 0)
    vol.update(30_000.0, 1)  # a bad print: half the price in a millisecond

    assert vol.per_second() == pytest.approx(asm.variance_per_s(3.0))


def test_params_out_of_bounds_are_refused_with_the_field() -> None:
    with pytest.raises(asm.ParamError) as gamma:
        replace(BTC, gamma=Decimal(0))
    with pytest.raises(asm.ParamError) as size:
        replace(BTC, quote_size=Decimal("0.00015"))
    with pytest.raises(asm.ParamError) as vol:
        asm.VolParams(floor_annual=0.9, prior_annual=0.5)

    assert (gamma.value.field, gamma.value.code) == ("gamma", "strategy.param-out-of-bounds")
    assert "gamma was 0; it must be > 0" in str(gamma.value)
    assert size.value.field == "quote_size"
    assert vol.value.field == "vol"


# --- determinism and loading -----------------------------------------------------------


def session(seed: int, n: int = 300) -> list[Any]:
    rng = random.Random(42)
    strategy = asm.STRATEGY(seed=seed)
    out: list[Any] = []
    mid = Decimal("3000.00")
    for i in range(n):
        mid += rng.randint(-20, 20) * TICK
        actions = strategy.on_book(
            book(
                mid,
                mid + TICK,
                ts_ms=i * 250,
                symbol="ETH/USDT",
                position=rng.choice(("0", "0.4", "-1")),
            )
        )
        out.append(list(actions))
    return out


def test_when_the_same_books_arrive_then_the_same_actions_whatever_the_seed() -> None:
    first = session(seed=1)

    assert first == session(seed=1)
    assert first == session(seed=99)  # the seed is unused: no jitter
    assert sum(len(a) for a in first) > 100


def test_when_loaded_by_path_without_sys_modules_then_it_builds_a_strategy() -> None:
    module = load("as_unregistered", register=False)
    strategy = module.STRATEGY(seed=3)

    assert strategy.name == "as-mm"
    assert len(strategy.on_book(book())) == 2
    strategy.on_fill(
        FillView(
            venue="binance",
            symbol="BTC/USDT",
            client_order_id="x",
            side="buy",
            qty=Decimal(1),
            price=Decimal(1),
            ts_ms=0,
        )
    )


# --- a small simulated session ---------------------------------------------------------


def simulate(params: Any, *, steps: int = 2_000, seed: int = 7) -> dict[str, Any]:
    """A random-walk book (one-tick spread); a resting quote fills in full when the new
    book trades through it; acks and cancels are immediate."""
    rng = random.Random(seed)
    market = params.markets[0]
    strategy = asm.AvellanedaStoikov(seed=seed, params=params)
    live: dict[str, NewOrder] = {}
    position = Decimal(0)
    mid = Decimal("60000.00")
    stats: dict[str, Any] = {
        "fills": {"buy": 0, "sell": 0},
        "max_abs": Decimal(0),
        "flat_books": 0,
        "capped_books": 0,
    }
    for i in range(steps):
        ts = i * 100
        mid += Decimal(round(rng.gauss(0, 300))) * TICK
        best_bid, best_ask = mid, mid + TICK
        for oid, order in list(live.items()):
            assert order.price is not None
            touched = best_ask <= order.price if order.side == "buy" else best_bid >= order.price
            if touched:
                position += order.qty if order.side == "buy" else -order.qty
                del live[oid]
                stats["fills"][order.side] += 1
                strategy.on_fill(
                    FillView(
                        venue=market.venue,
                        symbol=market.symbol,
                        client_order_id=oid,
                        side=order.side,
                        qty=order.qty,
                        price=order.price,
                        ts_ms=ts,
                    )
                )
        assert abs(position) <= market.max_inventory
        stats["max_abs"] = max(stats["max_abs"], abs(position))
        view = book(best_bid, best_ask, ts_ms=ts, position=position, open_orders=tuple(live))
        for action in strategy.on_book(view):
            if isinstance(action, CancelOrder):
                live.pop(action.client_order_id, None)
                continue
            assert action.price is not None
            assert action.time_in_force == "PO"
            assert action.price < best_ask if action.side == "buy" else action.price > best_bid
            assert action.price % market.tick == 0
            assert action.qty % market.qty_step == 0
            live[action.client_order_id] = action
        sides = [o.side for o in live.values()]
        assert sides.count("buy") <= 1
        assert sides.count("sell") <= 1
        if abs(position) == market.max_inventory:
            stats["capped_books"] += 1
            assert sides == ["sell" if position > 0 else "buy"]
        if position == 0:
            stats["flat_books"] += 1
            assert sorted(sides) == ["buy", "sell"]
    return stats


def test_simulation_keeps_inventory_within_the_cap_and_quotes_both_sides_when_flat() -> None:
    stats = simulate(asm.DEFAULT_PARAMS)

    assert stats["fills"]["buy"] > 30
    assert stats["fills"]["sell"] > 30
    assert stats["flat_books"] > 500


def test_simulation_with_a_tight_cap_reaches_it_and_never_passes_it() -> None:
    tight = replace(BTC, max_inventory=Decimal("0.02"))
    stats = simulate(replace(asm.DEFAULT_PARAMS, markets=(tight,)), seed=3)

    assert stats["max_abs"] == Decimal("0.02")
    assert stats["capped_books"] > 0  # and there only the reducing side was quoted
