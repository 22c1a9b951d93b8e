"""The ``AlertThresholds`` kind: metrics with warn and critical levels, durations and routing.

Levels are absolute (in the metric's units) or, with ``of_limit``, percent of a typed
``RiskLimits`` limit: ``of_limit: max_daily_loss`` with ``warn: 80`` warns past 80% of the
daily loss limit in force, whatever that limit is set to (``riskctl.alert_limits``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import Field

from riskctl.fields import MAX_MONEY, DurationMs, Expression, Identifier, Scope, Stage, StrictModel

__all__ = ["SHAREABLE_LIMITS", "Alert", "AlertThresholdsSpec", "ShareableLimit"]

Level = Annotated[Decimal, Field(ge=-MAX_MONEY, le=MAX_MONEY, allow_inf_nan=False)]
# The numeric RiskLimits limits a level can be a share of (a test keeps this in step with
# LimitSet): every bound a metric grows toward. fee_reserve_bps is a reserve, not a bound.
ShareableLimit = Literal[
    "max_order_qty",
    "max_order_notional",
    "price_collar_bps",
    "max_position_qty",
    "max_position_notional",
    "max_gross_exposure",
    "max_open_orders",
    "max_orders_per_second",
    "max_daily_loss",
    "max_drawdown",
    "stale_market_data_ms",
    "stale_balance_ms",
    "max_amends_per_second",
    "max_clock_skew_ms",
]
SHAREABLE_LIMITS: tuple[str, ...] = get_args(ShareableLimit)
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
    of_limit: ShareableLimit | None = Field(
        default=None,
        description=(
            "A RiskLimits limit the levels are percent of: warn, critical and hysteresis are then"
            " percent of the limit in force for the pairs the alert watches (its scope), e.g."
            " of_limit: max_daily_loss with warn: 80 warns past 80% of the daily loss limit. The"
            " alert follows the limit when it changes; lint requires one value across the scope."
        ),
        examples=["max_daily_loss"],
    )
    warn: Level | None = Field(
        default=None,
        description="Level that raises a warning; with of_limit, percent of the limit.",
    )
    critical: Level | None = Field(
        default=None,
        description="Level that raises a critical alert; with of_limit, percent of the limit.",
    )
    for_ms: DurationMs | None = Field(
        default=None, description="The level must hold this long before the alert fires."
    )
    keep_firing_for_ms: DurationMs | None = Field(
        default=None, description="Keep firing this long after the level clears, to avoid flapping."
    )
    hysteresis: Annotated[Decimal, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False)] = Field(
        default=Decimal(0),
        description=(
            "How far back past the level the metric must move to clear; with of_limit, in"
            " percentage points of the limit."
        ),
    )
    scope: Scope | None = Field(default=None, description="Venue and symbol the alert watches.")
    per: Literal["alert", "pair"] = Field(
        default="alert",
        description=(
            "alert: one state for every context the alert sees (an account-wide metric such as"
            " pnl.daily). pair: one state per venue and symbol (a per-book metric such as"
            " health.feed_age_ms), so one book's fresh context never clears another's breach;"
            " each pair pends, fires and resolves on its own, labelled venue and symbol."
        ),
    )
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
