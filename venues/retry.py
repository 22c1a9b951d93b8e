"""Bounded retries of one venue call: full-jitter backoff, an attempt and deadline budget.

:func:`call_with_retry` retries only what :class:`~riskctl.venues.errors.VenueError` calls
retryable (``unavailable``; ``rate_limited`` after its Retry-After), never ``auth``,
``rejected``, ``order_not_found`` or ``unknown``, and stops when either budget (attempts,
seconds since the first call) would be exceeded, raising the last error. Before each retry,
after the wait, ``before_retry`` may end the loop with :class:`Found`: the gateway looks a
lost create up by its client order id, so a retry can never open a second order. The
original exception is not chained to the raised VenueError: its text is not redacted.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from riskctl.venues.errors import VenueError

__all__ = ["Backoff", "Found", "RetryBudget", "call_with_retry"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base·factorⁿ))."""

    base_s: float = 0.1
    cap_s: float = 10.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        finite = all(math.isfinite(x) for x in (self.base_s, self.cap_s, self.factor))
        if not (finite and 0 < self.base_s <= self.cap_s and self.factor >= 1):
            raise ValueError(
                f"Backoff was base_s={self.base_s}, cap_s={self.cap_s}, factor={self.factor};"
                " it needs 0 < base_s <= cap_s and factor >= 1, all finite"
            )

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt ``attempt`` (0-based), without jitter."""
        try:
            return min(self.cap_s, self.base_s * self.factor ** max(0, attempt))
        except OverflowError:  # factor ** attempt past float range: long since capped
            return self.cap_s

    def delay(self, attempt: int, rng: random.Random) -> float:
        """A jittered wait after failed attempt ``attempt`` (0-based), in seconds."""
        return rng.uniform(0.0, self.ceiling(attempt))


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """At most ``max_attempts`` calls in all, none starting later than ``deadline_s`` in."""

    max_attempts: int = 4
    deadline_s: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not (math.isfinite(self.deadline_s) and self.deadline_s >= 0):
            raise ValueError(
                f"RetryBudget was max_attempts={self.max_attempts}, deadline_s={self.deadline_s};"
                " it needs max_attempts >= 1 and a finite deadline_s >= 0"
            )


@dataclass(frozen=True, slots=True)
class Found(Generic[T]):
    """What ``before_retry`` returns to end the retry loop with ``value`` as the result."""

    value: T


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    venue: str,
    classify: Callable[[BaseException], VenueError],
    backoff: Backoff,
    budget: RetryBudget,
    rng: random.Random,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_error: Callable[[VenueError], None] | None = None,
    before_retry: Callable[[VenueError], Awaitable[Found[T] | None]] | None = None,
) -> T:
    """``await fn()``, retrying retryable failures within ``budget``; raise the last VenueError.

    Every failure is classified, then passed to ``on_error`` (health tracking). A retry waits
    ``max(backoff.delay(n), retry_after_s)``; if that wait would end past the deadline, the
    error is raised now. ``before_retry`` runs after the wait and before the next call; a
    :class:`Found` ends the loop with its value, None retries. Its own exceptions propagate:
    when a lost create cannot be looked up, not sending it again is the safe answer.
    Cancellation (``asyncio.CancelledError``) is never caught.
    """
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn()
        except Exception as exc:  # noqa: BLE001  (classify decides; cancellation is not caught)
            error = classify(exc)
        if on_error is not None:
            on_error(error)
        wait = _wait_before_retry(error, attempt, backoff, rng)
        spent = attempt >= budget.max_attempts or clock() + wait - started > budget.deadline_s
        if not error.retryable or spent:
            if error.retryable:
                error.add_note(f"{venue}: gave up after {attempt} attempt(s)")
            raise error
        await sleep(wait)
        if before_retry is not None:
            found = await before_retry(error)
            if found is not None:
                return found.value


def _wait_before_retry(
    error: VenueError, attempt: int, backoff: Backoff, rng: random.Random
) -> float:
    wait = backoff.delay(attempt - 1, rng)
    if error.retry_after_s is not None:  # the venue's word, for a 503 as for a 429
        wait = max(wait, error.retry_after_s)
    return wait
