"""RuleSpec: one rule ready to evaluate, whether written by a user or built in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from riskctl.decision import sorted_actions
from riskctl.expr import CheckedExpression
from riskctl.fields import Scope

__all__ = ["RuleSpec", "fix_action"]


def fix_action(modify: str) -> str:
    """The action a hit reports when its fix applies: ``round_*`` fixes round, others clip."""
    return "round" if modify.startswith("round") else "clip"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """Everything the gate needs to evaluate a rule and report a hit.

    ``modify`` names the fix riskctl.decide applies instead of rejecting (clip a quantity,
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
    readers: tuple[tuple[str, Callable[[Any], Any]], ...] = field(init=False, repr=False)
    # What a hit of this rule reports, computed once here rather than on every hit.
    mode: str = field(init=False, repr=False)
    hit_action: str = field(init=False, repr=False)
    reject_actions: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Getters for the values a hit reports, built once instead of on every hit.
        readers = tuple((path, attrgetter(path)) for path in self.expr.fields)
        object.__setattr__(self, "readers", readers)
        object.__setattr__(self, "mode", "enforce" if self.enforced else "audit")
        hit_action = fix_action(self.modify) if self.modify else self.action
        object.__setattr__(self, "hit_action", hit_action)
        object.__setattr__(self, "reject_actions", sorted_actions(("reject", self.action)))
