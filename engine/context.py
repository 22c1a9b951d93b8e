"""One context model per pipeline stage: what arrives, and the symbol table for expressions.

A rule expression may name only fields that exist in its stage's context. Money, prices
and quantities are Decimal (JSON numbers are read as Decimal, never through float), so a
notional exactly at a limit compares the same every time.

Derived fields (``order.notional``, ``market.mid``, ``market.spread_bps``,
``order.signed_qty``, ``order.reduces_position`` ...) are computed once when the context is
validated, never by each rule; they are read-only and refused as input.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CONTEXTS",
    "STAGES",
    "Account",
    "ContextModel",
    "FillContext",
    "IngestContext",
    "MonitorContext",
    "OrderSendContext",
    "PreTradeContext",
    "SignalContext",
]

STAGES = ("ingest", "signal", "pre_trade", "order_send", "fill", "monitor")
TEN_THOUSAND = Decimal(10_000)

Num = Annotated[Decimal, Field(allow_inf_nan=False)]
Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Qty = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Ms = Annotated[int, Field(ge=0)]
Side = Literal["buy", "sell"]
Name = Annotated[str, Field(min_length=1, max_length=100)]


def derived(description: str, *, always: bool = False) -> Any:
    """A read-only field computed by riskctl; omitted from dumps and refused as input.

    ``always`` marks a field the stage always computes, so expressions may use it without
    a null guard (its annotation stays Optional only because it starts unset).
    """
    extra: dict[str, Any] = {"readOnly": True}
    if always:
        extra["alwaysSet"] = True
    return Field(
        default=None,
        exclude=True,
        description=f"Derived, read-only: {description}",
        json_schema_extra=extra,
    )


class ContextModel(BaseModel):
    """Base of every context model: strict keys, no NaN, derived fields refused as input."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    DERIVED: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_derived(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in cls.DERIVED if k in data]
            if given:
                raise ValueError(
                    f"{', '.join(given)} is derived by riskctl; remove it from the input"
                )
        return data

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            object.__setattr__(self, key, value)


# -- building blocks -----------------------------------------------------------------


class State(ContextModel):
    """Trading state as the state store sees it."""

    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] = Field(
        default="ACTIVE",
        description="ACTIVE trades; REDUCING allows only exits; HALTED allows none.",
    )
    kill_switch: bool = Field(
        default=False, description="True when an operator pulled the kill switch."
    )


class Market(ContextModel):
    """Top of book for the order's symbol at its venue."""

    DERIVED = ("mid", "spread_bps")
    bid: Price | None = Field(default=None, description="Best bid; null when the book has no bid.")
    ask: Price | None = Field(default=None, description="Best ask; null when the book has no ask.")
    age_ms: Ms = Field(description="Age of this quote in milliseconds.")
    mid: Decimal | None = derived("(bid + ask) / 2, null without both sides.")
    spread_bps: Decimal | None = derived(
        "(ask - bid) / mid in basis points, null without both sides."
    )

    @model_validator(mode="after")
    def _derive(self) -> Market:
        if self.bid is not None and self.ask is not None:
            mid = (self.bid + self.ask) / 2
            self._set(mid=mid, spread_bps=(self.ask - self.bid) / mid * TEN_THOUSAND)
        return self


class Position(ContextModel):
    """The strategy's position in the order's symbol at its venue, before the order."""

    DERIVED = ("notional", "qty_after")
    qty: Num = Field(default=Decimal(0), description="Signed position in base units (short < 0).")
    avg_price: Price | None = Field(
        default=None, description="Average entry price; null when flat."
    )
    notional: Decimal | None = derived("|qty| x mark (mid, else avg_price); null without a price.")
    qty_after: Decimal | None = derived(
        "qty + order.signed_qty: the position if the order fills completely.", always=True
    )


class Account(ContextModel):
    """The venue account's balances, exposure, P&L and order activity."""

    equity: Num = Field(description="Account equity in quote currency.")
    available_balance: Num = Field(description="Free balance in quote currency.")
    balance_age_ms: Ms = Field(description="Age of the balance snapshot in milliseconds.")
    gross_exposure: Num = Field(
        default=Decimal(0),
        ge=0,
        description="Sum of |position notional| across symbols, before the order.",
    )
    daily_pnl: Num = Field(
        default=Decimal(0), description="P&L since the UTC day began (loss < 0)."
    )
    session_pnl: Num = Field(default=Decimal(0), description="P&L since the session began.")
    drawdown: Num = Field(
        default=Decimal(0), ge=0, description="Drop of equity from the session's peak, >= 0."
    )
    open_orders: Ms = Field(default=0, description="Open orders now, not counting this one.")
    orders_last_second: Ms = Field(
        default=0, description="New orders sent in the last second, not counting this one."
    )


