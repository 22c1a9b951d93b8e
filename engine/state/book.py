"""The runtime's book of record: fills into positions, session P&L and order memory, pure.

How the runtime calls it (positions and the session are values; each account's orders
are an ``OrderMemory``, see ``riskctl.state.orders``):
- every evaluation: ``orders.leg_effects(memories, now_ms)`` (legged baskets, joined by
  group across every account) and, with new marks,
  ``pnl.on_mark(session, total_unrealized(positions, marks), cfg, now_ms)``;
- pre_trade, allowed new order: ``memory.record_order``; allowed amend:
  ``memory.record_amend``; cancel / reject / final update: ``memory.close``;
- completing a pre_trade context: ``account_fields`` and ``position_fields``; monitor:
  ``pnl_fields``;
- fill stage: ``apply_fill`` before deciding gives the FilledOrder view (``result.view``)
  and the new position and session, without changing anything; once the fill is applied,
  ``memory.note_fill`` (unless ``result.view.already_applied``) and keep what it returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from riskctl.state.effects import Effect
from riskctl.state.orders import SECOND_MS, OrderMemory
from riskctl.state.pnl import (
    SessionConfig,
    SessionPnl,
    daily_pnl,
    equity,
    on_fill,
    roll,
    session_pnl,
)
from riskctl.state.positions import PositionState, apply_trade, avg_price, unrealized

__all__ = [
    "FillResult",
    "FillView",
    "account_fields",
    "apply_fill",
    "pnl_fields",
    "position_fields",
    "total_unrealized",
]

ZERO = Decimal(0)
Key = tuple[str, str]  # (venue, symbol)


@dataclass(frozen=True, slots=True)
class FillView:
    """The fill context's ``order`` section, as the book saw it BEFORE this fill."""

    known: bool
    expected_price: Decimal | None
    qty: Decimal | None
    filled_qty: Decimal
    already_applied: bool


@dataclass(frozen=True, slots=True)
class FillResult:
    view: FillView
    position: PositionState
    session: SessionPnl
    effects: tuple[Effect, ...] = ()


def total_unrealized(
    positions: Mapping[Key, PositionState], marks: Mapping[Key, Decimal]
) -> Decimal:
    """Unrealized P&L of the book at the marks; a position without a mark counts at cost."""
    return sum((unrealized(p, marks[k]) for k, p in positions.items() if k in marks), start=ZERO)


def apply_fill(
    orders: OrderMemory,
    position: PositionState,
    session: SessionPnl,
    fill: FillInput,
    *,
    session_cfg: SessionConfig,
    now_ms: int,
    others_unrealized: Decimal = ZERO,
    mark: Decimal | None = None,
) -> FillResult:
    """Apply one fill once; unknown orders are quarantined, overfills flagged.

    The session's unrealized P&L after the fill is ``others_unrealized`` (the other
    positions at their marks, see ``total_unrealized``) plus this position at ``mark``
    (the fill price when no mark is given).
    """
    order = orders.find(fill.client_order_id)
    view = FillView(
        known=order is not None,
        expected_price=None if order is None else order.price,
        qty=None if order is None else order.qty,
        filled_qty=ZERO if order is None else order.filled_qty,
        already_applied=orders.has_trade(fill.trade_id),
    )
    if view.already_applied:
        return FillResult(view, position, session)
    source = f"book:{fill.venue}"
    scope = (fill.venue, fill.symbol)
    if order is None:
        detail = {"client_order_id": fill.client_order_id, "trade_id": fill.trade_id}
        message = f"Fill {fill.trade_id} is for unknown order {fill.client_order_id}: quarantined."
        # Not applied, but note_fill remembers its trade id: the same fill replayed is
        # already_applied and alerts once, not once per replay.
        return FillResult(
            view,
            position,
            session,
            (
                Effect("record", "fill_quarantined", source, scope, message, detail),
                Effect("alert", "unknown_order_fill", source, scope, message, detail),
            ),
        )
    new_pos, realized = apply_trade(position, fill.side, fill.qty, fill.price, fill.fee)
    unreal = others_unrealized + unrealized(new_pos, fill.price if mark is None else mark)
    new_session = on_fill(session, realized, fill.fee, unreal, cfg=session_cfg, now_ms=now_ms)
    effects: tuple[Effect, ...] = ()
    if order.filled_qty + fill.qty > order.qty:
        over: dict[str, object] = {
            "client_order_id": order.client_order_id,
            "qty": order.qty,
            "filled_qty": order.filled_qty + fill.qty,
        }
        message = f"Order {order.client_order_id} is filled beyond its quantity."
        effects = (
            Effect("record", "overfill", source, scope, message, over),
            Effect("alert", "overfill", source, scope, message, over),
        )
    return FillResult(view, new_pos, new_session, effects)


@dataclass(frozen=True, slots=True)
class FillInput:
    """The fill as the runtime received it (the fill context's ``fill`` section)."""

    venue: str
    symbol: str
    client_order_id: str
    trade_id: str
    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal
    fee: Decimal = ZERO


def account_fields(
    session: SessionPnl, orders: OrderMemory | None, cfg: SessionConfig, now_ms: int
) -> dict[str, Decimal | int]:
    """The pre_trade ``account`` fields the runtime owns."""
    s = roll(session, cfg, now_ms)
    now = equity(s)  # once: daily_pnl, session_pnl and drawdown all start from it
    return {
        "daily_pnl": now - s.day_start_equity,
        "session_pnl": now - s.start_equity,
        "drawdown": s.peak_equity - now,
        "open_orders": 0 if orders is None else orders.open_count(),
        "orders_last_second": 0 if orders is None else orders.orders_in_window(SECOND_MS, now_ms),
        "amends_last_second": 0 if orders is None else orders.amends_in_window(SECOND_MS, now_ms),
    }


def position_fields(position: PositionState) -> dict[str, Decimal | None]:
    """The pre_trade ``position`` section (qty, avg_price)."""
    return {"qty": position.qty, "avg_price": avg_price(position)}


def pnl_fields(session: SessionPnl, cfg: SessionConfig, now_ms: int) -> dict[str, Decimal]:
    """The monitor ``pnl`` section: daily, session, realized (session, net of fees), unrealized."""
    s = roll(session, cfg, now_ms)
    return {
        "daily": daily_pnl(s),
        "session": session_pnl(s),
        "realized": s.realized - s.fees,
        "unrealized": s.unrealized,
    }
