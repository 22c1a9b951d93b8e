"""The one interface every venue offers the gateway: the ccxt adapter and the paper venue.

Every method raises ``riskctl.venues.errors.VenueError`` and nothing else for a venue
failure, so the gateway's retry, breaker and cancel-all logic is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol

from riskctl.context import Instrument
from riskctl.venues.records import OrderRequest, Top, VenueOrder, VenueTrade

__all__ = ["Venue"]


class Venue(Protocol):
    """An account at one venue."""

    @property
    def venue_id(self) -> str: ...

    def rate_limit_headroom_pct(self) -> float: ...

    async def load_instruments(self) -> Mapping[str, Instrument]: ...

    async def fetch_top(self, symbol: str) -> Top: ...

    async def fetch_balances(self) -> Mapping[str, Decimal]: ...

    async def create_order(self, request: OrderRequest) -> VenueOrder: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder: ...

    async def cancel_all(self, symbol: str | None = None) -> list[VenueOrder]: ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]: ...

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None: ...

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[VenueTrade]: ...

    async def close(self) -> None: ...
