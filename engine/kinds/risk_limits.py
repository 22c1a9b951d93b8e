"""The ``RiskLimits`` kind: typed limits, scoped globally, per venue or per symbol."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from riskctl.fields import (
    Bps,
    Count,
    DurationMs,
    Flag,
    Money,
    Quantity,
    Scope,
    StrictModel,
    Symbol,
    VenueId,
)

# A clock skew bound: 0 (no negative age at all) up to a minute (beyond that, fix the clock).
SkewMs = Annotated[int, Field(ge=0, le=60_000, strict=True, examples=[50])]

__all__ = [
    "LIMIT_FIELDS",
    "Conformance",
    "LimitSet",
    "RiskLimitsSpec",
    "ScopedLimits",
    "VenueAccount",
]


class Conformance(StrictModel):
    """What to do when an order does not fit the venue's instrument rules.

    ``modify`` fixes the order instead of rejecting it, and the decision carries the exact
    order that will pass: a price moves onto the tick grid toward the passive side (buys
    down, sells up), a quantity rounds down onto the step grid, an oversized order is
    clipped to the instrument's maximum.
    """

    price_off_grid: Literal["reject", "modify"] = Field(
        default="reject", description="A limit price that is not on the tick grid."
    )
    qty_off_grid: Literal["reject", "modify"] = Field(
        default="reject", description="A quantity that is not on the step grid."
    )
    qty_above_max: Literal["reject", "modify"] = Field(
        default="reject", description="A quantity above the instrument's max_qty."
    )
    notional_above_max: Literal["reject", "modify"] = Field(
        default="reject", description="An order value above the instrument's max_notional."
    )
    require_instrument: Flag = Field(
        default=True,
        description="Refuse an opening order when no instrument data is known (fail closed).",
    )


class LimitSet(StrictModel):
    """Typed limits. An omitted limit is not configured at this scope.

    Equality rule for every limit: a value exactly at the limit passes; anything over it fails.
    """

    max_order_qty: Quantity | None = Field(
        default=None, description="Largest quantity of one order, in base units."
    )
    max_order_notional: Money | None = Field(
        default=None, description="Largest notional (qty x price) of one order, in quote currency."
    )
    price_collar_bps: Bps | None = Field(
        default=None,
        description=(
            "Largest distance of a limit price from the mid, in basis points. Applies to exits too:"
            " a flatten at an absurd price is still refused."
        ),
    )
    max_position_qty: Quantity | None = Field(
        default=None,
        description="Largest absolute position after the order fills, in base units.",
    )
    max_position_notional: Money | None = Field(
        default=None,
        description="Largest absolute position value after the order fills, in quote currency.",
    )
    max_gross_exposure: Money | None = Field(
        default=None,
        description="Largest gross exposure of the account after the order fills, quote currency.",
    )
    max_open_orders: Count | None = Field(
        default=None, description="Largest number of open orders, counting this one."
    )
    max_orders_per_second: Count | None = Field(
        default=None,
        description="Largest number of new orders in the last second, counting this one.",
    )
    max_daily_loss: Money | None = Field(
        default=None,
        description="Largest loss today, in quote currency; at a loss beyond it only exits pass.",
    )
    max_drawdown: Money | None = Field(
        default=None,
        description=(
            "Largest drop from the session's equity peak, in quote currency;"
            " beyond it only exits pass."
        ),
    )
    stale_market_data_ms: DurationMs | None = Field(
        default=None, description="Market data older than this many milliseconds blocks new risk."
    )
    stale_balance_ms: DurationMs | None = Field(
        default=None, description="A balance older than this many milliseconds is stale."
    )
    on_stale_balance: Literal["skip", "reduce", "halt"] | None = Field(
        default=None,
        description=(
            "What a stale balance does: skip (record and allow), reduce (only exits pass),"
            " halt (reject and halt trading). Defaults to reduce when stale_balance_ms is set."
        ),
    )
    max_amends_per_second: Count | None = Field(
        default=None,
        description="Largest number of amend requests in the last second, counting this one.",
    )
    check_balance: Flag | None = Field(
        default=None,
        description=(
            "When true, a buy's notional plus the fee reserve must fit the free quote balance"
            " (quote_free - quote_reserved), and a spot sell must fit the free base balance."
            " Exits are exempt only on derivatives (swap, future, option), where closing needs"
            " no balance; a spot exit is paid from the balance like any order, so it is checked."
        ),
    )
    fee_reserve_bps: Bps | None = Field(
        default=None,
        description="Fee reserve added to a buy's notional in the balance check, basis points.",
    )
    conformance: Conformance | None = Field(
        default=None,
        description=(
            "Check orders against the venue's instrument rules (tick and step grids, min and max"
            " quantity and notional, order types) before sending. Omit to skip these checks."
        ),
    )
    clip_order_qty: Flag | None = Field(
        default=None,
        description=(
            "When true, an order over max_order_qty, max_position_qty or max_order_notional is"
            " clipped to fit (decision outcome modify) instead of rejected: the quantity becomes"
            " the smallest the limits allow, rounded down to the step (for max_order_notional,"
            " floor(limit / valuation price)). A quote-sized order stays quote-sized: its"
            " quote_qty becomes the clipped quantity x the valuation price, which converts back"
            " to exactly that quantity."
        ),
    )

    max_clock_skew_ms: SkewMs | None = Field(
        default=None,
        description=(
            "How far, in milliseconds, a quote's timestamp may be ahead of our clock"
            " (market.age_ms as low as minus this) and still count as fresh; further ahead"
            " rejects the order (market.clock_skew; exits pass, as on stale data). Default 50"
            " when unset: real venue quotes run up to ~20 ms ahead of an NTP-synced host"
            " (Binance perps: 4-19 ms), and 50 ms leaves room for that while staying far below"
            " any staleness bound, so a larger skew means a broken clock, not latency."
        ),
    )
    check_reduce_only: Flag | None = Field(
        default=None,
        description=(
            "Reject a reduce_only order that is not an exit: one that would open or grow the"
            " position, or cross through zero beyond it (order.reduce_only_would_open). On"
            " unless set to false; turn it off only where the venue itself trims reduce-only"
            " orders and the gate's position may lag the venue's."
        ),
    )


LIMIT_FIELDS: tuple[str, ...] = tuple(LimitSet.model_fields)


class ScopedLimits(LimitSet):
    """Limits for one venue, one symbol, or one symbol on one venue."""

    scope: Scope = Field(
        description="Where these limits apply; the most specific scope wins per limit."
    )


FeedStream = Literal["trades", "book", "balance", "order_update"]
SequenceMode = Literal["contiguous", "monotonic"]


class VenueAccount(StrictModel):
    """A venue account the desk trades and the symbols it may trade there."""

    venue: VenueId = Field(description="Venue id as ccxt spells it. Cannot change by reload.")
    account: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Account id at the venue (not a credential). Cannot change by reload.",
    )
    symbols: list[Symbol] = Field(
        min_length=1, max_length=1000, description="Symbols this account may trade."
    )
    sequence: dict[FeedStream, SequenceMode] = Field(
        default_factory=dict,
        description=(
            "How the venue numbers each feed stream (trades, book, balance, order_update):"
            " contiguous (the default: a skipped id is a gap) or monotonic (ids rise but may"
            " skip, as Binance bookTicker update ids do: only an id at or below the last one"
            " is out of order). Read by `riskctl run` at ingest."
        ),
    )


class TradingDay(StrictModel):
    """When the trading day rolls, for daily P&L (the session itself runs on)."""

    timezone: str = Field(
        default="UTC",
        min_length=1,
        max_length=64,
        description="IANA timezone the roll time is in, e.g. UTC, America/New_York.",
        examples=["UTC", "America/New_York"],
    )
    roll_at: str = Field(
        default="00:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Local time of day (HH:MM) the day rolls at; daily_pnl restarts then.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA timezone this machine knows") from None
        return value

    def roll_ms_of_day(self) -> int:
        hours, minutes = self.roll_at.split(":")
        return (int(hours) * 60 + int(minutes)) * 60_000


class RiskLimitsSpec(StrictModel):
    """Typed limits for a set of venues and symbols."""

    environment: Literal["production", "staging", "paper", "backtest"] = Field(
        description="Where these limits run. Cannot change by reload."
    )
    venues: list[VenueAccount] = Field(
        min_length=1,
        max_length=100,
        description="Venue accounts and symbols these limits cover; orders elsewhere are rejected.",
    )
    defaults: LimitSet = Field(
        default_factory=LimitSet,
        description="Limits for every venue and symbol unless a scope overrides.",
    )
    trading_day: TradingDay = Field(
        default_factory=TradingDay,
        description="When the trading day rolls for daily P&L under `riskctl run`.",
    )

    def pairs(self) -> frozenset[tuple[str, str]]:
        """(venue, symbol) pairs these limits cover: the universe."""
        return frozenset((a.venue, s) for a in self.venues for s in a.symbols)

    scoped: list[ScopedLimits] = Field(
        default_factory=list,
        max_length=10_000,
        description="Overrides by scope; per limit, symbol+venue > symbol > venue > defaults.",
    )
