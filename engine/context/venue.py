"""Contexts of the order_send and fill stages: requests to the venue, and fills from it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from riskctl.context.base import (
    ContextModel,
    DerivedModel,
    InstrumentLookup,
    Ms,
    Name,
    Num,
    Percent,
    Price,
    Qty,
    Side,
    StageContext,
    derived,
    fill_instrument,
    section_field,
)
from riskctl.context.pre_trade import Instrument
from riskctl.fields import TEN_THOUSAND
from riskctl.money import derivation


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
    origin: Literal["strategy", "runtime"] = Field(
        default="strategy",
        description=(
            "Who sends the request: a strategy, or the runtime (its own exits). Runtime-owned"
            " under `riskctl run` and the order gateway."
        ),
    )
    duplicate_client_order_id: bool = Field(
        default=False, description="The client order id was already used on this venue."
    )


class VenueHealth(ContextModel):
    """How the venue has been behaving."""

    connected: bool = Field(default=True, description="The session to the venue is up.")
    error_rate_pct: Percent = Field(
        default=Decimal(0), description="Share of requests that failed over the last minute, %."
    )
    latency_p99_ms: Ms = Field(default=0, description="99th percentile request latency, ms.")
    oldest_pending_ms: Ms = Field(
        default=0, description="Age of the oldest unacknowledged request."
    )
    rate_limit_headroom_pct: Percent = Field(
        default=Decimal(100), description="Share of the rate-limit budget still free, %."
    )


class OrderSendContext(StageContext):
    """A request to the venue and the venue's health."""

    STAGE = "order_send"
    request: Request = Field(description="The request.")
    venue: VenueHealth = Field(default_factory=VenueHealth, description="Venue health.")
    instrument: Instrument | None = Field(
        default=None,
        description="What the venue accepts for the symbol; filled from the bundle when omitted.",
    )

    SCOPE_FIELDS = ("request.venue", "request.symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.request.venue, self.request.symbol)

    def is_cancel(self) -> bool:
        return self.request.kind in ("cancel", "cancel_all")

    @classmethod
    def cancel_in(cls, data: Mapping[str, Any]) -> bool:
        return section_field(data, "request", "kind") in ("cancel", "cancel_all")

    @classmethod
    def with_defaults(
        cls, data: Mapping[str, Any], instrument_of: InstrumentLookup
    ) -> Mapping[str, Any]:
        return fill_instrument(data, "request", instrument_of)


class Fill(DerivedModel):
    """A fill report from the venue."""

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

    SCOPE_FIELDS = ("fill.venue", "fill.symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.fill.venue, self.fill.symbol)

    @model_validator(mode="after")
    @derivation
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
