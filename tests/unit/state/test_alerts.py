"""Alert machine: for_ms to the millisecond, keep firing, hysteresis edges, severities, None."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from riskctl.kinds.alert_thresholds import Alert
from riskctl.state.alerts import AlertState, initial, key, observe
from riskctl.state.codec import decode, encode
from riskctl.state.effects import Effect

D = Decimal


def spec(**overrides: Any) -> Alert:
    base: dict[str, Any] = {
        "name": "daily-loss",
        "metric": "-pnl.daily",
        "warn": 100,
        "critical": 200,
        "labels": {"team": "desk"},
        "channels": ["slack:#desk"],
    }
    return Alert.model_validate({**base, **overrides})


Step = tuple[int, str | None]


def run(a: Alert, steps: list[Step], state: AlertState | None = None) -> list[Any]:
    """(status, severity, [event statuses]) after each (now_ms, value) step."""
    state = state or initial(a)
    out = []
    for now_ms, value in steps:
        state, effects = observe(a, state, None if value is None else D(value), now_ms)
        events = [(e.detail["status"], e.detail["severity"]) for e in effects if e.kind == "alert"]
        out.append((state.status, state.severity, events))
    return out


def test_when_a_level_is_breached_without_for_ms_then_it_fires_at_once() -> None:
    assert run(spec(), [(0, "101")]) == [("firing", "warn", [("firing", "warn")])]


def test_when_the_value_equals_the_level_then_it_is_not_breached() -> None:
    assert run(spec(), [(0, "100")]) == [("inactive", None, [])]


def test_when_for_ms_is_set_then_it_fires_at_exactly_since_plus_for_ms() -> None:
    a = spec(for_ms=1000)
    assert run(a, [(10, "150"), (1009, "150"), (1010, "150"), (1011, "150")]) == [
        ("pending", "warn", [("pending", "warn")]),
        ("pending", "warn", []),
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "warn", []),
    ]


def test_when_a_pending_alert_clears_then_it_goes_inactive_without_an_event() -> None:
    a = spec(for_ms=1000)
    assert run(a, [(0, "150"), (999, "0"), (1000, "150"), (1999, "150")]) == [
        ("pending", "warn", [("pending", "warn")]),
        ("inactive", None, []),
        ("pending", "warn", [("pending", "warn")]),  # the clock restarted at 1000
        ("pending", "warn", []),
    ]


def test_when_the_critical_level_is_breached_for_for_ms_then_it_fires_critical() -> None:
    a = spec(for_ms=10)
    assert run(a, [(0, "250"), (10, "250")])[-1] == ("firing", "critical", [("firing", "critical")])


def test_when_a_warning_escalates_then_one_new_firing_event_says_the_previous_severity() -> None:
    a = spec(for_ms=10)
    state = initial(a)
    for now_ms, value in [(0, "150"), (10, "150"), (20, "250"), (29, "250")]:
        state, effects = observe(a, state, D(value), now_ms)
        assert all(e.detail["status"] != "firing" or now_ms == 10 for e in effects)
    state, effects = observe(a, state, D("250"), 30)
    assert (state.severity, len(effects)) == ("critical", 1)
    assert effects[0].detail["previous"] == "warn"


def test_when_critical_clears_past_its_hysteresis_then_it_de_escalates_to_warn() -> None:
    a = spec(hysteresis=10)
    assert run(a, [(0, "250"), (1, "191"), (2, "190")]) == [
        ("firing", "critical", [("firing", "critical")]),
        ("firing", "critical", []),
        ("firing", "warn", [("firing", "warn")]),
    ]


def test_when_a_firing_alert_clears_then_it_keeps_firing_for_keep_firing_for_ms() -> None:
    a = spec(keep_firing_for_ms=500)
    assert run(a, [(0, "150"), (100, "0"), (599, "0"), (600, "0")]) == [
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "warn", []),
        ("firing", "warn", []),
        ("inactive", None, [("resolved", "warn")]),
    ]


def test_when_breached_again_while_kept_firing_then_it_stays_firing_without_an_event() -> None:
    a = spec(keep_firing_for_ms=500, for_ms=1000)
    steps: list[Step] = [(0, "150"), (1000, "150"), (1100, "0"), (1500, "150"), (1600, "0")]
    steps.append((2099, "0"))
    steps.append((2100, "0"))
    result = run(a, steps)
    assert [r[2] for r in result] == [
        [("pending", "warn")],
        [("firing", "warn")],
        [],
        [],
        [],
        [],
        [("resolved", "warn")],
    ]


def test_when_hysteresis_is_set_then_clearing_needs_value_at_or_below_level_minus_it() -> None:
    a = spec(hysteresis="0.5")
    steps: list[Step] = [(0, "100.01"), (1, "100.5"), (2, "99.51"), (3, "99.5")]
    assert [r[0] for r in run(a, steps)] == ["firing", "firing", "firing", "inactive"]


def test_when_the_value_is_inside_the_gap_without_a_breach_then_nothing_happens() -> None:
    assert run(spec(hysteresis=5), [(0, "99"), (1, "100")]) == [("inactive", None, [])] * 2


def test_when_direction_is_below_then_it_fires_under_the_levels_and_clears_above() -> None:
    a = spec(direction="below", warn=100, critical=40, hysteresis=5)
    assert run(
        a, [(0, "100"), (1, "99"), (2, "39"), (3, "44"), (4, "45"), (5, "104"), (6, "105")]
    ) == [
        ("inactive", None, []),
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "critical", [("firing", "critical")]),
        ("firing", "critical", []),
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "warn", []),
        ("inactive", None, [("resolved", "warn")]),
    ]


def test_when_the_value_is_none_then_a_firing_alert_stays_firing_and_it_is_recorded_once() -> None:
    a = spec()
    state, _ = observe(a, initial(a), D(150), 0)
    effects: list[Effect] = []
    for now_ms in range(1, 5):
        state, out = observe(a, state, None, now_ms * 10**9)
        effects.extend(out)
    assert (state.status, state.severity) == ("firing", "warn")
    assert [(e.kind, e.name) for e in effects] == [("record", "metric_unavailable")]
    state, out = observe(a, state, None, 10**10)
    assert out == ()
    state, out = observe(a, state, D(150), 10**10 + 1)
    state, again = observe(a, state, None, 10**10 + 2)
    assert (out, [e.kind for e in again]) == ((), ["record"])


def test_when_the_value_is_none_then_a_pending_alert_neither_clears_nor_advances() -> None:
    a = spec(for_ms=100)
    state, _ = observe(a, initial(a), D(150), 0)
    held, _ = observe(a, state, None, 500)
    assert (held.status, held.warn_since_ms) == ("pending", 0)


def test_when_an_event_is_emitted_then_it_carries_value_labels_channels_and_source() -> None:
    a = spec(scope={"venue": "binance"})
    _, (event,) = observe(a, initial(a), D("123.40"), 0)
    assert event.detail == {
        "status": "firing",
        "severity": "warn",
        "value": "123.40",
        "labels": {"team": "desk"},
        "channels": ("slack:#desk",),
    }
    assert (event.source, event.scope, key(a)) == (
        "alert:daily-loss",
        ("binance", "*"),
        "daily-loss",
    )
    assert event.as_json()["detail"]["channels"] == ["slack:#desk"]


def test_when_only_a_critical_level_is_set_then_it_fires_critical() -> None:
    assert run(spec(warn=None), [(0, "150"), (1, "201")]) == [
        ("inactive", None, []),
        ("firing", "critical", [("firing", "critical")]),
    ]


def test_when_a_state_is_encoded_then_it_decodes_to_the_same_value() -> None:
    a = spec(for_ms=5, keep_firing_for_ms=5)
    state = initial(a)
    for now_ms, value in [(0, "150"), (5, "250"), (6, "0")]:
        state, _ = observe(a, state, D(value), now_ms)
        assert decode(AlertState, encode(state)) == state
    assert state.cleared_since_ms == 6


VALUES = st.one_of(st.none(), st.decimals(min_value=-50, max_value=300, places=2))
SPECS = st.builds(
    lambda for_ms, keep, h, below: spec(
        for_ms=for_ms,
        keep_firing_for_ms=keep,
        hysteresis=h,
        direction="below" if below else "above",
        warn=200 if below else 100,
        critical=100 if below else 200,
    ),
    st.one_of(st.none(), st.integers(1, 50)),
    st.one_of(st.none(), st.integers(1, 50)),
    st.decimals(min_value=0, max_value=20, places=1),
    st.booleans(),
)


@given(SPECS, st.lists(st.tuples(st.integers(0, 30), VALUES), max_size=60))
def test_when_values_vary_then_alert_events_never_outnumber_status_changes(
    a: Alert, steps: list[tuple[int, Decimal | None]]
) -> None:
    state, now_ms, events, changes = initial(a), 0, 0, 0
    for gap, value in steps:
        now_ms += gap
        after, effects = observe(a, state, value, now_ms)
        events += sum(e.kind == "alert" for e in effects)
        changes += (after.status, after.severity) != (state.status, state.severity)
        assert len([e for e in effects if e.kind == "alert"]) <= 1
        if value is None:
            assert (after.status, after.severity) == (state.status, state.severity)
        state = after
    assert events <= changes


@given(st.lists(st.decimals(min_value=D("99.51"), max_value=D("100.5"), places=2), max_size=40))
def test_when_a_firing_value_oscillates_inside_the_hysteresis_gap_then_nothing_is_emitted(
    values: list[Decimal],
) -> None:
    a = spec(hysteresis="0.5")
    state, _ = observe(a, initial(a), D("100.01"), 0)
    for now_ms, value in enumerate(values, 1):
        state, effects = observe(a, state, value, now_ms)
        assert (state.status, effects) == ("firing", ())
