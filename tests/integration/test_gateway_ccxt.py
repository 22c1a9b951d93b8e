"""The order gateway with the real ccxt client against the mock exchange on 127.0.0.1.

Issue 17's done-when, each asserted on the mock's own request log: orders placed and filled
through the gate; a rejected order never reaches the venue; cancel-all with the bulk
endpoint failing ends with zero open orders; a flood of 200 orders stays under the
configured rate in every one-second window of the mock's clock, with cancels served ahead
of queued orders; a 429 opens the venue breaker, which recovers after Retry-After; a lost
create answer leaves exactly one order; a bad secret stops the venue with no retries.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mock_fixtures import async_test

from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore
from riskctl.venues.ccxt_venue import CcxtVenue, CcxtVenueConfig
from riskctl.venues.gateway import OrderGateway
from riskctl.venues.mock_exchange import (
    CANCEL_ALL,
    CANCEL_ORDER,
    CREATE_ORDER,
    DEFAULT_API_SECRET,
    SPOT_ONLY_OPTIONS,
    LoseResponse,
    MockExchange,
    ServerError,
    TooManyRequests,
)
from riskctl.venues.retry import Backoff, RetryBudget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "engine"))
from gatekit import make_gate

T0 = 1_700_000_000_000


def context(cid: str, side: str = "buy", qty: str = "0.01", price: str = "49000") -> dict:
    return {
        "now_ms": T0,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": side,
            "type": "limit",
            "qty": qty,
            "price": price,
            "client_order_id": cid,
            "strategy": "mm",
        },
        "market": {"bid": "50000.00", "ask": "50000.01", "age_ms": 0},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
    }


@asynccontextmanager
async def gateway_on(
    mock: MockExchange, tmp_path: Path, *, secret: str = DEFAULT_API_SECRET, **venue: Any
) -> AsyncIterator[OrderGateway]:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    runtime = StatefulGate(gate, MemoryStore())
    config = CcxtVenueConfig(
        venue_id="binance",
        exchange="binance",
        api_key=mock.api_key,
        secret=secret,
        base_url=mock.url,
        options=SPOT_ONLY_OPTIONS,
        **venue,
    )
    adapter = CcxtVenue.open(config)
    instruments = await adapter.load_instruments()
    gw = OrderGateway(
        runtime,
        {"binance": adapter},
        instruments={"binance": instruments},
        budget=RetryBudget(max_attempts=4, deadline_s=5),
        backoff=Backoff(base_s=0.05, cap_s=0.5),
        seed=1,
        wall_ms=lambda: T0,
    )
    async with gw:
        yield gw


@async_test
async def test_when_the_gate_allows_then_the_order_is_placed_and_its_fill_applied(
    tmp_path,
) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        result = await gw.submit(context("c-1", price="50000.01"))  # takes the ask
        assert result.status == "sent", result.venue_json()
        assert result.order is not None
        assert result.order.status == "filled"
        assert [f.decision.allowed for f in result.fills] == [True]
        assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "0.01"}
        assert mock.find_order("BTCUSDT", client_order_id="c-1") is not None


@async_test
async def test_when_the_gate_rejects_then_the_mock_never_sees_the_order(tmp_path) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        result = await gw.submit(context("c-1", qty="2"))  # over max_order_qty 1
        assert result.status == "rejected"
        assert mock.log.records(CREATE_ORDER) == []


@async_test
async def test_when_bulk_cancel_fails_then_cancel_all_still_ends_with_nothing_open(
    tmp_path,
) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        for n in range(3):
            placed = await gw.submit(context(f"c-{n}", price=str(49000 - n)))
            assert placed.status == "sent"
        mock.inject(ServerError(endpoint=CANCEL_ALL, times=None))
        report = await gw.cancel_all("binance", "BTC/USDT")
        assert report.bulk_error is not None
        assert report.complete, report.to_json()
        assert sorted(o.client_order_id or "" for o in report.confirmed) == ["c-0", "c-1", "c-2"]
        assert mock.open_orders() == []
        assert len(mock.log.records(CANCEL_ORDER)) == 3  # one per order after the bulk 500
        assert gw.runtime.describe()["open_orders"] == {"binance": []}


@pytest.mark.slow
@async_test
async def test_when_200_orders_flood_then_no_second_of_the_mock_sees_more_than_the_limit(
    tmp_path,
) -> None:
    venue_limit = 100  # what the venue allows in any one second
    async with (
        MockExchange() as mock,
        # 80 a second, spread as 8 per 100 ms (what orders_per_second: 80 configures)
        gateway_on(mock, tmp_path, order_rate=(8, 0.1)) as gw,
    ):
        resting = await gw.submit(context("keep", price="40000"))
        assert resting.status == "sent"
        flood = [
            asyncio.ensure_future(gw.submit(context(f"f-{n}", price="41000"))) for n in range(200)
        ]
        await asyncio.sleep(0.3)  # the flood is queued behind the order lane's window
        sent_when_issued = len(mock.log.records(CREATE_ORDER))
        canceled = await gw.cancel("binance", "BTC/USDT", "keep")
        results = await asyncio.gather(*flood)

        assert canceled.status == "sent"
        assert all(r.status == "sent" for r in results)
        assert mock.log.max_in_window(1.0, endpoint=CREATE_ORDER) <= venue_limit
        (cancel,) = mock.log.records(CANCEL_ORDER)
        behind = sum(1 for r in mock.log.records(CREATE_ORDER) if r.seq > cancel.seq)
        # Issued with the flood queued in the order lane, the cancel jumped the queue: first
        # in first out, every one of the 200 creates would have reached the mock before it.
        assert sent_when_issued < 50
        assert behind >= 150


@async_test
async def test_when_the_venue_answers_429_then_the_breaker_holds_requests_for_retry_after(
    tmp_path,
) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        mock.inject(TooManyRequests(endpoint=CREATE_ORDER, retry_after_s=1, times=1))
        started = time.monotonic()
        result = await gw.submit(context("c-1"))
        assert result.status == "sent", result.venue_json()  # the retry after the wait
        creates = mock.log.records(CREATE_ORDER)
        assert [r.status for r in creates] == [429, 200]
        assert creates[1].t - creates[0].t >= 1.0  # nothing was sent before Retry-After
        assert time.monotonic() - started < 4


@async_test
async def test_when_a_create_answer_is_lost_then_the_retry_leaves_exactly_one_order(
    tmp_path,
) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        mock.inject(LoseResponse(endpoint=CREATE_ORDER, times=1))
        result = await gw.submit(context("c-1"))
        assert result.status == "sent", result.venue_json()
        assert len(mock.orders("BTCUSDT")) == 1
        assert len(mock.log.records(CREATE_ORDER)) == 1  # found by id, never sent again


@async_test
async def test_when_the_secret_is_wrong_then_the_venue_stops_without_retrying(tmp_path) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path, secret="wrong") as gw:  # noqa: S106
        first = await gw.submit(context("c-1"))
        assert first.status == "venue_rejected"
        assert first.error is not None
        assert first.error.code == "venue.auth"
        assert "wrong" not in first.error.message
        second = await gw.submit(context("c-2"))
        assert second.status == "rejected"
        assert second.decision.decision.hits[0].code == "venue.stopped"
        assert len(mock.log.records(CREATE_ORDER)) == 1  # one attempt, no retries


@async_test
async def test_when_an_order_is_quote_sized_then_the_mock_gets_the_base_qty_the_gate_checked(
    tmp_path,
) -> None:
    async with MockExchange() as mock, gateway_on(mock, tmp_path) as gw:
        sized = context("q-1", price="49000")
        del sized["order"]["qty"]
        sized["order"]["quote_qty"] = "1000"  # 0.0204081... BTC, rounded down onto the lot step
        result = await gw.submit(sized)
        assert result.status == "sent", result.venue_json()
        (sent,) = mock.log.records(CREATE_ORDER)
        assert "quoteOrderQty" not in sent.params
        qty = gw.runtime.open_orders("binance")[0].qty  # what every limit was checked on
        assert Decimal(sent.params["quantity"]) == qty
        assert qty <= Decimal(1000) / Decimal(49000) < qty + Decimal("0.00001")  # one lot
