"""The mock's trading state: top of book, orders, fills and balances, with no I/O.

The market is one standing quote per symbol (``Top``: best bid, best ask, the quantity at
each) that other traders keep refilling: a marketable order takes up to ``qty`` at that
price and the quote is not consumed. An order that is not marketable rests on the book
until :meth:`MatchingEngine.set_book` moves the quote through it or
:meth:`MatchingEngine.cross` prints a trade at or through its price; it then fills whole,
as maker, at its own price. Funds an open order needs are locked as Binance does (a buy
locks price x quantity of the quote asset, a sell the quantity of the base asset), and a
fill pays commission in the asset received.

Every value is a Decimal; orders and trades are frozen records, replaced on each change,
so a snapshot handed to a test never changes under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from riskctl.venues.mock_exchange import errors
from riskctl.venues.mock_exchange.markets import SymbolSpec

__all__ = ["Balance", "MatchingEngine", "NewOrder", "Order", "Top", "Trade"]

Side = Literal["BUY", "SELL"]
OrderType = Literal["LIMIT", "LIMIT_MAKER", "MARKET"]
Status = Literal["NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "EXPIRED"]
_OPEN = ("NEW", "PARTIALLY_FILLED")
_EIGHT = Decimal("0.00000001")


def _round8(value: Decimal) -> Decimal:
    return value.quantize(_EIGHT, rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Top:
    """The standing quote: best bid and ask, and the quantity shown at each."""

    bid: Decimal
    ask: Decimal
    qty: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    free: Decimal
    locked: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """An order as POST /api/v3/order states it (``qty`` or, for MARKET, ``quote_qty``)."""

    symbol: str
    side: Side
    type: OrderType
    client_order_id: str
    qty: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None
    time_in_force: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order on the mock; ``locked`` is what it still holds of the account's funds."""

    symbol: str
    order_id: int
    client_order_id: str
    side: Side
    type: OrderType
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    executed_qty: Decimal
    cum_quote: Decimal
    status: Status
    time_ms: int
    update_ms: int
    locked: Decimal

    @property
    def is_open(self) -> bool:
        return self.status in _OPEN

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One fill of one of the account's orders."""

    symbol: str
    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_buyer: bool
    is_maker: bool


