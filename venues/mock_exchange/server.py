"""The mock exchange: an aiohttp server on 127.0.0.1 speaking Binance spot REST.

Run it in the caller's event loop (``async with MockExchange() as mock``) or on its own
thread for synchronous pytest fixtures (``mock.start()`` ... ``mock.stop()``, or
``with MockExchange() as mock``). Test code changes the market, reads state and arms faults
through the methods below; they are thread-safe (one lock guards all state, and handlers
hold it while they run).

Serving one request: log it -> standing rate limits -> armed faults that refuse it
(TooManyRequests, DropConnection, ServerError) -> Slow -> signature check (SIGNED endpoints)
-> the endpoint -> LoseResponse -> the answer, with Binance's ``X-MBX-USED-WEIGHT-1M``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qsl

from aiohttp import web

from riskctl.venues.mock_exchange import auth, faults
from riskctl.venues.mock_exchange.errors import BinanceError
from riskctl.venues.mock_exchange.faults import Fault, FaultPlan, RateLimit, Reply
from riskctl.venues.mock_exchange.handlers import ROUTES, Call
from riskctl.venues.mock_exchange.markets import DEFAULT_SYMBOLS, SymbolSpec
from riskctl.venues.mock_exchange.matching import Balance, MatchingEngine, Order, Top, Trade
from riskctl.venues.mock_exchange.requestlog import Endpoint, RequestLog, weight_of

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "MockExchange"]

DEFAULT_API_KEY = "mock-api-key"
DEFAULT_API_SECRET = "mock-api-secret"  # noqa: S105 - a fixture value for a loopback mock
HOST = "127.0.0.1"  # never any other address
DEFAULT_BOOKS = {
    "BTCUSDT": Top(bid=Decimal("50000.00"), ask=Decimal("50000.01"), qty=Decimal("2")),
    "ETHUSDT": Top(bid=Decimal("3000.00"), ask=Decimal("3000.01"), qty=Decimal("20")),
}
DEFAULT_BALANCES = {"USDT": Decimal("100000"), "BTC": Decimal("1"), "ETH": Decimal("10")}
Number = Decimal | int | str


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class _Drop:
    fault: str


class MockExchange:
    """A Binance spot look-alike on ``http://127.0.0.1:<port>`` with fault injection."""

    def __init__(
        self,
        *,
        symbols: Sequence[SymbolSpec] = DEFAULT_SYMBOLS,
        books: Mapping[str, Top] | None = None,
        balances: Mapping[str, Number] | None = None,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str = DEFAULT_API_SECRET,
        maker_fee: Number = Decimal("0.001"),
        taker_fee: Number = Decimal("0.001"),
        unique_client_ids: Literal["open", "all"] = "open",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = _wall_ms,
    ) -> None:
        """``unique_client_ids`` "open" is Binance's rule (a client order id may be reused
        once its order is closed); "all" refuses any reuse. ``clock`` is the monotonic
        clock of the request log and of timed faults; ``wall_ms`` gives server times."""
        books = {**DEFAULT_BOOKS, **(books or {})}
        self._engine = MatchingEngine(
            specs=symbols,
            tops={s.symbol: books.get(s.symbol) or _default_top(s) for s in symbols},
            balances={k: Decimal(v) for k, v in (balances or DEFAULT_BALANCES).items()},
            maker_fee=Decimal(maker_fee),
            taker_fee=Decimal(taker_fee),
            unique_client_ids=unique_client_ids,
        )
        self.api_key = api_key  # assign another to revoke the key a client holds
        self._secret = api_secret
        self.log = RequestLog()
        self._plan = FaultPlan()
        self._lock = threading.RLock()
        self._clock, self._wall_ms, self._t0 = clock, wall_ms, clock()
        self._port = port
        self._url: str | None = None
        self._runner: web.ServerRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; the server must be started."""
        if self._url is None:
            raise RuntimeError("the mock exchange is not started")
        return self._url

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server socket is bound to: host is always 127.0.0.1."""
        if self._runner is None:
            raise RuntimeError("the mock exchange is not started")
        host, port = self._runner.addresses[0][:2]
        return str(host), int(port)

    async def astart(self) -> str:
        """Bind 127.0.0.1 (an OS-chosen port unless one was given) and serve; the URL."""
        if self._runner is not None:
            raise RuntimeError("the mock exchange is already started")
        self._stopping = asyncio.Event()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, self._port))
        # shutdown_timeout bounds stop(): a Slow handler is woken by _stopping anyway.
        self._runner = web.ServerRunner(
            web.Server(self._dispatch, access_log=None), handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._url = f"http://{HOST}:{sock.getsockname()[1]}"
        return self._url

    async def astop(self) -> None:
        if self._runner is None:
            return
        assert self._stopping is not None
        self._stopping.set()
        await self._runner.cleanup()
        self._runner, self._url = None, None

    async def __aenter__(self) -> MockExchange:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.astop()

    def start(self) -> str:
        """Serve from a background thread with its own event loop; the URL."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="mock-exchange", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        return asyncio.run_coroutine_threadsafe(self.astart(), loop).result(timeout=10)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.astop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> MockExchange:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state, for tests ----------------------------------------------------------------

    def now(self) -> float:
        """Seconds on the mock's monotonic clock since it was made (the log's ``t``)."""
        return self._clock() - self._t0

    def set_book(self, symbol: str, *, bid: Number, ask: Number, qty: Number) -> list[Trade]:
        """Move the standing quote; resting orders it moves through fill (returned)."""
        top = Top(bid=Decimal(bid), ask=Decimal(ask), qty=Decimal(qty))
        with self._lock:
            return self._engine.set_book(symbol, top, now_ms=self._wall_ms())

    def cross(self, symbol: str, price: Number) -> list[Trade]:
        """A trade prints at ``price``; resting orders at or through it fill (returned)."""
        with self._lock:
            return self._engine.cross(symbol, Decimal(price), now_ms=self._wall_ms())

    def set_balance(self, asset: str, free: Number) -> None:
        with self._lock:
            held = self._engine.balances.get(asset, Balance(free=Decimal(0)))
            self._engine.balances[asset] = Balance(free=Decimal(free), locked=held.locked)

    def balance(self, asset: str) -> Balance:
        with self._lock:
            return self._engine.balances.get(asset, Balance(free=Decimal(0)))

    def orders(self, symbol: str) -> list[Order]:
        with self._lock:
            return list(self._engine.orders[symbol].values())

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        with self._lock:
            return self._engine.open_orders(symbol)

    def find_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order | None:
        with self._lock:
            return self._engine.find(symbol, order_id=order_id, client_id=client_order_id)

    def trades(self, symbol: str) -> list[Trade]:
        with self._lock:
            return list(self._engine.trades[symbol])

    def inject(self, *armed: Fault | RateLimit) -> None:
        """Arm faults (see :mod:`riskctl.venues.mock_exchange.faults`)."""
        with self._lock:
            for fault in armed:
                self._plan.inject(fault, now=self.now())

    def clear_faults(self) -> None:
        with self._lock:
            self._plan.clear()

    def pending_faults(self) -> list[Fault | RateLimit]:
        """Faults still armed (spent ones and elapsed spans are gone)."""
        with self._lock:
            return self._plan.pending()

    # -- serving -------------------------------------------------------------------------

    async def _dispatch(self, request: web.BaseRequest) -> web.StreamResponse:
        endpoint = Endpoint(request.method, request.path)
        raw_query = request.rel_url.raw_query_string
        raw_body = await request.text() if request.body_exists else ""
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(parse_qsl(raw_body, keep_blank_values=True))
        with self._lock:
            now = self.now()
            seq = self.log.begin(
                t=now, endpoint=endpoint, params=params, weight=weight_of(endpoint, params)
            )
            answer: Reply | _Drop | None = self._refusal(endpoint, now=now)
            slow = self._plan.take(faults.Slow, endpoint, now=now) if answer is None else None
        if slow is not None:
            await self._sleep(slow.delay_s)
        if answer is None:
            with self._lock:
                answer = self._serve(
                    endpoint,
                    params=params,
                    raw_query=raw_query,
                    raw_body=raw_body,
                    api_key=request.headers.get("X-MBX-APIKEY"),
                )
                answer = self._lose(endpoint, answer)
        fault_name = (
            answer.fault if answer.fault is not None else ("Slow" if slow is not None else None)
        )
        if isinstance(answer, _Drop):
            self.log.finish(seq, t=self.now(), status=None, fault=fault_name)
            if request.transport is not None:
                request.transport.abort()  # close without answering
            return web.Response(status=500)  # never reaches the client
        self.log.finish(seq, t=self.now(), status=answer.status, fault=fault_name)
        return self._response(answer)

    def _refusal(self, endpoint: Endpoint, *, now: float) -> Reply | _Drop | None:
        server_ms = self._wall_ms()
        used = {w: self.log.used_after(now - w) for w in self._plan.windows()}
        refused = self._plan.rate_limited(used=used, now=now, server_ms=server_ms)
        refused = refused or self._plan.too_many(endpoint, now=now, server_ms=server_ms)
        if refused is not None:
            return refused
        if self._plan.take(faults.DropConnection, endpoint, now=now) is not None:
            return _Drop("DropConnection")
        error = self._plan.take(faults.ServerError, endpoint, now=now)
        return error.reply() if error is not None else None

    def _serve(
        self,
        endpoint: Endpoint,
        *,
        params: dict[str, str],
        raw_query: str,
        raw_body: str,
        api_key: str | None,
    ) -> Reply:
        route = ROUTES.get(endpoint)
        if route is None:
            return Reply(status=404, body="404 Not Found")
        now_ms = self._wall_ms()
        try:
            if route.signed:
                auth.verify(
                    api_key_header=api_key,
                    raw_query=raw_query,
                    raw_body=raw_body,
                    params=params,
                    api_key=self.api_key,
                    api_secret=self._secret,
                    server_ms=now_ms,
                )
            call = Call(
                params=params, engine=self._engine, plan=self._plan, now=self.now(), now_ms=now_ms
            )
            return Reply(status=200, body=route.handler(call))
        except BinanceError as refused:
            return Reply(status=refused.status, body=refused.body())

    def _lose(self, endpoint: Endpoint, answer: Reply) -> Reply | _Drop:
        lost = self._plan.take(faults.LoseResponse, endpoint, now=self.now())
        if lost is None:
            return answer
        if lost.status is None:
            return _Drop("LoseResponse")
        return Reply(status=lost.status, body=f"{lost.status} Server Error", fault="LoseResponse")

    def _response(self, answer: Reply) -> web.Response:
        # Binance counts weight per wall-clock minute; the mock counts per minute of its own
        # clock since it was made, so a fake clock moves the header's window too.
        minute = self.now() // 60 * 60
        headers = {
            **answer.headers,
            "X-MBX-USED-WEIGHT-1M": str(self.log.used_after(minute - 1e-9)[1]),
        }
        if isinstance(answer.body, str):
            return web.Response(status=answer.status, text=answer.body, headers=headers)
        return web.Response(
            status=answer.status,
            text=json.dumps(answer.body),
            content_type="application/json",
            headers=headers,
        )

    async def _sleep(self, delay_s: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=delay_s)


def _default_top(spec: SymbolSpec) -> Top:
    """A book for a symbol the defaults do not know: 100 / 100 + one tick, 1 lot."""
    price = Decimal(100)
    return Top(bid=price, ask=price + spec.tick_size, qty=spec.min_qty * 1000)
