"""Scoped limit entries indexed by venue and symbol, so resolution never scans them all.

A scope names a venue, a symbol, both or neither, so the entries that match a (venue,
symbol) are exactly those filed under four keys. Building a gate resolves limits for
every pair and lint walks every entry's pairs: with the index both grow linearly with
the policy's size instead of pairs x entries (3,000 pairs x 10,000 entries took 19 s).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from riskctl.kinds import RiskLimits
from riskctl.kinds.risk_limits import ScopedLimits

__all__ = ["ScopeIndex", "scope_index"]

Pair = tuple[str, str]
Key = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class ScopeIndex:
    """One RiskLimits document's scoped entries and universe, by venue and symbol."""

    entries: dict[Key, list[tuple[int, ScopedLimits]]] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)  # the universe, in file order
    pair_set: frozenset[Pair] = frozenset()
    by_venue: dict[str, list[Pair]] = field(default_factory=dict)
    by_symbol: dict[str, list[Pair]] = field(default_factory=dict)

    @classmethod
    def of(cls, document: RiskLimits) -> ScopeIndex:
        entries: dict[Key, list[tuple[int, ScopedLimits]]] = {}
        for i, entry in enumerate(document.spec.scoped):
            entries.setdefault((entry.scope.venue, entry.scope.symbol), []).append((i, entry))
        pairs = list(dict.fromkeys((a.venue, s) for a in document.spec.venues for s in a.symbols))
        by_venue: dict[str, list[Pair]] = {}
        by_symbol: dict[str, list[Pair]] = {}
        for pair in pairs:
            by_venue.setdefault(pair[0], []).append(pair)
            by_symbol.setdefault(pair[1], []).append(pair)
        return cls(entries, pairs, frozenset(pairs), by_venue, by_symbol)

    def matching(self, venue: str, symbol: str) -> list[tuple[int, ScopedLimits]]:
        """(position in spec.scoped, entry) matching (venue, symbol): by specificity (none <
        venue < symbol < both), then file order, as resolution applies them."""
        found: list[tuple[int, ScopedLimits]] = []
        for key in ((None, None), (venue, None), (None, symbol), (venue, symbol)):
            found += self.entries.get(key, ())
        return found

    def covered(self, venue: str | None, symbol: str | None) -> list[Pair]:
        """Universe pairs a scope with these selectors matches, in file order."""
        if venue is not None and symbol is not None:
            return [(venue, symbol)] if (venue, symbol) in self.pair_set else []
        if venue is not None:
            return self.by_venue.get(venue, [])
        if symbol is not None:
            return self.by_symbol.get(symbol, [])
        return self.pairs


_INDEXES: dict[int, tuple[weakref.ref[RiskLimits], ScopeIndex]] = {}


def scope_index(document: RiskLimits) -> ScopeIndex:
    """The document's index, built once per document object (documents are frozen)."""
    key = id(document)
    cached = _INDEXES.get(key)
    if cached is not None and cached[0]() is document:
        return cached[1]
    index = ScopeIndex.of(document)

    def forget(_ref: weakref.ref[RiskLimits]) -> None:
        _INDEXES.pop(key, None)

    _INDEXES[key] = (weakref.ref(document, forget), index)
    return index
