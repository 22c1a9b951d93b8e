"""Circuit breaker machine: trips, windows to the millisecond, no storm, cooldowns, probes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.kinds.circuit_breakers import Breaker
from riskctl.state.breakers import (
    BreakerError,
    BreakerState,
    admit_probe,
    in_scope,
    initial,
    instance,
    observe,
    reset,
    restrictions,
    tick,
)
from riskctl.state.codec import decode, encode


def spec(**overrides: Any) -> Breaker:
    base: dict[str, Any] = {
        "name": "b",
        "when": "x > 1",
        "action": "halt",
        "cooldown_ms": 1000,
        "reset": "auto",
        "message": "tripped",
    }
    return Breaker.model_validate({**base, **overrides})


COUNTED = {"count": {"at_least": 3, "window_ms": 100}}


def run(b: Breaker, times: list[int]) -> BreakerState:
    state = initial(b, "okx", "BTC/USDT")
    for t in times:
        state, _ = observe(b, state, True, t)
    return state


def test_when_a_breaker_without_count_matches_once_then_it_trips_with_action_and_alert() -> None:
    b = spec()
    state, effects = observe(b, initial(b, "okx", "BTC/USDT"), True, 10)
    assert (state.status, state.since_ms, state.trips) == ("open", 10, 1)
    assert [(e.kind, e.name) for e in effects] == [("action", "halt"), ("alert", "b")]
    assert effects[1].detail["status"] == "firing"
    assert effects[0].message == "tripped"


def test_when_the_condition_fails_to_evaluate_then_it_counts_as_a_match_and_says_why() -> None:
    b = spec()
    state, effects = observe(b, initial(b, "okx", "BTC/USDT"), False, 10, failed=True)
    assert state.status == "open"
    assert "could not be evaluated" in state.reason
    assert "could not be evaluated" in effects[1].detail["reason"]


def test_when_no_match_then_nothing_changes() -> None:
    b = spec(**COUNTED)
    state = initial(b, "okx", "BTC/USDT")
    assert observe(b, state, False, 5) == (state, ())


def test_when_one_match_fewer_than_at_least_then_no_trip() -> None:
    assert run(spec(**COUNTED), [0, 50]).status == "closed"


def test_when_matches_spread_wider_than_the_window_then_no_trip() -> None:
    assert run(spec(**COUNTED), [0, 60, 120, 180, 240]).status == "closed"


def test_when_the_first_match_is_one_ms_inside_the_window_then_it_trips() -> None:
    assert run(spec(**COUNTED), [1, 50, 100]).status == "open"


def test_when_the_first_match_is_exactly_window_ms_old_then_it_no_longer_counts() -> None:
    assert run(spec(**COUNTED), [0, 50, 100]).status == "closed"


@given(st.lists(st.integers(0, 10_000), max_size=60))
def test_when_matches_stream_in_then_the_kept_times_stay_bounded(times: list[int]) -> None:
    b = spec(count={"at_least": 4, "window_ms": 50})
    state = initial(b, "okx", "BTC/USDT")
    for t in sorted(times):
        state, _ = observe(b, state, True, t)
        assert len(state.matches) <= 3


@given(st.lists(st.tuples(st.integers(0, 5000), st.booleans()), max_size=80))
def test_when_matches_arrive_while_open_then_effects_come_only_at_trips(
    steps: list[tuple[int, bool]],
) -> None:
    b = spec(reset="manual", cooldown_ms=10)
    state = initial(b, "okx", "BTC/USDT")
    trips = 0
    for t, matched in sorted(steps):
        was = state.status
        state, effects = tick(b, state, t)
        assert effects == ()  # manual: time alone never closes it
        state, effects = observe(b, state, matched, t)
        if effects:
            assert was == "closed"
            assert matched
            trips += 1
    assert trips <= 1
    assert state.trips == trips


def test_when_an_auto_breaker_cools_down_then_it_closes_with_resume_and_resolved() -> None:
    b = spec(cooldown_ms=1000)
    state, _ = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    assert tick(b, state, 999) == (state, ())
    closed, effects = tick(b, state, 1000)
    assert (closed.status, closed.since_ms) == ("closed", 1000)
    assert [(e.kind, e.name) for e in effects] == [("action", "resume"), ("alert", "b")]
    assert effects[1].detail["status"] == "resolved"


def test_when_a_manual_breaker_cools_down_then_it_stays_open_until_reset() -> None:
    b = spec(reset="manual")
    state, _ = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    assert tick(b, state, 10**9) == (state, ())
    closed, effects = reset(b, state, "ana", "venue fixed", 5000)
    assert closed.status == "closed"
    assert "ana" in closed.reason
    assert [e.name for e in effects] == ["resume", "b", "reset"]
    assert effects[2].detail == {"by": "ana", "reason": "venue fixed", "at_ms": 5000, "was": "open"}


def test_when_a_closed_breaker_is_reset_then_a_structured_error_says_so() -> None:
    b = spec()
    with pytest.raises(BreakerError) as caught:
        reset(b, initial(b, "okx", "BTC/USDT"), "ana", "why", 0)
    assert caught.value.code == "breaker.not_open"


HALF = {"half_open": {"probe_orders": 2, "probe_qty_ratio": "0.25"}, "cooldown_ms": 100}


def half_open(b: Breaker) -> BreakerState:
    state, _ = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    state, effects = tick(b, state, 100)
    assert state.status == "half_open"
    assert [e.name for e in effects] == ["half_open"]
    return state


def test_when_half_open_then_exactly_n_probes_pass_and_a_clean_evaluation_closes_it() -> None:
    b = spec(**HALF)
    state = half_open(b)
    answers = []
    for _ in range(3):
        state, probe = admit_probe(b, state)
        answers.append((probe.admitted, probe.qty_ratio))
    assert answers == [(True, Decimal("0.25")), (True, Decimal("0.25")), (False, None)]
    state, effects = observe(b, state, False, 150)
    assert state.status == "closed"
    assert [e.name for e in effects] == ["resume", "b"]


def test_when_half_open_before_all_probes_then_a_clean_evaluation_keeps_it_half_open() -> None:
    b = spec(**HALF)
    state, _ = admit_probe(b, half_open(b))
    assert observe(b, state, False, 150) == (state, ())


def test_when_the_condition_matches_while_half_open_then_it_reopens_with_effects() -> None:
    b = spec(**HALF)
    state, _ = admit_probe(b, half_open(b))
    state, effects = observe(b, state, True, 150)
    assert (state.status, state.since_ms, state.trips, state.probes_admitted) == ("open", 150, 2, 0)
    assert [e.name for e in effects] == ["halt", "b"]


def test_when_open_or_closed_then_probes_are_refused_or_unrestricted() -> None:
    b = spec(**HALF)
    closed = initial(b, "okx", "BTC/USDT")
    opened, _ = observe(b, closed, True, 0)
    assert admit_probe(b, closed)[1].admitted
    assert admit_probe(b, closed)[1].qty_ratio is None
    assert admit_probe(b, opened)[0] is opened  # a refusal counts nothing
    assert not admit_probe(b, opened)[1].admitted


@pytest.mark.parametrize(
    ("action", "flag"),
    [("halt", "halt"), ("reduce_only", "reduce_only"), ("cancel_all", "paused")],
)
def test_when_a_breaker_is_open_then_its_scope_is_restricted(action: str, flag: str) -> None:
    b = spec(action=action, scope={"venue": "okx"})
    state, _ = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    here = restrictions({"b": b}, [state], "okx", "ETH/USDT")
    assert getattr(here, flag)
    assert here.sources == ("breaker:b",)


def test_when_a_venue_scoped_breaker_is_open_then_another_venue_is_not_restricted() -> None:
    b = spec(scope={"venue": "okx"})
    state, _ = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    assert not in_scope(b, "binance", "BTC/USDT")
    elsewhere = restrictions({"b": b}, [state], "binance", "BTC/USDT")
    assert not elsewhere.halt
    assert elsewhere.sources == ()


def test_when_pause_symbol_has_no_symbol_then_only_the_symbol_it_saw_is_paused() -> None:
    b = spec(action="pause_symbol", scope={"venue": "okx"})
    assert instance(b, "okx", "BTC/USDT") == ("b@okx:BTC/USDT", ("okx", "BTC/USDT"))
    state, effects = observe(b, initial(b, "okx", "BTC/USDT"), True, 0)
    assert effects[0].scope == ("okx", "BTC/USDT")
    assert restrictions({"b": b}, [state], "okx", "BTC/USDT").paused
    assert not restrictions({"b": b}, [state], "okx", "ETH/USDT").paused


def test_when_half_open_then_restrictions_name_the_probe_and_its_smallest_ratio() -> None:
    b = spec(**HALF)
    closed = initial(b, "okx", "BTC/USDT")
    here = restrictions({"b": b}, [half_open(b), closed], "okx", "BTC/USDT")
    assert (here.halt, here.probes, here.probe_qty_ratio) == (False, ("b",), Decimal("0.25"))


def test_when_a_state_is_encoded_then_it_decodes_to_the_same_value() -> None:
    b = spec(**COUNTED, **HALF)
    for state in (run(b, [0, 5]), run(b, [0, 5, 9]), half_open(spec(**HALF))):
        assert decode(BreakerState, encode(state)) == state
