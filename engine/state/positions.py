"""Positions per (venue, symbol): signed qty, cost basis, realized P&L and fees, exactly.

A position keeps its cost basis (sum of signed qty x price of the open part) rather than a
rounded average price, so realized + unrealized at a mark always equals the cash flows. A
reduction releases the cost pro rata (exact whenever the quotient terminates, which it does
for a position opened at one price; otherwise rounded at 50 significant digits). A fill that
crosses zero closes the old position (realizing it) and opens the rest at the fill price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

__all__ = ["PositionState", "apply_trade", "avg_price", "signed", "unrealized"]

ZERO = Decimal(0)
PRECISION = 50  # wide enough that sums of money and quantity never round


@dataclass(frozen=True, slots=True)
class PositionState:
    """One (venue, symbol) position: stored under ("position", "venue:symbol")."""

    qty: Decimal = ZERO  # signed, short < 0
    cost: Decimal = ZERO  # signed qty x entry price of the open part
    realized: Decimal = ZERO  # realized P&L before fees, since the session began
    fees: Decimal = ZERO  # fees paid on this position's fills


def signed(side: Literal["buy", "sell"], qty: Decimal) -> Decimal:
    return qty if side == "buy" else -qty


def apply_trade(
    pos: PositionState, side: Literal["buy", "sell"], qty: Decimal, price: Decimal, fee: Decimal
) -> tuple[PositionState, Decimal]:
    """The position after one fill, and the P&L it realized (before fees)."""
    delta = signed(side, qty)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        closing = _closing(pos.qty, delta)
        realized = ZERO
        cost = pos.cost
        remaining = pos.qty
        if closing:
            released = cost if closing == abs(pos.qty) else cost * closing / abs(pos.qty)
            close_signed = -closing if pos.qty > 0 else closing  # the closing part of delta
            realized = -close_signed * price - released
            cost -= released
            remaining += close_signed
            delta -= close_signed
        cost += delta * price
        new = PositionState(
            qty=remaining + delta,
            cost=cost,
            realized=pos.realized + realized,
            fees=pos.fees + fee,
        )
    return new, realized


def _closing(qty: Decimal, delta: Decimal) -> Decimal:
    """How much of a signed fill ``delta`` closes the position ``qty`` (>= 0)."""
    if qty == 0 or (qty > 0) == (delta > 0):
        return ZERO
    return min(abs(qty), abs(delta))


def unrealized(pos: PositionState, mark: Decimal) -> Decimal:
    """Unrealized P&L at ``mark``: what closing the position there would realize."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return pos.qty * mark - pos.cost


def avg_price(pos: PositionState) -> Decimal | None:
    """Average entry price of the open part; None when flat."""
    if pos.qty == 0:
        return None
    return pos.cost / pos.qty
