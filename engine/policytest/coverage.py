"""Which rules a bundle has, and which of them the tests made fire.

Coverage is counted for five sets, reported separately: the custom rules (every ``Rules``
document's rules) and the typed limits the bundle configures (a ``RiskLimits`` field set
at any scope), covered when they fired, or failed, in at least one case; and the runtime's
machines, covered only by timelines: breakers (covered when one tripped), band sets (when
one left its first band) and alerts (when one fired).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from riskctl.builtins import BUILTIN_NAMES, LIMIT_RULES
from riskctl.bundle import PolicyBundle
from riskctl.kinds import AlertThresholds, CircuitBreakers, InventoryBands, RiskLimits, Rules
from riskctl.state import bands

__all__ = [
    "Coverage",
    "alert_names",
    "band_set_keys",
    "breaker_names",
    "builtin_rule_ids",
    "configured_limits",
    "custom_rule_ids",
    "first_bands",
    "shown_percent",
]


@dataclass(frozen=True, slots=True)
class Coverage:
    """One set of rules and the ids among them that fired."""

    label: str
    rules: tuple[str, ...]
    fired: frozenset[str]
    verb: str = "fired"
    """What covering one means, in reports: fired, tripped, moved."""

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
        """``custom rules: 15/16 fired (93.8%)``, ``breakers: 4/4 tripped (100.0%)``."""
        return (
            f"{self.label}: {len(self.covered)}/{len(self.rules)} {self.verb}"
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


def breaker_names(bundle: PolicyBundle) -> tuple[str, ...]:
    """Names of the bundle's circuit breakers, in file order."""
    return tuple(
        dict.fromkeys(b.name for doc in bundle.of_kind(CircuitBreakers) for b in doc.spec.breakers)
    )


def first_bands(bundle: PolicyBundle) -> dict[str, str]:
    """Each band set's state key (``riskctl state show``) -> the name of its first band."""
    return {
        bands.key(s): s.bands[0].name
        for doc in bundle.of_kind(InventoryBands)
        for s in doc.spec.sets
    }


def band_set_keys(bundle: PolicyBundle) -> tuple[str, ...]:
    """The bundle's band sets by state key (``*/BTC/USDT``), in file order."""
    return tuple(first_bands(bundle))


def alert_names(bundle: PolicyBundle) -> tuple[str, ...]:
    """Names of the bundle's alert thresholds, in file order."""
    return tuple(
        dict.fromkeys(a.name for doc in bundle.of_kind(AlertThresholds) for a in doc.spec.alerts)
    )


def builtin_rule_ids() -> frozenset[str]:
    """Names of every built-in rule (typed limits, state, sanity, conformance, balances)."""
    return BUILTIN_NAMES
