"""What a strategy sees and does in a replay: the interface ``riskctl replay --strategy``
loads. A strategy is plain Python, deterministic for its seed, and never talks to a venue:
it returns actions, and the replay sends them through the gate and the paper venue like
any bot's orders (a reject is a reject; a fill comes back through ``on_fill``).

Load one with ``--strategy FILE.py`` (its ``STRATEGY`` attribute, a callable taking
``seed``) or ``--strategy FILE.py:Name``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

__all__ = ["BookView", "CancelOrder", "FillView", "NewOrder", "ReplayStrategy", "StrategyAction"]


@dataclass(frozen=True, slots=True)
class BookView:
    """A top of book as the strategy sees it, with its own position and open orders."""

    venue: str
    symbol: str
    bid: Decimal | None
    ask: Decimal | None
    bid_qty: Decimal | None
    ask_qty: Decimal | None
    ts_ms: int
    position: Decimal  # signed, base units, from the runtime's book of record
    open_orders: tuple[str, ...]  # client order ids this strategy has open here


@dataclass(frozen=True, slots=True)
class FillView:
    venue: str
    symbol: str
    client_order_id: str
    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal
    ts_ms: int


@dataclass(frozen=True, slots=True)
class NewOrder:
    venue: str
    symbol: str
    side: Literal["buy", "sell"]
    qty: Decimal
    price: Decimal | None  # None: a market order
    client_order_id: str
    type: Literal["limit", "market"] = "limit"
    time_in_force: Literal["GTC", "IOC", "PO"] = "GTC"
    reduce_only: bool = False
    group: str | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    venue: str
    symbol: str
    client_order_id: str


StrategyAction = NewOrder | CancelOrder


class ReplayStrategy(Protocol):
    """A strategy driven by the replay: market data in, actions out."""

    name: str

    def on_book(self, book: BookView) -> Sequence[StrategyAction]: ...

    def on_fill(self, fill: FillView) -> None: ...
