"""What the mock lists in ``/api/v3/exchangeInfo``, and the filters it holds orders to.

A :class:`SymbolSpec` is one spot symbol with Binance's three order filters: PRICE_FILTER
(tick size, price bounds), LOT_SIZE (step size, quantity bounds) and a notional floor,
written as the newer ``NOTIONAL`` filter or the older ``MIN_NOTIONAL`` one (ccxt reads
either). The defaults, BTCUSDT and ETHUSDT, carry Binance's real values for those symbols
and use one notional filter each, so both spellings are exercised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from riskctl.venues.mock_exchange.errors import filter_failure

__all__ = ["DEFAULT_SYMBOLS", "SymbolSpec", "exchange_info", "fmt"]

ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET")


def fmt(value: Decimal) -> str:
    """A number as Binance writes it: a string with eight decimals."""
    return f"{value:.8f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSpec:
    """One spot symbol: its assets and the filters an order must pass."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_notional: Decimal | None = None
    notional_filter: Literal["NOTIONAL", "MIN_NOTIONAL"] = "NOTIONAL"

    def check(self, *, price: Decimal | None, qty: Decimal, notional: Decimal) -> None:
        """Raise Binance's -1013 filter failure for the first filter the order breaks."""
        if price is not None and not _within(
            price, low=self.min_price, high=self.max_price, step=self.tick_size
        ):
            raise filter_failure("PRICE_FILTER")
        if not _within(qty, low=self.min_qty, high=self.max_qty, step=self.step_size):
            raise filter_failure("LOT_SIZE")
        too_big = self.max_notional is not None and notional > self.max_notional
        if notional < self.min_notional or too_big:
            raise filter_failure(self.notional_filter)

    def info(self) -> dict[str, Any]:
        """The symbol's entry in exchangeInfo ``symbols``."""
        return {
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": False,
            "ocoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": fmt(self.min_price),
                    "maxPrice": fmt(self.max_price),
                    "tickSize": fmt(self.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": fmt(self.min_qty),
                    "maxQty": fmt(self.max_qty),
                    "stepSize": fmt(self.step_size),
                },
                self._notional_info(),
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _notional_info(self) -> dict[str, Any]:
        if self.notional_filter == "MIN_NOTIONAL":
            return {
                "filterType": "MIN_NOTIONAL",
                "minNotional": fmt(self.min_notional),
                "applyToMarket": True,
                "avgPriceMins": 5,
            }
        return {
            "filterType": "NOTIONAL",
            "minNotional": fmt(self.min_notional),
            "applyMinToMarket": True,
            "maxNotional": fmt(self.max_notional or Decimal("9000000")),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }


def _within(value: Decimal, *, low: Decimal, high: Decimal, step: Decimal) -> bool:
    """Binance's rule: low <= value <= high (a zero high means no bound) and on the grid
    counted from low."""
    if value < low or (high > 0 and value > high):
        return False
    return (value - low) % step == 0


def exchange_info(specs: Iterable[SymbolSpec], *, server_ms: int) -> dict[str, Any]:
    """The whole exchangeInfo answer."""
    return {
        "timezone": "UTC",
        "serverTime": server_ms,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [spec.info() for spec in specs],
    }


DEFAULT_SYMBOLS = (
    SymbolSpec(
        symbol="BTCUSDT",
        base="BTC",
        quote="USDT",
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal("1000000"),
        step_size=Decimal("0.00001"),
        min_qty=Decimal("0.00001"),
        max_qty=Decimal("9000"),
        min_notional=Decimal("5"),
        max_notional=Decimal("9000000"),
        notional_filter="NOTIONAL",
    ),
    SymbolSpec(
        symbol="ETHUSDT",
        base="ETH",
        quote="USDT",
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal("1000000"),
        step_size=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("9000"),
        min_notional=Decimal("5"),
        notional_filter="MIN_NOTIONAL",
    ),
)
