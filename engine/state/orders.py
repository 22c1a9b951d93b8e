"""The runtime's own orders per venue account: open orders, order-rate windows, fill memory, legs.

One value per account, stored under ("orders", venue). Everything is bounded by
``OrdersConfig``: the order log keeps only timestamps inside the longest rate window, the
applied trade ids and the closed orders are kept newest-first up to a count, and each leg
group is flattened at most once (remembered up to a count).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from riskctl.state.effects import Effect

__all__ = [
    "OrderRecord",
    "OrdersConfig",
    "OrdersState",
    "close_order",
    "leg_effects",
    "open_orders",
    "orders_in_window",
    "record_amend",
    "record_order",
]

ZERO = Decimal(0)
SECOND_MS = 1000
Status = Literal["open", "filled", "canceled", "rejected"]
Side = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class OrdersConfig:
    """Bounds of one account's order memory."""

    max_window_ms: int = SECOND_MS  # longest order-rate window a policy asks about
    max_trade_ids: int = 10_000  # applied fills remembered for idempotency
    max_closed_orders: int = 1_000  # closed orders kept to recognise late fills and legs
    max_groups: int = 1_000  # flattened leg groups remembered

    def __post_init__(self) -> None:
        if min(self.max_window_ms, self.max_trade_ids, self.max_closed_orders) < 1:
            raise ValueError("order memory bounds must be at least 1")
        if self.max_groups < 1:
            raise ValueError("order memory bounds must be at least 1")


@dataclass(frozen=True, slots=True)
class OrderRecord:
    client_order_id: str
    venue: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal | None
    at_ms: int
    group: str | None = None
    leg_timeout_ms: int | None = None
    filled_qty: Decimal = ZERO
    status: Status = "open"


@dataclass(frozen=True, slots=True)
class OrdersState:
    orders: tuple[OrderRecord, ...] = ()  # open ones, then closed ones newest first
    new_times: tuple[int, ...] = ()  # new-order timestamps inside max_window_ms
    amend_times: tuple[int, ...] = ()
    trade_ids: tuple[str, ...] = ()  # applied trade ids, newest first
    flattened_groups: tuple[str, ...] = ()  # newest first


def _recent(times: tuple[int, ...], window_ms: int, now_ms: int) -> tuple[int, ...]:
    return tuple(t for t in times if now_ms - t < window_ms)


def _bounded(orders: tuple[OrderRecord, ...], cfg: OrdersConfig) -> tuple[OrderRecord, ...]:
    live = tuple(o for o in orders if o.status == "open")
    closed = tuple(o for o in orders if o.status != "open")
    return live + closed[: cfg.max_closed_orders]


def record_order(
    state: OrdersState, order: OrderRecord, cfg: OrdersConfig, now_ms: int
) -> OrdersState:
    """An allowed new order (pre_trade, action new): it is open and counts in the windows."""
    others = tuple(o for o in state.orders if o.client_order_id != order.client_order_id)
    times = (*_recent(state.new_times, cfg.max_window_ms, now_ms), now_ms)
    return replace(state, orders=_bounded((order, *others), cfg), new_times=times)


def record_amend(state: OrdersState, cfg: OrdersConfig, now_ms: int) -> OrdersState:
    """An allowed amend: counted in amends_last_second."""
    times = (*_recent(state.amend_times, cfg.max_window_ms, now_ms), now_ms)
    return replace(state, amend_times=times)


def close_order(
    state: OrdersState, client_order_id: str, status: Status, cfg: OrdersConfig
) -> OrdersState:
    """A cancel, reject or final order update: the order stops being open."""
    found = find(state, client_order_id)
    if found is None or found.status != "open":
        return state
    return _replace_order(state, replace(found, status=status), cfg)


def find(state: OrdersState, client_order_id: str) -> OrderRecord | None:
    return next((o for o in state.orders if o.client_order_id == client_order_id), None)


def _replace_order(state: OrdersState, order: OrderRecord, cfg: OrdersConfig) -> OrdersState:
    others = tuple(o for o in state.orders if o.client_order_id != order.client_order_id)
    return replace(state, orders=_bounded((order, *others), cfg))


def note_fill(
    state: OrdersState, order: OrderRecord, trade_id: str, qty: Decimal, cfg: OrdersConfig
) -> OrdersState:
    """A fill applied to ``order``: its filled qty grows; fully filled closes it."""
    filled = order.filled_qty + qty
    status: Status = "filled" if filled >= order.qty else order.status
    state = _replace_order(state, replace(order, filled_qty=filled, status=status), cfg)
    return remember_trade(state, trade_id, cfg)


def remember_trade(state: OrdersState, trade_id: str, cfg: OrdersConfig) -> OrdersState:
    return replace(state, trade_ids=(trade_id, *state.trade_ids)[: cfg.max_trade_ids])


def open_orders(state: OrdersState) -> int:
    return sum(1 for o in state.orders if o.status == "open")


def orders_in_window(state: OrdersState, window_ms: int, now_ms: int) -> int:
    """New orders sent in the last ``window_ms`` (window_ms <= OrdersConfig.max_window_ms)."""
    return len(_recent(state.new_times, window_ms, now_ms))


def amends_in_window(state: OrdersState, window_ms: int, now_ms: int) -> int:
    return len(_recent(state.amend_times, window_ms, now_ms))


def _legged(legs: tuple[OrderRecord, ...], now_ms: int) -> bool:
    """A leg filled while a sibling failed: rejected, canceled, or unfilled past the timeout."""
    if not any(o.filled_qty > 0 for o in legs):
        return False
    for o in legs:
        if o.filled_qty >= o.qty:
            continue
        if o.status in ("rejected", "canceled"):
            return True
        timeout = o.leg_timeout_ms
        if timeout is not None and now_ms - o.at_ms >= timeout:
            return True
    return False


def leg_effects(
    state: OrdersState, cfg: OrdersConfig, now_ms: int
) -> tuple[OrdersState, list[Effect]]:
    """Flatten legged baskets: call on every evaluation (time alone can leg a basket)."""
    groups = dict.fromkeys(o.group for o in state.orders if o.group is not None)
    effects: list[Effect] = []
    flattened = state.flattened_groups
    for group in groups:
        if group is None or group in flattened:
            continue
        legs = tuple(o for o in state.orders if o.group == group)
        if not _legged(legs, now_ms):
            continue
        flattened = (group, *flattened)[: cfg.max_groups]
        effects.extend(_flatten(group, legs))
    if not effects:
        return state, effects
    return replace(state, flattened_groups=flattened), effects


def _flatten(group: str, legs: tuple[OrderRecord, ...]) -> list[Effect]:
    filled = [
        {
            "client_order_id": o.client_order_id,
            "venue": o.venue,
            "symbol": o.symbol,
            "side": "sell" if o.side == "buy" else "buy",
            "qty": o.filled_qty,
        }
        for o in legs
        if o.filled_qty > 0
    ]
    source = f"legs:{group}"
    message = f"Basket {group} is legged: flattening its filled legs."
    detail = {"group": group, "legs": filled}
    return [
        Effect("action", "flatten", source, message=message, detail=detail),
        Effect("alert", "legged_basket", source, message=message, detail=detail),
    ]
