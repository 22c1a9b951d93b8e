"""The pre_trade context: an order with the market, position, account and state around it."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from engine.context.base import (
    TEN_THOUSAND,
    ContextModel,
    Ms,
    Name,
    Num,
    Price,
    Qty,
    Side,
    StageContext,
    derived,
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
