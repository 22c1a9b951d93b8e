"""The book of record in the runtime: positions, session P&L, own orders, fills and legs.

What it owns in contexts (the bot's values are overridden and disagreements recorded):

- pre_trade: ``account.daily_pnl``, ``session_pnl``, ``drawdown``, ``open_orders``,
  ``orders_last_second``, ``amends_last_second`` and ``position.qty`` / ``avg_price``;
- monitor: ``pnl.*``, ``inventory.position_qty`` and the same ``account`` fields;
- fill: ``order.known``, ``expected_price``, ``qty``, ``filled_qty``, ``already_applied``
  and ``books.position_qty`` (after this fill).

The session starts at the equity of the first context that reports one. With
``book_of_record=False`` the bot's positions and P&L are used instead (orders, fills and
legs are still remembered). See ``riskctl.state.book`` for the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from riskctl.context import FillContext, MonitorContext, PreTradeContext
from riskctl.context.base import StageContext
from riskctl.decision import Decision
from riskctl.runtime.completion import Completion
from riskctl.runtime.part import Scope
from riskctl.state import book, orders, pnl, positions
from riskctl.state.codec import decode
from riskctl.state.effects import Effect
from riskctl.state.store import Control

__all__ = ["BookPart"]

SESSION = "session"
ZERO = Decimal(0)
_FLAT = positions.PositionState()
_ORDER_ROWS = ("orders", "order", "trade")  # see riskctl.state.orders


class BookPart:
    """Positions per venue and symbol, one session P&L, and own orders per venue."""

    machine = "book"

    def __init__(self, *, book_of_record: bool = True, session: pnl.SessionConfig | None = None):
        self.book_of_record = book_of_record
        self._session_cfg = session or pnl.SessionConfig()
        self._orders_cfg = orders.OrdersConfig()
        self._positions: dict[Scope, positions.PositionState] = {}
        self._orders: dict[str, orders.OrderMemory] = {}
        self._session: pnl.SessionPnl | None = None
        self._marks: dict[Scope, Decimal] = {}
        self._changed: set[str] = set()  # position, mark and session rows (orders: their own)
        self._pending_fill: book.FillResult | None = None

    # -- rows ------------------------------------------------------------------------------

    def load(self, rows: Mapping[str, str]) -> None:
        self._positions, self._orders, self._session, self._marks = {}, {}, None, {}
        order_rows: dict[str, dict[str, str]] = {}
        for key, text in rows.items():
            kind, _, rest = key.partition(":")
            if kind == "position":
                venue, _, symbol = rest.partition(":")
                self._positions[(venue, symbol)] = decode(positions.PositionState, text)
            elif kind == "mark":
                venue, _, symbol = rest.partition(":")
                self._marks[(venue, symbol)] = decode(Decimal, text)
            elif kind in _ORDER_ROWS:
                venue = rest if kind == "orders" else rest.partition(":")[0]
                order_rows.setdefault(venue, {})[key] = text
            elif key == SESSION:
                self._session = decode(pnl.SessionPnl, text)
        for venue, venue_rows in order_rows.items():
            self._orders[venue] = orders.OrderMemory.from_rows(venue, venue_rows, self._orders_cfg)
        self._changed.clear()

    def dirty(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for memory in self._orders.values():
            out.update(memory.changes())
        if not self._changed:
            return out
        for key in self._changed:
            kind, _, rest = key.partition(":")
            if kind == "position":
                venue, _, symbol = rest.partition(":")
                out[key] = self._positions.get((venue, symbol))
            elif kind == "mark":
                venue, _, symbol = rest.partition(":")
                out[key] = self._marks.get((venue, symbol))
            else:
                out[key] = self._session
        self._changed.clear()
        return out

    def _set_position(self, scope: Scope, value: positions.PositionState) -> None:
        before = self._positions.get(scope)
        if before is not value and before != value:
            self._positions[scope] = value
            self._changed.add(f"position:{scope[0]}:{scope[1]}")

    def _memory(self, venue: str) -> orders.OrderMemory:
        memory = self._orders.get(venue)
        if memory is None:
            memory = self._orders[venue] = orders.OrderMemory(venue, self._orders_cfg)
        return memory

    def _set_session(self, value: pnl.SessionPnl) -> None:
        if value is not self._session and value != self._session:
            self._session = value
            self._changed.add(SESSION)

    # -- the runtime's calls -----------------------------------------------------------------

    def tick(self, now_ms: int) -> list[Effect]:
        # Only accounts with basket legs can be legged; a basket's legs may sit at several.
        baskets = [memory for memory in self._orders.values() if memory.has_groups]
        return orders.leg_effects(baskets, now_ms) if baskets else []

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None:
        self._pending_fill = None
        now_ms = completion.given("now_ms")
        if scope is None or type(now_ms) is not int:
            return
        if stage == "fill":
            self._complete_fill(scope, completion, now_ms)
            return
        if stage not in ("pre_trade", "monitor"):
            return
        self._start_session(completion, now_ms)
        venue_orders = self._orders.get(scope[0])
        if self.book_of_record and self._session is not None:
            fields = book.account_fields(self._session, venue_orders, self._session_cfg, now_ms)
            completion.update("account", fields)
        elif stage == "pre_trade":
            completion.update(
                "account",
                {
                    "open_orders": 0 if venue_orders is None else venue_orders.open_count(),
                    "orders_last_second": 0
                    if venue_orders is None
                    else venue_orders.orders_in_window(orders.SECOND_MS, now_ms),
                },
            )
        if not self.book_of_record:
            return
        position = self._positions.get(scope, _FLAT)
        if stage == "pre_trade":
            completion.update("position", book.position_fields(position))
        else:
            completion.set("inventory.position_qty", position.qty)
            if self._session is not None:
                completion.update("pnl", book.pnl_fields(self._session, self._session_cfg, now_ms))

    def _start_session(self, completion: Completion, now_ms: int) -> None:
        if self._session is not None:
            return
        equity = _decimal(completion.given("account.equity"))
        if equity is not None:
            self._set_session(pnl.start_session(equity, self._session_cfg, now_ms))

    def _complete_fill(self, scope: Scope, completion: Completion, now_ms: int) -> None:
        fill = _fill_input(completion)
        if fill is None:
            return  # the gate refuses the malformed fill; nothing is applied
        session = self._session or pnl.start_session(ZERO, self._session_cfg, now_ms)
        others = book.total_unrealized(
            {k: p for k, p in self._positions.items() if k != scope}, self._marks
        )
        memory = self._orders.get(fill.venue)
        result = book.apply_fill(
            orders.OrderMemory(fill.venue) if memory is None else memory,  # nothing is kept
            self._positions.get(scope, positions.PositionState()),
            session,
            fill,
            session_cfg=self._session_cfg,
            now_ms=now_ms,
            others_unrealized=others,
            mark=self._marks.get(scope),
        )
        self._pending_fill = result
        view = result.view
        completion.set("order.known", view.known)
        completion.set("order.already_applied", view.already_applied)
        completion.set("order.filled_qty", view.filled_qty)
        if view.expected_price is not None:
            completion.set("order.expected_price", view.expected_price)
        if view.qty is not None:
            completion.set("order.qty", view.qty)
        if self.book_of_record:
            completion.set("books.position_qty", result.position.qty)

    def apply(self, stage: str, ctx: StageContext, decision: Decision, now_ms: int) -> list[Effect]:
        if isinstance(ctx, FillContext):
            return self._apply_fill(ctx)
        if isinstance(ctx, PreTradeContext):
            self._apply_order(ctx, decision, now_ms)
            self._mark(ctx.scope_key(), ctx.market.mid, now_ms)
        elif isinstance(ctx, MonitorContext):
            self._mark(ctx.scope_key(), None, now_ms)
        return []

    def _apply_fill(self, ctx: FillContext) -> list[Effect]:
        result, self._pending_fill = self._pending_fill, None
        if result is None:
            return []
        fill = ctx.fill
        if result.view.already_applied:
            return list(result.effects)
        # A quarantined fill (unknown order) keeps its trade id but moves no position.
        self._memory(fill.venue).note_fill(fill.client_order_id, fill.trade_id, fill.qty)
        if not result.view.known:
            return list(result.effects)
        self._set_position((fill.venue, fill.symbol), result.position)
        self._set_session(result.session)
        return list(result.effects)

    def _apply_order(self, ctx: PreTradeContext, decision: Decision, now_ms: int) -> None:
        order = ctx.order
        memory = self._memory(order.venue)
        if order.action == "cancel":
            memory.close(order.client_order_id, "canceled")
        elif order.action == "amend":
            if decision.allowed:
                memory.record_amend(now_ms)
        elif decision.allowed or order.group is not None:
            # A rejected leg of a basket is remembered as rejected: its siblings are legged.
            assert order.qty is not None  # converted from quote_qty by the context
            record = orders.OrderRecord(
                order.client_order_id,
                order.venue,
                order.symbol,
                order.side,
                order.qty,
                order.price,
                now_ms,
                group=order.group,
                leg_timeout_ms=order.leg_timeout_ms,
            )
            memory.record_order(record, now_ms)
            if not decision.allowed:
                memory.close(order.client_order_id, "rejected")

    def order_update(self, venue: str, client_order_id: str, status: str) -> bool:
        """Close an open order the venue reports canceled, rejected or expired; True if it did."""
        if status not in ("canceled", "rejected", "expired"):
            return False
        memory = self._orders.get(venue)
        final: orders.Status = "rejected" if status == "rejected" else "canceled"  # expired too
        return memory is not None and memory.close(client_order_id, final)

    def _mark(self, scope: Scope, mid: Decimal | None, now_ms: int) -> None:
        """A new mark for the book's unrealized P&L (the market's mid)."""
        if mid is None or self._session is None or scope not in self._positions:
            return
        before = self._marks.get(scope)
        self._marks[scope] = mid
        if before is None or before.as_tuple() != mid.as_tuple():  # "60.0" is kept as "60.0"
            # Kept with the positions: after a restart the other positions' unrealized P&L
            # still counts at their last marks (without them a restart dropped those losses).
            self._changed.add(f"mark:{scope[0]}:{scope[1]}")
        total = book.total_unrealized(self._positions, self._marks)
        self._set_session(pnl.on_mark(self._session, total, self._session_cfg, now_ms))

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        return []

    def position_qty(self, scope: Scope) -> Decimal:
        position = self._positions.get(scope)
        return ZERO if position is None else position.qty

    def session_pnl(self) -> Decimal | None:
        """The session's P&L so far (None before the session's first mark or fill)."""
        return None if self._session is None else pnl.session_pnl(self._session)

    def open_orders(self, venue: str) -> list[orders.OrderRecord]:
        memory = self._orders.get(venue)
        return [] if memory is None else list(memory.open_orders())

    def describe(self) -> dict[str, Any]:
        session = self._session
        view: dict[str, Any] = {
            "positions": {
                f"{venue}:{symbol}": str(p.qty)
                for (venue, symbol), p in sorted(self._positions.items())
            },
            "session": {},
            "open_orders": {
                venue: [
                    {
                        "client_order_id": o.client_order_id,
                        "symbol": o.symbol,
                        "side": o.side,
                        "qty": str(o.qty),
                        "filled_qty": str(o.filled_qty),
                    }
                    for o in memory.open_orders()
                ]
                for venue, memory in sorted(self._orders.items())
            },
        }
        if session is not None:
            view["session"] = {
                "realized_pnl": str(session.realized),
                "fees": str(session.fees),
                "peak_equity": str(session.peak_equity),
                "drawdown": str(pnl.drawdown(session)),
                "daily_pnl": str(pnl.daily_pnl(session)),
                "session_pnl": str(pnl.session_pnl(session)),
            }
        return view


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fill_input(completion: Completion) -> book.FillInput | None:
    """The fill section as plain values, or None when any part is not what it must be
    (the gate's validation then names the problem)."""
    get = completion.given
    texts = [get(f"fill.{name}") for name in ("venue", "symbol", "client_order_id", "trade_id")]
    side = get("fill.side")
    qty, price = _decimal(get("fill.qty")), _decimal(get("fill.price"))
    fee = _decimal(get("fill.fee")) if get("fill.fee") is not None else ZERO
    if not all(isinstance(t, str) for t in texts) or side not in ("buy", "sell"):
        return None
    if qty is None or price is None or fee is None or qty <= 0 or price <= 0:
        return None
    venue, symbol, client_order_id, trade_id = texts
    return book.FillInput(venue, symbol, client_order_id, trade_id, side, qty, price, fee)
