"""One good event of each type, shared by the session tests."""

from __future__ import annotations

from decimal import Decimal

from riskctl.session import (
    BalanceEvent,
    BookEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    SessionHeader,
    SignalEvent,
    TradeEvent,
    VenueEvent,
)

T0 = 1_763_647_200_000
D = Decimal

GOOD_EVENTS = [
    TradeEvent(
        type="trade", venue="binance", symbol="BTC/USDT", id="4200000001", price=D("60000.10"),
        qty=D("0.1"), side="sell", trade_type="MARKET", ts_ms=T0, recv_ms=T0 + 7,
    ),
    TradeEvent(
        type="trade", venue="binance", symbol="ETH/USDT", id="9", price=D("2999.99"),
        qty=D("1E-8"), side="buy", recv_ms=T0 + 8,
    ),
    BookEvent(
        type="book", venue="binance", symbol="BTC/USDT:USDT", bid=D("60000.00"), ask=D("60000.01"),
        bid_qty=D("1.25000"), ask_qty=D("0"), seq=81234567890, ts_ms=T0 + 3, recv_ms=T0 + 1,
    ),
    BookEvent(type="book", venue="okx", symbol="ETH/USDT", ask=D("3000.5"), recv_ms=T0 + 2),
    BalanceEvent(
        type="balance", venue="binance", asset="USDT", free=D("1450000.00000001"),
        locked=D("0.0"), recv_ms=T0 + 5,
    ),
    PositionEvent(
        type="position", venue="binance", symbol="BTC/USDT", qty=D("-0.00100"), recv_ms=T0 + 5
    ),
    SignalEvent(
        type="signal", strategy="mm-btc", venue="binance", symbol="BTC/USDT", side="buy",
        qty=D("0.5"), price=D("59990.5"), recv_ms=T0 + 9,
    ),
    OrderEvent(
        type="order", venue="binance", symbol="BTC/USDT", action="new", client_order_id="mm-1",
        strategy="mm-btc", side="buy", order_type="limit", qty=D("0.5"), price=D("59990.50"),
        time_in_force="PO", reduce_only=True, group="basket-1", leg_timeout_ms=3000,
        recv_ms=T0 + 10,
    ),
    OrderEvent(
        type="order", venue="binance", symbol="BTC/USDT", action="new", client_order_id="mm-2",
        strategy="mm-btc", side="sell", order_type="market", qty=D("0.5"), recv_ms=T0 + 11,
    ),
    OrderEvent(
        type="order", venue="binance", symbol="BTC/USDT", action="amend", client_order_id="mm-1",
        strategy="mm-btc", side="buy", order_type="limit", qty=D("0.4"), price=D("59991"),
        recv_ms=T0 + 12,
    ),
    OrderEvent(
        type="order", venue="binance", symbol="BTC/USDT", action="cancel", client_order_id="mm-1",
        strategy="mm-btc", recv_ms=T0 + 13,
    ),
    VenueEvent(
        type="venue", venue="binance", event="rate_limited", retry_after_s=D("1.5"),
        http_status=429, error_class="DDoSProtection", count=8, recv_ms=T0 + 14,
    ),
    VenueEvent(type="venue", venue="binance", event="latency", latency_ms=2500, recv_ms=T0 + 15),
    VenueEvent(type="venue", venue="okx", event="outage_start", recv_ms=T0 + 16),
    FillEvent(
        type="fill", venue="binance", symbol="BTC/USDT", client_order_id="mm-2", trade_id="t-77",
        side="sell", qty=D("0.5"), price=D("59990.49"), fee=D("-0.0150"), ts_ms=T0 + 11,
        recv_ms=T0 + 17,
    ),
]  # fmt: skip

HEADER = SessionHeader(
    type="session",
    name="unit",
    description="A few events of each type.",
    venues=["binance", "okx"],
    symbols=["BTC/USDT", "ETH/USDT"],
    start_ms=T0,
    end_ms=T0 + 17,
)
