"""Value sets for reasoning about conditions: number intervals and sets of strings.

A condition like ``order.qty > 0`` constrains one term (``order.qty``) to a set of values.
Intersecting that set with what the context model allows tells whether the condition can
ever be false (or true); intersecting the sets of ``x > 5 and x < 3`` tells whether the
conjunction can ever hold. Both set types are closed under intersection and under the
negation of a single comparison, which is all :mod:`riskctl.lint.conditions` needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Interval", "NumberSet", "StringSet", "ValueSet"]

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Interval:
    """Numbers between ``lo`` and ``hi``; ``None`` is an infinite end (always open)."""

    lo: Decimal | None = None
    hi: Decimal | None = None
    lo_open: bool = True
    hi_open: bool = True

    @classmethod
    def point(cls, value: Decimal) -> Interval:
        return cls(value, value, lo_open=False, hi_open=False)

    def is_empty(self) -> bool:
        if self.lo is None or self.hi is None:
            return False
        return self.lo > self.hi or (self.lo == self.hi and (self.lo_open or self.hi_open))

    def contains(self, value: Decimal) -> bool:
        above = self.lo is None or value > self.lo or (value == self.lo and not self.lo_open)
        below = self.hi is None or value < self.hi or (value == self.hi and not self.hi_open)
        return above and below

    def single(self) -> Decimal | None:
        """The one number in a point interval, else None."""
        return (
            self.lo if self.lo is not None and self.lo == self.hi and not self.is_empty() else None
        )

    def intersect(self, other: Interval) -> Interval:
        lo, lo_open = _tighter_lo(self, other)
        hi, hi_open = _tighter_hi(self, other)
        return Interval(lo, hi, lo_open, hi_open)

    # -- arithmetic (sound over-approximations) ------------------------------------------

    def negate(self) -> Interval:
        return Interval(
            None if self.hi is None else -self.hi,
            None if self.lo is None else -self.lo,
            self.hi_open,
            self.lo_open,
        )

    def add(self, other: Interval) -> Interval:
        lo = None if self.lo is None or other.lo is None else self.lo + other.lo
        hi = None if self.hi is None or other.hi is None else self.hi + other.hi
        return Interval(lo, hi, self.lo_open or other.lo_open, self.hi_open or other.hi_open)

    def scale(self, factor: Decimal) -> Interval:
        """Multiply by a constant."""
        if factor == 0:
            return Interval.point(ZERO)
        lo = None if self.lo is None else self.lo * factor
        hi = None if self.hi is None else self.hi * factor
        scaled = Interval(lo, hi, self.lo_open, self.hi_open)
        return scaled if factor > 0 else Interval(hi, lo, self.hi_open, self.lo_open)

    def absolute(self) -> Interval:
        if self.lo is not None and (self.lo > 0 or (self.lo == 0 and not self.lo_open)):
            return self
        if self.hi is not None and (self.hi < 0 or (self.hi == 0 and not self.hi_open)):
            return self.negate()
        ends = [abs(e) for e in (self.lo, self.hi) if e is not None]
        hi = max(ends) if len(ends) == 2 else None
        return Interval(ZERO, hi, lo_open=False, hi_open=hi is None)

    def minimum(self, other: Interval) -> Interval:
        lo, lo_open = _looser_lo(self, other)
        hi, hi_open = _tighter_hi(self, other)
        return Interval(lo, hi, lo_open, hi_open)

    def maximum(self, other: Interval) -> Interval:
        lo, lo_open = _tighter_lo(self, other)
        hi, hi_open = _looser_hi(self, other)
        return Interval(lo, hi, lo_open, hi_open)

    def hull(self, other: Interval) -> Interval:
        """The smallest interval holding both (for ``a if c else b``)."""
        lo, lo_open = _looser_lo(self, other)
        hi, hi_open = _looser_hi(self, other)
        return Interval(lo, hi, lo_open, hi_open)


def _tighter_lo(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.lo is None or (b.lo is not None and b.lo > a.lo):
        return b.lo, b.lo_open
    if b.lo is None or a.lo > b.lo:
        return a.lo, a.lo_open
    return a.lo, a.lo_open or b.lo_open


def _tighter_hi(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.hi is None or (b.hi is not None and b.hi < a.hi):
        return b.hi, b.hi_open
    if b.hi is None or a.hi < b.hi:
        return a.hi, a.hi_open
    return a.hi, a.hi_open or b.hi_open


def _looser_lo(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.lo is None or b.lo is None:
        return None, True
    if a.lo != b.lo:
        return (a.lo, a.lo_open) if a.lo < b.lo else (b.lo, b.lo_open)
    return a.lo, a.lo_open and b.lo_open


def _looser_hi(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.hi is None or b.hi is None:
        return None, True
    if a.hi != b.hi:
        return (a.hi, a.hi_open) if a.hi > b.hi else (b.hi, b.hi_open)
    return a.hi, a.hi_open and b.hi_open


@dataclass(frozen=True, slots=True)
class NumberSet:
    """An interval minus some excluded points (``x != 5`` excludes 5)."""

    interval: Interval = Interval()
    excluded: frozenset[Decimal] = frozenset()

    def intersect(self, other: NumberSet) -> NumberSet:
        return NumberSet(self.interval.intersect(other.interval), self.excluded | other.excluded)

    def is_empty(self) -> bool:
        if self.interval.is_empty():
            return True
        only = self.interval.single()
        return only is not None and only in self.excluded

    def contains(self, value: Decimal) -> bool:
        return self.interval.contains(value) and value not in self.excluded


@dataclass(frozen=True, slots=True)
class StringSet:
    """Strings in ``included`` (``None``: any string) and not in ``excluded``."""

    included: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()

    def intersect(self, other: StringSet) -> StringSet:
        if self.included is None:
            included = other.included
        elif other.included is None:
            included = self.included
        else:
            included = self.included & other.included
        return StringSet(included, self.excluded | other.excluded)

    def is_empty(self) -> bool:
        return self.included is not None and self.included <= self.excluded


ValueSet = NumberSet | StringSet
