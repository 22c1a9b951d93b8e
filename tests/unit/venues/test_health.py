"""riskctl.venues.health: the order_send venue fields and the 429 breaker, on a hand-set clock."""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.context import OrderSendContext
from riskctl.context.venue import VenueHealth
from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.health import VenueHealthTracker
from riskctl.venues.retry import Backoff

K = VenueErrorKind


class Clock:
    """A clock the test sets by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def err(kind: VenueErrorKind, retry_after_s: float | None = None) -> VenueError:
    return VenueError(kind=kind, venue="binance", message=str(kind), retry_after_s=retry_after_s)


def tracker(clock: Clock, **kwargs: object) -> VenueHealthTracker:
    kwargs.setdefault("breaker_backoff", Backoff(base_s=1, cap_s=8))
    return VenueHealthTracker("binance", clock=clock, **kwargs)  # type: ignore[arg-type]


# -- the breaker ------------------------------------------------------------------------


def test_breaker_when_429_then_open_for_its_retry_after() -> None:
    clock = Clock()
    health = tracker(clock)
    assert not health.is_open()
    assert health.open_until() is None
    assert health.rate_limited(err(K.RATE_LIMITED, retry_after_s=5))
    assert health.is_open()
    assert health.open_until() == 1_005
    clock.now = 1_004.999
    assert health.is_open()
    clock.now = 1_005
    assert not health.is_open()  # half-open: the next request may probe
    assert health.open_until() is None


def test_breaker_when_429_says_nothing_then_open_for_its_own_backoff() -> None:
    clock = Clock()
    health = tracker(clock)
    health.record(0.01, err(K.RATE_LIMITED))  # record() trips it too
    assert health.open_until() == 1_001
    assert not health.rate_limited(err(K.RATE_LIMITED))  # the same answer again: no new trip
    assert health.open_until() == 1_001


def test_breaker_when_half_open_then_one_probe_and_its_success_closes() -> None:
    clock = Clock()
    health = tracker(clock)
    health.rate_limited(err(K.RATE_LIMITED, retry_after_s=2))
    clock.now = 1_002
    health.request_started("probe")
    assert health.is_open()  # everyone else waits for the probe
    health.request_started("second")  # sent anyway: it is not the probe
    health.request_finished("second")
    assert health.is_open()
    health.record(0.05, None)
    health.request_finished("probe")
    assert not health.is_open()
    health.rate_limited(err(K.RATE_LIMITED))
    assert health.open_until() == 1_003  # closed means the backoff starts over


def test_breaker_when_probe_is_rate_limited_then_reopens_longer_up_to_the_cap() -> None:
    clock = Clock()
    health = tracker(clock)
    waits = []
    for _ in range(6):
        health.request_started("probe")
        assert health.rate_limited(err(K.RATE_LIMITED))
        health.request_finished("probe")
        until = health.open_until()
        assert until is not None
        waits.append(until - clock.now)
        clock.now = until
    assert waits == [1, 2, 4, 8, 8, 8]


def test_breaker_when_probe_fails_otherwise_then_the_next_request_probes() -> None:
    clock = Clock()
    health = tracker(clock)
    health.rate_limited(err(K.RATE_LIMITED))
    clock.now += 1
    health.request_started("probe")
    health.record(0.5, err(K.UNAVAILABLE))
    assert health.is_open()
    health.request_finished("probe")
    assert not health.is_open()  # half-open again, not closed and not re-opened
    health.request_started("next")
    assert health.is_open()


def test_breaker_when_a_storm_of_429s_then_one_trip_per_wait() -> None:
    clock = Clock()
    health = tracker(clock)
    opened = []
    for step in range(400):  # answers to requests already in flight, every 10 ms for 4 s
        clock.now = 1_000 + step / 100
        opened.append(health.rate_limited(err(K.RATE_LIMITED)))
    assert opened.count(True) == 3  # at 0 s (1 s wait), at 1 s (2 s wait), at 3 s (4 s wait)
    assert [i for i, o in enumerate(opened) if o] == [0, 100, 300]


def test_breaker_when_a_storm_brings_a_later_retry_after_then_it_is_honoured() -> None:
    clock = Clock()
    health = tracker(clock)
    health.rate_limited(err(K.RATE_LIMITED, retry_after_s=1))
    clock.now += 0.5
    assert not health.rate_limited(err(K.RATE_LIMITED, retry_after_s=30))
    assert health.open_until() == 1_030.5


@given(
    answers=st.lists(
        st.tuples(st.floats(0, 5), st.none() | st.floats(0, 20)), min_size=1, max_size=60
    )
)
def test_breaker_never_trips_twice_within_one_wait(
    answers: list[tuple[float, float | None]],
) -> None:
    clock = Clock()
    health = tracker(clock)
    trips = []
    for gap, retry_after in answers:
        clock.now += gap
        before = health.open_until()
        if health.rate_limited(err(K.RATE_LIMITED, retry_after)):
            assert before is None  # a new trip only once the last wait is over
            until = health.open_until()
            assert until is not None
            assert until - clock.now >= (retry_after or 0) - 1e-9
            trips.append(clock.now)
        else:
            assert before is not None
    assert trips[0] == 1_000 + answers[0][0]


# -- the snapshot -----------------------------------------------------------------------


def test_snapshot_when_known_samples_then_known_figures() -> None:
    clock = Clock()
    health = tracker(clock)
    health.request_started("old")
    for ms in range(1, 101):  # 1..100 ms
        kind = K.UNAVAILABLE if ms in (10, 20, 30) else K.REJECTED if ms in (40, 50) else None
        health.record(ms / 1000, err(kind) if kind else None)
    clock.now += 1.5
    assert health.snapshot(42.129) == {
        "connected": True,
        "error_rate_pct": "3.00",  # rejections are the venue answering, not failing
        "latency_p99_ms": 99,  # nearest rank: the 99th of 100
        "oldest_pending_ms": 1500,
        "rate_limit_headroom_pct": "42.12",
    }


def test_snapshot_when_it_fails_to_connect_then_not_connected_until_a_success() -> None:
    clock = Clock()
    health = tracker(clock)
    health.record(5.0, err(K.UNAVAILABLE))
    assert health.snapshot(100)["connected"] is False
    health.record(0.2, err(K.REJECTED))
    assert health.snapshot(100)["connected"] is True


def test_snapshot_rounds_error_rate_up_and_headroom_down() -> None:
    clock = Clock()
    health = tracker(clock)
    for error in (err(K.UNKNOWN), None, None):
        health.record(0.001, error)
    snap = health.snapshot(99.999)
    assert (snap["error_rate_pct"], snap["rate_limit_headroom_pct"]) == ("33.34", "99.99")
    assert health.snapshot(250)["rate_limit_headroom_pct"] == "100.00"
    assert health.snapshot(-3)["rate_limit_headroom_pct"] == "0.00"


def test_snapshot_when_breaker_open_then_no_headroom() -> None:
    clock = Clock()
    health = tracker(clock)
    health.rate_limited(err(K.RATE_LIMITED, retry_after_s=10))
    assert health.snapshot(100)["rate_limit_headroom_pct"] == "0.00"


def test_snapshot_when_empty_then_the_context_defaults() -> None:
    health = tracker(Clock())
    snap = health.snapshot(100.0)
    assert VenueHealth.model_validate(snap) == VenueHealth()


def test_snapshot_is_exactly_the_order_send_venue_section() -> None:
    clock = Clock()
    health = tracker(clock)
    health.request_started(1)
    health.record(0.0123, err(K.RATE_LIMITED, retry_after_s=1))
    clock.now += 0.25
    snap = health.snapshot(12.5)
    assert set(snap) == set(VenueHealth.model_fields)
    context = OrderSendContext.model_validate(
        {
            "now_ms": 1,
            "request": {"venue": "binance", "symbol": "BTC/USDT", "kind": "create"},
            "venue": snap,
        }
    )
    assert context.venue == VenueHealth(
        connected=True,
        error_rate_pct=Decimal(100),
        latency_p99_ms=13,
        oldest_pending_ms=250,
        rate_limit_headroom_pct=Decimal(0),  # the breaker is open
    )


def test_samples_when_older_than_the_window_then_forgotten() -> None:
    clock = Clock()
    health = tracker(clock, window_s=60)
    for _ in range(10):
        health.record(2.0, err(K.UNAVAILABLE))
    clock.now += 60
    health.record(0.01, None)
    snap = health.snapshot(100)
    assert (snap["error_rate_pct"], snap["latency_p99_ms"]) == ("0.00", 10)
    assert health.sample_count == 1


def test_memory_when_many_samples_then_only_the_last_n_are_kept() -> None:
    clock = Clock()
    health = tracker(clock, max_samples=50)
    for _ in range(10_000):
        health.record(1.0, err(K.UNAVAILABLE))
    for _ in range(50):
        health.record(0.002, None)
    assert health.sample_count == 50
    assert health.snapshot(100)["error_rate_pct"] == "0.00"
    assert health.snapshot(100)["latency_p99_ms"] == 2


def test_pending_when_the_oldest_finishes_then_the_next_oldest_counts() -> None:
    clock = Clock()
    health = tracker(clock)
    health.request_started("a")
    clock.now += 1
    health.request_started("b")
    clock.now += 1
    assert health.snapshot(100)["oldest_pending_ms"] == 2000
    health.request_finished("a")
    assert health.snapshot(100)["oldest_pending_ms"] == 1000
    health.request_finished("b")
    health.request_finished("unknown")
    assert health.snapshot(100)["oldest_pending_ms"] == 0


@pytest.mark.parametrize("latency", [-0.1, math.nan, math.inf])
def test_record_when_latency_is_not_a_duration_then_refused(latency: float) -> None:
    with pytest.raises(ValueError, match="latency_s was"):
        tracker(Clock()).record(latency, None)


@given(
    samples=st.lists(
        st.tuples(
            st.floats(0, 3),  # seconds since the previous sample
            st.integers(0, 5_000),  # latency, ms
            st.sampled_from([None, K.UNAVAILABLE, K.RATE_LIMITED, K.REJECTED, K.UNKNOWN]),
        ),
        max_size=120,
    ),
    max_samples=st.integers(1, 40),
)
def test_snapshot_matches_a_plain_computation_over_the_kept_samples(
    samples: list[tuple[float, int, VenueErrorKind | None]], max_samples: int
) -> None:
    clock = Clock()
    health = tracker(
        clock, window_s=30, max_samples=max_samples, breaker_backoff=Backoff(1e-9, 1e-9)
    )
    kept: list[tuple[float, int, bool]] = []
    for gap, latency_ms, kind in samples:
        clock.now += gap
        health.record(latency_ms / 1000, err(kind) if kind else None)
        kept.append((clock.now, latency_ms, kind in (K.UNAVAILABLE, K.RATE_LIMITED, K.UNKNOWN)))
    clock.now += 0.001  # past every breaker wait
    recent = [s for s in kept if s[0] > clock.now - 30][-max_samples:]
    snap = health.snapshot(100)
    assert health.sample_count == len(recent)
    if recent:
        rate = Decimal(100 * sum(s[2] for s in recent)) / len(recent)
        ranked = sorted(s[1] for s in recent)
        assert snap["error_rate_pct"] == str(rate.quantize(Decimal("0.01"), ROUND_CEILING))
        assert snap["latency_p99_ms"] == ranked[math.ceil(0.99 * len(ranked)) - 1]
    else:
        assert (snap["error_rate_pct"], snap["latency_p99_ms"]) == ("0.00", 0)
