"""Consistency of alerts, inventory bands, breakers and rules: values that contradict each other.

Each finding is a configuration that validates field by field but cannot mean what its
author intended: a warn level past the critical one, bands out of order, a breaker that
closes before its own counting window ends, two rules where the second can never matter.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from decimal import Decimal

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.expr import MAX_DEPTH, nesting_depth
from riskctl.kinds import AlertThresholds, CircuitBreakers, InventoryBands, Rules
from riskctl.kinds.inventory_bands import BandSet
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["check"]

Policies = tuple[LoadedPolicy, ...]
Path = tuple[str | int, ...]


def check(policies: Policies) -> Iterator[Diagnostic]:
    """Every consistency finding in the documents that loaded."""
    yield from _alert_levels(policies)
    yield from _band_sets(policies)
    yield from _breaker_windows(policies)
    yield from _duplicate_names(policies, "breaker", "breaker.duplicate-name")
    yield from _duplicate_names(policies, "alert", "alert.duplicate-name")
    yield from _shadowed_rules(policies)


# -- alerts ------------------------------------------------------------------------------


def _alert_levels(policies: Policies) -> Iterator[Diagnostic]:
    for policy, document in of_kind(policies, AlertThresholds):
        for i, alert in enumerate(document.spec.alerts):
            if alert.warn is None or alert.critical is None:
                continue
            above = alert.direction == "above"
            if (alert.warn > alert.critical) if above else (alert.warn < alert.critical):
                relation = "above" if above else "below"
                yield Diagnostic(
                    "alert.warn-beyond-critical",
                    f"alert {alert.name!r} fires {relation} its levels, but warn {alert.warn} is"
                    f" {relation} critical {alert.critical}, so it would go critical before it"
                    " ever warns",
                    policy.source.location(("spec", "alerts", i, "warn")),
                    hint="swap the two levels, or check the direction",
                )


# -- inventory bands ---------------------------------------------------------------------


def _band_sets(policies: Policies) -> Iterator[Diagnostic]:
    for policy, document in of_kind(policies, InventoryBands):
        for i, band_set in enumerate(document.spec.sets):
            path = ("spec", "sets", i)
            ordered = True
            for j in _unordered(band_set):
                ordered = False
                yield _band_out_of_order(policy, path, band_set, j)
            if ordered:
                yield from _hysteresis(policy, path, band_set)
            yield from _ratio(policy, path, band_set)


def _unordered(band_set: BandSet) -> Iterator[int]:
    """Indexes of bands whose up_to is not above the band before."""
    bands = band_set.bands
    return (j for j in range(1, len(bands)) if bands[j].up_to <= bands[j - 1].up_to)


def _band_out_of_order(policy: LoadedPolicy, path: Path, band_set: BandSet, j: int) -> Diagnostic:
    band, before = band_set.bands[j], band_set.bands[j - 1]
    overlap = "repeats" if band.up_to == before.up_to else "is below"
    return Diagnostic(
        "bands.unordered",
        f"band {band.name} ends at {band.up_to}, which {overlap} the end of band {before.name}"
        f" ({before.up_to}) before it; bands must strictly increase",
        policy.source.location((*path, "bands", j, "up_to")),
        hint="list bands from the smallest up_to to the largest, without overlaps",
    )


def _hysteresis(policy: LoadedPolicy, path: Path, band_set: BandSet) -> Iterator[Diagnostic]:
    edges = [Decimal(0), *(b.up_to for b in band_set.bands)]
    widths = [(edges[k + 1] - edges[k], band_set.bands[k].name) for k in range(len(edges) - 1)]
    width, name = min(widths)
    if band_set.hysteresis > width:
        yield Diagnostic(
            "bands.hysteresis-too-wide",
            f"hysteresis {band_set.hysteresis} is wider than band {name} ({width} wide); the"
            " measure could never leave the band above it by falling back into it",
            policy.source.location((*path, "hysteresis")),
            hint="keep hysteresis below the width of the narrowest band",
        )


def _ratio(policy: LoadedPolicy, path: Path, band_set: BandSet) -> Iterator[Diagnostic]:
    if band_set.measure != "position_ratio":
        return
    for j, band in enumerate(band_set.bands):
        if band.up_to > 1:
            yield Diagnostic(
                "bands.ratio-above-one",
                f"band {band.name} ends at {band.up_to}, but position_ratio is |position| /"
                " max_position_qty, which the position limit keeps at or below 1",
                policy.source.location((*path, "bands", j, "up_to")),
                hint="end the last band at 1, or use measure: position_qty for base units",
            )
            return


# -- breakers ----------------------------------------------------------------------------


def _breaker_windows(policies: Policies) -> Iterator[Diagnostic]:
    for policy, document in of_kind(policies, CircuitBreakers):
        for i, breaker in enumerate(document.spec.breakers):
            if breaker.count is None or breaker.cooldown_ms >= breaker.count.window_ms:
                continue
            yield Diagnostic(
                "breaker.cooldown-shorter-than-window",
                f"breaker {breaker.name!r} cools down after {breaker.cooldown_ms} ms but counts"
                f" matches over {breaker.count.window_ms} ms; the matches that tripped it are"
                " still in the window when it closes, so it trips again at once",
                policy.source.location(("spec", "breakers", i, "cooldown_ms")),
                hint="make cooldown_ms at least count.window_ms",
            )


# -- names and rules ---------------------------------------------------------------------


def _duplicate_names(policies: Policies, noun: str, code: str) -> Iterator[Diagnostic]:
    seen: dict[str, Location] = {}
    for policy, path, name in _names(policies, noun):
        where = policy.source.location(path)
        first = seen.setdefault(name, where)
        if first is not where:
            yield Diagnostic(
                code,
                f"{noun} name {name!r} is used twice; the first is at {first}",
                where,
                hint=f"{noun} names must be unique in the bundle: state and audits use them",
            )


def _names(policies: Policies, noun: str) -> Iterator[tuple[LoadedPolicy, Path, str]]:
    """(file, path of the name, name) of every breaker or every alert."""
    if noun == "breaker":
        for policy, breakers in of_kind(policies, CircuitBreakers):
            for i, breaker in enumerate(breakers.spec.breakers):
                yield policy, ("spec", "breakers", i, "name"), breaker.name
    else:
        for policy, alerts in of_kind(policies, AlertThresholds):
            for i, alert in enumerate(alerts.spec.alerts):
                yield policy, ("spec", "alerts", i, "name"), alert.name


def _shadowed_rules(policies: Policies) -> Iterator[Diagnostic]:
    seen: dict[tuple[object, ...], tuple[str, Location]] = {}
    for policy, document in of_kind(policies, Rules):
        for i, rule in enumerate(document.spec.rules):
            scope = rule.scope.label() if rule.scope else None
            key = (rule.stage, scope, rule.mode, _normal(rule.when))
            where = policy.source.location(("spec", "rules", i, "when"))
            first = seen.setdefault(key, (rule.id, where))
            if first[1] is not where:
                yield Diagnostic(
                    "rule.shadowed",
                    f"rule {rule.id!r} has the same stage, scope, mode and condition as rule"
                    f" {first[0]!r} at {first[1]}, so it only ever fires together with it",
                    where,
                    Severity.WARNING,
                    hint="merge the two rules, or change the condition of one",
                )


def _normal(text: str) -> str:
    """The expression with spacing and redundant parentheses removed.

    Past the checker's depth limit (already reported) it is compared as text, so a hostile
    expression cannot make lint recurse.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        return " ".join(text.split())
    if nesting_depth(tree) > MAX_DEPTH:
        return " ".join(text.split())
    return ast.dump(tree)
