"""The runtime's own orders per venue account: open orders, order-rate windows, fill memory, legs.

One :class:`OrderMemory` per account. It is mutable and stored as many small rows, so a
decision writes only what it changed (an order, a trade id, the rate windows) and the cost
of a step does not grow with the orders remembered:

- ``("book", "orders:VENUE")``: the rate windows and the flattened leg groups;
- ``("book", "order:VENUE:CLIENT_ORDER_ID")``: one order, open or closed;
- ``("book", "trade:VENUE:TRADE_ID")``: one applied trade id (for idempotent fills).

Everything is bounded by ``OrdersConfig``: the windows keep only timestamps inside the
longest rate window, the applied trade ids and the closed orders are kept up to a count
(the oldest go first), and each leg group is flattened at most once (remembered up to a
count).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Literal

from riskctl.state.codec import decode
from riskctl.state.effects import Effect

__all__ = [
    "SECOND_MS",
    "OrderMemory",
    "OrderRecord",
    "OrderRow",
    "OrderWindows",
    "OrdersConfig",
    "Status",
    "leg_effects",
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
class OrderRow:
    """An order as stored. ``seq`` keeps memory's order across a restart: an open order's is
    when it was recorded, a closed order's when it closed (the lowest closed goes first)."""

    order: OrderRecord
    seq: int = 0


@dataclass(frozen=True, slots=True)
class OrderWindows:
    """The rate windows and flattened groups of one account, as stored."""

    new_times: tuple[int, ...] = ()  # new-order timestamps inside max_window_ms
    amend_times: tuple[int, ...] = ()
    flattened_groups: tuple[str, ...] = ()  # oldest first


@dataclass(frozen=True, slots=True)
class _LegacyOrders:
    """The single-row form of the order memory written before rows were split."""

    orders: tuple[OrderRecord, ...] = ()  # open ones, then closed ones newest first
    new_times: tuple[int, ...] = ()
    amend_times: tuple[int, ...] = ()
    trade_ids: tuple[str, ...] = ()  # newest first
    flattened_groups: tuple[str, ...] = ()  # newest first


