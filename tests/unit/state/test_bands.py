"""Inventory band machine: hysteresis at exact edges, jumps, flatten once, alerts, hold time."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.kinds.inventory_bands import BandSet
from riskctl.state.bands import (
    BandError,
    BandState,
    band_name,
    blocks_increasing,
    initial,
    key,
    observe,
    skew,
)
from riskctl.state.codec import decode, encode

D = Decimal
ONE = D(1)


def spec(**overrides: Any) -> BandSet:
    base: dict[str, Any] = {
        "scope": {"symbol": "BTC/USDT"},
        "measure": "position_ratio",
        "hysteresis": "0.05",
        "bands": [
            {"name": "NORMAL", "up_to": "0.5"},
            {"name": "WARN", "up_to": "0.75", "skew_multiplier": 2, "alert": True},
            {"name": "CRITICAL", "up_to": "0.9", "block_increasing": True, "alert": True},
            {"name": "HARD", "up_to": 1, "block_increasing": True, "flatten": True, "alert": True},
        ],
    }
    return BandSet.model_validate({**base, **overrides})


def walk(b: BandSet, measures: list[str], state: BandState | None = None) -> list[str]:
    state = state or initial(b)
    names = []
    for t, m in enumerate(measures):
        state, _ = observe(b, state, D(m), ONE, t)
        names.append(band_name(b, state))
    return names


def test_when_the_scope_names_only_a_symbol_then_the_key_has_a_star_venue() -> None:
    assert key(spec()) == "*/BTC/USDT"
    assert key(spec(scope={"venue": "binance", "symbol": "BTC/USDT"})) == "binance/BTC/USDT"


def test_when_the_measure_crosses_an_up_to_then_the_band_rises_at_once() -> None:
    assert walk(spec(), ["0.5", "0.5000001"]) == ["NORMAL", "WARN"]


def test_when_the_measure_falls_then_it_leaves_only_at_the_lower_edge_minus_hysteresis() -> None:
    assert walk(spec(), ["0.6", "0.4500001", "0.5", "0.45"]) == ["WARN", "WARN", "WARN", "NORMAL"]


def test_when_hysteresis_is_zero_then_leaving_happens_at_the_lower_edge() -> None:
    assert walk(spec(hysteresis=0), ["0.6", "0.5"]) == ["WARN", "NORMAL"]


def test_when_the_measure_jumps_over_bands_then_it_lands_in_the_final_band() -> None:
    b = spec()
    state, effects = observe(b, initial(b), D("0.95"), ONE, 7)
    assert (band_name(b, state), state.since_ms) == ("HARD", 7)
    assert [(e.kind, e.name) for e in effects] == [
        ("record", "band"),
        ("alert", "HARD"),
        ("action", "flatten"),
    ]


def test_when_the_measure_is_above_the_last_band_then_it_stays_in_the_last_band() -> None:
    assert walk(spec(), ["5", "1.5", "1"]) == ["HARD", "HARD", "HARD"]


def test_when_the_measure_falls_through_several_bands_then_it_lands_in_the_lowest_reached() -> None:
    assert walk(spec(), ["1", "0.1"]) == ["HARD", "NORMAL"]
    assert walk(spec(), ["1", "0.70"]) == ["HARD", "WARN"]  # 0.70 <= 0.75 - 0.05, > 0.45
    assert walk(spec(), ["1", "0.7000001"]) == ["HARD", "CRITICAL"]


def test_when_a_flatten_band_is_entered_then_flatten_is_emitted_once_not_per_evaluation() -> None:
    b = spec()
    state = initial(b)
    flattens = 0
    for t, m in enumerate(["0.95", "0.99", "1", "0.96", "2"]):
        state, effects = observe(b, state, D(m), ONE, t)
        flattens += sum(e.kind == "action" and e.name == "flatten" for e in effects)
    assert flattens == 1


def test_when_a_flatten_band_is_left_and_entered_again_then_flatten_is_emitted_again() -> None:
    b = spec()
    state, first = observe(b, initial(b), D("1"), ONE, 1)
    state, _ = observe(b, state, D("0.8"), ONE, 2)
    state, again = observe(b, state, D("0.95"), ONE, 3)
    assert [e.name for e in first if e.kind == "action"] == ["flatten"]
    assert [e.name for e in again if e.kind == "action"] == ["flatten"]


def test_when_an_alert_band_is_left_then_its_alert_resolves_and_the_next_fires() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.6"), ONE, 1)
    state, up = observe(b, state, D("0.8"), ONE, 2)
    _, down = observe(b, state, D("0.1"), ONE, 3)
    assert [(e.name, e.detail["status"]) for e in up if e.kind == "alert"] == [
        ("WARN", "resolved"),
        ("CRITICAL", "firing"),
    ]
    assert [(e.name, e.detail["status"]) for e in down if e.kind == "alert"] == [
        ("CRITICAL", "resolved")
    ]
    assert down[0].detail == {"from": "CRITICAL", "to": "NORMAL", "measure": D("0.1")}
    assert (down[0].source, down[0].scope) == ("band:*/BTC/USDT", ("*", "BTC/USDT"))


def test_when_the_band_is_unchanged_then_no_effect_is_emitted() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.6"), ONE, 1)
    again, effects = observe(b, state, D("0.7"), ONE, 2)
    assert (again, effects) == (state, ())


def test_when_in_a_band_then_queries_give_its_blocking_and_skew() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.6"), ONE, 1)
    assert (blocks_increasing(b, state), skew(b, state)) == (False, D(2))
    state, _ = observe(b, state, D("0.85"), ONE, 2)
    assert (blocks_increasing(b, state), skew(b, state)) == (True, D(1))


def test_when_the_policy_lost_bands_then_a_stored_index_counts_as_the_last_band() -> None:
    b = spec(bands=[{"name": "NORMAL", "up_to": "0.5"}, {"name": "HARD", "up_to": 1}])
    stale = BandState(scope=key(b), band=3)
    assert band_name(b, stale) == "HARD"
    state, effects = observe(b, stale, D("0.9"), ONE, 5)
    assert (state.band, effects) == (1, ())


@pytest.mark.parametrize("bad", ["-0.01", "NaN", "Infinity"])
def test_when_the_measure_is_negative_or_not_finite_then_it_raises(bad: str) -> None:
    b = spec()
    with pytest.raises(BandError) as err:
        observe(b, initial(b), D(bad), ONE, 1)
    assert err.value.code == "band.bad_measure"


def test_when_a_position_is_held_past_max_hold_then_flatten_is_emitted_once() -> None:
    b = spec()
    state = initial(b)
    out = []
    for t in (100, 1100, 1101, 5000):
        state, effects = observe(b, state, D("0.1"), D(3), t, max_hold_ms=1000)
        out.append([e.name for e in effects])
    assert out == [[], [], ["flatten"], []]  # open at 100; 1000 ms held is not over the limit
    assert (state.open_since_ms, state.hold_flattened) == (100, True)


def test_when_the_position_goes_flat_and_reopens_then_the_hold_clock_restarts() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.1"), D(-3), 0, max_hold_ms=10)
    state, first = observe(b, state, D("0.1"), D(-3), 11, max_hold_ms=10)
    state, _ = observe(b, state, D(0), D(0), 12, max_hold_ms=10)
    assert (state.open_since_ms, state.hold_flattened) == (None, False)
    state, _ = observe(b, state, D("0.1"), D(2), 20, max_hold_ms=10)
    state, quiet = observe(b, state, D("0.1"), D(2), 30, max_hold_ms=10)
    state, second = observe(b, state, D("0.1"), D(2), 31, max_hold_ms=10)
    assert ([e.name for e in first], quiet, [e.name for e in second]) == (
        ["flatten"],
        (),
        ["flatten"],
    )


def test_when_there_is_no_hold_limit_then_a_long_hold_emits_nothing() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.1"), D(1), 0)
    _, effects = observe(b, state, D("0.1"), D(1), 10**12)
    assert effects == ()


def test_when_a_state_is_encoded_then_it_decodes_to_the_same_value() -> None:
    b = spec()
    state, _ = observe(b, initial(b), D("0.95"), D("-0.123456789"), 42, max_hold_ms=1)
    assert decode(BandState, encode(state)) == state
    assert decode(BandState, encode(initial(b))) == initial(b)


GAP = st.decimals(min_value=D("0.45000001"), max_value=D("0.5"), places=8)


@given(st.lists(GAP, min_size=1, max_size=50), st.sampled_from(["0.4", "0.6"]))
def test_when_the_measure_oscillates_inside_the_hysteresis_gap_then_the_band_never_changes(
    measures: list[Decimal], start: str
) -> None:
    b = spec()
    state, _ = observe(b, initial(b), D(start), ONE, 0)
    for t, m in enumerate(measures, 1):
        after, effects = observe(b, state, m, ONE, t)
        assert (after.band, effects) == (state.band, ())


@given(st.lists(st.decimals(min_value=0, max_value=2, places=3), min_size=1, max_size=60))
def test_when_measures_vary_then_every_band_change_has_one_record_and_flatten_only_on_entry(
    measures: list[Decimal],
) -> None:
    b = spec()
    state = initial(b)
    for t, m in enumerate(measures):
        after, effects = observe(b, state, m, ONE, t)
        records = [e for e in effects if e.kind == "record"]
        assert len(records) == (after.band != state.band)
        flattens = [e for e in effects if e.kind == "action"]
        assert len(flattens) == (after.band != state.band and after.band == 3)
        state = after


@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from([0, 1, -2])), max_size=80))
def test_when_positions_open_and_close_then_hold_flatten_fires_at_most_once_per_open_run(
    steps: list[tuple[int, int]],
) -> None:
    b = spec()
    state, now_ms, flattens, was_flat = initial(b), 0, 0, True
    for gap, qty in steps:
        now_ms += gap
        if qty == 0 and not was_flat:
            assert flattens <= 1
            flattens = 0
        state, effects = observe(b, state, D("0.1"), D(qty), now_ms, max_hold_ms=30)
        flattens += sum(e.name == "flatten" for e in effects)
        opened = now_ms if state.open_since_ms is None else state.open_since_ms  # 0 is a time
        assert not effects or now_ms - opened > 30
        was_flat = qty == 0
    assert flattens <= 1