class MatchingEngine:
    """Orders, fills and balances for a set of symbols; every method is synchronous."""

    def __init__(
        self,
        *,
        specs: Iterable[SymbolSpec],
        tops: Mapping[str, Top],
        balances: Mapping[str, Decimal],
        maker_fee: Decimal,
        taker_fee: Decimal,
        unique_client_ids: Literal["open", "all"],
    ) -> None:
        self.specs = {spec.symbol: spec for spec in specs}
        self.tops = {symbol: tops[symbol] for symbol in self.specs}
        self.balances = {asset: Balance(free=free) for asset, free in balances.items()}
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.unique_client_ids = unique_client_ids
        self.orders: dict[str, dict[int, Order]] = {symbol: {} for symbol in self.specs}
        self.trades: dict[str, list[Trade]] = {symbol: [] for symbol in self.specs}
        self.last_price = {s: (t.bid + t.ask) / 2 for s, t in self.tops.items()}
        self.open_price = dict(self.last_price)
        self._ids = dict.fromkeys(self.specs, 0)
        self._trade_ids = dict.fromkeys(self.specs, 0)

    def spec(self, symbol: str) -> SymbolSpec:
        spec = self.specs.get(symbol)
        if spec is None:
            raise errors.invalid_symbol()
        return spec

    # -- queries -------------------------------------------------------------------------

    def find(self, symbol: str, *, order_id: int | None, client_id: str | None) -> Order | None:
        """By order id, else the newest order with that client order id."""
        orders = self.orders[self.spec(symbol).symbol]
        if order_id is not None:
            return orders.get(order_id)
        matching = [o for o in orders.values() if o.client_order_id == client_id]
        return matching[-1] if matching else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        symbols = [self.spec(symbol).symbol] if symbol is not None else list(self.specs)
        return [o for s in symbols for o in self.orders[s].values() if o.is_open]

    # -- orders --------------------------------------------------------------------------

    def place(self, new: NewOrder, *, now_ms: int) -> tuple[Order, list[Trade]]:
        """Accept an order, lock its funds, and fill what the standing quote allows."""
        spec, top = self.spec(new.symbol), self.tops[new.symbol]
        self._refuse_duplicate(new)
        reference = top.ask if new.side == "BUY" else top.bid
        qty = self._quantity(new, spec=spec, reference=reference)
        price = new.price if new.type != "MARKET" else None
        spec.check(price=price, qty=qty, notional=(price or reference) * qty)
        marketable = price is None or (price >= top.ask if new.side == "BUY" else price <= top.bid)
        if new.type == "LIMIT_MAKER" and marketable:
            raise errors.would_take()
        order = self._accept(new, spec=spec, qty=qty, lock_price=price or reference, now_ms=now_ms)
        trades: list[Trade] = []
        take = min(qty, top.qty) if marketable else Decimal(0)
        if new.time_in_force == "FOK" and take < qty:
            take = Decimal(0)
        if take > 0:
            order, trade = self._fill(order, price=reference, qty=take, maker=False, now_ms=now_ms)
            trades.append(trade)
        if order.is_open and (new.type == "MARKET" or new.time_in_force in ("IOC", "FOK")):
            order = self._close(order, "EXPIRED", now_ms=now_ms)
        return order, trades

    def cancel(
        self, symbol: str, *, order_id: int | None, client_id: str | None, now_ms: int
    ) -> Order:
        order = self.find(symbol, order_id=order_id, client_id=client_id)
        if order is None or not order.is_open:
            raise errors.unknown_order()
        return self._close(order, "CANCELED", now_ms=now_ms)

    def cancel_all(self, symbol: str, *, now_ms: int, leave_open: int = 0) -> list[Order]:
        """Cancel the symbol's open orders, oldest first, leaving the newest ``leave_open``
        (a fault's partial cancel). With none open Binance answers -2011."""
        open_orders = self.open_orders(symbol)
        if not open_orders:
            raise errors.unknown_order()
        doomed = open_orders[: max(0, len(open_orders) - leave_open)]
        return [self._close(order, "CANCELED", now_ms=now_ms) for order in doomed]

    # -- the market moving ---------------------------------------------------------------

    def set_book(self, symbol: str, top: Top, *, now_ms: int) -> list[Trade]:
        """Move the standing quote; resting orders it moves through fill at their price."""
        if not (0 < top.bid < top.ask) or top.qty <= 0:
            raise ValueError(f"a book needs 0 < bid < ask and qty > 0, got {top}")
        self.tops[self.spec(symbol).symbol] = top
        return self._sweep(symbol, buy_at_or_above=top.ask, sell_at_or_below=top.bid, now_ms=now_ms)

    def cross(self, symbol: str, price: Decimal, *, now_ms: int) -> list[Trade]:
        """A trade prints at ``price``: resting buys at or above it and sells at or below
        it fill."""
        self.last_price[self.spec(symbol).symbol] = price
        return self._sweep(symbol, buy_at_or_above=price, sell_at_or_below=price, now_ms=now_ms)

    def _sweep(
        self, symbol: str, *, buy_at_or_above: Decimal, sell_at_or_below: Decimal, now_ms: int
    ) -> list[Trade]:
        trades = []
        for order in self.open_orders(symbol):
            if order.type == "MARKET":
                continue
            through = (
                order.price >= buy_at_or_above
                if order.side == "BUY"
                else order.price <= sell_at_or_below
            )
            if through:
                _, trade = self._fill(
                    order, price=order.price, qty=order.remaining, maker=True, now_ms=now_ms
                )
                trades.append(trade)
        return trades

    # -- bookkeeping ---------------------------------------------------------------------

    def _refuse_duplicate(self, new: NewOrder) -> None:
        for order in self.orders[new.symbol].values():
            taken = order.is_open or self.unique_client_ids == "all"
            if taken and order.client_order_id == new.client_order_id:
                raise errors.duplicate_order()

    @staticmethod
    def _quantity(new: NewOrder, *, spec: SymbolSpec, reference: Decimal) -> Decimal:
        if new.qty is not None:
            return new.qty
        if new.type == "MARKET" and new.quote_qty is not None:
            return (new.quote_qty / reference) // spec.step_size * spec.step_size
        raise errors.mandatory("quantity")

    def _accept(
        self, new: NewOrder, *, spec: SymbolSpec, qty: Decimal, lock_price: Decimal, now_ms: int
    ) -> Order:
        asset, need = (spec.quote, lock_price * qty) if new.side == "BUY" else (spec.base, qty)
        held = self.balances.get(asset, Balance(free=Decimal(0)))
        if held.free < need:
            raise errors.insufficient_balance()
        self.balances[asset] = Balance(free=held.free - need, locked=held.locked + need)
        self._ids[new.symbol] += 1
        order = Order(
            symbol=new.symbol,
            order_id=self._ids[new.symbol],
            client_order_id=new.client_order_id,
            side=new.side,
            type=new.type,
            time_in_force=new.time_in_force or "GTC",
            price=new.price if new.type != "MARKET" and new.price is not None else Decimal(0),
            orig_qty=qty,
            orig_quote_qty=new.quote_qty or Decimal(0),
            executed_qty=Decimal(0),
            cum_quote=Decimal(0),
            status="NEW",
            time_ms=now_ms,
            update_ms=now_ms,
            locked=need,
        )
        self.orders[new.symbol][order.order_id] = order
        return order

    def _fill(
        self, order: Order, *, price: Decimal, qty: Decimal, maker: bool, now_ms: int
    ) -> tuple[Order, Trade]:
        spec = self.specs[order.symbol]
        quote_amount = price * qty
        fee = self.maker_fee if maker else self.taker_fee
        if order.side == "BUY":
            released = (order.price if order.type != "MARKET" else price) * qty
            self._move(spec.quote, locked=-released, free=released - quote_amount)
            commission, commission_asset = _round8(qty * fee), spec.base
            self._move(spec.base, free=qty - commission)
        else:
            released = qty
            self._move(spec.base, locked=-qty)
            commission, commission_asset = _round8(quote_amount * fee), spec.quote
            self._move(spec.quote, free=quote_amount - commission)
        executed = order.executed_qty + qty
        order = replace(
            order,
            executed_qty=executed,
            cum_quote=order.cum_quote + quote_amount,
            status="FILLED" if executed == order.orig_qty else "PARTIALLY_FILLED",
            update_ms=now_ms,
            locked=order.locked - released,
        )
        if not order.is_open and order.locked:
            self._move(
                spec.quote if order.side == "BUY" else spec.base,
                locked=-order.locked,
                free=order.locked,
            )
            order = replace(order, locked=Decimal(0))
        self.orders[order.symbol][order.order_id] = order
        self._trade_ids[order.symbol] += 1
        trade = Trade(
            symbol=order.symbol,
            trade_id=self._trade_ids[order.symbol],
            order_id=order.order_id,
            price=price,
            qty=qty,
            quote_qty=quote_amount,
            commission=commission,
            commission_asset=commission_asset,
            time_ms=now_ms,
            is_buyer=order.side == "BUY",
            is_maker=maker,
        )
        self.trades[order.symbol].append(trade)
        self.last_price[order.symbol] = price
        return order, trade

    def _close(self, order: Order, status: Status, *, now_ms: int) -> Order:
        spec = self.specs[order.symbol]
        asset = spec.quote if order.side == "BUY" else spec.base
        self._move(asset, locked=-order.locked, free=order.locked)
        order = replace(order, status=status, update_ms=now_ms, locked=Decimal(0))
        self.orders[order.symbol][order.order_id] = order
        return order

    def _move(
        self, asset: str, *, free: Decimal = Decimal(0), locked: Decimal = Decimal(0)
    ) -> None:
        held = self.balances.get(asset, Balance(free=Decimal(0)))
        self.balances[asset] = Balance(free=held.free + free, locked=held.locked + locked)