class OrderMemory:
    """One venue account's orders: what the runtime sent, what filled, what closed.

    Reads are O(1) or bounded by the rate window; each change records the row it touched,
    and :meth:`changes` hands those rows over (``None`` deletes one) for the next commit.
    """

    __slots__ = (
        "_amend_times",
        "_changed",
        "_closed",
        "_flattened",
        "_groups",
        "_new_times",
        "_open",
        "_open_seq",
        "_seq",
        "_trade_seq",
        "_trades",
        "cfg",
        "venue",
    )

    def __init__(self, venue: str, cfg: OrdersConfig | None = None) -> None:
        self.venue = venue
        self.cfg = cfg or OrdersConfig()
        self._open: dict[str, OrderRecord] = {}  # in the order they were recorded
        self._closed: dict[str, OrderRecord] = {}  # oldest closed first
        self._open_seq: dict[str, int] = {}  # client order id -> seq of an open order
        self._seq = 0  # orders recorded and closed so far: OrderRow.seq
        self._trades: dict[str, int] = {}  # trade id -> seq, oldest first
        self._trade_seq = 0
        self._new_times: deque[int] = deque()
        self._amend_times: deque[int] = deque()
        self._flattened: dict[str, None] = {}  # oldest first
        self._groups: dict[str, list[str]] = {}  # group -> client order ids of its legs
        self._changed: dict[str, Any] = {}

    # -- reads -------------------------------------------------------------------------------

    def find(self, client_order_id: str) -> OrderRecord | None:
        found = self._open.get(client_order_id)
        return found if found is not None else self._closed.get(client_order_id)

    def has_trade(self, trade_id: str) -> bool:
        return trade_id in self._trades

    def open_count(self) -> int:
        return len(self._open)

    def open_orders(self) -> Iterator[OrderRecord]:
        return iter(self._open.values())

    def orders_in_window(self, window_ms: int, now_ms: int) -> int:
        """New orders sent in the last ``window_ms`` (window_ms <= OrdersConfig.max_window_ms)."""
        return sum(1 for t in self._new_times if now_ms - t < window_ms)

    def amends_in_window(self, window_ms: int, now_ms: int) -> int:
        return sum(1 for t in self._amend_times if now_ms - t < window_ms)

    @property
    def has_groups(self) -> bool:
        return bool(self._groups)

    def __len__(self) -> int:
        """Orders remembered, open and closed."""
        return len(self._open) + len(self._closed)

    # -- changes -----------------------------------------------------------------------------

    def record_order(self, order: OrderRecord, now_ms: int) -> None:
        """An allowed new order (pre_trade, action new): it is open and counts in the windows.
        A client order id used again replaces the order remembered under it."""
        cid = order.client_order_id
        before = self._closed.pop(cid, None)
        if before is None:
            before = self._open.pop(cid, None)
        if before is not None:
            self._forget_leg(before)
        self._open[cid] = order
        self._seq += 1
        self._open_seq[cid] = self._seq
        self._put(order, self._seq)
        if order.group is not None:
            self._groups.setdefault(order.group, []).append(cid)
        _add_time(self._new_times, now_ms, self.cfg.max_window_ms)
        self._changed[self._windows_key] = None  # made in changes(), once per commit

    def record_amend(self, now_ms: int) -> None:
        """An allowed amend: counted in amends_last_second."""
        _add_time(self._amend_times, now_ms, self.cfg.max_window_ms)
        self._changed[self._windows_key] = None

    def close(self, client_order_id: str, status: Status) -> bool:
        """A cancel, reject or final order update: the order stops being open; True if it was."""
        found = self._open.get(client_order_id)
        if found is None:
            return False
        self._close(replace(found, status=status))
        return True

    def note_fill(self, client_order_id: str, trade_id: str, qty: Decimal) -> None:
        """A fill applied: the order's filled qty grows (fully filled closes it); the trade id
        is remembered either way, so a fill for an unknown order is quarantined once."""
        order = self.find(client_order_id)
        if order is not None:
            filled = order.filled_qty + qty
            status: Status = "filled" if filled >= order.qty else order.status
            updated = replace(order, filled_qty=filled, status=status)
            if updated.status == "open":
                self._open[client_order_id] = updated
                self._put(updated, self._open_seq[client_order_id])
            else:
                self._close(updated)
        self._trade_seq += 1
        self._trades.pop(trade_id, None)
        self._trades[trade_id] = self._trade_seq
        self._changed[self._trade_key(trade_id)] = self._trade_seq
        while len(self._trades) > self.cfg.max_trade_ids:
            oldest = next(iter(self._trades))
            del self._trades[oldest]
            self._changed[self._trade_key(oldest)] = None

    def leg_effects(self, now_ms: int) -> list[Effect]:
        """Flatten this account's legged baskets (``leg_effects`` of one memory)."""
        return leg_effects([self], now_ms)

    def legs(self) -> Iterator[tuple[str, list[OrderRecord], bool]]:
        """(group, its legs at this account, already flattened) for every basket here; a
        flattened basket's legs are not looked up (it is never judged again)."""
        for group, cids in self._groups.items():
            if group in self._flattened:
                yield group, [], True
                continue
            yield group, [o for o in map(self.find, cids) if o is not None], False

    def mark_flattened(self, group: str) -> None:
        """Remember that ``group`` was flattened: it is flattened once, across restarts."""
        self._flattened[group] = None
        while len(self._flattened) > self.cfg.max_groups:
            del self._flattened[next(iter(self._flattened))]
        self._changed[self._windows_key] = None

    def changes(self) -> dict[str, Any]:
        """Row key -> value (None deletes the row) changed since the last call."""
        changed, self._changed = self._changed, {}
        if self._windows_key in changed:
            changed[self._windows_key] = OrderWindows(
                tuple(self._new_times), tuple(self._amend_times), tuple(self._flattened)
            )
        return changed

    # -- rows --------------------------------------------------------------------------------

    @classmethod
    def from_rows(
        cls, venue: str, rows: Mapping[str, str], cfg: OrdersConfig | None = None
    ) -> OrderMemory:
        """Rebuild one account's memory from its committed rows (key -> JSON text)."""
        memory = cls(venue, cfg)
        opened: list[tuple[int, OrderRecord]] = []
        closed: list[tuple[int, OrderRecord]] = []
        trades: list[tuple[int, str]] = []
        for key, text in rows.items():
            kind, _, rest = key.partition(":")
            if kind == "orders":
                memory._load_windows(text)
            elif kind == "order":
                row = decode(OrderRow, text)
                (opened if row.order.status == "open" else closed).append((row.seq, row.order))
            elif kind == "trade":
                trades.append((decode(int, text), rest.partition(":")[2]))
        for seq, order in sorted(opened, key=lambda item: item[0]):
            memory._open[order.client_order_id] = order
            memory._open_seq[order.client_order_id] = seq
            memory._seq = max(memory._seq, seq)
        for seq, order in sorted(closed, key=lambda item: item[0]):
            memory._closed[order.client_order_id] = order
            memory._seq = max(memory._seq, seq)
        for seq, trade_id in sorted(trades):
            memory._trades[trade_id] = seq
            memory._trade_seq = max(memory._trade_seq, seq)
        for order in (*memory._open.values(), *memory._closed.values()):
            if order.group is not None:
                memory._groups.setdefault(order.group, []).append(order.client_order_id)
        return memory

    def _load_windows(self, text: str) -> None:
        legacy = decode(_LegacyOrders, text)
        self._new_times.extend(legacy.new_times)
        self._amend_times.extend(legacy.amend_times)
        if legacy.orders or legacy.trade_ids:  # the old single row: split it on next commit
            self._migrate(legacy)
            self._flattened.update(dict.fromkeys(reversed(legacy.flattened_groups)))
        else:
            self._flattened.update(dict.fromkeys(legacy.flattened_groups))

    def _migrate(self, legacy: _LegacyOrders) -> None:
        for order in reversed(legacy.orders):  # stored newest first
            if order.status == "open":
                self._open[order.client_order_id] = order
                self._seq += 1
                self._open_seq[order.client_order_id] = self._seq
                self._put(order, self._seq)
            else:
                self._close(order)
        for trade_id in reversed(legacy.trade_ids):
            self._trade_seq += 1
            self._trades[trade_id] = self._trade_seq
            self._changed[self._trade_key(trade_id)] = self._trade_seq
        self._changed[self._windows_key] = None

    # -- internals ---------------------------------------------------------------------------

    @property
    def _windows_key(self) -> str:
        return f"orders:{self.venue}"

    def _order_key(self, client_order_id: str) -> str:
        return f"order:{self.venue}:{client_order_id}"

    def _trade_key(self, trade_id: str) -> str:
        return f"trade:{self.venue}:{trade_id}"

    def _put(self, order: OrderRecord, seq: int) -> None:
        self._changed[self._order_key(order.client_order_id)] = OrderRow(order, seq)

    def _close(self, order: OrderRecord) -> None:
        cid = order.client_order_id
        self._open.pop(cid, None)
        self._closed.pop(cid, None)
        self._open_seq.pop(cid, None)
        self._seq += 1
        self._closed[cid] = order
        self._put(order, self._seq)
        while len(self._closed) > self.cfg.max_closed_orders:
            oldest = next(iter(self._closed))
            self._forget_leg(self._closed.pop(oldest))
            self._changed[self._order_key(oldest)] = None

    def _forget_leg(self, order: OrderRecord) -> None:
        group = order.group
        cids = None if group is None else self._groups.get(group)
        if group is not None and cids is not None and order.client_order_id in cids:
            cids.remove(order.client_order_id)
            if not cids:
                del self._groups[group]


