"""One weighted token bucket per API key, with a cancel lane that new orders never starve.

:class:`VenueLimiter` refills ``rate_per_s`` weight units per second into a bucket of
``burst`` units, both kept ``headroom_pct`` under the venue's published limit so our own
clock drift and the venue's window edges never push us over. Every request pays its
endpoint's weight (:func:`endpoint_cost`) before it is sent. Waiters queue per lane:
``cancel`` is served strictly first, so a cancel never waits behind queued new orders;
``order`` and ``query`` are served in arrival order, except that an order held back by the
optional ``order_rate`` rule (at most N new orders in any window) lets queries pass.
A 429's Retry-After becomes :meth:`VenueLimiter.pause_until`. Nothing here reads the wall
clock or sleeps on its own: ``clock`` and ``sleep`` are seams, so tests run in virtual time.

The order-count rule is a small sliding-window log of our own, not asyncio-throttle's
``Throttler``: that class reads ``time.monotonic`` and polls with ``asyncio.sleep`` itself
(no clock seam), and awaiting it beside the bucket would let another waiter take the tokens
between the two awaits, breaking FIFO and the cancel lane's priority.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["LANES", "Lane", "VenueLimiter", "endpoint_cost"]

Lane = Literal["cancel", "order", "query"]
LANES: tuple[Lane, ...] = ("cancel", "order", "query")

# Float rounding in the refill can leave a waiter a few ulps short of its cost after it
# slept exactly long enough; this share of the capacity is forgiven rather than slept for.
_TOLERANCE = 1e-9
# The timer never sleeps less than this, so a wait that rounds to nothing still advances.
_MIN_SLEEP_S = 1e-6


def endpoint_cost(costs: Mapping[str, float], name: str, default: float = 1.0) -> float:
    """The weight of the endpoint ``name`` in ``costs``, or ``default`` when it is not listed."""
    cost = costs.get(name, default)
    if not math.isfinite(cost) or cost < 0:
        raise ValueError(f"the cost of {name!r} was {cost}; it must be a finite number >= 0")
    return cost


@dataclass(eq=False, slots=True)
class _Waiter:
    cost: float
    lane: Lane
    seq: int  # arrival order across lanes
    future: asyncio.Future[None]
    granted_at: float | None = None


class _SlidingWindow:
    """At most ``limit`` events in any half-open window of ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._log: deque[float] = deque()

    def free_at(self, now: float) -> float:
        """When the next event may happen: ``now`` if the window has room."""
        while self._log and self._log[0] + self._window_s <= now:
            self._log.popleft()
        return now if len(self._log) < self._limit else self._log[0] + self._window_s

    def record(self, now: float) -> None:
        self._log.append(now)

    def forget(self, at: float) -> None:
        if at in self._log:
            self._log.remove(at)


