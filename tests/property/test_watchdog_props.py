"""The watchdog's judgement: never outside its window, never when nothing degrades, and
when it trips, the numbers it reports are the ones that tripped it."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from riskctl.change.watchdog import MINUTE_MS, Observed, judge, per_minute
from riskctl.kinds.change_control import Watchdog

WINDOW_MS = 900_000
SPEC = Watchdog.model_validate(
    {
        "window_ms": WINDOW_MS,
        "session_pnl": {"drop": "1000"},
        "rejects_per_minute": {"factor": "2", "min_rejects": 5},
    }
)
money = st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False)
counts = st.integers(min_value=0, max_value=100_000)
spans = st.integers(min_value=0, max_value=7 * 86_400_000)
SINCE = 1_700_000_000_000


@st.composite
def observations(draw: st.DrawFn, *, elapsed: st.SearchStrategy[int]) -> Observed:
    return Observed(
        since_ms=SINCE,
        now_ms=SINCE + draw(elapsed),
        pnl_at_change=draw(st.none() | money),
        pnl_now=draw(st.none() | money),
        rejects_before=draw(counts),
        before_span_ms=draw(spans),
        rejects_after=draw(counts),
    )


outside = st.integers(min_value=WINDOW_MS + 1, max_value=10**10) | st.integers(
    min_value=-(10**10), max_value=-1
)


@given(observations(elapsed=outside))
def test_outside_the_window_it_never_trips(seen: Observed) -> None:
    assert judge(SPEC, seen) is None


@given(observations(elapsed=st.integers(min_value=0, max_value=WINDOW_MS)))
def test_inside_the_window_it_trips_exactly_when_a_metric_degrades(seen: Observed) -> None:
    fell = (
        seen.pnl_at_change is not None
        and seen.pnl_now is not None
        and seen.pnl_at_change - seen.pnl_now > 1000
    )
    rate_before = per_minute(seen.rejects_before, seen.before_span_ms)
    rate_after = per_minute(seen.rejects_after, seen.now_ms - seen.since_ms)
    surged = seen.rejects_after >= 5 and rate_after > 2 * rate_before

    verdict = judge(SPEC, seen)

    assert (verdict is not None) == (fell or surged)
    if verdict is not None and fell:
        assert verdict.metric == "session_pnl"  # judged first
        assert (verdict.before, verdict.after, verdict.threshold) == (
            seen.pnl_at_change,
            seen.pnl_now,
            Decimal(1000),
        )
    elif verdict is not None:
        assert verdict.metric == "rejects_per_minute"
        assert verdict.after > verdict.threshold == 2 * verdict.before


@given(observations(elapsed=st.integers(min_value=0, max_value=WINDOW_MS)), counts)
def test_more_rejects_after_the_change_never_untrips_it(seen: Observed, more: int) -> None:
    worse = replace(seen, rejects_after=seen.rejects_after + more)

    if judge(SPEC, seen) is not None:
        assert judge(SPEC, worse) is not None


def test_a_rate_of_zero_before_and_one_reject_after_does_not_trip() -> None:
    seen = Observed(SINCE, SINCE + 1000, None, None, 0, MINUTE_MS, 1)

    assert judge(SPEC, seen) is None


def test_a_fall_of_exactly_the_drop_does_not_trip_and_one_cent_more_does() -> None:
    at = Observed(SINCE, SINCE + 1, Decimal(500), Decimal(-500), 0, 0, 0)
    past = Observed(SINCE, SINCE + 1, Decimal(500), Decimal("-500.01"), 0, 0, 0)

    assert judge(SPEC, at) is None
    verdict = judge(SPEC, past)
    assert verdict is not None
    assert verdict.to_json()["after"] == "-500.01"
    assert verdict.to_json()["threshold"] == "1000"
