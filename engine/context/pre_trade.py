"""The pre_trade context: an order with the market, position, account and state around it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from riskctl.context.base import (
    LIMIT,
    Amount,
    ContextModel,
    DerivedModel,
    InstrumentLookup,
    Ms,
    Name,
    Num,
    Positive,
    Price,
    Qty,
    Side,
    StageContext,
    derived,
    fill_instrument,
    section_field,
)
from riskctl.fields import TEN_THOUSAND
from riskctl.grid import grid_value, snap
from riskctl.kinds.instruments import InstrumentSpec, OrderType
from riskctl.money import derivation

DEFAULT_STEP = Decimal("0.00000001")  # quote-sized orders without an instrument: 8 decimals
# A quote's age may be negative: the venue's clock runs ahead of ours (Binance perp quotes
# were seen 4-19 ms ahead). The bound on that skew is a policy setting (max_clock_skew_ms).
SignedMs = Annotated[int, Field(ge=-(10**16), le=10**16, strict=True)]
STOP_TYPES = frozenset({"stop_market", "stop_limit"})
PRICED_TYPES = frozenset({"limit", "stop_limit"})  # types that carry a limit price


class Market(DerivedModel):
    """Top of book for the order's symbol at its venue."""

    bid: Price | None = Field(default=None, description="Best bid; null when the book has no bid.")
    ask: Price | None = Field(default=None, description="Best ask; null when the book has no ask.")
    age_ms: SignedMs = Field(
        description=(
            "Age of this quote in milliseconds: now_ms minus the venue's timestamp. Negative"
            " when the venue's clock runs ahead of ours; within the policy's max_clock_skew_ms"
            " (default 50) such a quote counts as fresh (every staleness bound passes it),"
            " beyond it the order is rejected (market.clock_skew)."
        )
    )
    silence_ms: SignedMs | None = Field(
        default=None,
        description=(
            "Milliseconds since the last new book event of this venue and symbol, by our"
            " receive time; null when none was seen. Set by `riskctl run` from its feed"
            " memory: a stall shows here while it lasts, not only when the next quote ends it."
        ),
    )
    mid: Decimal | None = derived("(bid + ask) / 2, null without both sides.")
    spread_bps: Decimal | None = derived(
        "(ask - bid) / mid in basis points, null without both sides."
    )

    @model_validator(mode="after")
    @derivation
    def _derive(self) -> Market:
        if self.bid is not None and self.ask is not None:
            mid = (self.bid + self.ask) / 2
            self._set(mid=mid, spread_bps=(self.ask - self.bid) / mid * TEN_THOUSAND)
        return self


class Position(DerivedModel):
    """The strategy's position in the order's symbol at its venue, before the order."""

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
    gross_exposure: Amount = Field(
        default=Decimal(0),
        description="Sum of |position notional| across symbols, before the order.",
    )
    daily_pnl: Num = Field(
        default=Decimal(0), description="P&L since the UTC day began (loss < 0)."
    )
    session_pnl: Num = Field(default=Decimal(0), description="P&L since the session began.")
    drawdown: Amount = Field(
        default=Decimal(0), description="Drop of equity from the session's peak, >= 0."
    )
    open_orders: Ms = Field(default=0, description="Open orders now, not counting this one.")
    orders_last_second: Ms = Field(
        default=0, description="New orders sent in the last second, not counting this one."
    )
    amends_last_second: Ms = Field(
        default=0, description="Amend requests sent in the last second, not counting this one."
    )
    base_free: Num | None = Field(
        default=None, description="Free balance of the order's base asset, as the venue reports."
    )
    quote_free: Num | None = Field(
        default=None, description="Free balance of the order's quote asset, as the venue reports."
    )
    base_reserved: Amount = Field(
        default=Decimal(0),
        description="Base held by this bot's in-flight orders that base_free does not show yet.",
    )
    quote_reserved: Amount = Field(
        default=Decimal(0),
        description="Quote held by this bot's in-flight orders that quote_free does not show yet.",
    )


class Instrument(InstrumentSpec):
    """What the venue accepts for the order's symbol; filled from the bundle when omitted."""

    market_age_ms: Ms = Field(
        default=0, description="Age of this instrument data (from load_markets), milliseconds."
    )