class VenueLimiter:
    """A weighted token bucket with a strict-priority cancel lane; one per API key."""

    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: float,
        headroom_pct: float = 10.0,
        order_rate: tuple[int, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        _require("rate_per_s", rate_per_s, 0 < rate_per_s < math.inf, "> 0 and finite")
        _require("burst", burst, 0 < burst < math.inf, "> 0 and finite")
        _require("headroom_pct", headroom_pct, 0 <= headroom_pct < 100, "in [0, 100)")
        keep = 1 - headroom_pct / 100
        self._rate = rate_per_s * keep
        self._capacity = burst * keep
        self._window: _SlidingWindow | None = None
        if order_rate is not None:
            limit, window_s = order_rate
            ok = limit >= 1 and 0 < window_s < math.inf
            _require("order_rate", order_rate, ok, "(N >= 1, window_s > 0)")
            self._window = _SlidingWindow(limit, window_s)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self._capacity
        self._stamp = clock()
        self._paused_until = -math.inf
        self._queues: dict[Lane, deque[_Waiter]] = {lane: deque() for lane in LANES}
        self._seq = 0
        self._timer: asyncio.Task[None] | None = None
        self._timer_at = math.inf
        self._pump_pending = False
        self._unresumed = 0  # granted waiters whose tasks have not run yet

    @property
    def rate_per_s(self) -> float:
        """Effective refill, weight units per second (the venue's rate less the headroom)."""
        return self._rate

    @property
    def capacity(self) -> float:
        """Effective burst capacity, weight units (the venue's burst less the headroom)."""
        return self._capacity

    async def acquire(self, cost: float = 1.0, lane: Lane = "order") -> None:
        """Wait until ``cost`` weight units are granted to this request on ``lane``.

        Raises ValueError at once for a cost above the capacity (it could never be served).
        Cancelling a waiter withdraws it: it takes no tokens and holds nobody up.
        """
        if lane not in self._queues:
            raise ValueError(f"lane was {lane!r}; it must be one of {', '.join(LANES)}")
        if not (math.isfinite(cost) and 0 <= cost <= self._capacity):
            raise ValueError(
                f"cost was {cost}; it must be >= 0 and at most the capacity {self._capacity}"
            )
        now = self._clock()
        idle = not self._unresumed and not any(self._queues.values())
        if idle and self._ready(cost, lane, now):
            self._take(cost, lane, now)  # fast path: nobody waiting, tokens at hand
            return
        self._seq += 1
        loop = asyncio.get_running_loop()
        waiter = _Waiter(cost, lane, self._seq, loop.create_future())
        self._queues[lane].append(waiter)
        # Granted only from a callback, never inside this call: every waiter suspends, so
        # tasks resume (and send their requests) in the order they were granted.
        if not self._pump_pending:
            self._pump_pending = True
            loop.call_soon(self._pump)
        try:
            await waiter.future
        except asyncio.CancelledError:
            self._withdraw(waiter)
            raise
        self._unresumed -= 1

    def pause_until(self, t: float) -> None:
        """Grant nothing before clock time ``t``; extends a pause, never shortens it."""
        self._paused_until = max(self._paused_until, t)

    def headroom_pct(self) -> float:
        """Tokens at hand as a percentage of the capacity, in [0, 100]; 0 while paused."""
        now = self._clock()
        self._refill(now)
        if now < self._paused_until:
            return 0.0
        return max(0.0, min(100.0, self._tokens / self._capacity * 100))

    # -- internals ---------------------------------------------------------------------

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now

    def _ready(self, cost: float, lane: Lane, now: float) -> bool:
        self._refill(now)
        if now < self._paused_until:
            return False
        if lane == "order" and self._window is not None and self._window.free_at(now) > now:
            return False
        return self._tokens >= cost - _TOLERANCE * self._capacity

    def _take(self, cost: float, lane: Lane, now: float) -> None:
        self._tokens = max(0.0, self._tokens - cost)
        if lane == "order" and self._window is not None:
            self._window.record(now)

    def _head(self, now: float) -> tuple[_Waiter | None, float]:
        """The waiter next in line, and when an order held by the order-rate rule may go."""
        for queue in self._queues.values():
            while queue and queue[0].future.done():  # cancelled, withdrawal still pending
                queue.popleft()
        if self._queues["cancel"]:
            return self._queues["cancel"][0], math.inf
        orders, queries = self._queues["order"], self._queues["query"]
        order = orders[0] if orders else None
        query = queries[0] if queries else None
        held_until = self._window.free_at(now) if order and self._window else now
        if order is not None and held_until > now:
            return query, held_until  # the order waits for the window; a query may pass
        if order is None or (query is not None and query.seq < order.seq):
            return query, math.inf
        return order, math.inf

    def _pump(self) -> None:
        """Grant every waiter that can go now, in priority order; then set the timer."""
        self._pump_pending = False
        now = self._clock()
        self._refill(now)
        wake = math.inf
        while True:
            waiter, held_until = self._head(now)
            if waiter is None:
                wake = held_until
                break
            if now < self._paused_until:
                wake = self._paused_until
                break
            if self._tokens < waiter.cost - _TOLERANCE * self._capacity:
                wake = min(held_until, now + (waiter.cost - self._tokens) / self._rate)
                break
            self._queues[waiter.lane].popleft()
            self._take(waiter.cost, waiter.lane, now)
            waiter.granted_at = now
            waiter.future.set_result(None)
            self._unresumed += 1
        self._schedule(wake)

    def _schedule(self, at: float) -> None:
        """Keep one timer, at the earliest time a waiter may go (none when nobody waits)."""
        if self._timer is not None:
            if self._timer_at <= at < math.inf:
                return  # an earlier timer is set; it pumps and sets the next one
            self._timer.cancel()
            self._timer = None
            self._timer_at = math.inf
        if at < math.inf:
            self._timer_at = at
            self._timer = asyncio.get_running_loop().create_task(self._wake(at))

    async def _wake(self, at: float) -> None:
        await self._sleep(max(at - self._clock(), _MIN_SLEEP_S))
        self._timer = None
        self._timer_at = math.inf
        self._pump()

    def _withdraw(self, waiter: _Waiter) -> None:
        """A cancelled waiter leaves: out of its queue, or its grant handed back."""
        if waiter.granted_at is not None:  # granted, then cancelled before it resumed
            self._unresumed -= 1
            self._refill(self._clock())
            self._tokens = min(self._capacity, self._tokens + waiter.cost)
            if waiter.lane == "order" and self._window is not None:
                self._window.forget(waiter.granted_at)
        elif waiter in self._queues[waiter.lane]:
            self._queues[waiter.lane].remove(waiter)
        self._pump()


def _require(name: str, value: object, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"VenueLimiter {name} was {value}; it must be {rule}")
