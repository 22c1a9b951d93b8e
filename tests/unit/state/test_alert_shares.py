"""Alerts at a share of a limit (of_limit): exact levels, the boundary, the event payload, and
the property that p% of a limit fires exactly as the absolute level p% x limit does."""

from __future__ import annotations

import math
from decimal import Context, Decimal, Inexact, localcontext
from fractions import Fraction
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl.kinds.alert_thresholds import SHAREABLE_LIMITS, Alert
from riskctl.kinds.risk_limits import LimitSet
from riskctl.state.alerts import (
    AlertError,
    AlertState,
    Levels,
    initial,
    levels_of,
    observe,
)

D = Decimal
LIMIT = D(50000)
# 40,000 and 10,000 a hair either side: 1e-30, far below any grid, and past the 28 digits
# of a default decimal context (so the machine must not compute with the ambient one).
HAIR_PAST_80 = D("40000.000000000000000000000000000001")
HAIR_BELOW_80 = D("39999.999999999999999999999999999999")
HAIR_BELOW_20 = D("9999.999999999999999999999999999999")


def share_alert(**overrides: Any) -> Alert:
    base: dict[str, Any] = {
        "name": "daily-loss-of-limit",
        "metric": "-pnl.daily",
        "of_limit": "max_daily_loss",
        "warn": 80,
        "critical": 100,
        "labels": {"team": "desk"},
    }
    return Alert.model_validate({**base, **overrides})


def statuses(
    spec: Alert, levels: Levels, steps: list[tuple[int, Decimal]]
) -> list[tuple[str, str | None, list[tuple[str, str | None]]]]:
    state: AlertState = initial(spec)
    out = []
    for now_ms, value in steps:
        state, effects = observe(spec, state, value, now_ms, levels=levels)
        events = [(e.detail["status"], e.detail["severity"]) for e in effects if e.kind == "alert"]
        out.append((state.status, state.severity, events))
    return out


# -- exact levels -----------------------------------------------------------------------


def test_when_percent_of_a_limit_then_levels_are_percent_x_limit_over_100_exactly() -> None:
    found = levels_of(share_alert(hysteresis=4), LIMIT)

    assert found.warn is not None
    assert found.critical is not None
    assert (found.warn.at, found.warn.clear) == (D(40000), D(38000))
    assert (found.critical.at, found.critical.clear) == (D(50000), D(48000))
    assert found.limit == LIMIT


def test_when_digits_exceed_any_decimal_context_then_the_level_is_still_exact() -> None:
    percent = D("33.33333333333333333333333333333333333333")  # 40 digits
    limit = D("30000.000000000000000000000000000007")  # 35 digits
    found = levels_of(share_alert(warn=percent, critical=None, hysteresis=D("1e-40")), limit)

    assert found.warn is not None
    exact = Fraction(percent) * Fraction(limit) / 100
    assert Fraction(found.warn.at) == exact
    assert Fraction(found.warn.clear) == exact - Fraction(D("1e-40")) * Fraction(limit) / 100


def test_when_a_level_would_need_over_1000_digits_then_it_is_refused_not_rounded() -> None:
    with pytest.raises(AlertError, match="digits to be exact"):
        levels_of(share_alert(hysteresis=D("1e-2000")), LIMIT)


def test_when_an_of_limit_alert_has_no_limit_then_levels_of_refuses() -> None:
    with pytest.raises(AlertError, match="needs the limit in force"):
        levels_of(share_alert())
    with pytest.raises(AlertError, match="needs the limit in force"):
        observe(share_alert(), initial(share_alert()), D(1), 0)
    with pytest.raises(AlertError, match="takes no limit"):
        levels_of(share_alert(of_limit=None), LIMIT)


def _numeric(annotation: object) -> bool:
    """Decimal or int (not bool) anywhere inside Optional[Annotated[...]]."""
    if annotation in (Decimal, int):
        return True
    return any(_numeric(arg) for arg in get_args(annotation))


def test_the_shareable_limits_are_every_numeric_limit_of_limitset_but_the_fee_reserve() -> None:
    numeric = {n for n, info in LimitSet.model_fields.items() if _numeric(info.annotation)}

    assert "check_balance" not in numeric  # a Flag is a bool, not a number
    assert set(SHAREABLE_LIMITS) == numeric - {"fee_reserve_bps"}


