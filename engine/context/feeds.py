"""Contexts of the ingest and signal stages: events as they arrive, and strategy intents."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from riskctl.context.base import (
    ContextModel,
    DerivedModel,
    Ms,
    Name,
    Num,
    Positive,
    Price,
    Qty,
    Side,
    StageContext,
    derived,
)
from riskctl.fields import TEN_THOUSAND
from riskctl.money import derivation


class Event(DerivedModel):
    """A market-data or account event as it arrives."""

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
    trade_type: str | None = Field(
        default=None,
        max_length=40,
        description=(
            "The venue's trade-type label (Binance futures: MARKET, INSURANCE_FUND, ADL, NA);"
            " null when the venue gives none. INSURANCE_FUND prints can be 2% off the market."
        ),
    )
    reference_price: Price | None = Field(
        default=None,
        description=(
            "The pair's last normal trade price (or book mid) before this event, from the"
            " runtime's feed memory; labelled prints such as INSURANCE_FUND never move it."
            " Set by `riskctl run`."
        ),
    )
    reference_deviation_bps: Decimal | None = derived(
        "|price - reference_price| / reference_price x 10000, for a trade with both."
    )
    age_ms: int | None = derived(
        "now_ms - ts_ms, in milliseconds. Negative when the venue's clock runs ahead of ours"
        " (real Binance quotes arrive up to ~20 ms 'from the future'): a staleness rule"
        " (event.age_ms > 2000) reads such an event as fresh, and a rule that wants to catch"
        " a wrong clock tests the negative side (event.age_ms < -50). The event stays valid.",
        always=True,
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
    mode: Literal["contiguous", "monotonic"] = Field(
        default="contiguous",
        description=(
            "How this stream is numbered (RiskLimits venues[].sequence): contiguous, where"
            " event.seq_gap counts the skipped ids, or monotonic, where any rise is in order"
            " (seq_gap 0) and only an id at or below last_seq is out of order (seq_gap < 0)."
        ),
    )


class IngestContext(StageContext):
    """A market-data or account event arriving at the pipeline."""

    STAGE = "ingest"
    event: Event = Field(description="The event.")
    feed: Feed = Field(default_factory=Feed, description="Feed memory for sequence and duplicates.")

    SCOPE_FIELDS = ("event.venue", "event.symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.event.venue, self.event.symbol)

    @model_validator(mode="after")
    @derivation
    def _derive(self) -> IngestContext:
        e = self.event
        last = self.feed.last_seq
        gap = None if e.seq is None or last is None else e.seq - last - 1
        if gap is not None and gap > 0 and self.feed.mode == "monotonic":
            gap = 0  # the venue skips ids by design: a rise is in order
        crossed = None if e.bid is None or e.ask is None else e.bid >= e.ask
        ref = e.reference_price
        deviation = (
            None if e.price is None or ref is None else abs(e.price - ref) / ref * TEN_THOUSAND
        )
        e._set(
            age_ms=self.now_ms - e.ts_ms,
            seq_gap=gap,
            crossed=crossed,
            reference_deviation_bps=deviation,
        )
        return self


class Signal(ContextModel):
    """A strategy's intent before it becomes an order."""

    strategy: Name = Field(description="Strategy name.")
    venue: Name = Field(description="Venue id.")
    symbol: Name = Field(description="Unified symbol.")
    side: Side = Field(description="buy or sell.")
    qty: Qty = Field(description="Intended quantity in base units.")
    price: Price | None = Field(default=None, description="Intended price; null for market.")


class Strategy(DerivedModel):
    """The strategy's standing."""

    enabled: bool = Field(default=True, description="False when the strategy was disabled.")
    loss_budget: Positive | None = Field(
        default=None, description="Loss the strategy may take today, quote currency."
    )
    pnl_today: Num = Field(default=Decimal(0), description="Strategy P&L today.")
    loss_budget_used_pct: Decimal | None = derived("max(0, -pnl_today) / loss_budget x 100.")

    @model_validator(mode="after")
    @derivation
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
    strategy: Strategy = Field(
        default_factory=Strategy,
        description="Whether the strategy is enabled and how much of its loss budget is spent.",
    )
    data: DataHealth = Field(default_factory=DataHealth, description="Data quality.")

    SCOPE_FIELDS = ("signal.venue", "signal.symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.signal.venue, self.signal.symbol)
