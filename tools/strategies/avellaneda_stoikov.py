"""A reference market maker for ``riskctl replay --strategy``: Avellaneda & Stoikov (2008),
"High-frequency trading in a limit order book", with a rolling horizon.

Per book top, in price units (USDT) with ``s`` the mid, ``q`` the position in lots of
``quote_size``, ``sigma²`` the per-second variance of the mid in USDT² and ``tau`` the
constant ``horizon_s`` (an always-open desk has no session end, so ``T - t`` never shrinks)::

    r     = s - q · gamma · sigma² · tau                       reservation price
    delta = gamma · sigma² · tau + (2/gamma) · ln(1 + gamma/k)  total spread
    bid   = r - delta/2,  ask = r + delta/2

then each quote is kept off the other side of the touch (post-only), rounded to the tick
away from the mid, sized to the lot step and withheld where the inventory cap, the minimum
notional or ``max_quote_distance_bps`` says so. Parameters and their calibration: README.md.

Deterministic: the same books and fills give the same actions. ``seed`` is accepted for
the interface and unused (no jitter): the strategy has no randomness to seed.
"""

# No ``from __future__ import annotations``: a replay may load this file with importlib
# without registering it in sys.modules, and dataclasses (Python 3.11) then fail on string
# annotations. Annotations here are evaluated when the module runs.

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Literal

from riskctl.venues.replay.strategy import (
    BookView,
    CancelOrder,
    FillView,
    NewOrder,
    StrategyAction,
)

__all__ = [
    "BTC_USDT_BINANCE",
    "DEFAULT_PARAMS",
    "ETH_USDT_BINANCE",
    "SECONDS_PER_YEAR",
    "STRATEGY",
    "AvellanedaStoikov",
    "EwmaVariance",
    "MarketParams",
    "ParamError",
    "Quote",
    "StrategyParams",
    "VolParams",
    "quote",
    "variance_per_s",
]

SECONDS_PER_YEAR = 365 * 86_400  # crypto trades around the clock
Side = Literal["buy", "sell"]

# One context for every Decimal step, whatever the caller's context is: the same inputs
# give the same prices in any process.
_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
_VARIANCE_DIGITS = 12  # float -> Decimal once, with this many significant digits


