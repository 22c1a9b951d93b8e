"""Which rules a bundle has, and which of them the tests made fire.

Coverage is counted for two sets, reported separately: the custom rules (every ``Rules``
document's rules) and the typed limits the bundle configures (a ``RiskLimits`` field set
at any scope). A rule is covered when it fired, or failed, in at least one case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from riskctl.builtins import BUILTIN_NAMES, LIMIT_RULES
from riskctl.bundle import PolicyBundle
from riskctl.kinds import RiskLimits, Rules

__all__ = [
    "Coverage",
    "builtin_rule_ids",
    "configured_limits",
    "custom_rule_ids",
    "shown_percent",
]


@dataclass(frozen=True, slots=True)
class Coverage:
    """One set of rules and the ids among them that fired."""

    label: str
    rules: tuple[str, ...]
    fired: frozenset[str]

    @property
    def covered(self) -> tuple[str, ...]:
        return tuple(r for r in self.rules if r in self.fired)

    @property
    def never_fired(self) -> tuple[str, ...]:
        return tuple(r for r in self.rules if r not in self.fired)

    @property
    def percent(self) -> Decimal:
        """Share of the rules that fired, 0-100; an empty set is fully covered."""
        if not self.rules:
            return Decimal(100)
        return Decimal(len(self.covered) * 100) / Decimal(len(self.rules))

    def below(self, minimum: Decimal) -> bool:
        return self.percent < minimum

    def describe(self) -> str:
        """``custom rules: 15/16 fired (93.8%)``."""
        return (
            f"{self.label}: {len(self.covered)}/{len(self.rules)} fired"
            f" ({shown_percent(self.percent)}%)"
        )


def shown_percent(value: Decimal) -> Decimal:
    """One decimal place, rounded down, so 99.96% never shows as a passing 100.0%."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


def custom_rule_ids(bundle: PolicyBundle) -> tuple[str, ...]:
    """Ids of the bundle's custom rules, in file order."""
    return tuple(dict.fromkeys(r.id for doc in bundle.of_kind(Rules) for r in doc.spec.rules))


def configured_limits(bundle: PolicyBundle) -> tuple[str, ...]:
    """Typed limits set at any scope of any RiskLimits document, in declaration order."""
    configured: set[str] = set()
    for document in bundle.of_kind(RiskLimits):
        for limits in (document.spec.defaults, *document.spec.scoped):
            configured.update(n for n in LIMIT_RULES if getattr(limits, n, None) is not None)
    return tuple(n for n in LIMIT_RULES if n in configured)


def builtin_rule_ids() -> frozenset[str]:
    """Names of every built-in rule (typed limits, state, sanity, conformance, balances)."""
    return BUILTIN_NAMES
