"""The ``CircuitBreakers`` kind: conditions that trip a breaker, what it does, how it resets."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from riskctl.fields import (
    Count,
    DurationMs,
    Expression,
    Identifier,
    Ratio,
    Scope,
    Stage,
    StrictModel,
)

__all__ = ["Breaker", "CircuitBreakersSpec", "HalfOpenProbe", "TripCount"]


class TripCount(StrictModel):
    """Trip only after the condition held for this many events inside a sliding window."""

    at_least: Count = Field(description="Events that must match within the window to trip.")
    window_ms: DurationMs = Field(description="Length of the sliding window, in milliseconds.")


class HalfOpenProbe(StrictModel):
    """After the cooldown, let a few small orders through before closing the breaker again."""

    probe_orders: Count = Field(description="Orders allowed while half-open.")
    probe_qty_ratio: Ratio = Field(
        default=Decimal(1),
        description="Probe order size as a fraction of the normal max order quantity.",
    )


class Breaker(StrictModel):
    """One circuit breaker."""

    name: Identifier = Field(description="Breaker name, unique in the bundle.")
    stage: Stage = Field(default="monitor", description="Stage whose context the trigger reads.")
    when: Expression = Field(
        description="Condition over the stage's context that counts toward a trip."
    )
    count: TripCount | None = Field(
        default=None,
        description="Trip after this many matches in a window; omit to trip on the first match.",
    )
    action: Literal["halt", "reduce_only", "pause_symbol", "cancel_all"] = Field(
        description="What a tripped breaker does to trading."
    )
    cooldown_ms: DurationMs = Field(
        description="How long the breaker stays tripped, in milliseconds."
    )
    reset: Literal["auto", "manual"] = Field(
        default="manual",
        description="auto closes after the cooldown; manual waits for an operator's reset.",
    )
    half_open: HalfOpenProbe | None = Field(
        default=None, description="Probe orders allowed after the cooldown before fully closing."
    )
    scope: Scope | None = Field(default=None, description="Venue and symbol the breaker watches.")
    message: str = Field(
        min_length=1, max_length=500, description="What an operator reads when the breaker trips."
    )


class CircuitBreakersSpec(StrictModel):
    """Named circuit breakers."""

    breakers: list[Breaker] = Field(
        min_length=1, max_length=1000, description="The breakers; names must be unique."
    )
