"""What a venue says, in riskctl's own terms: orders, trades and tops of book as Decimals.

Every venue (the ccxt adapter, the paper venue) answers with these records, so the
gateway, cancel-all and reconciliation never read a ccxt dictionary. Numbers come in
through ``str()``: ccxt's float 0.1 becomes exactly ``Decimal("0.1")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "OrderRequest",
    "OrderStatus",
    "Top",
    "VenueOrder",
    "VenueTrade",
    "decimal_or_none",
]

OrderStatus = Literal["open", "filled", "canceled", "rejected", "expired"]

# ccxt's unified order statuses -> ours ("closed" is ccxt's word for fully filled).
_STATUS: Mapping[str, OrderStatus] = {
    "open": "open",
    "closed": "filled",
    "canceled": "canceled",
    "cancelled": "canceled",
    "rejected": "rejected",
    "expired": "expired",
}


def decimal_or_none(value: Any) -> Decimal | None:
    """A venue number as an exact Decimal (through its text), None when absent."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def status_of(value: Any) -> OrderStatus:
    """ccxt's status word as ours; an unknown word is treated as still open (never as done)."""
    return _STATUS.get(str(value).lower(), "open") if value is not None else "open"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the gateway sends it, after the gate (modifications applied)."""

    venue: str
    symbol: str
    side: Literal["buy", "sell"]
    type: str
    qty: Decimal
    client_order_id: str
    price: Decimal | None = None
    reduce_only: bool = False
    time_in_force: str = "GTC"


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order as the venue reports it."""

    id: str
    client_order_id: str | None
    symbol: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    filled_qty: Decimal
    status: OrderStatus
    ts_ms: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "side": self.side,
            "type": self.type,
            "qty": str(self.qty),
            "price": None if self.price is None else str(self.price),
            "filled_qty": str(self.filled_qty),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One fill (a trade of ours) as the venue reports it."""

    id: str
    order_id: str
    client_order_id: str | None
    symbol: str
    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal
    fee: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Top:
    """The best bid and ask of one symbol."""

    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    ts_ms: int | None = None
