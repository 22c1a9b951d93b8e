"""Instrument records from ccxt's unified market structure (what ``load_markets()`` returns).

Handles every ccxt ``precisionMode``: TICK_SIZE (precision is the increment itself),
DECIMAL_PLACES (precision is a count of decimals) and SIGNIFICANT_DIGITS (precision is a
count of significant digits, so the grid depends on the magnitude). Numbers are read
through ``str()`` into Decimal, so ccxt's float 0.1 becomes exactly 0.1.

ccxt itself is not imported here: its precision-mode constants are restated below, and a
test checks they still equal ccxt's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from riskctl.context import Instrument
from riskctl.fields import MAX_MONEY, MAX_QTY
from riskctl.kinds.instruments import OrderType

__all__ = [
    "DECIMAL_PLACES",
    "SIGNIFICANT_DIGITS",
    "TICK_SIZE",
    "instrument_from_market",
    "order_types_from",
]

DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

# Venues whose ccxt class overrides amount_to_precision / price_to_precision, so the market's
# precision values mean something other than precisionMode says (read from ccxt's sources).
_AMOUNT_MODE = {"bitfinex": DECIMAL_PLACES}  # amounts: up to 8 decimals, not 8 digits
_PRICE_MAX_DECIMALS = {"bitfinex": 8}  # prices: 5 significant digits AND at most 8 decimals

# ccxt ``exchange.has`` capability -> the order type riskctl calls it. Only ``True`` counts:
# ``"emulated"`` means ccxt fakes it client-side, so no such order reaches the venue.
_ORDER_TYPE_CAPABILITIES: tuple[tuple[str, OrderType], ...] = (
    ("createLimitOrder", "limit"),
    ("createMarketOrder", "market"),
    ("createStopMarketOrder", "stop_market"),
    ("createStopLimitOrder", "stop_limit"),
)

_TYPES = {"spot": "spot", "margin": "spot", "swap": "swap", "future": "future", "option": "option"}


def order_types_from(has: Mapping[str, Any]) -> tuple[OrderType, ...]:
    """The order types a venue takes natively, from its ccxt ``exchange.has`` flags."""
    return tuple(kind for flag, kind in _ORDER_TYPE_CAPABILITIES if has.get(flag) is True)


def instrument_from_market(
    market: Mapping[str, Any],
    *,
    venue: str,
    precision_mode: int,
    market_age_ms: int = 0,
    has: Mapping[str, Any] | None = None,
) -> Instrument:
    """The Instrument the gate checks orders against, from one ccxt market.

    ``has`` is the exchange's ccxt ``has`` map; with it the instrument lists the order
    types the venue takes (stops only where ccxt creates them natively). Without it the
    instrument keeps the default, limit and market.
    """
    types = order_types_from(has) if has is not None else ()
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    amount = limits.get("amount") or {}
    cost = limits.get("cost") or {}
    price_grid = _grid(precision.get("price"), precision_mode)
    qty_grid = _grid(precision.get("amount"), _AMOUNT_MODE.get(venue, precision_mode))
    max_decimals = _PRICE_MAX_DECIMALS.get(venue)
    if max_decimals is not None and price_grid["increment"] is None:
        price_grid = {**price_grid, "increment": Decimal(1).scaleb(-max_decimals)}
    return Instrument(
        venue=venue.lower(),
        symbol=str(market["symbol"]),
        type=_TYPES.get(str(market.get("type", "spot")), "spot"),
        price_increment=price_grid["increment"],
        qty_increment=qty_grid["increment"],
        price_sig_digits=price_grid["significant"],
        qty_sig_digits=qty_grid["significant"],
        price_precision=price_grid["places"],
        qty_precision=qty_grid["places"],
        min_qty=_positive(amount.get("min")),
        max_qty=_positive(amount.get("max"), cap=MAX_QTY),
        min_notional=_positive(cost.get("min")),
        max_notional=_positive(cost.get("max"), cap=MAX_MONEY),
        market_age_ms=market_age_ms,
        **({"order_types": types} if types else {}),
    )


def _grid(value: Any, mode: int) -> dict[str, Any]:
    """increment / significant digits / decimal places for one precision value."""
    number = _decimal(value)
    none: dict[str, Any] = {"increment": None, "significant": None, "places": None}
    if number is None or (number <= 0 and mode != DECIMAL_PLACES):
        return none
    if mode == TICK_SIZE:
        return {**none, "increment": number, "places": _places(number)}
    if mode == DECIMAL_PLACES:
        places = int(number)
        return {**none, "increment": Decimal(1).scaleb(-places), "places": max(places, 0)}
    if mode == SIGNIFICANT_DIGITS:
        return {**none, "significant": int(number)}
    raise ValueError(f"unknown ccxt precisionMode {mode}")


def _places(increment: Decimal) -> int:
    """Decimal places of an increment: 0.01 -> 2, 0.5 -> 1, 10 -> 0."""
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _positive(value: Any, *, cap: Decimal | None = None) -> Decimal | None:
    """A positive bound, or None: venues write "no bound" as 0, null or a huge placeholder."""
    number = _decimal(value)
    if number is None or number <= 0 or (cap is not None and number > cap):
        return None
    return number
