"""The policy test file: ``kind: PolicyTest``, a list of cases and what each must decide.

A case names a stage, gives a context for it and states the expected decision: the
outcome, rules that must fire and rules that must not, and optionally actions and
modifications. The context stays a plain mapping here; the loader validates it against
its stage's context model so a bad context is reported at its own line and column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from riskctl.fields import Identifier, Stage, StrictModel

__all__ = [
    "Action",
    "Case",
    "Expectation",
    "ExpectedModifications",
    "PolicyTest",
    "SuiteMetadata",
]

Action = Literal[
    "reject",
    "clip",
    "round",
    "reduce_only",
    "halt",
    "cancel_all",
    "flatten",
    "pause_symbol",
    "alert",
]
"""Every action a decision can carry (riskctl.decision.ACTIONS; a test keeps them equal)."""

RuleId = Annotated[str, Field(min_length=1, max_length=63, examples=["max_order_qty"])]


class ExpectedModifications(StrictModel):
    """Modifications the decision must carry; a field left out is not checked."""

    qty: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The quantity the order must be changed to, in base units."
    )
    quote_qty: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description=(
            "The quote-currency size a quote-sized order must be changed to (a clip of an"
            " order given as quote_qty stays quote-sized)."
        ),
    )
    price: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The limit price the order must be moved to."
    )
    trigger_price: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The stop trigger price the order must be moved to."
    )


class Expectation(StrictModel):
    """What the gate must decide for the case's context."""

    outcome: Literal["allow", "modify", "reject"] = Field(
        description="The decision's outcome: allow, modify (e.g. a clipped order) or reject."
    )
    fires: list[RuleId] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Rule ids that must fire: custom rule ids or typed limit names such as"
            " max_order_qty. Other rules may fire too."
        ),
    )
    not_fires: list[RuleId] = Field(
        default_factory=list,
        max_length=1000,
        description="Rule ids that must not fire.",
    )
    actions: list[Action] | None = Field(
        default=None,
        max_length=20,
        description="Actions the decision must include (a subset; others may be present too).",
    )
    modifications: ExpectedModifications | None = Field(
        default=None, description="Modifications the decision must carry, e.g. {qty: 5}."
    )


class Case(StrictModel):
    """One context for one stage and the decision it must get."""

    name: str = Field(
        min_length=1, max_length=200, description="What the case shows; unique in the file."
    )
    description: str | None = Field(
        default=None, max_length=2000, description="Why the case matters, for reviewers."
    )
    stage: Stage = Field(description="Pipeline stage to evaluate the context at.")
    context: dict[str, Any] = Field(
        description=(
            "The stage's context, as the engine would pass it to the gate; see"
            " schemas/context-<stage>.schema.json. Derived fields are computed, never given."
        )
    )
    expect: Expectation = Field(description="The decision the gate must reach.")


class SuiteMetadata(StrictModel):
    """Names the test file in reports."""

    name: Identifier = Field(description="Test suite name, shown in reports and JUnit XML.")
    description: str | None = Field(
        default=None, max_length=2000, description="What this file tests."
    )


class PolicyTest(StrictModel):
    """A policy test file: cases evaluated against a policy bundle by ``riskctl test``."""

    api_version: Literal["riskctl/v1"] = Field(
        alias="apiVersion", description="Schema version of the document format: riskctl/v1."
    )
    kind: Literal["PolicyTest"] = Field(description="Always PolicyTest.")
    metadata: SuiteMetadata = Field(description="The suite's name and description.")
    cases: list[Case] = Field(
        max_length=10_000,
        description="The cases, run in order; a file without cases fails the run.",
    )
