"""The trading-day cache gives the same day as the full timezone computation, around every
boundary: zones with half-hour offsets and DST, rolls at any whole minute."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl.state.pnl import SessionConfig, _day_of, day_of

ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London")


@settings(max_examples=400)
@given(
    zone=st.sampled_from(ZONES),
    roll_minutes=st.integers(0, 24 * 60 - 1),
    now_ms=st.integers(1_600_000_000_000, 1_900_000_000_000),
    near_edge=st.booleans(),
)
def test_when_the_day_is_cached_per_minute_then_it_equals_the_full_computation(
    zone: str, roll_minutes: int, now_ms: int, near_edge: bool
) -> None:
    cfg = SessionConfig(day_roll_ms_of_day=roll_minutes * 60_000, timezone=zone)
    if near_edge:  # the last and first millisecond of a minute
        now_ms = now_ms - now_ms % 60_000 + (59_999 if now_ms % 2 else 0)
    assert day_of(cfg, now_ms) == _day_of(cfg, now_ms)
    assert day_of(cfg, now_ms - 1) == _day_of(cfg, now_ms - 1)


def test_when_the_roll_is_not_a_whole_minute_then_the_day_is_computed_exactly() -> None:
    cfg = SessionConfig(day_roll_ms_of_day=30_500)
    midnight = 1_700_006_400_000  # a UTC midnight
    assert day_of(cfg, midnight + 30_499) == day_of(cfg, midnight) == _day_of(cfg, midnight)
    assert day_of(cfg, midnight + 30_500) == day_of(cfg, midnight) + 1
