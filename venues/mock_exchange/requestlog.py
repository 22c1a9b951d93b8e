"""Endpoints, their Binance request weights, and the log of every request the mock saw.

Weights are Binance spot's documented REQUEST_WEIGHT per call (ccxt 4.5.90's ``cost`` for
the same paths is exactly weight / 5, its unit being 1/5 of Binance's). The log stamps each
request with the mock's own monotonic clock, in seconds since the mock started, so tests can
reason about ordering and windows without reading any other clock.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "ACCOUNT",
    "ALL_ORDERS",
    "BOOK_TICKER",
    "CANCEL_ALL",
    "CANCEL_ORDER",
    "CREATE_ORDER",
    "DEPTH",
    "EXCHANGE_INFO",
    "GET_ORDER",
    "MY_TRADES",
    "OPEN_ORDERS",
    "PING",
    "TICKER_24HR",
    "TIME",
    "Endpoint",
    "RequestLog",
    "RequestRecord",
    "weight_of",
]


class Endpoint(NamedTuple):
    """An HTTP method and a path, e.g. ``Endpoint("DELETE", "/api/v3/openOrders")``."""

    method: str
    path: str


PING = Endpoint("GET", "/api/v3/ping")
TIME = Endpoint("GET", "/api/v3/time")
EXCHANGE_INFO = Endpoint("GET", "/api/v3/exchangeInfo")
DEPTH = Endpoint("GET", "/api/v3/depth")
BOOK_TICKER = Endpoint("GET", "/api/v3/ticker/bookTicker")
TICKER_24HR = Endpoint("GET", "/api/v3/ticker/24hr")
CREATE_ORDER = Endpoint("POST", "/api/v3/order")
GET_ORDER = Endpoint("GET", "/api/v3/order")
CANCEL_ORDER = Endpoint("DELETE", "/api/v3/order")
OPEN_ORDERS = Endpoint("GET", "/api/v3/openOrders")
CANCEL_ALL = Endpoint("DELETE", "/api/v3/openOrders")
ALL_ORDERS = Endpoint("GET", "/api/v3/allOrders")
MY_TRADES = Endpoint("GET", "/api/v3/myTrades")
ACCOUNT = Endpoint("GET", "/api/v3/account")


def _depth_weight(params: Mapping[str, str]) -> int:
    limit = int(params.get("limit", "100") or "100")
    for upto, weight in ((100, 5), (500, 25), (1000, 50)):
        if limit <= upto:
            return weight
    return 250


def _by_symbol(with_symbol: int, without: int) -> Callable[[Mapping[str, str]], int]:
    return lambda params: with_symbol if "symbol" in params else without


_WEIGHTS: dict[Endpoint, Callable[[Mapping[str, str]], int]] = {
    PING: lambda _: 1,
    TIME: lambda _: 1,
    EXCHANGE_INFO: lambda _: 20,
    DEPTH: _depth_weight,
    BOOK_TICKER: _by_symbol(2, 4),
    TICKER_24HR: _by_symbol(2, 80),
    CREATE_ORDER: lambda _: 1,
    GET_ORDER: lambda _: 4,
    CANCEL_ORDER: lambda _: 1,
    OPEN_ORDERS: _by_symbol(6, 80),
    CANCEL_ALL: lambda _: 1,
    ALL_ORDERS: lambda _: 20,
    MY_TRADES: lambda params: 5 if "orderId" in params else 20,
    ACCOUNT: lambda _: 20,
}


def weight_of(endpoint: Endpoint, params: Mapping[str, str]) -> int:
    """Binance's request weight for one call; an unknown path weighs 1."""
    rule = _WEIGHTS.get(endpoint)
    try:
        return rule(params) if rule is not None else 1
    except ValueError:  # a malformed limit: Binance refuses it, at the base weight
        return 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    """One request as the mock saw it.

    ``t`` is its arrival and ``t_done`` the moment the mock answered, dropped it or gave up
    (None while it is being served), both in seconds on the mock's monotonic clock. ``params``
    are the query and body parameters without ``signature``; the API key, a header, is never
    recorded. ``status`` is the HTTP status sent, None when the connection was dropped
    without an answer. ``fault`` names the injected fault that shaped the answer.
    """

    seq: int
    t: float
    method: str
    path: str
    params: Mapping[str, str]
    weight: int
    status: int | None = None
    fault: str | None = None
    t_done: float | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.method, self.path)


class RequestLog:
    """Every request, in arrival order; safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._arrivals: list[float] = []
        self._weight_before: list[int] = [0]  # prefix sums of weight, for O(log n) windows

    def begin(self, *, t: float, endpoint: Endpoint, params: Mapping[str, str], weight: int) -> int:
        clean = {k: v for k, v in params.items() if k != "signature"}
        with self._lock:
            seq = len(self._records)
            self._records.append(
                RequestRecord(
                    seq=seq,
                    t=t,
                    method=endpoint.method,
                    path=endpoint.path,
                    params=MappingProxyType(clean),
                    weight=weight,
                )
            )
            self._arrivals.append(t)
            self._weight_before.append(self._weight_before[-1] + weight)
            return seq

    def finish(self, seq: int, *, t: float, status: int | None, fault: str | None) -> None:
        with self._lock:
            self._records[seq] = replace(self._records[seq], status=status, fault=fault, t_done=t)

    def clear(self) -> None:
        """Forget every record (the mock's clock and rate-limit windows read the log)."""
        with self._lock:
            self._records.clear()
            self._arrivals.clear()
            self._weight_before[:] = [0]

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def snapshot(self) -> tuple[RequestRecord, ...]:
        with self._lock:
            return tuple(self._records)

    def records(self, endpoint: Endpoint | None = None, **params: str) -> list[RequestRecord]:
        """The requests to ``endpoint`` (any, if None) whose params include ``params``."""
        return [
            r
            for r in self.snapshot()
            if (endpoint is None or r.endpoint == endpoint)
            and all(r.params.get(k) == v for k, v in params.items())
        ]

    def used_after(self, t: float) -> tuple[int, int]:
        """(requests, weight) that arrived strictly after ``t``."""
        with self._lock:
            first = bisect_right(self._arrivals, t)
            count = len(self._arrivals) - first
            return count, self._weight_before[-1] - self._weight_before[first]

    def max_in_window(
        self, window_s: float = 1.0, *, weighted: bool = False, endpoint: Endpoint | None = None
    ) -> int:
        """The most requests (or, weighted, the most weight) arriving within any span of
        ``window_s`` seconds: a sliding window over arrival times."""
        chosen = self.records(endpoint)
        best = total = start = 0
        for record in chosen:
            total += record.weight if weighted else 1
            while record.t - chosen[start].t >= window_s:
                total -= chosen[start].weight if weighted else 1
                start += 1
            best = max(best, total)
        return best