def leg_effects(memories: Iterable[OrderMemory], now_ms: int) -> list[Effect]:
    """Flatten legged baskets whose legs sit at any of ``memories`` (an arbitrage basket
    often spans venues: its legs are joined by group id across every account). Call on
    every evaluation: time alone can leg a basket. Each basket is flattened once; the mark
    is kept by every account that holds one of its legs."""
    legs_of: dict[str, list[OrderRecord]] = {}
    holders: dict[str, list[OrderMemory]] = {}
    done: set[str] = set()
    for memory in memories:
        for group, legs, flattened in memory.legs():
            legs_of.setdefault(group, []).extend(legs)
            holders.setdefault(group, []).append(memory)
            if flattened:
                done.add(group)
    effects: list[Effect] = []
    for group, legs in legs_of.items():
        if group in done or not _legged(legs, now_ms):
            continue
        for memory in holders[group]:
            memory.mark_flattened(group)
        effects.extend(_flatten(group, legs))
    return effects


def _add_time(times: deque[int], now_ms: int, window_ms: int) -> None:
    while times and now_ms - times[0] >= window_ms:
        times.popleft()
    times.append(now_ms)


def _legged(legs: list[OrderRecord], now_ms: int) -> bool:
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


def _flatten(group: str, legs: list[OrderRecord]) -> list[Effect]:
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
    # One flatten per pair a filled leg is on: a legged basket closes its own legs' books,
    # never every position at every venue (an unscoped flatten would).
    pairs = dict.fromkeys((o.venue, o.symbol) for o in legs if o.filled_qty > 0)
    return [
        *(Effect("action", "flatten", source, pair, message, detail) for pair in pairs),
        Effect("alert", "legged_basket", source, message=message, detail=detail),
    ]
