"""The ``Instruments`` kind: what each venue accepts for a symbol (grid, sizes, order types).

The venue layer builds the same record from ccxt's ``load_markets()``; this file form is for
replay, tests and as the default the gate uses when a context carries no instrument.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from riskctl.fields import MAX_MONEY, MAX_QTY, StrictModel, Symbol, VenueId

__all__ = ["InstrumentSpec", "InstrumentsSpec", "OrderType"]

OrderType = Literal["limit", "market", "stop_market", "stop_limit"]

Positive = Annotated[Decimal, Field(gt=0, le=MAX_QTY, allow_inf_nan=False)]
# Grid steps: no venue quotes finer than 1e-18, and the bound keeps grid division exact.
Increment = Annotated[Decimal, Field(ge=Decimal("1e-18"), le=MAX_QTY, allow_inf_nan=False)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=MAX_MONEY, allow_inf_nan=False)]
Digits = Annotated[int, Field(ge=0, le=18, strict=True)]


class InstrumentSpec(StrictModel):
    """One instrument at one venue. Sizes are in base units; notionals in quote currency.

    Equality rule, as for every limit: a value exactly at a bound passes (min_qty itself is
    accepted, max_notional itself is accepted), anything past it fails; grid checks are
    exact decimal multiples, so 172.0600 is on a 0.01 tick and 0.3 on a 0.1 step.
    """

    venue: VenueId = Field(description="Venue id as ccxt spells it.")
    symbol: Symbol = Field(description="Unified symbol, e.g. BTC/USDT.")
    type: Literal["spot", "swap", "future", "option"] = Field(
        default="spot", description="Market type; balance checks on sells apply to spot only."
    )
    price_increment: Increment | None = Field(
        default=None, description="Tick size: every price must be a multiple of it."
    )
    qty_increment: Increment | None = Field(
        default=None, description="Step size: every quantity must be a multiple of it."
    )
    price_sig_digits: Digits | None = Field(
        default=None,
        description="Significant-digit venues: a price may have at most this many digits.",
    )
    qty_sig_digits: Digits | None = Field(
        default=None,
        description="Significant-digit venues: a quantity may have at most this many digits.",
    )
    price_precision: Digits | None = Field(
        default=None, description="Decimal places of a price, as the venue reports it."
    )
    qty_precision: Digits | None = Field(
        default=None, description="Decimal places of a quantity, as the venue reports it."
    )
    min_qty: Positive | None = Field(default=None, description="Smallest order quantity.")
    max_qty: Positive | None = Field(default=None, description="Largest order quantity.")
    min_notional: PositiveMoney | None = Field(
        default=None, description="Smallest order value (qty x price)."
    )
    max_notional: PositiveMoney | None = Field(
        default=None, description="Largest order value (qty x price)."
    )
    order_types: tuple[OrderType, ...] = Field(
        default=("limit", "market"),
        min_length=1,
        description=(
            "Order types the venue accepts: limit, market, stop_market, stop_limit. Stops must"
            " be listed to pass conformance; the default is limit and market."
        ),
    )

    @model_validator(mode="after")
    def _bounds_ordered(self) -> InstrumentSpec:
        for low, high in (("min_qty", "max_qty"), ("min_notional", "max_notional")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} {lo} is above {high} {hi}")
        return self


class InstrumentsSpec(StrictModel):
    """Instruments by venue and symbol."""

    instruments: list[InstrumentSpec] = Field(
        min_length=1, max_length=100_000, description="One entry per (venue, symbol)."
    )

    @model_validator(mode="after")
    def _unique(self) -> InstrumentsSpec:
        seen: set[tuple[str, str]] = set()
        for entry in self.instruments:
            key = (entry.venue, entry.symbol)
            if key in seen:
                raise ValueError(f"{entry.venue} {entry.symbol} is listed twice")
            seen.add(key)
        return self