class ParamError(ValueError):
    """A parameter out of its bounds: ``code``, ``field`` and a message in full words."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.code = "strategy.param-out-of-bounds"
        self.field = field_name
        self.message = message


def _require(ok: bool, field_name: str, message: str) -> None:
    if not ok:
        raise ParamError(field_name, message)


def _positive(name: str, value: Decimal) -> None:
    _require(value.is_finite() and value > 0, name, f"{name} was {value}; it must be > 0")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketParams:
    """One venue and symbol: its grid, sizes, risk aversion and quoting thresholds."""

    venue: str
    symbol: str
    tick: Decimal  # price grid; quotes round to it away from the mid
    qty_step: Decimal  # quantity grid; sizes round down to it
    quote_size: Decimal  # one lot, base units; q counts lots
    max_inventory: Decimal  # base units, either side: the growing side stops here
    gamma: Decimal  # risk aversion, 1/USDT
    k: Decimal  # decay of fill intensity with distance from the mid, 1/USDT
    requote_ticks: int  # replace a live quote only when the model moved this far
    horizon_s: Decimal = Decimal(60)  # T - t, held constant (rolling horizon)
    min_notional: Decimal = Decimal(5)  # USDT; binance NOTIONAL filter
    min_requote_interval_ms: int = 500  # a live quote this young is not moved for price
    max_quote_distance_bps: Decimal = Decimal(40)  # withhold a side farther from the mid
    liquidity_spread: Decimal = field(init=False, repr=False)  # (2/gamma) ln(1 + gamma/k)

    def __post_init__(self) -> None:
        for name in ("tick", "qty_step", "quote_size", "gamma", "k", "horizon_s"):
            _positive(name, getattr(self, name))
        _positive("max_quote_distance_bps", self.max_quote_distance_bps)
        _require(
            self.min_notional.is_finite() and self.min_notional >= 0,
            "min_notional",
            f"min_notional was {self.min_notional}; it must be >= 0",
        )
        _require(
            self.quote_size % self.qty_step == 0,
            "quote_size",
            f"quote_size was {self.quote_size}; it must be a multiple of qty_step",
        )
        _require(
            self.max_inventory.is_finite() and self.max_inventory >= self.quote_size,
            "max_inventory",
            f"max_inventory was {self.max_inventory}; it must be >= quote_size",
        )
        _require(
            self.requote_ticks >= 1,
            "requote_ticks",
            f"requote_ticks was {self.requote_ticks}; it must be >= 1",
        )
        _require(
            self.min_requote_interval_ms >= 0,
            "min_requote_interval_ms",
            f"min_requote_interval_ms was {self.min_requote_interval_ms}; it must be >= 0",
        )
        with localcontext(_CTX):
            spread = 2 / self.gamma * (1 + self.gamma / self.k).ln()
        object.__setattr__(self, "liquidity_spread", spread)


@dataclass(frozen=True, slots=True, kw_only=True)
class VolParams:
    """The sigma estimate: time half-life, a prior to start from, a floor and a cap."""

    halflife_s: float = 60.0
    prior_annual: float = 0.5  # assumed until the mid has moved for a while
    floor_annual: float = 0.2  # a quiet tape does not shrink the spread to nothing
    cap_annual: float = 3.0  # a bad print does not blow the spread past the collar

    def __post_init__(self) -> None:
        values = (self.halflife_s, self.prior_annual, self.floor_annual, self.cap_annual)
        _require(
            all(math.isfinite(v) and v > 0 for v in values),
            "vol",
            f"halflife_s, prior, floor and cap were {values}; each must be finite and > 0",
        )
        _require(
            self.floor_annual <= self.prior_annual <= self.cap_annual,
            "vol",
            f"floor, prior and cap were {values[1:]}; they must be floor <= prior <= cap",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyParams:
    name: str = "as-mm"
    markets: tuple[MarketParams, ...] = ()
    vol: VolParams = VolParams()
    ack_grace_ms: int = 1_000  # an order neither open nor filled by then is gone

    def __post_init__(self) -> None:
        _require(
            bool(self.name) and "/" not in self.name,
            "name",
            f"name was {self.name!r}; it must be non-empty without '/'",
        )
        keys = [(m.venue, m.symbol) for m in self.markets]
        _require(
            len(keys) == len(set(keys)), "markets", f"markets repeat a venue and symbol: {keys}"
        )
        _require(
            self.ack_grace_ms > 0,
            "ack_grace_ms",
            f"ack_grace_ms was {self.ack_grace_ms}; it must be > 0",
        )


# Binance spot, calibrated at 50% annualised vol (README.md): spread ~2.6 bps, skew ~0.57
# bps per lot. The ETH numbers are the BTC ones scaled by the price ratio (1/20), so both
# quote the same spread in bps for the same return volatility.
BTC_USDT_BINANCE = MarketParams(
    venue="binance",
    symbol="BTC/USDT",
    tick=Decimal("0.01"),
    qty_step=Decimal("0.0001"),
    quote_size=Decimal("0.01"),
    max_inventory=Decimal("0.1"),
    gamma=Decimal("0.002"),
    k=Decimal("0.16"),
    requote_ticks=300,
)
ETH_USDT_BINANCE = MarketParams(
    venue="binance",
    symbol="ETH/USDT",
    tick=Decimal("0.01"),
    qty_step=Decimal("0.0001"),
    quote_size=Decimal("0.2"),
    max_inventory=Decimal("2"),
    gamma=Decimal("0.04"),
    k=Decimal("3.2"),
    requote_ticks=15,
)
DEFAULT_PARAMS = StrategyParams(markets=(BTC_USDT_BINANCE, ETH_USDT_BINANCE))


def variance_per_s(annualised_vol: float) -> float:
    """The per-second variance of log returns for an annualised volatility."""
    return annualised_vol * annualised_vol / SECONDS_PER_YEAR


class EwmaVariance:
    """Per-second variance of log mid returns, exponentially weighted in time.

    Sums of squared returns and of elapsed seconds decay with the same time constant;
    their ratio is the variance rate whatever the update frequency (a burst of books in
    one millisecond adds variance without adding time). Both sums start from the prior as
    if one time constant of it had been seen, so the estimate is defined from the start.
    """

    __slots__ = ("_cap", "_floor", "_last_mid", "_last_ts_ms", "_sum_dt_s", "_sum_r2", "_tau_s")

    def __init__(self, params: VolParams) -> None:
        self._tau_s = params.halflife_s / math.log(2)
        self._floor = variance_per_s(params.floor_annual)
        self._cap = variance_per_s(params.cap_annual)
        self._sum_r2 = variance_per_s(params.prior_annual) * self._tau_s
        self._sum_dt_s = self._tau_s  # stays >= tau: no division by zero
        self._last_mid: float | None = None
        self._last_ts_ms = 0

    def update(self, mid: float, ts_ms: int) -> None:
        if self._last_mid is not None:
            dt_s = max(0, ts_ms - self._last_ts_ms) / 1000  # an older book adds no time
            r = math.log(mid / self._last_mid)
            decay = math.exp(-dt_s / self._tau_s)
            self._sum_r2 = decay * self._sum_r2 + r * r
            self._sum_dt_s = decay * self._sum_dt_s + dt_s
        self._last_mid = mid
        self._last_ts_ms = max(self._last_ts_ms, ts_ms)

    def per_second(self) -> float:
        return min(max(self._sum_r2 / self._sum_dt_s, self._floor), self._cap)


@dataclass(frozen=True, slots=True)
class Quote:
    """The model's prices for one book, before sizing and withholding."""

    mid: Decimal
    reservation: Decimal
    spread: Decimal  # delta, before the touch clamp and the tick rounding
    bid: Decimal
    ask: Decimal


