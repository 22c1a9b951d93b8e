"""The paper venue: fills from the top it was given, and memory that does not grow with a
replay's length."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from riskctl.venues import paper as paper_module
from riskctl.venues.errors import VenueError
from riskctl.venues.paper import PaperVenue
from riskctl.venues.records import OrderRequest

D = Decimal


def order(cid: str, side: str = "buy", price: str = "99") -> OrderRequest:
    return OrderRequest("paper", "BTC/USDT", side, "limit", D(1), cid, D(price))  # type: ignore[arg-type]


def test_when_a_later_top_crosses_a_resting_order_then_it_fills_at_its_limit() -> None:
    venue = PaperVenue("paper", fee_bps=D(0))
    venue.set_top("BTC/USDT", D(100), D(101), 1)
    placed = asyncio.run(venue.create_order(order("a")))
    assert placed.status == "open"
    assert venue.reserved("USDT") == D(99)
    venue.set_top("BTC/USDT", D(98), D("98.5"), 2)
    [trade] = venue.take_trades()
    assert (trade.client_order_id, trade.price, trade.qty) == ("a", D(99), D(1))
    assert venue.take_trades() == []  # handed over once
    assert venue.reserved("USDT") == 0
    assert asyncio.run(venue.fetch_open_orders()) == []


def test_when_more_orders_close_than_memory_keeps_then_the_oldest_are_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(paper_module, "MEMORY", 5)
    venue = PaperVenue("paper", fee_bps=D(0))
    venue.set_top("BTC/USDT", D(100), D(101), 1)
    for n in range(20):
        asyncio.run(venue.create_order(order(f"o{n}")))
        asyncio.run(venue.cancel_order("BTC/USDT", f"o{n}"))
    asyncio.run(venue.create_order(order("live")))
    assert asyncio.run(venue.fetch_order("BTC/USDT", "o0")) is None  # forgotten
    kept = asyncio.run(venue.fetch_order("BTC/USDT", "o19"))
    assert kept is not None
    assert kept.status == "canceled"
    assert [o.client_order_id for o in asyncio.run(venue.fetch_open_orders())] == ["live"]
    assert len(venue.requests) == 5
    assert venue.request_counts["create_order"] == 21
    with pytest.raises(VenueError):  # a closed order still remembered is still a duplicate
        asyncio.run(venue.create_order(order("o19")))


def test_when_answers_are_delayed_then_exactly_the_next_requests_sleep_and_still_arrive() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    venue = PaperVenue("paper", fee_bps=D(0), sleep=sleep)
    venue.set_top("BTC/USDT", D(100), D(101), 1)
    venue.delay_next(1.5, count=2)
    venue.delay_next(0.25)
    for cid in "abcd":
        asyncio.run(venue.create_order(order(cid)))
    assert slept == [1.5, 1.5, 0.25]  # in order, each delay for its count, then none
    assert venue.request_counts["create_order"] == 4  # a slow answer is still an answer
    with pytest.raises(ValueError, match="must be a number >= 0"):
        venue.delay_next(-1)
    with pytest.raises(ValueError, match="must be a number >= 0"):
        venue.delay_next(float("nan"))
