"""The ``Rules`` kind: custom rules written as expressions over a stage's context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from riskctl.fields import (
    Expression,
    Flag,
    Identifier,
    RuleAction,
    Scope,
    Severity,
    Stage,
    StrictModel,
)

__all__ = ["Rule", "RulesSpec"]


class Rule(StrictModel):
    """A custom rule: when ``when`` is true at ``stage``, the rule fires and ``action`` is taken."""

    id: Identifier = Field(
        description="Rule id, unique in the bundle; decisions and waivers cite it."
    )
    stage: Stage = Field(description="Pipeline stage whose context the expression reads.")
    when: Expression = Field(
        description=(
            "Condition that fires the rule, e.g. `order.notional > 50000 and market.age_ms > 500`."
            " It may only name fields of the stage's context (see schemas/context-*.schema.json),"
            " compare, combine with and/or/not, do arithmetic, and call abs, min, max and round."
        ),
    )
    action: RuleAction = Field(
        default="reject",
        description=(
            "What firing means: reject the order or event; reduce_only (reject unless the order"
            " reduces the position); halt; cancel_all; flatten; or alert (record, still allow)."
        ),
    )
    severity: Severity = Field(
        default="error", description="How serious a firing is, for alerting."
    )
    message: str = Field(
        min_length=1,
        max_length=500,
        description="What a human reads when the rule fires: what was wrong and why it matters.",
    )
    scope: Scope | None = Field(
        default=None,
        description="Venue and symbol the rule applies to; omit to apply everywhere.",
    )
    mode: Literal["enforce", "audit"] = Field(
        default="enforce",
        description="enforce acts on a firing; audit records what would have happened and allows.",
    )
    applies_to_exits: Flag = Field(
        default=False,
        description=(
            "pre_trade only: also apply to orders that only reduce the position (reduce-only"
            " exits). Off by default, so a limit meant for opening risk never traps an exit."
        ),
    )


class RulesSpec(StrictModel):
    """Custom rules, evaluated in order at their stage."""

    rules: list[Rule] = Field(
        min_length=1, max_length=10_000, description="The rules; ids must be unique in the bundle."
    )