def _to_grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


def quote(
    market: MarketParams,
    *,
    best_bid: Decimal,
    best_ask: Decimal,
    position: Decimal,
    variance: Decimal,
) -> Quote:
    """Avellaneda–Stoikov prices for a two-sided book (``variance``: per second, of returns).

    A bid never reaches the best ask nor an ask the best bid (post-only), and rounding goes
    away from the mid, so ``bid <= reservation <= ask`` and ``bid < ask`` always hold.
    """
    with localcontext(_CTX):
        mid = (best_bid + best_ask) / 2
        risk = market.gamma * variance * mid * mid * market.horizon_s  # USDT per lot held
        reservation = mid - position / market.quote_size * risk
        spread = risk + market.liquidity_spread
        bid = min(reservation - spread / 2, best_ask - market.tick)
        ask = max(reservation + spread / 2, best_bid + market.tick)
        return Quote(
            mid=mid,
            reservation=reservation,
            spread=spread,
            bid=_to_grid(bid, market.tick, ROUND_FLOOR),
            ask=_to_grid(ask, market.tick, ROUND_CEILING),
        )


@dataclass(slots=True)
class _Live:
    """An order this strategy sent and has not seen end."""

    client_order_id: str
    price: Decimal
    qty: Decimal
    sent_ms: int
    filled: Decimal = Decimal(0)
    seen_open: bool = False


@dataclass(slots=True)
class _MarketState:
    vol: EwmaVariance
    live: dict[Side, _Live] = field(default_factory=dict)
    cancels: dict[str, int] = field(default_factory=dict)  # id -> when its cancel was sent
    last: Quote | None = None


