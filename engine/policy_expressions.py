"""Every expression a policy document holds, with where it is and what it must evaluate to.

The compiler checks them and lint analyses them; both walk documents through here, so a
new kind with expressions is added in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from riskctl.kinds import AlertThresholds, CircuitBreakers, Rules
from riskctl.loader import LoadedPolicy
from riskctl.symbols import Type

__all__ = ["Expression", "expressions"]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Expression:
    """One expression in a document: where it is, its text, stage, type and what it drives."""

    path: Path
    text: str
    stage: str
    expect: Type
    owner: str  # "rule", "breaker" or "alert metric", for messages


def expressions(policy: LoadedPolicy) -> Iterator[Expression]:
    """Every expression of a document (rule and breaker conditions, alert metrics)."""
    document = policy.document
    if isinstance(document, Rules):
        for i, rule in enumerate(document.spec.rules):
            yield Expression(("spec", "rules", i, "when"), rule.when, rule.stage, Type.BOOL, "rule")
    elif isinstance(document, CircuitBreakers):
        for i, breaker in enumerate(document.spec.breakers):
            path = ("spec", "breakers", i, "when")
            yield Expression(path, breaker.when, breaker.stage, Type.BOOL, "breaker")
    elif isinstance(document, AlertThresholds):
        for i, alert in enumerate(document.spec.alerts):
            path = ("spec", "alerts", i, "metric")
            yield Expression(path, alert.metric, alert.stage, Type.NUMBER, "alert metric")
