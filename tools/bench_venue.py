"""Benchmark the order gateway's own cost per order, and the limiter's accuracy.

Issue 17's figures:

1. Cost per order of each layer, network excluded, on the same orders in one run:
   stateless ``Gate.evaluate``; ``StatefulGate`` (pre_trade + order_send, MemoryStore);
   the whole gateway over a paper venue; the whole gateway over the real ccxt binance
   adapter with the HTTP call replaced by a canned answer (ccxt signs, builds and parses
   every request as it would; only the socket is skipped) and our limiter in the path.
   Target: the gateway's own overhead (gateway - stateful runtime) under 100 µs.
2. Limiter accuracy against the mock exchange on 127.0.0.1: a flood of orders at a
   configured rate; the most requests the mock saw in any one second of its own clock.

    .venv/bin/python tools/bench_venue.py [--orders N] [--flood N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl import Gate
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore
from riskctl.venues.ccxt_venue import CcxtVenue, CcxtVenueConfig
from riskctl.venues.config import order_rate_for
from riskctl.venues.gateway import OrderGateway
from riskctl.venues.mock_exchange import (
    CREATE_ORDER,
    DEFAULT_API_SECRET,
    SPOT_ONLY_OPTIONS,
    MockExchange,
)
from riskctl.venues.paper import PaperVenue

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit" / "engine"))
from gatekit import make_gate  # the engine tests' small bundle

T0 = 1_700_000_000_000
OPEN = 20  # orders resting at once in the timed loops


def context(n: int) -> dict[str, Any]:
    return {
        "now_ms": T0 + n,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy" if n % 2 else "sell",
            "type": "limit",
            "qty": "0.01",
            "price": "40000" if n % 2 else "60000",  # resting: no fill path in the timing
            "client_order_id": f"b-{n}",
            "strategy": "bench",
        },
        "market": {"bid": "50000.00", "ask": "50000.01", "age_ms": 0},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
    }


def canned_fetch(exchange: Any) -> Callable[..., Awaitable[Any]]:
    """ccxt's HTTP call, answered from memory with binance's response to a new order."""
    ids = iter(range(1, 10**9))

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        params = dict(p.split("=", 1) for p in (body or url.partition("?")[2]).split("&") if p)
        return {
            "symbol": "BTCUSDT",
            "orderId": next(ids),
            "clientOrderId": params.get("newClientOrderId", "x"),
            "transactTime": T0,
            "price": params.get("price", "0"),
            "origQty": params.get("quantity", "0"),
            "executedQty": "0.00000000",
            "cummulativeQuoteQty": "0.00000000",
            "status": "NEW",
            "timeInForce": "GTC",
            "type": "LIMIT",
            "side": params.get("side", "BUY"),
            "fills": [],
        }

    return fetch


async def per_order(gateway: OrderGateway, orders: list[dict[str, Any]]) -> float:
    """µs per order placed; each order also cancels the one placed 20 before (a quoting
    loop's open-order count stays bounded), and that cancel is counted in its cost."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for n, item in enumerate(orders):
            result = await gateway.submit(item)
            assert result.status == "sent", result.venue_json()
            if n >= OPEN:
                old = orders[n - OPEN]["order"]["client_order_id"]
                canceled = await gateway.cancel("binance", "BTC/USDT", old, now_ms=T0 + n)
                assert canceled.status == "sent", canceled.venue_json()
        return (time.perf_counter() - start) / len(orders) * 1e6
    finally:
        gc.enable()


def timed(decide: Callable[[dict[str, Any]], object], orders: list[dict[str, Any]]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for item in orders:
            decide(item)
        return (time.perf_counter() - start) / len(orders) * 1e6
    finally:
        gc.enable()


async def layers(gate: Gate, n: int) -> dict[str, float]:
    orders = [context(i) for i in range(n)]
    out: dict[str, float] = {}
    stateless = gate.fresh()
    out["stateless Gate.evaluate (pre_trade)"] = timed(
        lambda c: stateless.evaluate("pre_trade", c), orders
    )
    runtime = StatefulGate(gate.fresh(), MemoryStore())

    placed: list[str] = []

    def both(c: dict[str, Any]) -> None:
        """What the gateway asks of the runtime per order: pre_trade, order_send, and for
        the cancel of an older order its order_send and the venue's confirmation."""
        cid = c["order"]["client_order_id"]
        runtime.evaluate("pre_trade", c)
        send = {"venue": "binance", "symbol": "BTC/USDT", "kind": "create"}
        runtime.evaluate("order_send", {"now_ms": c["now_ms"], "request": send})
        placed.append(cid)
        if len(placed) > OPEN:
            old = placed[-OPEN - 1]
            cancel = {"venue": "binance", "symbol": "BTC/USDT", "kind": "cancel"}
            runtime.evaluate("order_send", {"now_ms": c["now_ms"], "request": cancel})
            runtime.order_update("binance", old, "canceled", now_ms=c["now_ms"])

    out["StatefulGate pre_trade + order_send"] = timed(both, orders)
    paper = PaperVenue("binance")
    paper.set_top("BTC/USDT", Decimal("50000.00"), Decimal("50000.01"), T0)
    gateway = OrderGateway(StatefulGate(gate.fresh(), MemoryStore()), {"binance": paper})
    out["gateway over the paper venue"] = await per_order(gateway, orders)
    async with MockExchange() as mock:  # only for load_markets: then the socket is skipped
        config = CcxtVenueConfig(
            venue_id="binance",
            exchange="binance",
            api_key=mock.api_key,
            secret=DEFAULT_API_SECRET,
            base_url=mock.url,
            options=SPOT_ONLY_OPTIONS,
            rate_per_s=1e9,  # the limiter is in the path, never waiting
            burst=1e6,
        )
        adapter = CcxtVenue.open(config)
        instruments = await adapter.load_instruments()
        adapter.exchange.fetch = canned_fetch(adapter.exchange)
        gateway = OrderGateway(
            StatefulGate(gate.fresh(), MemoryStore()),
            {"binance": adapter},
            instruments={"binance": instruments},
        )
        out["gateway over ccxt binance (canned HTTP)"] = await per_order(gateway, orders)
        await adapter.close()
    return out


def most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def accuracy(gate: Gate, n: int, per_second: int) -> tuple[int, int, float]:
    funded = {"USDT": Decimal(10**9), "BTC": Decimal(10**5)}
    # The mock serves from its own thread and loop, so its clock reads arrivals, not the
    # moments the client's loop let it run.
    with MockExchange(balances=funded) as mock:
        config = CcxtVenueConfig(
            venue_id="binance",
            exchange="binance",
            api_key=mock.api_key,
            secret=DEFAULT_API_SECRET,
            base_url=mock.url,
            options=SPOT_ONLY_OPTIONS,
            order_rate=order_rate_for(per_second),
        )
        adapter = CcxtVenue.open(config)
        instruments = await adapter.load_instruments()
        gateway = OrderGateway(
            StatefulGate(gate.fresh(), MemoryStore()),
            {"binance": adapter},
            instruments={"binance": instruments},
        )
        granted: list[float] = []
        acquire = adapter.limiter.acquire

        async def timed_acquire(cost: float = 1.0, lane: Any = "order") -> None:
            await acquire(cost, lane)
            if lane == "order":
                granted.append(time.monotonic())

        adapter.limiter.acquire = timed_acquire  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            results = await asyncio.gather(*(gateway.submit(context(i)) for i in range(n)))
            took = time.perf_counter() - start
        finally:
            await adapter.close()
        failed = [r.venue_json() for r in results if r.status != "sent"]
        assert not failed, failed[:3]
        return most_in_a_second(granted), mock.log.max_in_window(1.0, endpoint=CREATE_ORDER), took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--flood", type=int, default=300)
    parser.add_argument("--rate", type=int, default=100, help="orders per second configured")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gate = make_gate(Path(tmp), {"max_order_qty": 1})
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, us in asyncio.run(layers(gate, args.orders)).items():
            best[name] = min(best.get(name, us), us)
    base = best["StatefulGate pre_trade + order_send"]
    print(f"{args.orders:,} resting limit orders, best of {args.repeats}, network excluded")
    print("| path | µs per order | orders/s | gateway's own (minus runtime) |")
    print("|---|---|---|---|")
    for name, us in best.items():
        own = f"{us - base:.1f} µs" if name.startswith("gateway") else ""
        print(f"| {name} | {us:.1f} | {1e6 / us:,.0f} | {own} |")
    granted, seen, took = asyncio.run(accuracy(gate, args.flood, args.rate))
    print()
    print(
        f"limiter: {args.flood} orders at {args.rate}/s configured (enforced as"
        f" {order_rate_for(args.rate)}), {took:.2f} s: at most {granted} granted in any"
        f" second ({max(0, granted - args.rate)} over the rate); at most {seen} arrived at"
        f" the mock in any second of its clock (arrival jitter: keep headroom under the"
        f" venue's limit)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
