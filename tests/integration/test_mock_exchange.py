"""The real, unmodified ccxt binance client (ccxt 4.5.90) against the mock exchange.

Every test opens real sockets on 127.0.0.1. Each fault is asserted as the exact ccxt
exception class a gateway will catch, as ccxt really raises it:

=====================================================  ================================
what the venue does                                    ccxt 4.5.90 raises
=====================================================  ================================
429 -1003 + Retry-After, 418 (ban)                     DDoSProtection (exactly; binance
                                                       handle_errors, not the base 429 ->
                                                       RateLimitExceeded)
5xx with a plain-text body                             ExchangeNotAvailable
5xx with Binance -1001 / -1007                         OperationFailed / RequestTimeout
connection closed, no answer (POST)                    ExchangeNotAvailable
connection closed once (GET / DELETE)                  nothing: aiohttp resends it once
answer later than ccxt's timeout                       RequestTimeout
unknown order on cancel (-2011), on fetch (-2013)      OrderNotFound
cancel-all with nothing open (-2011)                   OrderNotFound
duplicate clientOrderId of an open order (-2010)       InvalidOrder (not DuplicateOrderId)
bad signature (-1022), bad key (-2015)                 AuthenticationError
bad key after one signed success (-2015)               DDoSProtection (ccxt reads a ban)
timestamp outside recvWindow (-1021)                   InvalidNonce
NOTIONAL / MIN_NOTIONAL filter (-1013)                 BadRequest
PRICE_FILTER / LOT_SIZE filter (-1013)                 InvalidOrder (matched in the body)
=====================================================  ================================
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mock_fixtures import FakeClock, async_test, ccxt_client

from riskctl.venues.mock_exchange import (
    ACCOUNT,
    CANCEL_ALL,
    CANCEL_ORDER,
    CREATE_ORDER,
    DEFAULT_API_SECRET,
    DEPTH,
    EXCHANGE_INFO,
    GET_ORDER,
    OPEN_ORDERS,
    TICKER_24HR,
    DropConnection,
    Endpoint,
    LoseResponse,
    MockExchange,
    PartialCancel,
    RateLimit,
    ServerError,
    Slow,
    TooManyRequests,
    point_ccxt_at,
)
from riskctl.venues.mock_exchange.errors import BinanceError
from riskctl.venues.mock_exchange.markets import DEFAULT_SYMBOLS
from riskctl.venues.mock_exchange.matching import MatchingEngine, NewOrder, Top

D = Decimal
BTC = "BTC/USDT"


@pytest.fixture
def threaded_mock() -> Iterator[MockExchange]:
    """A mock served from its own thread: the shape synchronous fixtures use."""
    mock = MockExchange()
    mock.start()
    try:
        yield mock
    finally:
        mock.stop()


async def raised(awaitable: Any) -> type[BaseException]:
    """The exception class an awaitable raises (failing the test if it raises none)."""
    try:
        await awaitable
    except Exception as exc:  # noqa: BLE001 - the class is what the test asserts
        return type(exc)
    raise AssertionError("no exception was raised")


# -- pointing ccxt at the mock ---------------------------------------------------------


@async_test
async def test_point_ccxt_at_when_applied_then_every_api_url_is_on_the_mock() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        urls = exchange.urls

        for section in ("api", "test", "demo"):
            assert all(url.startswith(mock.url + "/") for url in urls[section].values())
        assert urls["api"]["public"] == urls["api"]["private"] == mock.url + "/api/v3"
        assert urls["api"]["sapi"] == mock.url + "/sapi/v1"
        assert exchange.options["fetchMarkets"] == {"types": ["spot"]}
        assert exchange.options["fetchCurrencies"] is False
        assert exchange.options["fetchMargins"] is False
        assert mock.address == ("127.0.0.1", int(mock.url.rsplit(":", 1)[1]))


def test_point_ccxt_at_when_not_a_binance_client_then_refused() -> None:
    exchange = ccxt.kraken()

    with pytest.raises(ValueError, match="binance-style"):
        point_ccxt_at(exchange, "http://127.0.0.1:1")


@async_test
async def test_load_markets_when_credentials_set_then_only_spot_exchange_info_is_called() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        markets = await exchange.load_markets()

        assert sorted(markets) == ["BTC/USDT", "ETH/USDT"]
        assert [r.endpoint for r in mock.log] == [EXCHANGE_INFO]
        btc, eth = markets["BTC/USDT"], markets["ETH/USDT"]
        assert (btc["spot"], btc["id"], btc["base"], btc["quote"]) == (
            True,
            "BTCUSDT",
            "BTC",
            "USDT",
        )
        assert btc["precision"]["price"] == 0.01
        assert btc["precision"]["amount"] == 0.00001
        assert btc["limits"]["amount"] == {"min": 0.00001, "max": 9000.0}
        assert btc["limits"]["price"] == {"min": 0.01, "max": 1000000.0}
        assert btc["limits"]["cost"] == {"min": 5.0, "max": 9000000.0}  # NOTIONAL
        assert eth["precision"]["amount"] == 0.0001
        assert eth["limits"]["cost"] == {"min": 5.0, "max": None}  # MIN_NOTIONAL


@async_test
async def test_api_section_when_the_mock_does_not_serve_it_then_404_stays_on_loopback() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        outcome = await raised(exchange.sapi_get_capital_config_getall())

        assert outcome is ccxt.ExchangeNotAvailable  # ccxt's 404
        (record,) = mock.log.records()
        assert (record.path, record.status) == ("/sapi/v1/capital/config/getall", 404)


@async_test
async def test_server_time_and_ping_when_asked_then_the_mock_clock_answers() -> None:
    async with (
        MockExchange(wall_ms=lambda: 1_700_000_000_123) as mock,
        ccxt_client(mock) as exchange,
    ):
        assert await exchange.fetch_time() == 1_700_000_000_123
        assert await exchange.public_get_ping() == {}
        assert [r.weight for r in mock.log] == [1, 1]


# -- market data ------------------------------------------------------------------------


@async_test
async def test_order_book_and_ticker_when_book_set_then_ccxt_reads_the_top() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        mock.set_book("BTCUSDT", bid="61000.5", ask="61001", qty="3")

        book = await exchange.fetch_order_book(BTC, limit=500)
        ticker = await exchange.fetch_ticker(BTC)
        tops = await exchange.fetch_bids_asks([BTC])

        assert book["bids"] == [[61000.5, 3.0]]
        assert book["asks"] == [[61001.0, 3.0]]
        assert (ticker["bid"], ticker["ask"], ticker["bidVolume"]) == (61000.5, 61001.0, 3.0)
        assert (tops[BTC]["bid"], tops[BTC]["ask"]) == (61000.5, 61001.0)
        depth = mock.log.records(DEPTH)[0]
        assert (depth.params["limit"], depth.weight) == ("500", 25)


@async_test
async def test_order_book_when_an_order_rests_then_it_shows_as_a_level() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.create_order(BTC, "limit", "buy", 0.5, 49000)
        await exchange.create_order(BTC, "limit", "buy", 0.25, 49000)

        book = await exchange.fetch_order_book(BTC)

        assert book["bids"] == [[50000.0, 2.0], [49000.0, 0.75]]


# -- orders -----------------------------------------------------------------------------


@async_test
async def test_limit_order_when_not_marketable_then_it_rests_and_locks_quote() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        order = await exchange.create_order(
            BTC, "limit", "buy", 0.01, 49000.5, {"clientOrderId": "rest-1"}
        )

        assert (order["status"], order["clientOrderId"], order["filled"]) == ("open", "rest-1", 0.0)
        open_orders = await exchange.fetch_open_orders(BTC)
        assert [o["id"] for o in open_orders] == [order["id"]]
        by_id = await exchange.fetch_order(order["id"], BTC)
        by_client_id = await exchange.fetch_order(None, BTC, {"clientOrderId": "rest-1"})
        assert by_id["clientOrderId"] == by_client_id["clientOrderId"] == "rest-1"
        assert by_client_id["id"] == order["id"]
        assert mock.log.records(GET_ORDER)[1].params["origClientOrderId"] == "rest-1"
        balance = await exchange.fetch_balance()
        assert balance["USDT"]["used"] == 490.005
        assert balance["USDT"]["free"] == 100000 - 490.005
        assert mock.balance("USDT").locked == D("490.005")


@async_test
async def test_limit_order_when_marketable_then_it_fills_at_the_top_and_balances_move() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        order = await exchange.create_order(BTC, "limit", "buy", 0.1, 50100)

        assert (order["status"], order["filled"], order["average"]) == ("closed", 0.1, 50000.01)
        assert order["fee"] == {"currency": "BTC", "cost": 0.0001}
        trades = await exchange.fetch_my_trades(BTC)
        assert [(t["order"], t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [
            (order["id"], 50000.01, 0.1, "taker")
        ]
        assert trades[0]["fee"] == {"currency": "BTC", "cost": 0.0001}
        balance = await exchange.fetch_balance()
        assert balance["BTC"]["total"] == 1.0999
        assert balance["USDT"]["total"] == 100000 - 5000.001
        assert balance["USDT"]["used"] == 0.0  # the lock at 50100 was released whole
        assert mock.balance("USDT").free == D("94999.999")


@async_test
async def test_market_orders_when_sent_then_fill_against_the_top_with_commission() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        mock.set_balance("USDT", 1_000_000)
        sold = await exchange.create_order(BTC, "market", "sell", 0.5)
        bought = await exchange.create_order(BTC, "market", "buy", 5.0)  # more than shown

        assert (sold["status"], sold["average"]) == ("closed", 50000.0)
        assert sold["fee"] == {"currency": "USDT", "cost": 25.0}
        assert (bought["status"], bought["filled"]) == ("expired", 2.0)  # 2 shown at the ask
        assert mock.balance("BTC").free == D("0.5") + D("2") - D("0.002")
        assert mock.balance("USDT").locked == 0


@async_test
async def test_resting_order_when_the_market_crosses_it_then_it_fills_as_maker() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        buy = await exchange.create_order(BTC, "limit", "buy", 0.02, 49000)
        sell = await exchange.create_order(BTC, "limit", "sell", 0.03, 52000)

        crossed = mock.cross("BTCUSDT", "48999")
        moved = mock.set_book("BTCUSDT", bid="52000", ask="52000.5", qty="1")

        assert [t.order_id for t in crossed] == [int(buy["id"])]
        assert [t.order_id for t in moved] == [int(sell["id"])]
        fetched = await exchange.fetch_order(sell["id"], BTC)
        assert (fetched["status"], fetched["average"]) == ("closed", 52000.0)
        trades = await exchange.fetch_my_trades(BTC)
        assert [(t["side"], t["price"], t["takerOrMaker"]) for t in trades] == [
            ("buy", 49000.0, "maker"),
            ("sell", 52000.0, "maker"),
        ]
        assert await exchange.fetch_open_orders(BTC) == []


@async_test
async def test_cancel_order_when_open_then_canceled_and_funds_released() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        order = await exchange.create_order(
            BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "c-1"}
        )

        cancelled = await exchange.cancel_order(order["id"], BTC)

        assert cancelled["status"] == "canceled"
        assert cancelled["id"] == order["id"]
        # Binance names the cancel itself: the order's own id is origClientOrderId, and
        # ccxt's unified clientOrderId is the cancel's (random) id.
        assert cancelled["info"]["origClientOrderId"] == "c-1"
        assert cancelled["clientOrderId"] != "c-1"
        assert mock.balance("USDT").locked == 0
        assert await raised(exchange.cancel_order(order["id"], BTC)) is ccxt.OrderNotFound


@async_test
async def test_cancel_all_orders_when_some_open_then_all_canceled_in_one_request() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        ids = [
            (await exchange.create_order(BTC, "limit", "buy", 0.01, 40000 + i))["id"]
            for i in range(3)
        ]
        await exchange.create_order("ETH/USDT", "limit", "buy", 0.1, 2000)

        cancelled = await exchange.cancel_all_orders(BTC)

        assert sorted(o["id"] for o in cancelled) == sorted(ids)
        assert {o["status"] for o in cancelled} == {"canceled"}
        assert mock.open_orders("BTCUSDT") == []
        assert len(mock.open_orders("ETHUSDT")) == 1
        assert len(mock.log.records(CANCEL_ALL)) == 1
        # Binance answers -2011 to a cancel-all with nothing open.
        assert await raised(exchange.cancel_all_orders(BTC)) is ccxt.OrderNotFound


@async_test
async def test_fetch_orders_when_orders_open_closed_and_canceled_then_all_listed() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        resting = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
        filled = await exchange.create_order(BTC, "market", "buy", 0.01)
        cancelled = await exchange.create_order(BTC, "limit", "sell", 0.01, 60000)
        await exchange.cancel_order(cancelled["id"], BTC)

        orders = await exchange.fetch_orders(BTC)
        closed = await exchange.fetch_closed_orders(BTC)

        assert [(o["id"], o["status"]) for o in orders] == [
            (resting["id"], "open"),
            (filled["id"], "closed"),
            (cancelled["id"], "canceled"),
        ]
        assert [o["id"] for o in closed] == [filled["id"]]
        assert len(mock.log.records(Endpoint("GET", "/api/v3/allOrders"))) == 2


@async_test
async def test_unknown_orders_when_fetched_or_cancelled_then_order_not_found() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        assert await raised(exchange.fetch_order("999", BTC)) is ccxt.OrderNotFound
        assert await raised(exchange.cancel_order("999", BTC)) is ccxt.OrderNotFound
        bodies = [r.status for r in mock.log.records()]
        assert bodies == [200, 400, 400]  # exchangeInfo, then -2013 and -2011


@async_test
async def test_duplicate_client_order_id_when_first_still_open_then_invalid_order() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "d-1"})

        duplicate = await raised(
            exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "d-1"})
        )

        assert duplicate is ccxt.InvalidOrder  # -2010; ccxt has DuplicateOrderId, unused here
        assert len(mock.orders("BTCUSDT")) == 1
        await exchange.cancel_all_orders(BTC)
        reused = await exchange.create_order(
            BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "d-1"}
        )
        assert reused["status"] == "open"  # Binance: unique among OPEN orders only


@async_test
async def test_duplicate_client_order_id_when_uniqueness_is_all_then_closed_ids_refused() -> None:
    async with MockExchange(unique_client_ids="all") as mock, ccxt_client(mock) as exchange:
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "u-1"})

        again = exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "u-1"})

        assert await raised(again) is ccxt.InvalidOrder


@async_test
async def test_order_filters_when_broken_then_binance_codes_reach_ccxt() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        raw = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}

        off_tick = exchange.privatePostOrder({**raw, "price": "49000.005", "quantity": "0.01"})
        off_step = exchange.privatePostOrder({**raw, "price": "49000", "quantity": "0.000015"})
        small = exchange.create_order(BTC, "limit", "buy", 0.0001, 40000)
        eth_small = exchange.create_order("ETH/USDT", "limit", "buy", 0.001, 3000)
        too_big = exchange.create_order(BTC, "limit", "buy", 100, 40000)
        post_only = exchange.create_order(BTC, "limit", "buy", 0.01, 60000, {"postOnly": True})

        assert await raised(off_tick) is ccxt.InvalidOrder  # body has PRICE_FILTER
        assert await raised(off_step) is ccxt.InvalidOrder  # body has LOT_SIZE
        assert await raised(small) is ccxt.BadRequest  # -1013 Filter failure: NOTIONAL
        assert await raised(eth_small) is ccxt.BadRequest  # MIN_NOTIONAL
        assert await raised(too_big) is ccxt.InsufficientFunds
        assert await raised(post_only) is ccxt.OrderImmediatelyFillable
        assert mock.orders("BTCUSDT") == []


# -- authentication ---------------------------------------------------------------------


@async_test
async def test_signed_request_when_secret_wrong_then_authentication_error() -> None:
    wrong = "not-" + DEFAULT_API_SECRET
    async with MockExchange() as mock, ccxt_client(mock, secret=wrong) as exchange:
        assert await raised(exchange.fetch_balance()) is ccxt.AuthenticationError
        assert mock.log.records(ACCOUNT)[0].status == 400  # -1022, as Binance sends it


@async_test
async def test_signed_request_when_key_unknown_then_authentication_error() -> None:
    async with MockExchange() as mock, ccxt_client(mock, api_key="someone-else") as exchange:
        assert await raised(exchange.fetch_balance()) is ccxt.AuthenticationError
        assert mock.log.records(ACCOUNT)[0].status == 401  # -2015


@async_test
async def test_signed_request_when_key_revoked_after_a_success_then_ccxt_reads_a_ban() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.fetch_balance()
        mock.api_key = "rotated"

        # ccxt binance: -2015 after one signed success is taken for a temporary IP ban.
        assert await raised(exchange.fetch_balance()) is ccxt.DDoSProtection


@async_test
async def test_signed_request_when_clocks_disagree_then_invalid_nonce() -> None:
    def server_a_minute_ahead_ms() -> int:
        return time.time_ns() // 1_000_000 + 60_000

    async with (
        MockExchange(wall_ms=server_a_minute_ahead_ms) as mock,
        ccxt_client(mock) as exchange,
    ):
        assert await raised(exchange.fetch_balance()) is ccxt.InvalidNonce  # -1021


# -- faults: rate limits -----------------------------------------------------------------


@async_test
async def test_too_many_requests_when_armed_then_ddos_protection_with_retry_after() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(TooManyRequests(times=2, retry_after_s=7))

        first = await raised(exchange.fetch_ticker(BTC))
        retry_after = exchange.last_response_headers["Retry-After"]
        second = await raised(exchange.fetch_balance())
        ticker = await exchange.fetch_ticker(BTC)

        # ccxt binance raises DDoSProtection itself for 429/418, before the base class's
        # httpExceptions (429 -> RateLimitExceeded) or the -1003 code are looked at.
        assert first is second is ccxt.DDoSProtection
        assert retry_after == "7"
        assert ticker["bid"] == 50000.0
        assert [r.status for r in mock.log.records()][1:] == [429, 429, 200]
        assert mock.pending_faults() == []


@async_test
async def test_too_many_requests_when_418_ban_then_ddos_protection() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(TooManyRequests(status=418, retry_after_s=120))

        assert await raised(exchange.fetch_ticker(BTC)) is ccxt.DDoSProtection
        assert exchange.last_response_headers["Retry-After"] == "120"
        assert mock.log.records(TICKER_24HR)[0].status == 418


@async_test
async def test_too_many_requests_when_armed_for_a_span_then_lifted_when_it_ends() -> None:
    clock = FakeClock()
    async with MockExchange(clock=clock) as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(TooManyRequests(times=None, for_s=5.0))

        refused = [await raised(exchange.fetch_ticker(BTC)) for _ in range(3)]
        clock.advance(4.9)
        still = await raised(exchange.fetch_ticker(BTC))
        clock.advance(0.1)
        ticker = await exchange.fetch_ticker(BTC)

        assert refused == [ccxt.DDoSProtection] * 3
        assert still is ccxt.DDoSProtection
        assert ticker["ask"] == 50000.01


@async_test
async def test_rate_limit_when_over_n_per_second_then_429_until_the_window_moves() -> None:
    clock = FakeClock()
    async with MockExchange(clock=clock) as mock, ccxt_client(mock) as exchange:
        mock.inject(RateLimit(limit=3, window_s=1.0, retry_after_s=1))

        answers = [await exchange.public_get_ping() for _ in range(3)]
        over = await raised(exchange.public_get_ping())
        retry_after = exchange.last_response_headers["Retry-After"]
        clock.advance(1.0)
        after = await exchange.public_get_ping()

        assert answers == [{}, {}, {}]
        assert over is ccxt.DDoSProtection
        assert retry_after == "1"
        assert after == {}
        assert [r.status for r in mock.log] == [200, 200, 200, 429, 200]
        assert [r.fault for r in mock.log][3] == "RateLimit"
        assert mock.log.max_in_window(1.0) == 4  # the refused request is logged and counted


@async_test
async def test_rate_limit_when_refusals_repeat_then_418_ban_for_its_span() -> None:
    clock = FakeClock()
    async with MockExchange(clock=clock) as mock, ccxt_client(mock) as exchange:
        mock.inject(RateLimit(limit=1, ban_after=2, ban_s=30.0))

        await exchange.public_get_ping()
        refusals = [await raised(exchange.public_get_ping()) for _ in range(3)]
        clock.advance(29.0)
        banned = await raised(exchange.public_get_ping())
        clock.advance(1.0)
        lifted = await exchange.public_get_ping()

        assert refusals == [ccxt.DDoSProtection] * 3
        assert banned is ccxt.DDoSProtection
        assert lifted == {}
        assert [r.status for r in mock.log] == [200, 429, 418, 418, 418, 200]


@async_test
async def test_rate_limit_when_weighted_then_binance_weights_count() -> None:
    clock = FakeClock()
    async with MockExchange(clock=clock) as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()  # weight 20
        mock.inject(RateLimit(limit=30, window_s=60.0, weighted=True))

        await exchange.fetch_order_book(BTC)  # 5: 25 used
        await exchange.fetch_ticker(BTC)  # 2: 27 used
        over = await raised(exchange.fetch_balance())  # 20: 47 > 30

        assert over is ccxt.DDoSProtection
        assert [r.weight for r in mock.log] == [20, 5, 2, 20]
        assert exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "47"


# -- faults: server errors, drops, slowness ------------------------------------------------


@async_test
async def test_server_error_when_armed_per_endpoint_then_only_that_endpoint_fails_n_times() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(ServerError(status=503, endpoint=ACCOUNT, times=2))

        ticker = await exchange.fetch_ticker(BTC)
        failures = [await raised(exchange.fetch_balance()) for _ in range(2)]
        balance = await exchange.fetch_balance()

        assert ticker["bid"] == 50000.0
        assert failures == [ccxt.ExchangeNotAvailable] * 2
        assert balance["USDT"]["free"] == 100000.0
        assert [r.status for r in mock.log.records(ACCOUNT)] == [503, 503, 200]


@async_test
async def test_server_error_when_binance_json_code_then_ccxt_maps_the_code() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(
            ServerError(status=500, binance_code=-1001),
            ServerError(status=504, binance_code=-1007),
        )

        internal = await raised(exchange.fetch_ticker(BTC))
        timeout = await raised(exchange.fetch_ticker(BTC))

        # -1001 is OperationFailed, which is NOT a NetworkError in ccxt 4.5.90.
        assert internal is ccxt.OperationFailed
        assert not issubclass(internal, ccxt.NetworkError)
        assert timeout is ccxt.RequestTimeout


@async_test
async def test_bulk_cancel_when_500_then_exchange_not_available_and_orders_stay_open() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        for price in (40000, 41000):
            await exchange.create_order(BTC, "limit", "buy", 0.01, price)
        mock.inject(ServerError(status=500, endpoint=CANCEL_ALL))

        assert await raised(exchange.cancel_all_orders(BTC)) is ccxt.ExchangeNotAvailable
        assert len(mock.open_orders("BTCUSDT")) == 2
        assert len(await exchange.cancel_all_orders(BTC)) == 2


@async_test
async def test_bulk_cancel_when_partial_then_success_reported_and_an_order_left_open() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        ids = [
            (await exchange.create_order(BTC, "limit", "buy", 0.01, 40000 + i))["id"]
            for i in range(3)
        ]
        mock.inject(PartialCancel(leave_open=1))

        reported = await exchange.cancel_all_orders(BTC)

        assert [o["id"] for o in reported] == ids[:2]
        assert [o.order_id for o in mock.open_orders("BTCUSDT")] == [int(ids[2])]
        assert [o["id"] for o in await exchange.fetch_open_orders(BTC)] == [ids[2]]


@async_test
async def test_bulk_cancel_when_partial_and_claiming_all_then_the_answer_lies() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        for price in (40000, 41000):
            await exchange.create_order(BTC, "limit", "buy", 0.01, price)
        mock.inject(PartialCancel(leave_open=1, claim_all=True))

        reported = await exchange.cancel_all_orders(BTC)

        assert [o["status"] for o in reported] == ["canceled", "canceled"]
        assert len(mock.open_orders("BTCUSDT")) == 1


@async_test
async def test_dropped_connection_when_create_then_network_error_and_order_never_reached() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(DropConnection(endpoint=CREATE_ORDER))

        lost = exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "z-1"})

        assert await raised(lost) is ccxt.ExchangeNotAvailable
        (record,) = mock.log.records(CREATE_ORDER, newClientOrderId="z-1")
        assert (record.status, record.fault) == (None, "DropConnection")
        assert mock.find_order("BTCUSDT", client_order_id="z-1") is None
        assert mock.orders("BTCUSDT") == []


@async_test
async def test_dropped_connection_when_get_once_then_aiohttp_resends_it_and_ccxt_succeeds() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(DropConnection(endpoint=TICKER_24HR, times=1))

        ticker = await exchange.fetch_ticker(BTC)

        # aiohttp retries an idempotent method (GET, DELETE, PUT) once after a disconnect.
        assert ticker["bid"] == 50000.0
        assert [r.status for r in mock.log.records(TICKER_24HR)] == [None, 200]
        mock.inject(DropConnection(endpoint=TICKER_24HR, times=2))
        assert await raised(exchange.fetch_ticker(BTC)) is ccxt.ExchangeNotAvailable


@async_test
async def test_slow_response_when_longer_than_ccxt_timeout_then_request_timeout() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        exchange.timeout = 100  # ms; the mock answers no sooner than 300 ms
        mock.inject(Slow(delay_s=0.3, endpoint=CREATE_ORDER))

        slow = exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "s-1"})

        assert await raised(slow) is ccxt.RequestTimeout
        while mock.log.records(CREATE_ORDER)[0].t_done is None:  # served after the delay
            await asyncio.sleep(0.02)
        record = mock.log.records(CREATE_ORDER)[0]
        assert (record.status, record.fault) == (200, "Slow")
        order = mock.find_order("BTCUSDT", client_order_id="s-1")
        assert order is not None
        assert order.status == "NEW"


@async_test
async def test_lost_create_response_when_dropped_then_order_exists_and_is_found_by_client_id() -> (
    None
):
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(LoseResponse())

        lost = exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "l-1"})

        assert await raised(lost) is ccxt.ExchangeNotAvailable
        found = await exchange.fetch_order(None, BTC, {"clientOrderId": "l-1"})
        assert (found["status"], found["clientOrderId"]) == ("open", "l-1")
        resent = exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "l-1"})
        assert await raised(resent) is ccxt.InvalidOrder  # -2010 while the first is open
        assert len(mock.orders("BTCUSDT")) == 1


@async_test
async def test_lost_create_response_when_5xx_then_exchange_not_available_but_order_exists() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.load_markets()
        mock.inject(LoseResponse(status=502))

        lost = exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": "l-2"})

        assert await raised(lost) is ccxt.ExchangeNotAvailable
        order = mock.find_order("BTCUSDT", client_order_id="l-2")
        assert order is not None
        assert order.status == "FILLED"
        assert len(mock.trades("BTCUSDT")) == 1


@async_test
async def test_lost_cancel_response_when_dropped_then_the_resent_delete_says_unknown() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        order = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
        mock.inject(LoseResponse(endpoint=CANCEL_ORDER))

        outcome = await raised(exchange.cancel_order(order["id"], BTC))

        # The cancel worked; aiohttp resent the DELETE after the drop, and Binance answers
        # the second one -2011: a gateway sees OrderNotFound for a successful cancel.
        assert outcome is ccxt.OrderNotFound
        assert [r.status for r in mock.log.records(CANCEL_ORDER)] == [None, 400]
        assert mock.open_orders("BTCUSDT") == []


# -- the request log -----------------------------------------------------------------------


@async_test
async def test_request_log_when_signed_calls_made_then_records_hold_no_signature_or_key() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        await exchange.create_order(BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": "r-1"})
        exchange.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
        await exchange.fetch_open_orders()

        load, create, listing = mock.log.snapshot()

        assert [r.seq for r in (load, create, listing)] == [0, 1, 2]
        moments = [load.t, load.t_done, create.t, create.t_done, listing.t, listing.t_done]
        assert None not in moments
        assert moments == sorted(moments)  # each answered before the next was sent
        assert (create.method, create.path, create.status, create.weight) == (
            "POST",
            "/api/v3/order",
            200,
            1,
        )
        assert create.params["newClientOrderId"] == "r-1"
        assert create.params["symbol"] == "BTCUSDT"
        assert "timestamp" in create.params
        assert "signature" not in create.params
        assert mock.api_key not in repr(mock.log.snapshot())
        assert (listing.endpoint, listing.weight) == (OPEN_ORDERS, 80)  # no symbol: 80
        assert mock.log.max_in_window(1.0, weighted=True) == 20 + 1 + 80


@async_test
async def test_request_log_when_creates_wait_behind_a_cancel_then_order_is_visible() -> None:
    async with MockExchange() as mock, ccxt_client(mock) as exchange:
        order = await exchange.create_order(BTC, "limit", "buy", 0.01, 49000)
        mock.inject(Slow(delay_s=0.05, endpoint=CREATE_ORDER, times=None))

        await exchange.cancel_order(order["id"], BTC)
        await exchange.create_order(BTC, "limit", "buy", 0.01, 48000, {"clientOrderId": "q-1"})

        cancel = mock.log.records(CANCEL_ORDER)[0]
        (queued,) = mock.log.records(CREATE_ORDER, newClientOrderId="q-1")
        assert cancel.t_done is not None
        assert cancel.t_done <= queued.t
        assert queued.fault == "Slow"


# -- how it runs ---------------------------------------------------------------------------


def test_threaded_mock_when_driven_from_another_loop_then_state_is_shared(
    threaded_mock: MockExchange,
) -> None:
    async def trade() -> list[Any]:
        async with ccxt_client(threaded_mock) as exchange:
            await exchange.create_order(BTC, "limit", "sell", 0.1, 51000)
            threaded_mock.cross("BTCUSDT", "51000")
            return await exchange.fetch_my_trades(BTC)

    trades = asyncio.run(trade())

    assert [(t["side"], t["price"]) for t in trades] == [("sell", 51000.0)]
    assert threaded_mock.balance("BTC").free == D("0.9")
    assert threaded_mock.address[0] == "127.0.0.1"


def test_command_line_when_run_as_a_module_then_serves_ccxt_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "riskctl.venues.mock_exchange", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()

        async def use() -> dict[str, Any]:
            async with ccxt_client(url) as exchange:
                await exchange.create_order(BTC, "market", "buy", 0.01)
                balance: dict[str, Any] = await exchange.fetch_balance()
                return balance

        balance = asyncio.run(use())
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0
    assert balance["BTC"]["total"] == 1.00999
    assert process.returncode == 0, stderr
    assert stderr == ""


def test_command_line_when_sigint_then_exits_cleanly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "riskctl.venues.mock_exchange"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=10)

    assert url.startswith("http://127.0.0.1:")
    assert (process.returncode, stderr) == (0, "")


# -- the matching engine's bookkeeping ---------------------------------------------------

_ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("place"),
            st.sampled_from(["BUY", "SELL"]),
            st.sampled_from(["LIMIT", "MARKET"]),
            st.integers(1, 300),
            st.integers(-300, 300),
        ),
        st.tuples(st.just("cancel"), st.integers(1, 30)),
        st.tuples(st.just("cross"), st.integers(-300, 300)),
    ),
    max_size=25,
)


@given(actions=_ACTIONS)
def test_engine_when_orders_fill_and_cancel_then_funds_are_conserved_and_locks_match(
    actions: list[tuple[Any, ...]],
) -> None:
    engine = MatchingEngine(
        specs=DEFAULT_SYMBOLS,
        tops={
            "BTCUSDT": Top(bid=D(50000), ask=D("50000.01"), qty=D("0.5")),
            "ETHUSDT": Top(bid=D(3000), ask=D("3000.01"), qty=D(1)),
        },
        balances={"USDT": D(100000), "BTC": D(1)},
        maker_fee=D("0.001"),
        taker_fee=D("0.002"),
        unique_client_ids="open",
    )
    for n, action in enumerate(actions):
        _apply(engine, n, action)

    trades = engine.trades["BTCUSDT"]
    bought = sum((t.qty if t.is_buyer else -t.qty for t in trades), D(0))
    spent = sum((t.quote_qty if t.is_buyer else -t.quote_qty for t in trades), D(0))
    fees = {
        a: sum((t.commission for t in trades if t.commission_asset == a), D(0))
        for a in ("BTC", "USDT")
    }
    btc, usdt = engine.balances["BTC"], engine.balances["USDT"]
    assert btc.free + btc.locked == 1 + bought - fees["BTC"]
    assert usdt.free + usdt.locked == 100000 - spent - fees["USDT"]
    assert min(btc.free, usdt.free, btc.locked, usdt.locked) >= 0
    open_orders = engine.open_orders("BTCUSDT")
    assert usdt.locked == sum((o.locked for o in open_orders if o.side == "BUY"), D(0))
    assert btc.locked == sum((o.locked for o in open_orders if o.side == "SELL"), D(0))


def _apply(engine: MatchingEngine, n: int, action: tuple[Any, ...]) -> None:
    kind, *args = action
    try:
        if kind == "place":
            side, order_type, lots, ticks = args
            price = D(50000) + D(ticks) / 100 if order_type == "LIMIT" else None
            engine.place(
                NewOrder(
                    symbol="BTCUSDT",
                    side=side,
                    type=order_type,
                    client_order_id=f"h-{n}",
                    qty=D(lots) / 1000,
                    price=price,
                    time_in_force="GTC" if price else None,
                ),
                now_ms=n,
            )
        elif kind == "cancel":
            engine.cancel("BTCUSDT", order_id=args[0], client_id=None, now_ms=n)
        else:
            engine.cross("BTCUSDT", D(50000) + D(args[0]) / 100, now_ms=n)
    except BinanceError:
        pass  # refused orders and unknown cancels change nothing
