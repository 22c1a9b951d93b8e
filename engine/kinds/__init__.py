"""Policy kinds: one module per kind, and the document model that wraps each spec."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, TypeAdapter

from riskctl.kinds.alert_thresholds import AlertThresholdsSpec
from riskctl.kinds.change_control import ChangeControlSpec
from riskctl.kinds.circuit_breakers import CircuitBreakersSpec
from riskctl.kinds.instruments import InstrumentsSpec
from riskctl.kinds.inventory_bands import InventoryBandsSpec
from riskctl.kinds.risk_limits import RiskLimitsSpec
from riskctl.kinds.rules import RulesSpec
from riskctl.policy import PolicyDocument

__all__ = [
    "KINDS",
    "NOT_POLICY_KINDS",
    "AlertThresholds",
    "AnyPolicy",
    "ChangeControl",
    "CircuitBreakers",
    "Instruments",
    "InventoryBands",
    "RiskLimits",
    "Rules",
    "any_policy_adapter",
]


class RiskLimits(PolicyDocument):
    """Typed risk limits: order size and notional, price collar, position, exposure, rates, loss."""

    kind: Literal["RiskLimits"] = Field(description="Always RiskLimits.")
    spec: RiskLimitsSpec = Field(description="The limits.")


class CircuitBreakers(PolicyDocument):
    """Circuit breakers: trip conditions, actions, cooldowns and resets."""

    kind: Literal["CircuitBreakers"] = Field(description="Always CircuitBreakers.")
    spec: CircuitBreakersSpec = Field(description="The breakers.")


class InventoryBands(PolicyDocument):
    """Inventory bands per symbol with actions and hysteresis."""

    kind: Literal["InventoryBands"] = Field(description="Always InventoryBands.")
    spec: InventoryBandsSpec = Field(description="The band sets.")


class AlertThresholds(PolicyDocument):
    """Alert thresholds on metrics over a stage's context."""

    kind: Literal["AlertThresholds"] = Field(description="Always AlertThresholds.")
    spec: AlertThresholdsSpec = Field(description="The alerts.")


class ChangeControl(PolicyDocument):
    """Bounds on the changes advisor agents may propose and apply."""

    kind: Literal["ChangeControl"] = Field(description="Always ChangeControl.")
    spec: ChangeControlSpec = Field(description="The change bounds.")


class Instruments(PolicyDocument):
    """What each venue accepts per symbol: tick and step grids, size and notional bounds."""

    kind: Literal["Instruments"] = Field(description="Always Instruments.")
    spec: InstrumentsSpec = Field(description="The instruments.")


class Rules(PolicyDocument):
    """Custom rules: expressions over a stage's context with an action."""

    kind: Literal["Rules"] = Field(description="Always Rules.")
    spec: RulesSpec = Field(description="The rules.")


KINDS: dict[str, type[PolicyDocument]] = {
    cls.__name__: cls
    for cls in (
        RiskLimits,
        CircuitBreakers,
        InventoryBands,
        AlertThresholds,
        ChangeControl,
        Instruments,
        Rules,
    )
}

NOT_POLICY_KINDS: dict[str, str] = {"PolicyTest": "policy tests run with `riskctl test`"}
"""Kinds riskctl reads that are not policies, each with a hint where they belong."""

AnyPolicy = Annotated[
    Union[  # noqa: UP007  # a discriminated union needs the explicit form
        RiskLimits,
        CircuitBreakers,
        InventoryBands,
        AlertThresholds,
        ChangeControl,
        Instruments,
        Rules,
    ],
    Field(discriminator="kind"),
]


def any_policy_adapter() -> TypeAdapter[AnyPolicy]:
    """Validator for any policy document, dispatching on ``kind`` (used for the union schema)."""
    return TypeAdapter(AnyPolicy)