class Order(ContextModel):
    """An order about to be sent (or a cancel or amend of one)."""

    DERIVED = ("notional", "valuation_price", "signed_qty", "reduces_position", "is_exit")
    venue: Name = Field(description="Venue id, e.g. binance.")
    symbol: Name = Field(description="Unified symbol, e.g. BTC/USDT.")
    side: Side = Field(description="buy or sell.")
    type: Literal["limit", "market"] = Field(default="limit", description="limit or market.")
    action: Literal["new", "cancel", "amend"] = Field(
        default="new", description="new order, cancel, or amend; a cancel is never blocked."
    )
    qty: Qty = Field(description="Quantity in base units, > 0.")
    price: Price | None = Field(default=None, description="Limit price; null for a market order.")
    reduce_only: bool = Field(default=False, description="Flagged reduce-only to the venue.")
    client_order_id: Name = Field(description="Client order id (idempotency key at the venue).")
    strategy: Name = Field(description="Strategy that sent the order.")
    valuation_price: Decimal | None = derived(
        "price of a limit order; the ask (buy) or bid (sell) for a market order; null without one."
    )
    notional: Decimal | None = derived("qty x valuation_price; null without a valuation price.")
    signed_qty: Decimal | None = derived("qty, negative for a sell.", always=True)
    reduces_position: bool | None = derived(
        "true when the order is opposite the position and no larger than it.", always=True
    )
    is_exit: bool | None = derived(
        "reduce_only and reduces_position: an exit, never blocked by limits on opening risk.",
        always=True,
    )


# -- stage contexts --------------------------------------------------------------------


class StageContext(ContextModel):
    """Fields every stage carries."""

    STAGE: ClassVar[str] = ""
    now_ms: Ms = Field(description="Evaluation time, epoch milliseconds, from the engine's clock.")
    state: State = Field(default_factory=State, description="Trading state and kill switch.")

    def scope_key(self) -> tuple[str, str]:
        """(venue, symbol) that scoped rules and limits select on."""
        raise NotImplementedError

    def is_cancel(self) -> bool:
        """True for a cancel request, which no rule may block."""
        return False


class PreTradeContext(StageContext):
    """An order about to be sent, with the market, position, account and state around it."""

    STAGE = "pre_trade"
    order: Order = Field(description="The order.")
    market: Market = Field(description="Top of book for the order's symbol.")
    position: Position = Field(default_factory=Position, description="Position before the order.")
    account: Account = Field(description="The venue account.")

    def scope_key(self) -> tuple[str, str]:
        return (self.order.venue, self.order.symbol)

    def is_cancel(self) -> bool:
        return self.order.action == "cancel"

    @model_validator(mode="after")
    def _derive(self) -> PreTradeContext:
        order, market, position = self.order, self.market, self.position
        signed = order.qty if order.side == "buy" else -order.qty
        price = order.price if order.type == "limit" else (market.ask if signed > 0 else market.bid)
        reduces = (
            position.qty != 0
            and (signed > 0) != (position.qty > 0)
            and order.qty <= abs(position.qty)
        )
        order._set(
            signed_qty=signed,
            valuation_price=price,
            notional=None if price is None else order.qty * price,
            reduces_position=reduces,
            is_exit=reduces and order.reduce_only,
        )
        mark = market.mid if market.mid is not None else position.avg_price
        position._set(
            notional=None if mark is None else abs(position.qty) * mark,
            qty_after=position.qty + signed,
        )
        return self


class Event(ContextModel):
    """A market-data or account event as it arrives."""

    DERIVED = ("age_ms", "seq_gap", "crossed")
    type: Literal["trade", "book", "ticker", "balance", "order_update"] = Field(
        description="What the event is."
    )
    venue: Name = Field(description="Venue id.")
    symbol: Name = Field(description="Unified symbol; the account's quote asset for balances.")
    seq: int | None = Field(
        default=None, ge=0, description="Venue sequence number, when it has one."
    )
    idempotency_key: str | None = Field(default=None, max_length=200, description="Event id.")
    ts_ms: Ms = Field(description="Venue timestamp, epoch milliseconds.")
    bid: Price | None = Field(default=None, description="Best bid, for book and ticker events.")
    ask: Price | None = Field(default=None, description="Best ask, for book and ticker events.")
    price: Price | None = Field(default=None, description="Trade price, for trade events.")
    size: Num | None = Field(default=None, description="Trade or level size.")
    age_ms: int | None = derived(
        "now_ms - ts_ms; negative when the venue clock runs ahead.", always=True
    )
    seq_gap: int | None = derived(
        "seq - feed.last_seq - 1: 0 in order, > 0 a gap, < 0 old or repeated."
    )
    crossed: bool | None = derived("bid >= ask.")