class Order(DerivedModel):
    """An order about to be sent (or a cancel or amend of one)."""

    venue: Name = Field(description="Venue id, e.g. binance.")
    symbol: Name = Field(description="Unified symbol, e.g. BTC/USDT.")
    side: Side = Field(description="buy or sell.")
    type: OrderType = Field(
        default="limit",
        description=(
            "limit, market, stop_market (a market order once trigger_price trades) or"
            " stop_limit (a limit order at price once trigger_price trades)."
        ),
    )
    action: Literal["new", "cancel", "amend"] = Field(
        default="new", description="new order, cancel, or amend; a cancel is never blocked."
    )
    qty: Qty | None = Field(
        default=None,
        description=(
            "Quantity in base units, > 0. Omit it and give quote_qty to size the order in quote"
            " currency; riskctl converts once and checks the converted order."
        ),
        json_schema_extra={"alwaysSet": True},
    )
    quote_qty: Positive | None = Field(
        default=None,
        description=(
            "Order size in quote currency (spend 500 USDT), instead of qty. Converted at the"
            " limit price, or the ask (buy) / bid (sell) for a market order, and rounded DOWN to"
            " the instrument's step (8 decimal places without one): never spends more than asked."
        ),
    )
    price: Price | None = Field(
        default=None,
        description="Limit price of a limit or stop_limit order; null for market and stop_market.",
    )
    trigger_price: Price | None = Field(
        default=None,
        description=(
            "Trigger of a stop_market or stop_limit order (required for them, refused on other"
            " types); on the tick grid and inside the price collar like a limit price."
        ),
        validate_default=True,  # a stop without one is refused at this field
    )
    time_in_force: Literal["GTC", "IOC", "FOK", "GTD", "PO"] = Field(
        default="GTC", description="GTC, IOC, FOK, GTD (needs expire_at_ms) or PO (post-only)."
    )
    expire_at_ms: Ms | None = Field(
        default=None,
        description="Expiry of a GTD order, epoch milliseconds; must be in the future.",
    )
    reduce_only: bool = Field(default=False, description="Flagged reduce-only to the venue.")
    client_order_id: Name = Field(description="Client order id (idempotency key at the venue).")
    strategy: Name = Field(description="Strategy that sent the order.")
    group: Name | None = Field(
        default=None,
        description=(
            "Basket id shared by the legs of one trade (an arbitrage pair). Under `riskctl run`"
            " a basket with a filled leg and a rejected, canceled or late sibling is flattened."
        ),
    )
    leg_timeout_ms: Ms | None = Field(
        default=None,
        description="How long a basket's legs may stay unfilled once one leg has filled.",
    )
    origin: Literal["strategy", "runtime"] = Field(
        default="strategy",
        description=(
            "Who sends the order: a strategy, or the runtime itself (the reduce-only exits a"
            " flatten sends, which pass a kill switch and HALTED). Runtime-owned under"
            " `riskctl run` and the order gateway: a bot's value is overridden."
        ),
    )
    valuation_price: Decimal | None = derived(
        "price of a limit or stop_limit order; trigger_price of a stop_market order; the ask"
        " (buy) or bid (sell) for a market order; null without one."
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
    price_on_grid: bool | None = derived(
        "the limit price is on the instrument's tick grid, or within binary-float noise of a"
        " grid point (then float_noise is true); null without a limit price or an instrument."
    )
    qty_on_grid: bool | None = derived(
        "the quantity is on the instrument's step grid, or within binary-float noise of a grid"
        " point (then float_noise is true); null without an instrument."
    )
    trigger_on_grid: bool | None = derived(
        "the trigger price is on the instrument's tick grid, or within binary-float noise of a"
        " grid point; null without a trigger or an instrument."
    )
    float_noise: bool | None = derived(
        "the price, quantity or trigger is not on its grid but is binary-float noise of a grid"
        " point (60000.299999999996 for 60000.3 on a 0.1 tick: the shortest repr of a float,"
        " within 4 units in the last place of it, on a grid coarser than that); the gate"
        " passes the exact grid value as a round modification. Null without an instrument."
    )
    type_supported: bool | None = derived(
        "the venue accepts this order type; null without an instrument."
    )

    @model_validator(mode="after")
    def _one_size(self) -> Order:
        if (self.qty is None) == (self.quote_qty is None):
            raise ValueError("give exactly one of qty and quote_qty")
        return self

    @field_validator("trigger_price")
    @classmethod
    def _trigger_for_stops(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        kind = info.data.get("type")  # absent when the type itself was invalid
        if kind in STOP_TYPES and value is None:
            raise ValueError(f"a {kind} order needs a trigger_price")
        if kind is not None and kind not in STOP_TYPES and value is not None:
            raise ValueError(f"trigger_price is only for stop_market and stop_limit, not {kind}")
        return value

    def grid_values(self, instrument: InstrumentSpec) -> dict[str, Decimal | None]:
        """Field -> the exact grid value it passes as (None: off the grid), for set fields."""
        values: dict[str, Decimal | None] = {}
        if self.qty is not None:
            values["qty"] = grid_value(
                self.qty, increment=instrument.qty_increment, significant=instrument.qty_sig_digits
            )
        for name in ("price", "trigger_price"):
            price = getattr(self, name)
            if price is not None and (name != "price" or self.type in PRICED_TYPES):
                values[name] = grid_value(
                    price,
                    increment=instrument.price_increment,
                    significant=instrument.price_sig_digits,
                )
        return values


class PreTradeContext(StageContext):
    """An order about to be sent, with the market, position, account and state around it."""

    STAGE = "pre_trade"
    order: Order = Field(description="The order.")
    market: Market = Field(description="Top of book for the order's symbol.")
    position: Position = Field(default_factory=Position, description="Position before the order.")
    account: Account = Field(description="The venue account.")
    instrument: Instrument | None = Field(
        default=None,
        description=(
            "What the venue accepts for this symbol. When omitted, the gate fills it from the"
            " bundle's Instruments document; conformance checks refuse an order without one."
        ),
    )

    SCOPE_FIELDS = ("order.venue", "order.symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.order.venue, self.order.symbol)

    def is_cancel(self) -> bool:
        return self.order.action == "cancel"

    @classmethod
    def cancel_in(cls, data: Mapping[str, Any]) -> bool:
        return bool(section_field(data, "order", "action") == "cancel")

    @classmethod
    def with_defaults(
        cls, data: Mapping[str, Any], instrument_of: InstrumentLookup
    ) -> Mapping[str, Any]:
        return fill_instrument(data, "order", instrument_of)

    @model_validator(mode="after")
    @derivation
    def _derive(self) -> PreTradeContext:
        order, market, position = self.order, self.market, self.position
        buy = order.side == "buy"
        price = _valuation_price(order, market)
        if order.qty is None:
            order._set(qty=self._converted_qty(price))
        assert order.qty is not None  # set above or given
        signed = order.qty if buy else -order.qty
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
        self._derive_conformance()
        return self

    def _converted_qty(self, price: Decimal | None) -> Decimal:
        """Base quantity of a quote-sized order, rounded down onto the step grid."""
        order, instrument = self.order, self.instrument
        if price is None:
            raise ValueError(
                "order.quote_qty needs a limit price, or a quote on the order's side for a market"
                " order, to convert to a quantity"
            )
        assert order.quote_qty is not None
        step = instrument.qty_increment if instrument else None
        digits = instrument.qty_sig_digits if instrument else None
        qty = snap(
            order.quote_qty / price, increment=step or DEFAULT_STEP, significant=digits, up=False
        )
        if qty > LIMIT:
            raise ValueError(
                f"order.quote_qty {order.quote_qty} at {price} is more than {LIMIT} units"
            )
        if qty <= 0:
            raise ValueError(
                f"order.quote_qty {order.quote_qty} buys less than one step at {price}"
            )
        return qty

    def _derive_conformance(self) -> None:
        order, instrument = self.order, self.instrument
        if instrument is None:
            return
        grid = order.grid_values(instrument)
        order._set(
            price_on_grid=None if "price" not in grid else grid["price"] is not None,
            qty_on_grid=grid["qty"] is not None,
            trigger_on_grid=None
            if "trigger_price" not in grid
            else grid["trigger_price"] is not None,
            float_noise=any(
                value is not None and value != getattr(order, name) for name, value in grid.items()
            ),
            type_supported=order.type in instrument.order_types,
        )


def _valuation_price(order: Order, market: Market) -> Decimal | None:
    """The price an order is valued at: its limit, its trigger (stop-market), or the touch."""
    if order.type in PRICED_TYPES:
        return order.price
    if order.type == "stop_market":
        return order.trigger_price
    return market.ask if order.side == "buy" else market.bid
