"""The ``InventoryBands`` kind: position bands per symbol with actions and hysteresis."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from riskctl.fields import MAX_QTY, DurationMs, Flag, Scope, StrictModel

__all__ = ["Band", "BandSet", "InventoryBandsSpec"]

BandName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$", examples=["NORMAL", "WARN"])]


class Band(StrictModel):
    """One band: applies while the measure is at or below ``up_to`` (and above the band before)."""

    name: BandName = Field(description="Band name in capitals, e.g. NORMAL, WARN, CRITICAL, HARD.")
    up_to: Annotated[Decimal, Field(gt=0, le=MAX_QTY, allow_inf_nan=False)] = Field(
        description="Upper edge of the band, inclusive, in the set's measure."
    )
    skew_multiplier: Annotated[Decimal, Field(ge=0, le=10, allow_inf_nan=False)] = Field(
        default=Decimal(1),
        description="Multiplier a market maker applies to its inventory skew inside this band.",
    )
    block_increasing: Flag = Field(
        default=False, description="Reject orders that would increase the absolute position."
    )
    flatten: Flag = Field(default=False, description="Flatten the position on entering this band.")
    alert: Flag = Field(default=False, description="Raise an alert on entering this band.")


class BandSet(StrictModel):
    """Ordered bands for one symbol (optionally on one venue)."""

    scope: Scope = Field(description="Symbol (and optionally venue) the bands apply to.")
    measure: Literal["position_qty", "position_ratio"] = Field(
        description=(
            "position_qty: |position| in base units; position_ratio: |position| divided by the"
            " scope's max_position_qty, 0..1."
        ),
    )
    bands: list[Band] = Field(
        min_length=1, max_length=16, description="Bands in increasing order of up_to."
    )
    hysteresis: Annotated[Decimal, Field(ge=0, le=MAX_QTY, allow_inf_nan=False)] = Field(
        default=Decimal(0),
        description="How far below a band's lower edge the measure must fall to leave the band.",
    )
    max_hold_ms: DurationMs | None = Field(
        default=None,
        description=(
            "Flatten a position that has not been flat for longer than this, in milliseconds"
            " (market makers cap holds, e.g. at one hour); once per open position."
        ),
    )


class InventoryBandsSpec(StrictModel):
    """Inventory bands per symbol."""

    sets: list[BandSet] = Field(
        min_length=1, max_length=1000, description="One band set per scope."
    )
