"""The ``ChangeControl`` kind: what advisor agents may change, by how much, and how often,
and the watchdog that reverts an advisor change when the book degrades after it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from riskctl.fields import MAX_MONEY, Count, DurationMs, Money, Percent, StrictModel

__all__ = [
    "ChangeBound",
    "ChangeControlSpec",
    "PathSelector",
    "PnlDrop",
    "RejectRate",
    "Watchdog",
]

PathSelector = Annotated[
    str,
    Field(
        pattern=(
            r"^[A-Za-z]+/[a-z0-9*][a-z0-9._*-]*:"
            r"[a-z_*][a-z0-9_*]*(\[(\*|[0-9]+)\])?(\.[a-z_*][a-z0-9_*]*(\[(\*|[0-9]+)\])?)*$"
        ),
        examples=["RiskLimits/btc-eth-mm:spec.scoped[*].max_order_qty"],
    ),
]
"""KIND/NAME:dotted.path, where NAME and path segments may be `*` and lists take `[*]` or `[N]`."""

Bound = Annotated[Decimal, Field(ge=-MAX_MONEY, le=MAX_MONEY, allow_inf_nan=False)]


class ChangeBound(StrictModel):
    """A parameter advisors may change, within bounds."""

    path: PathSelector = Field(description="Which values this bound covers: KIND/NAME:dotted.path.")
    min: Bound | None = Field(default=None, description="Smallest value a change may set.")
    max: Bound | None = Field(default=None, description="Largest value a change may set.")
    max_step_abs: Annotated[Decimal, Field(gt=0, le=MAX_MONEY, allow_inf_nan=False)] | None = Field(
        default=None, description="Largest absolute change in one proposal."
    )
    max_step_pct: Percent | None = Field(
        default=None,
        description="Largest change in one proposal, as a percentage of the old value.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ChangeBound:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class PnlDrop(StrictModel):
    """Revert when session P&L falls by more than `drop` from its value when the change took
    effect."""

    drop: Money = Field(
        description="In the quote currency: a fall of the runtime's session P&L by more than "
        "this since the change reverts it (a fall of exactly this does not).",
        examples=[Decimal("5000")],
    )


class RejectRate(StrictModel):
    """Revert when orders rejected at pre_trade per minute exceed `factor` times the rate
    before the change, once at least `min_rejects` were rejected after it."""

    factor: Annotated[Decimal, Field(gt=1, le=1000, allow_inf_nan=False)] = Field(
        description="The rate after the change must exceed this multiple of the rate before "
        "it (> 1: 2 means doubled).",
        examples=[Decimal("2")],
    )
    min_rejects: Count = Field(
        description="Rejects after the change needed before this can trip, so a rate going "
        "from 0 to 1 does not.",
        examples=[10],
    )


class Watchdog(StrictModel):
    """Reverts the last advisor change when a named metric degrades within a window after it."""

    window_ms: DurationMs = Field(
        description="How long after an advisor change took effect it is watched, in "
        "milliseconds of context time.",
        examples=[900000],
    )
    lookback_ms: DurationMs | None = Field(
        default=None,
        description="How far back before the change the reject rate is measured, in "
        "milliseconds (default: window_ms).",
    )
    session_pnl: PnlDrop | None = Field(
        default=None,
        description="Watch the session P&L (riskctl state show: session.session_pnl).",
    )
    rejects_per_minute: RejectRate | None = Field(
        default=None,
        description="Watch the orders the gate rejects at pre_trade, per minute of context time.",
    )

    @model_validator(mode="after")
    def _watches_something(self) -> Watchdog:
        if self.session_pnl is None and self.rejects_per_minute is None:
            raise ValueError("a watchdog watches at least one of session_pnl, rejects_per_minute")
        return self


class ChangeControlSpec(StrictModel):
    """Bounds on automated parameter changes."""

    allow: list[ChangeBound] = Field(
        min_length=1,
        max_length=1000,
        description="Paths advisors may change; anything else is refused.",
    )
    protected: list[PathSelector] = Field(
        default_factory=list,
        max_length=1000,
        description="Paths no advisor may change, even if an allow entry matches.",
    )
    max_changes_per_day: Count = Field(description="Applied changes allowed per UTC day.")
    approval: Literal["never", "loosening", "always"] = Field(
        default="loosening",
        description="When a human must approve: never, only for loosening changes, or always.",
    )
    watchdog: Watchdog | None = Field(
        default=None,
        description="Revert the last advisor change when session P&L or the reject rate "
        "degrades within a window after it (riskctl run watches).",
    )
