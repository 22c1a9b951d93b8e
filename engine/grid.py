"""Exact price and quantity grids: tick sizes, steps and significant digits, in Decimal.

A venue accepts a price only on its grid: a multiple of the tick (``172.06`` on a 0.01
tick, written ``172.0600`` or not), or, on significant-digit venues, a value with at most
N significant digits. Every test here is exact decimal arithmetic, never float tolerance.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

__all__ = ["on_grid", "sig_digits", "snap"]


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
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    if increment is not None:
        value = (value / increment).to_integral_value(rounding=rounding) * increment
    if significant is not None and value != 0:
        exponent = value.adjusted() - significant + 1
        value = value.quantize(Decimal(1).scaleb(exponent), rounding=rounding)
    return value
