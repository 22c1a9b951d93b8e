"""Helpers for tests that run the real ccxt binance client against the mock exchange.

* :func:`ccxt_client` - a real ``ccxt.async_support.binance`` pointed at a mock, with
  ccxt's own rate limiting off (tests stay fast) and always closed.
* :func:`async_test` - run an ``async def`` test with ``asyncio.run`` (the suite has no
  pytest-asyncio); pytest still sees the test's own parameters, so fixtures work.
* :class:`FakeClock` - a monotonic clock the test moves by hand, for timed faults and
  rate-limit windows without sleeping.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import ccxt.async_support as ccxt_async

from riskctl.venues.mock_exchange import DEFAULT_API_SECRET, MockExchange, point_ccxt_at


@asynccontextmanager
async def ccxt_client(
    mock: MockExchange | str,
    *,
    api_key: str | None = None,
    secret: str = DEFAULT_API_SECRET,
    timeout_ms: int = 10_000,
    **config: Any,
) -> AsyncIterator[Any]:
    """A real ccxt binance client aimed at the mock (an instance or a URL)."""
    url = mock if isinstance(mock, str) else mock.url
    key = (
        api_key
        if api_key is not None
        else (mock.api_key if isinstance(mock, MockExchange) else "mock-api-key")
    )
    exchange = ccxt_async.binance(
        {
            "apiKey": key,
            "secret": secret,
            "enableRateLimit": False,
            "timeout": timeout_ms,
            # close() otherwise sleeps 250 ms for TLS shutdowns; the mock speaks plain HTTP
            "timeout_on_exit": 0,
            **config,
        }
    )
    point_ccxt_at(exchange, url)
    try:
        yield exchange
    finally:
        await exchange.close()


def async_test(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