class Feed(ContextModel):
    """What the engine remembers about this feed."""

    last_seq: int | None = Field(default=None, ge=0, description="Last sequence number seen.")
    duplicate: bool = Field(default=False, description="The idempotency key was seen before.")
    known_symbol: bool = Field(default=True, description="The symbol is in the policies' universe.")


class IngestContext(StageContext):
    """A market-data or account event arriving at the pipeline."""

    STAGE = "ingest"
    event: Event = Field(description="The event.")
    feed: Feed = Field(default_factory=Feed, description="Feed memory for sequence and duplicates.")

    def scope_key(self) -> tuple[str, str]:
        return (self.event.venue, self.event.symbol)

    @model_validator(mode="after")
    def _derive(self) -> IngestContext:
        e = self.event
        gap = (
            None if e.seq is None or self.feed.last_seq is None else e.seq - self.feed.last_seq - 1
        )
        crossed = None if e.bid is None or e.ask is None else e.bid >= e.ask
        e._set(age_ms=self.now_ms - e.ts_ms, seq_gap=gap, crossed=crossed)
        return self


class Signal(ContextModel):
    """A strategy's intent before it becomes an order."""

    strategy: Name = Field(description="Strategy name.")
    venue: Name = Field(description="Venue id.")
    symbol: Name = Field(description="Unified symbol.")
    side: Side = Field(description="buy or sell.")
    qty: Qty = Field(description="Intended quantity in base units.")
    price: Price | None = Field(default=None, description="Intended price; null for market.")


class Strategy(ContextModel):
    """The strategy's standing."""

    DERIVED = ("loss_budget_used_pct",)
    enabled: bool = Field(default=True, description="False when the strategy was disabled.")
    loss_budget: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="Loss the strategy may take today, quote currency."
    )
    pnl_today: Num = Field(default=Decimal(0), description="Strategy P&L today.")
    loss_budget_used_pct: Decimal | None = derived("max(0, -pnl_today) / loss_budget x 100.")

    @model_validator(mode="after")
    def _derive(self) -> Strategy:
        if self.loss_budget is not None:
            used = max(Decimal(0), -self.pnl_today) / self.loss_budget * 100
            self._set(loss_budget_used_pct=used)
        return self


class DataHealth(ContextModel):
    """Quality of the data the signal was computed on."""

    degraded: bool = Field(
        default=False, description="True when a feed is stale, gapped or crossed."
    )
    age_ms: Ms = Field(default=0, description="Age of the newest input to the signal.")


class SignalContext(StageContext):
    """A strategy's intent, with its standing and the quality of its data."""

    STAGE = "signal"
    signal: Signal = Field(description="The signal.")
    strategy: Strategy = Field(default_factory=Strategy, description="The strategy's standing.")
    data: DataHealth = Field(default_factory=DataHealth, description="Data quality.")

    def scope_key(self) -> tuple[str, str]:
        return (self.signal.venue, self.signal.symbol)


class Request(ContextModel):
    """A request about to go to the venue."""

    venue: Name = Field(description="Venue id.")
    symbol: Name = Field(description="Unified symbol.")
    kind: Literal["create", "cancel", "amend", "cancel_all", "fetch"] = Field(
        description="Request kind."
    )
    client_order_id: Name | None = Field(
        default=None, description="Client order id, for order requests."
    )
    duplicate_client_order_id: bool = Field(
        default=False, description="The client order id was already used on this venue."
    )


class VenueHealth(ContextModel):
    """How the venue has been behaving."""

    connected: bool = Field(default=True, description="The session to the venue is up.")
    error_rate_pct: Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)] = Field(
        default=Decimal(0), description="Share of requests that failed over the last minute, %."
    )
    latency_p99_ms: Ms = Field(default=0, description="99th percentile request latency, ms.")
    oldest_pending_ms: Ms = Field(
        default=0, description="Age of the oldest unacknowledged request."
    )
    rate_limit_headroom_pct: Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)] = Field(
        default=Decimal(100), description="Share of the rate-limit budget still free, %."
    )


