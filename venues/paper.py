"""A paper venue: the gateway's ``Venue`` interface over an in-memory book, for replay and tests.

Deterministic: time is whatever the caller last set with ``set_top`` (a replay's event
time), ids are counters, and an order fills only against the top of book it was given:
a marketable order at once at the touch (at its limit or better), a resting limit order
when a later top crosses it. Fees are ``fee_bps`` of the traded value, in the quote
currency. ``fail_next`` injects venue errors (a 429 burst, an outage) and ``delay_next``
slow answers (through ``sleep``: a replay's session clock), so a replay meets them at the
gateway exactly as it would meet them from a real venue.

Memory is bounded, so a replay of any length runs in the same space: the newest
``MEMORY`` closed orders, trades and requests are kept (a client order id older than that
is no longer refused as a duplicate); open orders are kept until they close.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from riskctl.context import Instrument
from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.records import OrderRequest, Top, VenueOrder, VenueTrade

__all__ = ["PaperVenue"]

ZERO = Decimal(0)
BPS = Decimal(10_000)
MEMORY = 10_000  # closed orders, trades and requests kept


@dataclass(slots=True)
class _Resting:
    order: VenueOrder
    request: OrderRequest


class PaperVenue:
    """One paper account at one venue id."""

    def __init__(
        self,
        venue_id: str,
        *,
        instruments: Mapping[str, Instrument] | None = None,
        balances: Mapping[str, Decimal] | None = None,
        fee_bps: Decimal = Decimal("1"),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._venue_id = venue_id
        self._sleep = sleep
        self._instruments = dict(instruments or {})
        self._balances: dict[str, Decimal] = dict(balances or {})
        self._fee_rate = fee_bps / BPS
        self._tops: dict[str, Top] = {}
        self._orders: dict[str, _Resting] = {}  # client order id -> order, open or closed
        self._open: dict[str, dict[str, _Resting]] = {}  # symbol -> client order id -> open
        self._closed: deque[str] = deque()  # client order ids of closed orders, oldest first
        self._trades: deque[VenueTrade] = deque(maxlen=MEMORY)
        self._unread: list[VenueTrade] = []  # trades since the last take_trades()
        self._faults: deque[VenueError] = deque()
        self._delays: deque[list[float]] = deque()  # [seconds, requests left], in order
        self._lose = 0
        self._down = False
        self._now_ms = 0
        self._ids = 0
        # (now_ms, call, symbol) of the newest requests that reached the venue; all counted
        self.requests: deque[tuple[int, str, str]] = deque(maxlen=MEMORY)
        self.request_counts: Counter[str] = Counter()

    @property
    def venue_id(self) -> str:
        return self._venue_id

    # -- the replay's side -------------------------------------------------------------------

    def set_top(self, symbol: str, bid: Decimal | None, ask: Decimal | None, ts_ms: int) -> None:
        """A new top of book: resting orders it crosses fill at their limit price."""
        self._now_ms = max(self._now_ms, ts_ms)
        self._tops[symbol] = Top(symbol, bid, ask, ts_ms)
        resting_here = self._open.get(symbol)
        if not resting_here:
            return
        for resting in list(resting_here.values()):
            if self._crosses(resting.request):
                self._fill(resting, resting.order.price or ZERO)

    def fail_next(self, error: VenueError, count: int = 1) -> None:
        """The next ``count`` requests fail with ``error`` (and reach nothing)."""
        self._faults.extend([error] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        """The next ``count`` requests take ``seconds`` to answer (a slow venue); they
        still reach the venue. Delays queue after the ones already waiting."""
        if not seconds >= 0:
            raise ValueError(f"delay of {seconds} s; it must be a number >= 0")
        if count > 0:
            self._delays.append([seconds, count])

    def set_outage(self, down: bool) -> None:
        """While down, every request fails as unavailable (a venue outage) and reaches nothing."""
        self._down = down

    def reserved(self, asset: str) -> Decimal:
        """What open orders hold of ``asset``: the quote of buys, the base of sells."""
        held = ZERO
        for resting in self._all_open():
            order = resting.order
            base, _, quote = order.symbol.partition("/")
            left = order.qty - order.filled_qty
            if order.side == "buy" and quote.partition(":")[0] == asset:
                held += left * (order.price or ZERO)
            elif order.side == "sell" and base == asset:
                held += left
        return held

    def set_balance(self, asset: str, total: Decimal) -> None:
        self._balances[asset] = total

    def balance(self, asset: str) -> Decimal:
        return self._balances.get(asset, ZERO)

    def lose_next_response(self, count: int = 1) -> None:
        """The next ``count`` creates reach the book but their answers are lost on the wire."""
        self._lose += count

    @property
    def trades(self) -> list[VenueTrade]:
        """The newest trades (up to ``MEMORY``), oldest first."""
        return list(self._trades)

    def take_trades(self) -> list[VenueTrade]:
        """The trades made since the last call, oldest first."""
        fresh, self._unread = self._unread, []
        return fresh

    def rate_limit_headroom_pct(self) -> float:
        return 100.0  # a paper venue has no request limit

    # -- Venue -------------------------------------------------------------------------------

    async def load_instruments(self) -> Mapping[str, Instrument]:
        return dict(self._instruments)

    async def fetch_top(self, symbol: str) -> Top:
        await self._request("fetch_top", symbol)
        return self._tops.get(symbol, Top(symbol, None, None, None))

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        await self._request("fetch_balances", "")
        return dict(self._balances)

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        await self._request("create_order", request.symbol)
        if request.client_order_id in self._orders:
            raise self._error(VenueErrorKind.REJECTED, "duplicate client order id")
        if request.type == "limit" and request.price is None:
            raise self._error(VenueErrorKind.REJECTED, "a limit order needs a price")
        self._ids += 1
        order = VenueOrder(
            id=f"paper-{self._ids}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            qty=request.qty,
            price=request.price,
            filled_qty=ZERO,
            status="open",
            ts_ms=self._now_ms,
        )
        resting = _Resting(order, request)
        self._orders[request.client_order_id] = resting
        self._open.setdefault(request.symbol, {})[request.client_order_id] = resting
        top = self._tops.get(request.symbol)
        if self._crosses(request):
            assert top is not None
            touch = top.ask if request.side == "buy" else top.bid
            assert touch is not None
            self._fill(resting, touch)
        elif request.type == "market" or request.time_in_force in ("IOC", "FOK"):
            self._set(resting, replace(order, status="canceled"))  # nothing to trade against
        if self._lose:
            self._lose -= 1
            raise self._error(VenueErrorKind.UNAVAILABLE, "connection lost before the answer")
        return resting.order

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        await self._request("cancel_order", symbol)
        resting = self._orders.get(client_order_id)
        if resting is None or not resting.order.is_open:
            raise self._error(VenueErrorKind.ORDER_NOT_FOUND, f"unknown order {client_order_id}")
        self._set(resting, replace(resting.order, status="canceled"))
        return resting.order

    async def cancel_all(self, symbol: str | None = None) -> list[VenueOrder]:
        await self._request("cancel_all", symbol or "")
        done = []
        for resting in list(self._all_open()):
            if symbol in (None, resting.order.symbol):
                self._set(resting, replace(resting.order, status="canceled"))
                done.append(resting.order)
        return done

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        await self._request("fetch_open_orders", symbol or "")
        return [r.order for r in self._all_open() if symbol in (None, r.order.symbol)]

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        await self._request("fetch_order", symbol)
        resting = self._orders.get(client_order_id)
        return None if resting is None else resting.order

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[VenueTrade]:
        await self._request("fetch_trades", symbol)
        return [
            t
            for t in self._trades
            if t.symbol == symbol and (since_ms is None or t.ts_ms >= since_ms)
        ]

    async def close(self) -> None:
        return None

    # -- matching ----------------------------------------------------------------------------

    async def _request(self, call: str, symbol: str) -> None:
        if self._delays:
            delay = self._delays[0]
            delay[1] -= 1
            if delay[1] <= 0:
                self._delays.popleft()
            await self._sleep(delay[0])
        if self._down:
            raise self._error(VenueErrorKind.UNAVAILABLE, "the venue is down (an outage)")
        if self._faults:
            raise self._faults.popleft()
        self.requests.append((self._now_ms, call, symbol))
        self.request_counts[call] += 1

    def _all_open(self) -> Iterable[_Resting]:
        """Open orders, in the order they were created within each symbol."""
        for by_id in self._open.values():
            yield from by_id.values()

    def _set(self, resting: _Resting, order: VenueOrder) -> None:
        """A new state of an order: a closed one leaves the book (and, in time, memory)."""
        resting.order = order
        if order.is_open:
            return
        cid = resting.request.client_order_id
        by_id = self._open.get(order.symbol)
        if by_id is not None and by_id.pop(cid, None) is not None:
            self._closed.append(cid)
            while len(self._closed) > MEMORY:
                old = self._closed.popleft()
                if not self._orders[old].order.is_open:
                    del self._orders[old]

    def _error(self, kind: VenueErrorKind, message: str) -> VenueError:
        return VenueError(kind=kind, venue=self._venue_id, message=message)

    def _crosses(self, request: OrderRequest) -> bool:
        top = self._tops.get(request.symbol)
        if top is None:
            return False
        touch = top.ask if request.side == "buy" else top.bid
        if touch is None:
            return False
        if request.type == "market" or request.price is None:
            return True
        return touch <= request.price if request.side == "buy" else touch >= request.price

    def _fill(self, resting: _Resting, price: Decimal) -> None:
        order = resting.order
        qty = order.qty - order.filled_qty
        fee = qty * price * self._fee_rate
        self._ids += 1
        trade = VenueTrade(
            id=f"paper-t{self._ids}",
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=resting.request.side,
            qty=qty,
            price=price,
            fee=fee,
            ts_ms=self._now_ms,
        )
        self._trades.append(trade)
        self._unread.append(trade)
        base, _, quote = order.symbol.partition("/")
        quote = quote.partition(":")[0]
        sign = 1 if trade.side == "buy" else -1
        self._balances[base] = self._balances.get(base, ZERO) + sign * qty
        self._balances[quote] = self._balances.get(quote, ZERO) - sign * qty * price - fee
        self._set(resting, replace(order, filled_qty=order.qty, status="filled"))
