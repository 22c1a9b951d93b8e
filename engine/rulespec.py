"""RuleSpec: one rule ready to evaluate, whether written by a user or built in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Any

from riskctl.expr import CheckedExpression
from riskctl.fields import Scope

__all__ = ["RuleSpec"]


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

    def __post_init__(self) -> None:
        # Getters for the values a hit reports, built once instead of on every hit.
        readers = tuple((path, attrgetter(path)) for path in self.expr.fields)
        object.__setattr__(self, "readers", readers)
