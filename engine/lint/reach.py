"""Reach: selectors that match nothing the desk trades, and traded symbols the venue checks
cannot be run for.

A typo in a scope (``venue: krakn``) or an instrument (``BTC/USTD``) is valid YAML and a
valid model, and silently never applies. Against the RiskLimits universe (the venue
accounts and symbols the bundle trades):

* ``scope.outside-universe`` (warning): a rule, breaker, alert or band set whose scope
  names a venue or symbol the universe does not have;
* ``instruments.outside-universe`` (warning): an Instruments entry nobody trades;
* ``instruments.missing`` (warning): a traded pair with conformance checks on and no
  Instruments entry, so every opening order is refused unless the venue layer sends
  instrument data in the context.
"""

from __future__ import annotations

from collections.abc import Iterator

from riskctl.errors import Diagnostic, Severity
from riskctl.fields import Scope
from riskctl.kinds import (
    AlertThresholds,
    CircuitBreakers,
    Instruments,
    InventoryBands,
    RiskLimits,
    Rules,
)
from riskctl.kinds.risk_limits import Conformance
from riskctl.limits import resolve_limits
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["check"]

Pair = tuple[str, str]


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """Findings for selectors outside the universe and traded pairs without instruments."""
    limits = [document for _, document in of_kind(policies, RiskLimits)]
    pairs = frozenset(pair for document in limits for pair in document.spec.pairs())
    if not pairs:
        return  # no universe to compare against
    yield from _scopes(policies, pairs)
    yield from _instruments(policies, limits, pairs)


def _scoped(
    policies: tuple[LoadedPolicy, ...],
) -> Iterator[tuple[LoadedPolicy, tuple[str | int, ...], Scope, str]]:
    """(file, path of the scope, scope, what it scopes) for every scoped entry."""
    for policy, rules in of_kind(policies, Rules):
        for i, rule in enumerate(rules.spec.rules):
            if rule.scope is not None:
                yield policy, ("spec", "rules", i, "scope"), rule.scope, f"rule {rule.id!r}"
    for policy, breakers in of_kind(policies, CircuitBreakers):
        for i, breaker in enumerate(breakers.spec.breakers):
            if breaker.scope is not None:
                where = ("spec", "breakers", i, "scope")
                yield policy, where, breaker.scope, f"breaker {breaker.name!r}"
    for policy, alerts in of_kind(policies, AlertThresholds):
        for i, alert in enumerate(alerts.spec.alerts):
            if alert.scope is not None:
                yield policy, ("spec", "alerts", i, "scope"), alert.scope, f"alert {alert.name!r}"
    for policy, bands in of_kind(policies, InventoryBands):
        for i, band_set in enumerate(bands.spec.sets):
            yield policy, ("spec", "sets", i, "scope"), band_set.scope, "this band set"


def _scopes(policies: tuple[LoadedPolicy, ...], pairs: frozenset[Pair]) -> Iterator[Diagnostic]:
    venues = {venue for venue, _ in pairs}
    symbols = {symbol for _, symbol in pairs}
    for policy, path, scope, what in _scoped(policies):
        unknown = []
        if scope.venue and scope.venue not in venues:
            unknown.append(f"venue {scope.venue!r}")
        if scope.symbol and scope.symbol not in symbols:
            unknown.append(f"symbol {scope.symbol!r}")
        if (
            not unknown
            and scope.venue
            and scope.symbol
            and (scope.venue, scope.symbol) not in pairs
        ):
            unknown.append(f"{scope.symbol} on {scope.venue}")
        if unknown:
            yield Diagnostic(
                "scope.outside-universe",
                f"{what} is scoped to {' and '.join(unknown)}, which no RiskLimits universe"
                " trades, so it never applies",
                policy.source.location(path),
                Severity.WARNING,
                hint="check the spelling against spec.venues in the RiskLimits documents",
            )


def _instruments(
    policies: tuple[LoadedPolicy, ...], limits: list[RiskLimits], pairs: frozenset[Pair]
) -> Iterator[Diagnostic]:
    known: set[Pair] = set()
    for policy, instruments in of_kind(policies, Instruments):
        for i, entry in enumerate(instruments.spec.instruments):
            pair = (entry.venue, entry.symbol)
            known.add(pair)
            if pair not in pairs:
                yield Diagnostic(
                    "instruments.outside-universe",
                    f"{entry.symbol} on {entry.venue} is not traded by any RiskLimits universe,"
                    " so this entry is never used",
                    policy.source.location(("spec", "instruments", i, "symbol")),
                    Severity.WARNING,
                    hint="check the venue and symbol spelling",
                )
    for policy, document in of_kind(policies, RiskLimits):
        for i, account in enumerate(document.spec.venues):
            for symbol in account.symbols:
                pair = (account.venue, symbol)
                if pair not in known and _requires_instrument(limits, pair):
                    yield Diagnostic(
                        "instruments.missing",
                        f"{symbol} on {account.venue} has conformance checks on but no"
                        " Instruments entry: every opening order is refused unless the context"
                        " carries instrument data",
                        policy.source.location(("spec", "venues", i, "venue")),
                        Severity.WARNING,
                        hint="add it to an Instruments document (from the venue's load_markets)",
                    )


def _requires_instrument(limits: list[RiskLimits], pair: Pair) -> bool:
    for document in limits:
        value, _ = resolve_limits(document, *pair).get("conformance", (None, ""))
        if isinstance(value, Conformance) and value.require_instrument:
            return True
    return False
