"""The ``AlertThresholds`` kind: metrics with warn and critical levels, durations and routing."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from riskctl.fields import MAX_MONEY, DurationMs, Expression, Identifier, Scope, Stage, StrictModel

__all__ = ["Alert", "AlertThresholdsSpec"]

Level = Annotated[Decimal, Field(ge=-MAX_MONEY, le=MAX_MONEY, allow_inf_nan=False)]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Channel = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9_.:#/-]{0,99}$", examples=["slack:#desk-crypto"])
]


class Alert(StrictModel):
    """One alert: a numeric metric compared with warn and critical levels."""

    name: Identifier = Field(description="Alert name, unique in the bundle.")
    stage: Stage = Field(default="monitor", description="Stage whose context the metric reads.")
    metric: Expression = Field(description="Numeric expression over the stage's context.")
    direction: Literal["above", "below"] = Field(
        default="above",
        description="above: fires when the metric exceeds a level; below: under it.",
    )
    warn: Level | None = Field(default=None, description="Level that raises a warning.")
    critical: Level | None = Field(default=None, description="Level that raises a critical alert.")
    for_ms: DurationMs | None = Field(
        default=None, description="The level must hold this long before the alert fires."
    )
    keep_firing_for_ms: DurationMs | None = Field(
        default=None, description="Keep firing this long after the level clears, to avoid flapping."
    )
    hysteresis: Annotated[Decimal, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)] = Field(
        default=Decimal(0), description="How far back past the level the metric must move to clear."
    )
    scope: Scope | None = Field(default=None, description="Venue and symbol the alert watches.")
    labels: dict[Label, Label] = Field(
        default_factory=dict, description="Labels attached to the alert, e.g. team, runbook."
    )
    channels: list[Channel] = Field(
        default_factory=list, max_length=20, description="Where the alert is sent."
    )


class AlertThresholdsSpec(StrictModel):
    """Alert thresholds."""

    alerts: list[Alert] = Field(
        min_length=1, max_length=1000, description="The alerts; names unique."
    )
