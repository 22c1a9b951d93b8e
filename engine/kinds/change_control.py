"""The ``ChangeControl`` kind: what advisor agents may change, by how much, and how often."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from riskctl.fields import MAX_MONEY, Count, Percent, StrictModel

__all__ = ["ChangeBound", "ChangeControlSpec", "PathSelector"]

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
