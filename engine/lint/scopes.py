"""RiskLimits scopes: duplicates, scopes outside the universe, and overrides that loosen.

Per limit, the most specific scope wins (venue+symbol > symbol > venue > defaults). An
override is meant to tighten: a symbol that may trade more than the defaults allow is
usually a typo, so it is a warning (waivable with a reason). A position limit below the
order limit it sits next to is an error: one full-size order from flat would breach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.kinds import RiskLimits
from riskctl.kinds.risk_limits import ScopedLimits
from riskctl.limits import resolve_limits
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy
from riskctl.scope_index import scope_index

__all__ = ["TIGHTENING", "check", "universe"]

TIGHTENING = (
    "max_order_qty",
    "max_order_notional",
    "max_position_qty",
    "max_position_notional",
    "price_collar_bps",
)

Pair = tuple[str, str]
Path = tuple[str | int, ...]


def universe(document: RiskLimits) -> list[Pair]:
    """Every (venue, symbol) the document's accounts trade, in file order."""
    return [(a.venue, s) for a in document.spec.venues for s in a.symbols]


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """Scope findings for every RiskLimits document."""
    for policy, document in of_kind(policies, RiskLimits):
        yield from _duplicate_scopes(policy, document)
        yield from _outside_universe(policy, document)
        yield from _looser_than_parent(policy, document)
        yield from _position_below_order(policy, document)


def _duplicate_scopes(policy: LoadedPolicy, document: RiskLimits) -> Iterator[Diagnostic]:
    seen: dict[str, Location] = {}
    for i, entry in enumerate(document.spec.scoped):
        where = policy.source.location(("spec", "scoped", i, "scope"))
        first = seen.setdefault(entry.scope.label(), where)
        if first is not where:
            yield Diagnostic(
                "limits.duplicate-scope",
                f"scope {entry.scope.label()} is listed twice in spec.scoped; the first is at"
                f" {first}, and for a limit both set the later one silently wins",
                where,
                hint="merge the two entries into one",
            )


def _outside_universe(policy: LoadedPolicy, document: RiskLimits) -> Iterator[Diagnostic]:
    pairs = universe(document)
    venues = sorted({v for v, _ in pairs})
    symbols = sorted({s for _, s in pairs})
    index = scope_index(document)
    for i, entry in enumerate(document.spec.scoped):
        scope = entry.scope
        if index.covered(scope.venue, scope.symbol):
            continue
        if scope.venue is not None and scope.venue not in venues:
            reason = f"venue {scope.venue} is not in spec.venues ({', '.join(venues)})"
        elif scope.symbol is not None and scope.symbol not in symbols:
            reason = f"symbol {scope.symbol} is not traded by any account in spec.venues"
        else:
            reason = f"no account in spec.venues trades {scope.symbol} on {scope.venue}"
        yield Diagnostic(
            "limits.scope-outside-universe",
            f"scope {scope.label()} never applies: {reason}",
            policy.source.location(("spec", "scoped", i, "scope")),
            hint="fix the venue or symbol, or add it to spec.venues",
        )


# -- overrides that loosen -----------------------------------------------------------------


def _looser_than_parent(policy: LoadedPolicy, document: RiskLimits) -> Iterator[Diagnostic]:
    index = scope_index(document)
    for i, entry in enumerate(document.spec.scoped):
        covered = index.covered(entry.scope.venue, entry.scope.symbol)
        for name in TIGHTENING:
            value = getattr(entry, name)
            parent = _tightest_parent(document, entry, name, covered)
            if value is None or parent is None or value <= parent[0]:
                continue
            yield Diagnostic(
                "limits.looser-than-parent",
                f"{name} is {value} for scope {entry.scope.label()}, looser than {parent[0]} set"
                f" for the wider scope {parent[1]}; a more specific scope usually tightens a"
                " limit",
                policy.source.location(("spec", "scoped", i, name)),
                Severity.WARNING,
                hint="if the looser limit is intended, waive it on this line with the reason",
            )


def _tightest_parent(
    document: RiskLimits, entry: ScopedLimits, name: str, pairs: list[Pair]
) -> tuple[Any, str] | None:
    """The smallest value of ``name`` that ``entry`` overrides for any (venue, symbol)."""
    level = entry.scope.specificity()
    index = scope_index(document)
    found: list[tuple[Any, str]] = []
    for venue, symbol in pairs:
        inherited = None
        default = getattr(document.spec.defaults, name)
        if default is not None:
            inherited = (default, "*:*")
        for _, limits in index.matching(venue, symbol):  # widest first, file order
            if limits.scope.specificity() < level and getattr(limits, name) is not None:
                inherited = (getattr(limits, name), limits.scope.label())
        if inherited is not None:
            found.append(inherited)
    return min(found, key=lambda item: item[0]) if found else None


# -- position below order ------------------------------------------------------------------


def _position_below_order(policy: LoadedPolicy, document: RiskLimits) -> Iterator[Diagnostic]:
    grouped: dict[Path, list[tuple[Pair, Decimal, Decimal]]] = {}
    for venue, symbol in universe(document):
        resolved = resolve_limits(document, venue, symbol)
        position, order = resolved.get("max_position_qty"), resolved.get("max_order_qty")
        if position is None or order is None:
            continue
        position_qty, order_qty = Decimal(str(position[0])), Decimal(str(order[0]))
        if position_qty < order_qty:
            origin = _origin(document, "max_position_qty", position[1])
            grouped.setdefault(origin, []).append(((venue, symbol), position_qty, order_qty))
    for origin, cases in grouped.items():
        (venue, symbol), position_qty, order_qty = cases[0]
        more = f" (and {len(cases) - 1} more)" if len(cases) > 1 else ""
        yield Diagnostic(
            "limits.position-below-order",
            f"for {venue} {symbol}{more}, max_position_qty {position_qty} is below max_order_qty"
            f" {order_qty}: one full-size order from a flat position would breach it",
            policy.source.location(origin),
            hint="raise max_position_qty to at least max_order_qty, or lower max_order_qty",
        )


def _origin(document: RiskLimits, name: str, label: str) -> Path:
    """Path of the value resolve_limits took from the scope ``label`` (later entries win)."""
    if label != "*:*":
        venue, _, symbol = label.partition(":")
        key = (None if venue == "*" else venue, None if symbol == "*" else symbol)
        for i, entry in reversed(scope_index(document).entries.get(key, [])):
            if getattr(entry, name) is not None:
                return ("spec", "scoped", i, name)
    return ("spec", "defaults", name)
