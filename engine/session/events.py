"""The events of a session file, one model per ``type``, and the optional header line.

A session is what a trading day looked like from the bot's seat: market data (trades,
tops of book), account snapshots (balances, positions), the strategy's signals and
orders, what the venue did (429s, errors, outages, latencies) and the fills it reported.
Two clocks travel on each event: ``ts_ms``, the venue's, when it gave one, and
``recv_ms``, the receiver's, always. The replay runs on ``recv_ms``, in file order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from riskctl.session.fields import (
    Amount,
    Asset,
    Ms,
    Name,
    Price,
    Qty,
    SessionModel,
    Side,
    Signed,
    Size,
    Symbol,
    Venue,
)

__all__ = [
    "EVENT_TYPES",
    "BalanceEvent",
    "BookEvent",
    "FillEvent",
    "OrderEvent",
    "PositionEvent",
    "SessionEvent",
    "SessionHeader",
    "SessionLine",
    "SignalEvent",
    "TradeEvent",
    "VenueEvent",
]

_VENUE = "Venue id as ccxt spells it, e.g. binance."
_SYMBOL = "Unified ccxt symbol, e.g. BTC/USDT (spot) or BTC/USDT:USDT (linear perpetual)."
_RECV = (
    "Receiver time, epoch milliseconds: when the event reached the bot. The replay's clock;"
    " should not decrease from line to line (a few ms back is read as is, never reordered)."
)
_TS = "Venue time, epoch milliseconds; omitted when the venue gave none."


_ARTICLE = {"new": "a new", "amend": "an amended"}


def _shape(field: str, message: str) -> PydanticCustomError:
    """A cross-field error that names the field it is about (the reader locates it)."""
    return PydanticCustomError("session_shape", "{message}", {"field": field, "message": message})


class TradeEvent(SessionModel):
    """A public trade (a print) on the venue."""

    type: Literal["trade"] = Field(description="A public trade.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    id: Name = Field(description="The venue's trade id, as text (Binance's are integers).")
    price: Price = Field(description="Trade price, quote currency.")
    qty: Qty = Field(description="Trade quantity, base units.")
    side: Side | None = Field(
        default=None,
        description=(
            "The taker's side: buy lifted the ask, sell hit the bid; omitted when the source"
            " does not say (a trade recorded from an ingest context)."
        ),
    )
    trade_type: str | None = Field(
        default=None,
        max_length=40,
        description=(
            "The venue's trade-type label (Binance futures: MARKET, INSURANCE_FUND, ADL, NA);"
            " omitted when the venue gives none. INSURANCE_FUND and ADL prints can be far off"
            " the market."
        ),
    )
    ts_ms: Ms | None = Field(default=None, description=_TS)
    recv_ms: Ms = Field(description=_RECV)


class BookEvent(SessionModel):
    """The top of the book: best bid and ask with their sizes. A side may be empty."""

    type: Literal["book"] = Field(description="A top of book.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    bid: Price | None = Field(default=None, description="Best bid; omitted when there is none.")
    ask: Price | None = Field(default=None, description="Best ask; omitted when there is none.")
    bid_qty: Size | None = Field(default=None, description="Size at the best bid, base units.")
    ask_qty: Size | None = Field(default=None, description="Size at the best ask, base units.")
    seq: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        strict=True,
        description=(
            "The venue's update id, when it has one. Binance bookTicker ids rise but skip"
            " (RiskLimits venues[].sequence: {book: monotonic})."
        ),
    )
    ts_ms: Ms | None = Field(default=None, description=_TS)
    recv_ms: Ms = Field(description=_RECV)


class BalanceEvent(SessionModel):
    """A balance snapshot of one asset in the venue account."""

    type: Literal["balance"] = Field(description="A balance snapshot.")
    venue: Venue = Field(description=_VENUE)
    asset: Asset = Field(description="Asset code, e.g. USDT or BTC.")
    free: Amount = Field(description="Free (available) amount of the asset.")
    locked: Amount = Field(description="Amount held by open orders.")
    recv_ms: Ms = Field(description=_RECV)


class PositionEvent(SessionModel):
    """A position snapshot as the venue reports it."""

    type: Literal["position"] = Field(description="A position snapshot.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    qty: Signed = Field(description="Signed position, base units (short < 0).")
    recv_ms: Ms = Field(description=_RECV)


class SignalEvent(SessionModel):
    """A strategy's intent, before it becomes an order."""

    type: Literal["signal"] = Field(description="A strategy signal.")
    strategy: Name = Field(description="Strategy name.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    side: Side = Field(description="buy or sell.")
    qty: Qty = Field(description="Intended quantity, base units.")
    price: Price | None = Field(default=None, description="Intended price; omitted for market.")
    recv_ms: Ms = Field(description=_RECV)


class OrderEvent(SessionModel):
    """A recorded strategy action: a new order, an amend of one, or a cancel.

    A new order and an amend carry the whole order (side, order_type, qty, and price for a
    limit); a cancel names only the order.
    """

    type: Literal["order"] = Field(description="A strategy's order action.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    action: Literal["new", "amend", "cancel"] = Field(
        description="new order, amend (the order as it stands after the amend), or cancel."
    )
    client_order_id: Name = Field(description="Client order id; an amend or cancel names it.")
    strategy: Name = Field(description="Strategy that sent the action.")
    side: Side | None = Field(default=None, description="buy or sell; for new and amend.")
    order_type: Literal["limit", "market"] | None = Field(
        default=None, description="limit or market; for new and amend."
    )
    qty: Qty | None = Field(default=None, description="Quantity, base units; for new and amend.")
    price: Price | None = Field(
        default=None, description="Limit price; for limit orders only, omitted for market."
    )
    time_in_force: Literal["GTC", "IOC", "PO"] = Field(
        default="GTC", description="GTC, IOC or PO (post-only)."
    )
    reduce_only: bool = Field(default=False, description="Flagged reduce-only to the venue.")
    group: Name | None = Field(
        default=None, description="Basket id shared by the legs of one trade (a legged basket)."
    )
    leg_timeout_ms: Ms | None = Field(
        default=None, description="How long a basket's legs may stay unfilled once one filled."
    )
    recv_ms: Ms = Field(description=_RECV)

    @model_validator(mode="after")
    def _shape_of_action(self) -> OrderEvent:
        if self.action == "cancel":
            for name in ("side", "order_type", "qty", "price", "group", "leg_timeout_ms"):
                if getattr(self, name) is not None:
                    raise _shape(name, "a cancel names only its order; remove it")
            return self
        for name in ("side", "order_type", "qty"):
            if getattr(self, name) is None:
                raise _shape(name, f"is required for {_ARTICLE[self.action]} order")
        if self.order_type == "limit" and self.price is None:
            raise _shape("price", "is required for a limit order")
        if self.order_type == "market" and self.price is not None:
            raise _shape("price", "a market order has no price; remove it")
        if self.leg_timeout_ms is not None and self.group is None:
            raise _shape("leg_timeout_ms", "is for basket legs; give a group too")
        return self


VenueAction = Literal["rate_limited", "error", "outage_start", "outage_end", "latency"]


class VenueEvent(SessionModel):
    """What the venue did to our requests, so a replay meets the same faults at its paper venue.

    ``rate_limited`` and ``error`` fail the next ``count`` requests; ``outage_start`` fails
    every request until ``outage_end``; ``latency`` delays the next ``count`` requests by
    ``latency_ms``.
    """

    type: Literal["venue"] = Field(description="A venue fault or response.")
    venue: Venue = Field(description=_VENUE)
    event: VenueAction = Field(
        description="rate_limited (HTTP 429/418), error, outage_start, outage_end or latency."
    )
    retry_after_s: Size | None = Field(
        default=None, description="The venue's Retry-After, seconds, when it sent one."
    )
    http_status: int | None = Field(
        default=None, ge=100, le=599, strict=True, description="HTTP status the venue answered."
    )
    error_class: str | None = Field(
        default=None,
        max_length=100,
        description="The error's class, e.g. ccxt's DDoSProtection or ExchangeNotAvailable.",
    )
    latency_ms: Ms | None = Field(
        default=None, description="Request latency, milliseconds; required for latency."
    )
    count: int = Field(
        default=1, ge=1, le=1_000_000, strict=True, description="How many requests it affects."
    )
    recv_ms: Ms = Field(description=_RECV)

    @model_validator(mode="after")
    def _latency_needs_ms(self) -> VenueEvent:
        if self.event == "latency" and self.latency_ms is None:
            raise _shape("latency_ms", "is required for a latency event")
        return self


class FillEvent(SessionModel):
    """A fill the venue reported, as recorded. Informative: a replay's paper venue makes its own."""

    type: Literal["fill"] = Field(description="A recorded fill.")
    venue: Venue = Field(description=_VENUE)
    symbol: Symbol = Field(description=_SYMBOL)
    client_order_id: Name = Field(description="Client order id of the filled order.")
    trade_id: Name = Field(description="The venue's trade id (the fill's idempotency key).")
    side: Side = Field(description="buy or sell: our order's side.")
    qty: Qty = Field(description="Filled quantity, base units.")
    price: Price = Field(description="Fill price, quote currency.")
    fee: Signed = Field(description="Fee paid, quote currency; a rebate is negative.")
    ts_ms: Ms = Field(description="Venue time of the fill, epoch milliseconds.")
    recv_ms: Ms = Field(description=_RECV)


class SessionHeader(SessionModel):
    """The optional first line of a session file: what the session is."""

    type: Literal["session"] = Field(description="The session header.")
    version: Literal[1] = Field(default=1, description="Version of the session format.")
    name: Name = Field(description="Short name of the session.")
    description: str | None = Field(
        default=None, max_length=10_000, description="What the session holds, and its source."
    )
    venues: list[Venue] = Field(default_factory=list, description="Venues the session covers.")
    symbols: list[Symbol] = Field(
        default_factory=list, description="Unified symbols the session covers."
    )
    start_ms: Ms | None = Field(default=None, description="First recv_ms, epoch milliseconds.")
    end_ms: Ms | None = Field(default=None, description="Last recv_ms, epoch milliseconds.")

    @model_validator(mode="after")
    def _ordered(self) -> SessionHeader:
        if self.start_ms is not None and self.end_ms is not None and self.end_ms < self.start_ms:
            raise _shape("end_ms", f"{self.end_ms} is before start_ms {self.start_ms}")
        return self


EventClass = (
    type[TradeEvent]
    | type[BookEvent]
    | type[BalanceEvent]
    | type[PositionEvent]
    | type[SignalEvent]
    | type[OrderEvent]
    | type[VenueEvent]
    | type[FillEvent]
)
SessionEvent = Annotated[
    TradeEvent
    | BookEvent
    | BalanceEvent
    | PositionEvent
    | SignalEvent
    | OrderEvent
    | VenueEvent
    | FillEvent,
    Field(discriminator="type"),
]
"""Any event of a session, told apart by ``type``."""

SessionLine = Annotated[
    SessionHeader
    | TradeEvent
    | BookEvent
    | BalanceEvent
    | PositionEvent
    | SignalEvent
    | OrderEvent
    | VenueEvent
    | FillEvent,
    Field(discriminator="type"),
]
"""Any line of a session file: the header or an event (what the JSON Schema describes)."""

EVENT_TYPES: dict[str, EventClass] = {
    "trade": TradeEvent,
    "book": BookEvent,
    "balance": BalanceEvent,
    "position": PositionEvent,
    "signal": SignalEvent,
    "order": OrderEvent,
    "venue": VenueEvent,
    "fill": FillEvent,
}
"""``type`` -> event class."""