class OrderSendContext(StageContext):
    """A request to the venue and the venue's health."""

    STAGE = "order_send"
    request: Request = Field(description="The request.")
    venue: VenueHealth = Field(default_factory=VenueHealth, description="Venue health.")

    def scope_key(self) -> tuple[str, str]:
        return (self.request.venue, self.request.symbol)

    def is_cancel(self) -> bool:
        return self.request.kind in ("cancel", "cancel_all")


class Fill(ContextModel):
    """A fill report from the venue."""

    DERIVED = ("slippage_bps",)
    venue: Name = Field(description="Venue id.")
    symbol: Name = Field(description="Unified symbol.")
    client_order_id: Name = Field(description="Client order id of the filled order.")
    trade_id: Name = Field(description="Venue trade id (idempotency key of the fill).")
    side: Side = Field(description="buy or sell.")
    qty: Qty = Field(description="Filled quantity.")
    price: Price = Field(description="Fill price.")
    fee: Num = Field(default=Decimal(0), description="Fee paid, quote currency.")
    ts_ms: Ms = Field(description="Venue timestamp, epoch milliseconds.")
    slippage_bps: Decimal | None = derived(
        "adverse distance of price from the order's limit price (or its expected price), bps;"
        " > 0 is worse than expected."
    )


class FilledOrder(ContextModel):
    """The order the fill belongs to, as the engine knows it."""

    known: bool = Field(default=True, description="The engine knows an order with this id.")
    expected_price: Price | None = Field(
        default=None, description="The limit price, or the expected price of a market order."
    )
    qty: Qty | None = Field(default=None, description="The order's quantity.")
    filled_qty: Num = Field(default=Decimal(0), description="Filled before this fill.")
    already_applied: bool = Field(default=False, description="This trade id was applied before.")


class Books(ContextModel):
    """Positions after applying the fill."""

    position_qty: Num = Field(description="Engine position after the fill.")
    venue_position_qty: Num | None = Field(default=None, description="Venue-reported position.")


class FillContext(StageContext):
    """A fill report, the order it fills, and the books after it."""

    STAGE = "fill"
    fill: Fill = Field(description="The fill.")
    order: FilledOrder = Field(default_factory=FilledOrder, description="Its order.")
    books: Books = Field(description="Positions after the fill.")

    def scope_key(self) -> tuple[str, str]:
        return (self.fill.venue, self.fill.symbol)

    @model_validator(mode="after")
    def _derive(self) -> FillContext:
        expected = self.order.expected_price
        if expected is not None:
            diff = (
                self.fill.price - expected
                if self.fill.side == "buy"
                else expected - self.fill.price
            )
            self.fill._set(slippage_bps=diff / expected * TEN_THOUSAND)
        return self


class Pnl(ContextModel):
    """P&L in quote currency."""

    daily: Num = Field(default=Decimal(0), description="Since the UTC day began.")
    session: Num = Field(default=Decimal(0), description="Since the session began.")
    realized: Num = Field(default=Decimal(0), description="Realized today.")
    unrealized: Num = Field(default=Decimal(0), description="Unrealized now.")


class Inventory(ContextModel):
    """Inventory in the snapshot's symbol."""

    position_qty: Num = Field(default=Decimal(0), description="Signed position, base units.")
    position_notional: Num = Field(default=Decimal(0), description="|position| x mid, quote.")


class Health(ContextModel):
    """Liveness of the bot and its connections."""

    heartbeat_age_ms: Ms = Field(default=0, description="Since the strategy's last heartbeat.")
    feed_connected: bool = Field(default=True, description="Market-data feed is connected.")
    feed_age_ms: Ms = Field(default=0, description="Age of the newest market-data message.")
    venue_connected: bool = Field(default=True, description="Order session is connected.")


class MonitorContext(StageContext):
    """A periodic snapshot for one venue and symbol: P&L, drawdown, exposure, inventory, health."""

    STAGE = "monitor"
    venue: Name = Field(description="Venue id of the snapshot.")
    symbol: Name = Field(description="Symbol of the snapshot.")
    pnl: Pnl = Field(default_factory=Pnl, description="P&L.")
    account: Account = Field(description="The venue account.")
    inventory: Inventory = Field(default_factory=Inventory, description="Inventory.")
    health: Health = Field(default_factory=Health, description="Liveness.")

    def scope_key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)


CONTEXTS: dict[str, type[StageContext]] = {
    cls.STAGE: cls
    for cls in (
        IngestContext,
        SignalContext,
        PreTradeContext,
        OrderSendContext,
        FillContext,
        MonitorContext,
    )
}
