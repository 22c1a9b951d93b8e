"""A mock Binance spot exchange for tests, on 127.0.0.1 only, with fault injection.

The real ccxt client (``ccxt.async_support.binance``) talks to it once
:func:`point_ccxt_at` has rebased its URLs::

    async with MockExchange() as mock:
        exchange = ccxt.async_support.binance(
            {"apiKey": mock.api_key, "secret": DEFAULT_API_SECRET, "enableRateLimit": False}
        )
        point_ccxt_at(exchange, mock.url)
        try:
            await exchange.load_markets()
            mock.inject(ServerError(status=500, endpoint=CANCEL_ALL))
            ...
        finally:
            await exchange.close()

Modules: ``server`` (MockExchange: lifecycle, state API, the request pipeline),
``handlers`` (the endpoints), ``matching`` (book, orders, fills, balances), ``markets``
(symbols and filters), ``auth`` (signature check), ``faults``, ``requestlog`` (endpoints,
weights, the log), ``errors`` (Binance's error bodies), ``ccxt_setup``.
Run standalone: ``python -m riskctl.venues.mock_exchange --port 0``.
"""

from __future__ import annotations

from riskctl.venues.mock_exchange.ccxt_setup import SPOT_ONLY_OPTIONS, point_ccxt_at
from riskctl.venues.mock_exchange.faults import (
    DropConnection,
    Fault,
    LoseResponse,
    PartialCancel,
    RateLimit,
    ServerError,
    Slow,
    TooManyRequests,
)
from riskctl.venues.mock_exchange.markets import DEFAULT_SYMBOLS, SymbolSpec
from riskctl.venues.mock_exchange.matching import Balance, Order, Top, Trade
from riskctl.venues.mock_exchange.requestlog import (
    ACCOUNT,
    ALL_ORDERS,
    BOOK_TICKER,
    CANCEL_ALL,
    CANCEL_ORDER,
    CREATE_ORDER,
    DEPTH,
    EXCHANGE_INFO,
    GET_ORDER,
    MY_TRADES,
    OPEN_ORDERS,
    PING,
    TICKER_24HR,
    TIME,
    Endpoint,
    RequestLog,
    RequestRecord,
    weight_of,
)
from riskctl.venues.mock_exchange.server import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    MockExchange,
)

__all__ = [
    "ACCOUNT",
    "ALL_ORDERS",
    "BOOK_TICKER",
    "CANCEL_ALL",
    "CANCEL_ORDER",
    "CREATE_ORDER",
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "DEFAULT_SYMBOLS",
    "DEPTH",
    "EXCHANGE_INFO",
    "GET_ORDER",
    "MY_TRADES",
    "OPEN_ORDERS",
    "PING",
    "SPOT_ONLY_OPTIONS",
    "TICKER_24HR",
    "TIME",
    "Balance",
    "DropConnection",
    "Endpoint",
    "Fault",
    "LoseResponse",
    "MockExchange",
    "Order",
    "PartialCancel",
    "RateLimit",
    "RequestLog",
    "RequestRecord",
    "ServerError",
    "Slow",
    "SymbolSpec",
    "TooManyRequests",
    "Top",
    "Trade",
    "point_ccxt_at",
    "weight_of",
]
