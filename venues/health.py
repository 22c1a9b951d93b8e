"""How a venue has been behaving, for order_send contexts, and the 429 breaker.

:class:`VenueHealthTracker` keeps a ring of the last ``max_samples`` request outcomes within
``window_s`` (bounded memory; latencies also kept sorted, so p99 is an index, not a sort),
the start times of requests in flight, and a breaker for rate limits. A rate-limited error
opens the breaker until ``now + max(Retry-After, backoff)``, the backoff doubling on each
trip until a success closes it; 429s arriving while it is open (a storm of answers to
requests already sent) extend the wait to the latest Retry-After but do not count as trips.
After the wait it is half-open: the next started request is the one probe and everyone else
still sees it open; a success after the wait (the probe's, or a late answer to an earlier
request) closes it, a rate-limited answer re-opens it longer, and a probe that ends any
other way lets the next request probe. :meth:`snapshot` returns exactly the fields of
the order_send context's ``venue`` section (:class:`riskctl.context.venue.VenueHealth`).
"""

from __future__ import annotations

import bisect
import math
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.retry import Backoff

__all__ = ["BREAKER_BACKOFF", "FAILURE_KINDS", "VenueHealthTracker"]

# What counts against the venue's error rate: the venue failing, not refusing a bad request.
FAILURE_KINDS = frozenset(
    {VenueErrorKind.UNAVAILABLE, VenueErrorKind.RATE_LIMITED, VenueErrorKind.UNKNOWN}
)
_CENT = Decimal("0.01")
# The breaker's own wait when a 429 says nothing: 1 s, doubling per trip, at most 5 minutes.
BREAKER_BACKOFF = Backoff(base_s=1.0, cap_s=300.0)


@dataclass(frozen=True, slots=True)
class _Sample:
    at: float
    latency_s: float
    failed: bool


class VenueHealthTracker:
    """Error rate, latency, pending age and the 429 breaker of one venue (one API key)."""

    def __init__(
        self,
        venue: str,
        *,
        window_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
        max_samples: int = 1000,
        breaker_backoff: Backoff = BREAKER_BACKOFF,
    ) -> None:
        if not (math.isfinite(window_s) and window_s > 0 and max_samples >= 1):
            raise ValueError(
                f"window_s was {window_s}, max_samples {max_samples}; both must be > 0"
            )
        self.venue = venue
        self._window_s = window_s
        self._clock = clock
        self._max_samples = max_samples
        self._backoff = breaker_backoff
        self._samples: deque[_Sample] = deque()
        self._latencies: list[float] = []  # the samples' latencies, sorted
        self._failures = 0
        self._connected = True
        self._pending: dict[Hashable, float] = {}  # insertion order is start order
        self._open_until: float | None = None
        self._trips = 0
        self._probe: Hashable | None = None

    @property
    def sample_count(self) -> int:
        """Outcomes held now (never more than ``max_samples``)."""
        return len(self._samples)

    def record(self, latency_s: float, error: VenueError | None) -> None:
        """One finished request: its latency and its error (None on success).

        A success closes a half-open breaker; a rate-limited error trips it (so a caller
        that also calls :meth:`rate_limited` with the same error changes nothing more).
        """
        if not (math.isfinite(latency_s) and latency_s >= 0):
            raise ValueError(f"latency_s was {latency_s}; it must be a finite number >= 0")
        now = self._clock()
        self._expire(now)
        if len(self._samples) >= self._max_samples:
            self._evict()
        failed = error is not None and error.kind in FAILURE_KINDS
        self._samples.append(_Sample(now, latency_s, failed))
        bisect.insort(self._latencies, latency_s)
        self._failures += failed
        self._connected = error is None or error.kind is not VenueErrorKind.UNAVAILABLE
        if error is None and self._open_until is not None and now >= self._open_until:
            self._close()
        elif error is not None and error.kind is VenueErrorKind.RATE_LIMITED:
            self.rate_limited(error)

    def request_started(self, request_id: Hashable) -> None:
        """A request went out; while half-open, the first one is the probe."""
        now = self._clock()
        self._pending.setdefault(request_id, now)
        if self._open_until is not None and now >= self._open_until and self._probe is None:
            self._probe = request_id

    def request_finished(self, request_id: Hashable) -> None:
        """A request ended, however it ended (call it in a ``finally``)."""
        self._pending.pop(request_id, None)
        if request_id == self._probe:
            self._probe = None

    def rate_limited(self, error: VenueError) -> bool:
        """Trip the breaker for a rate-limited answer; True if this opened a new trip."""
        now = self._clock()
        wait = error.retry_after_s or 0.0
        if self._open_until is not None and now < self._open_until:
            self._open_until = max(self._open_until, now + wait)  # a storm: one trip
            return False
        self._trips += 1
        self._open_until = now + max(wait, self._backoff.ceiling(self._trips - 1))
        self._probe = None
        return True

    def is_open(self) -> bool:
        """True while waiting out a trip, and while a half-open probe is in flight."""
        if self._open_until is None:
            return False
        return self._clock() < self._open_until or self._probe is not None

    def open_until(self) -> float | None:
        """Clock time the current wait ends; None when closed or half-open."""
        if self._open_until is not None and self._clock() < self._open_until:
            return self._open_until
        return None

    def snapshot(self, headroom_pct: float) -> dict[str, bool | int | str]:
        """The order_send ``venue`` fields; ``headroom_pct`` is the limiter's, 0 while open."""
        if not math.isfinite(headroom_pct):
            raise ValueError(f"headroom_pct was {headroom_pct}; it must be finite")
        now = self._clock()
        self._expire(now)
        count = len(self._samples)
        error_rate = Decimal(self._failures * 100) / count if count else Decimal(0)
        p99_s = self._latencies[math.ceil(0.99 * count) - 1] if count else 0.0
        oldest = next(iter(self._pending.values()), now)
        headroom = Decimal(0) if self.is_open() else Decimal(str(headroom_pct))
        return {
            "connected": self._connected,
            "error_rate_pct": str(error_rate.quantize(_CENT, ROUND_CEILING)),
            "latency_p99_ms": math.ceil(round(p99_s * 1000, 6)),  # round: 0.012 s is 12 ms
            "oldest_pending_ms": max(0, math.floor(round((now - oldest) * 1000, 6))),
            "rate_limit_headroom_pct": str(
                min(Decimal(100), max(Decimal(0), headroom)).quantize(_CENT, ROUND_FLOOR)
            ),
        }

    def _expire(self, now: float) -> None:
        while self._samples and self._samples[0].at <= now - self._window_s:
            self._evict()

    def _evict(self) -> None:
        sample = self._samples.popleft()
        del self._latencies[bisect.bisect_left(self._latencies, sample.latency_s)]
        self._failures -= sample.failed

    def _close(self) -> None:
        self._open_until = None
        self._trips = 0
        self._probe = None