class AvellanedaStoikov:
    """The strategy: one bid and one ask per configured market, from ``quote``."""

    __slots__ = ("_counter", "_markets", "_params", "_states", "name", "seed")

    def __init__(self, *, seed: int = 0, params: StrategyParams = DEFAULT_PARAMS) -> None:
        self.name = params.name
        self.seed = seed  # unused: nothing here is random
        self._params = params
        self._markets = {(m.venue, m.symbol): m for m in params.markets}
        self._states: dict[tuple[str, str], _MarketState] = {}
        self._counter = 0

    def last_quote(self, venue: str, symbol: str) -> Quote | None:
        """The model's prices at the last usable book of that market (for reports, tests)."""
        state = self._states.get((venue, symbol))
        return None if state is None else state.last

    def on_book(self, book: BookView) -> Sequence[StrategyAction]:
        market = self._markets.get((book.venue, book.symbol))
        if market is None or book.bid is None or book.ask is None:
            return ()  # not ours, or a one-sided book: no mid
        if not 0 < book.bid < book.ask:
            return ()  # a crossed or locked top is not a market to quote
        state = self._states.get((book.venue, book.symbol))
        if state is None:
            state = self._states.setdefault(
                (book.venue, book.symbol), _MarketState(EwmaVariance(self._params.vol))
            )
        with localcontext(_CTX):
            state.vol.update(float((book.bid + book.ask) / 2), book.ts_ms)
        variance = Decimal(f"{state.vol.per_second():.{_VARIANCE_DIGITS}g}")
        state.last = quote(
            market, best_bid=book.bid, best_ask=book.ask, position=book.position, variance=variance
        )
        self._forget_ended(state, book)
        cancels = self._sweep_orphans(state, book)
        news: list[StrategyAction] = []
        for side in ("buy", "sell"):
            target = _target(market, state.last, side, book.position)
            self._requote(
                market=market,
                state=state,
                book=book,
                side=side,
                target=target,
                cancels=cancels,
                news=news,
            )
        return [*cancels, *news]

    def on_fill(self, fill: FillView) -> None:
        state = self._states.get((fill.venue, fill.symbol))
        if state is None:
            return
        live = state.live.get(fill.side)
        if live is not None and live.client_order_id == fill.client_order_id:
            live.filled += fill.qty
            if live.filled >= live.qty:
                del state.live[fill.side]  # done: the side is requoted at the next book

    def _forget_ended(self, state: _MarketState, book: BookView) -> None:
        """Drop orders that ended: seen open and now gone, or never open within the grace."""
        grace = self._params.ack_grace_ms
        for side, live in list(state.live.items()):
            if live.client_order_id in book.open_orders:
                live.seen_open = True
            elif live.seen_open or book.ts_ms - live.sent_ms >= grace:
                del state.live[side]
        for oid, sent_ms in list(state.cancels.items()):
            if oid not in book.open_orders and book.ts_ms - sent_ms >= grace:
                del state.cancels[oid]

    def _sweep_orphans(self, state: _MarketState, book: BookView) -> list[StrategyAction]:
        """Cancel open orders not tracked as a live quote, once per grace period."""
        mine = {live.client_order_id for live in state.live.values()}
        out: list[StrategyAction] = []
        for oid in book.open_orders:
            sent_ms = state.cancels.get(oid)
            if oid in mine or (
                sent_ms is not None and book.ts_ms - sent_ms < self._params.ack_grace_ms
            ):
                continue
            state.cancels[oid] = book.ts_ms
            out.append(CancelOrder(venue=book.venue, symbol=book.symbol, client_order_id=oid))
        return out

    def _requote(
        self,
        *,
        market: MarketParams,
        state: _MarketState,
        book: BookView,
        side: Side,
        target: tuple[Decimal, Decimal] | None,
        cancels: list[StrategyAction],
        news: list[StrategyAction],
    ) -> None:
        live = state.live.get(side)
        if live is not None:
            if target is not None and not _stale(market, live, target, book.ts_ms):
                return
            state.cancels[live.client_order_id] = book.ts_ms
            cancels.append(
                CancelOrder(
                    venue=book.venue, symbol=book.symbol, client_order_id=live.client_order_id
                )
            )
            del state.live[side]
        if target is None:
            return
        price, qty = target
        self._counter += 1
        oid = f"{self.name}-{book.symbol.replace('/', '')}-{self._counter}"
        state.live[side] = _Live(client_order_id=oid, price=price, qty=qty, sent_ms=book.ts_ms)
        news.append(
            NewOrder(
                venue=book.venue,
                symbol=book.symbol,
                side=side,
                qty=qty,
                price=price,
                client_order_id=oid,
                time_in_force="PO",
            )
        )


def _target(
    market: MarketParams, q: Quote, side: Side, position: Decimal
) -> tuple[Decimal, Decimal] | None:
    """The price and size to show on one side, or None where that side must stay empty."""
    with localcontext(_CTX):
        if side == "buy":
            price, room = q.bid, market.max_inventory - position
        else:
            price, room = q.ask, market.max_inventory + position
        qty = _to_grid(min(market.quote_size, room), market.qty_step, ROUND_FLOOR)
        if qty <= 0 or price <= 0 or qty * price < market.min_notional:
            return None  # the cap is reached (or nearly), or the order would be dust
        if abs(price - q.mid) / q.mid * 10_000 > market.max_quote_distance_bps:
            return None  # far outside the collar: the gate would only reject it
        return price, qty


def _stale(market: MarketParams, live: _Live, target: tuple[Decimal, Decimal], now_ms: int) -> bool:
    """Whether a live quote must be replaced by the target."""
    price, qty = target
    if live.qty - live.filled > qty:
        return True  # a fill of what is left could carry the position past the cap
    moved = abs(price - live.price) >= market.requote_ticks * market.tick
    return moved and now_ms - live.sent_ms >= market.min_requote_interval_ms


STRATEGY = AvellanedaStoikov  # what `riskctl replay --strategy FILE.py` calls, with seed=
