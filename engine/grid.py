"""Exact price and quantity grids: tick sizes, steps and significant digits, in Decimal.

A venue accepts a price only on its grid: a multiple of the tick (``172.06`` on a 0.01
tick, written ``172.0600`` or not), or, on significant-digit venues, a value with at most
N significant digits. Every test here is exact decimal arithmetic; the one allowance is
for binary-float noise (see :func:`grid_value`), defined exactly, never as a tolerance on
the grid itself.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

__all__ = ["NOISE_ULPS", "float_noise_of", "grid_value", "on_grid", "sig_digits", "snap"]

# How far (in units in the last place of the float nearest the value) a float computation
# may land from the decimal it meant: a sum or product of a few exact-grid floats lands
# within 2; 4 leaves headroom and is still far below any tick a float can tell apart.
NOISE_ULPS = 4


def sig_digits(value: Decimal) -> int:
    """Significant digits of ``value``: 172.0600 -> 5, 0.00120 -> 2, 0 -> 0."""
    if value == 0:
        return 0
    return len(value.normalize().as_tuple().digits)


def on_grid(value: Decimal, *, increment: Decimal | None, significant: int | None) -> bool:
    """True when ``value`` is a multiple of ``increment`` and within ``significant`` digits."""
    if increment is not None and value % increment != 0:
        return False
    return significant is None or sig_digits(value) <= significant


def snap(
    value: Decimal, *, increment: Decimal | None, significant: int | None, up: bool
) -> Decimal:
    """Move ``value`` onto the grid, up or down (never to the nearest: the side is a choice)."""
    return _round(value, increment, significant, ROUND_CEILING if up else ROUND_FLOOR)


def grid_value(
    value: Decimal, *, increment: Decimal | None, significant: int | None
) -> Decimal | None:
    """The exact grid value ``value`` passes as, or None when it is off the grid.

    ``value`` itself when it is on the grid; the grid point it is float noise of
    (``60000.299999999996`` -> ``60000.3`` on a 0.1 tick); None otherwise
    (``60000.005`` on a 0.01 tick is a real off-grid price).
    """
    if on_grid(value, increment=increment, significant=significant):
        return value
    nearest = _round(value, increment, significant, ROUND_HALF_EVEN)
    if nearest <= 0 or not on_grid(nearest, increment=increment, significant=significant):
        return None
    return (
        nearest
        if float_noise_of(value, nearest, _spacing(nearest, increment, significant))
        else None
    )


def float_noise_of(value: Decimal, point: Decimal, spacing: Decimal) -> bool:
    """True when ``value`` is binary-float noise of the grid ``point`` (grid ``spacing`` apart).

    Precisely, all three hold:

    * ``value`` is exactly the shortest repr of a float (``repr(float(value))``): it is what
      a program printing a float sends, not a decimal written with more digits than a float
      carries (``60000.3000000000000001`` is a real, if odd, off-grid decimal);
    * ``|value - point| <= NOISE_ULPS x ulp(float(value))``: within float arithmetic error;
    * the grid is coarser than twice that bound, so the float could tell grid points apart
      and ``point`` is the only candidate (on a grid finer than floats resolve, no
      allowance: the value must be exact).
    """
    number = float(value)
    if not math.isfinite(number) or Decimal(repr(number)) != value:
        return False
    bound = NOISE_ULPS * Decimal(math.ulp(number))
    return abs(value - point) <= bound and spacing > 2 * bound


def _spacing(point: Decimal, increment: Decimal | None, significant: int | None) -> Decimal:
    """Distance from ``point`` to its grid neighbours (the coarser of the two grids)."""
    steps = [increment] if increment is not None else []
    if significant is not None:
        steps.append(Decimal(1).scaleb(point.adjusted() - significant))  # one below the top
    return max(steps) if steps else Decimal(0)


def _round(
    value: Decimal, increment: Decimal | None, significant: int | None, rounding: str
) -> Decimal:
    if increment is not None:
        value = (value / increment).to_integral_value(rounding=rounding) * increment
    if significant is not None and value != 0:
        exponent = value.adjusted() - significant + 1
        value = value.quantize(Decimal(1).scaleb(exponent), rounding=rounding)
    return value
