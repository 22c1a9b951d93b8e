"""RuleSpec: one rule ready to evaluate, whether written by a user or built in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.expr import CheckedExpression
from engine.fields import Scope

__all__ = ["RuleSpec"]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """Everything the gate needs to evaluate a rule and report a hit.

    ``modify`` names the fix engine.decide applies instead of rejecting (clip a quantity,
    round onto a grid); None means the rule can only reject.
    """

    rule_id: str
    policy: str
    code: str
    stage: str
    expr: CheckedExpression
    action: str
    severity: str
    message: str
    enforced: bool = True
    exits_exempt: bool = False
    scope: Scope | None = None
    limit: Decimal | int | None = None
    scope_label: str = ""
    modify: str | None = None