# -- the boundary ------------------------------------------------------------------------


def test_when_the_loss_is_exactly_80_percent_then_it_never_fires_however_long_it_holds() -> None:
    spec = share_alert(for_ms=10_000)
    found = levels_of(spec, LIMIT)

    assert statuses(spec, found, [(0, D(40000)), (10_000, D(40000)), (99_000, D(40000))]) == [
        ("inactive", None, []),
        ("inactive", None, []),
        ("inactive", None, []),
    ]


def test_when_a_hair_past_80_percent_then_it_fires_at_exactly_since_plus_for_ms() -> None:
    spec = share_alert(for_ms=10_000)
    found = levels_of(spec, LIMIT)
    past = HAIR_PAST_80

    assert statuses(spec, found, [(5, past), (10_004, past), (10_005, past)]) == [
        ("pending", "warn", [("pending", "warn")]),
        ("pending", "warn", []),
        ("firing", "warn", [("firing", "warn")]),
    ]


def test_when_a_hair_below_80_percent_then_it_stays_inactive() -> None:
    spec = share_alert(for_ms=10_000)
    found = levels_of(spec, LIMIT)

    assert statuses(spec, found, [(0, HAIR_BELOW_80), (20_000, HAIR_BELOW_80)]) == [
        ("inactive", None, []),
        ("inactive", None, []),
    ]


def test_when_direction_is_below_then_a_hair_under_the_share_fires_and_the_share_does_not() -> None:
    spec = share_alert(metric="account.available_balance", direction="below", warn=20, critical=5)
    found = levels_of(spec, LIMIT)  # 10,000 and 2,500

    assert statuses(spec, found, [(0, D(10000)), (1, HAIR_BELOW_20), (2, D(2500))]) == [
        ("inactive", None, []),
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "warn", []),  # 2,500 is not under critical 2,500
    ]


def test_when_hysteresis_is_in_percentage_points_then_the_warning_clears_at_76_percent() -> None:
    spec = share_alert(hysteresis=4)
    found = levels_of(spec, LIMIT)

    assert statuses(spec, found, [(0, D(40001)), (1, D("38000.01")), (2, D(38000))]) == [
        ("firing", "warn", [("firing", "warn")]),
        ("firing", "warn", []),  # 76.00002%: inside the gap
        ("inactive", None, [("resolved", "warn")]),
    ]


# -- what the events say -----------------------------------------------------------------


def test_an_event_reports_the_value_the_limit_the_level_and_the_share() -> None:
    spec = share_alert(for_ms=10)
    found = levels_of(spec, LIMIT)
    state, (pending,) = observe(spec, initial(spec), D("40000.04"), 0, levels=found)
    state, _ = observe(spec, state, D("50000.5"), 10, levels=found)  # warn fires
    state, (firing,) = observe(spec, state, D("50000.5"), 20, levels=found)  # critical held 10

    assert pending.detail == {
        "status": "pending",
        "severity": "warn",
        "value": "40000.04",
        "labels": {"team": "desk"},
        "channels": (),
        "of_limit": "max_daily_loss",
        "limit": "50000",
        "share_pct": "80.00008",
        "level": "40000",
    }
    assert (firing.detail["severity"], firing.detail["previous"]) == ("critical", "warn")
    assert (firing.detail["level"], firing.detail["share_pct"]) == ("50000", "100.001")
    assert firing.message == (
        "daily-loss-of-limit firing (critical): -pnl.daily = 50000.5"
        " (100.001% of max_daily_loss 50000)"
    )


def test_when_the_share_does_not_terminate_then_it_is_cut_at_8_decimals_toward_zero() -> None:
    spec = share_alert()
    found = levels_of(spec, D(30000))
    _, (event,) = observe(spec, initial(spec), D(25000), 0, levels=found)

    assert event.detail["share_pct"] == "83.33333333"
    assert event.detail["level"] == "24000"


def test_an_absolute_alert_event_carries_no_share_fields() -> None:
    spec = share_alert(of_limit=None, warn=100, critical=200)
    _, (event,) = observe(spec, initial(spec), D(150), 0)

    assert set(event.detail) == {"status", "severity", "value", "labels", "channels"}


# -- the property ------------------------------------------------------------------------

percents = st.decimals(min_value=D("0.01"), max_value=D(200), places=2)
limits = st.decimals(min_value=D("0.001"), max_value=D(10_000_000), places=3)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], Decimal, list[tuple[int, Fraction]]]:
    warn = draw(percents)
    critical = draw(st.one_of(st.none(), percents))
    direction = draw(st.sampled_from(["above", "below"]))
    if critical is not None and (critical < warn if direction == "above" else critical > warn):
        warn, critical = critical, warn
    spec = {
        "direction": direction,
        "warn": warn,
        "critical": critical,
        "hysteresis": draw(st.decimals(min_value=0, max_value=10, places=2)),
        "for_ms": draw(st.one_of(st.none(), st.integers(1, 50))),
        "keep_firing_for_ms": draw(st.one_of(st.none(), st.integers(1, 50))),
    }
    # Shares around the levels: exactly at them, a hair either side, and anywhere between.
    anchors = [warn, critical or warn, warn - spec["hysteresis"]]
    offsets = st.sampled_from([Fraction(0), Fraction(1, 10**30), -Fraction(1, 10**30)])
    shares = st.one_of(
        st.builds(lambda a, o: Fraction(a) + o, st.sampled_from(anchors), offsets),
        st.fractions(min_value=0, max_value=250, max_denominator=10_000),
    )
    steps = draw(st.lists(st.tuples(st.integers(0, 30), shares), min_size=1, max_size=25))
    return spec, draw(limits), steps


def _decimal(value: Fraction) -> Decimal:
    """A Fraction that is a finite decimal, as that Decimal exactly (Inexact is trapped)."""
    with localcontext(Context(prec=200, traps=[Inexact])):
        return D(value.numerator) / D(value.denominator)


def _metric(share: Fraction, limit: Decimal) -> Decimal:
    """The metric at ``share`` percent of ``limit``, cut at 40 places (exact for every anchor)."""
    return D(math.floor(share * Fraction(limit) / 100 * 10**40)).scaleb(-40)


def _series(steps: list[tuple[int, Fraction]], limit: Decimal) -> list[tuple[int, Decimal]]:
    now, series = 0, []
    for gap, share in steps:
        now += gap
        series.append((now, _metric(share, limit)))
    return series


@settings(deadline=None)
@given(cases())
def test_firing_at_p_percent_of_a_limit_equals_firing_at_the_absolute_level_p_x_limit(
    case: tuple[dict[str, Any], Decimal, list[tuple[int, Fraction]]],
) -> None:
    spec, limit, steps = case
    shared = share_alert(**spec)
    # The absolute levels p% x limit, computed apart from riskctl with Fractions.
    absolute = share_alert(
        **spec
        | {
            "of_limit": None,
            "warn": _decimal(Fraction(spec["warn"]) * Fraction(limit) / 100),
            "critical": None
            if spec["critical"] is None
            else _decimal(Fraction(spec["critical"]) * Fraction(limit) / 100),
            "hysteresis": _decimal(Fraction(spec["hysteresis"]) * Fraction(limit) / 100),
        }
    )
    series = _series(steps, limit)

    assert statuses(shared, levels_of(shared, limit), series) == statuses(
        absolute, levels_of(absolute), series
    )


@settings(deadline=None)
@given(cases())
def test_without_for_ms_or_hysteresis_it_fires_exactly_while_the_exact_share_is_past_a_level(
    case: tuple[dict[str, Any], Decimal, list[tuple[int, Fraction]]],
) -> None:
    spec, limit, steps = case
    spec |= {"for_ms": None, "keep_firing_for_ms": None, "hysteresis": 0}
    alert = share_alert(**spec)
    above = spec["direction"] == "above"
    series = _series(steps, limit)

    for (_, value), (status, severity, _) in zip(
        series, statuses(alert, levels_of(alert, limit), series), strict=True
    ):
        share = Fraction(value) * 100 / Fraction(limit)  # the share of this value, exactly
        past = [
            name
            for name in ("critical", "warn")
            if spec[name] is not None and (share > spec[name] if above else share < spec[name])
        ]
        assert (status, severity) == (("firing", past[0]) if past else ("inactive", None))
