"""Binary-float noise is not off-grid; a real off-grid decimal stays off-grid.

The definition (riskctl.grid.float_noise_of): a value is float noise of the grid point g when
it is exactly the shortest repr of a float, lies within NOISE_ULPS units in the last place
of that float from g, and the grid is coarser than twice that bound. Then the gate passes g.

* For grid points g, float computations that should equal g (sums and products of floats on
  the grid) either land on g's exact decimal or are noise of g: on the grid, as g.
* A value half a tick off, or a decimal one unit of a 1e-8 tick off, stays off-grid; so does
  a value written with more digits than a float carries.
"""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import assume, example, given
from hypothesis import strategies as st

from riskctl.grid import NOISE_ULPS, float_noise_of, grid_value
from riskctl.money import under_engine_decimal

D = Decimal
TICKS = [D("0.1"), D("0.01"), D("0.05"), D("0.5"), D("0.001"), D("0.00001"), D("1e-8"), D(1)]


@under_engine_decimal
def passes_as(value: Decimal, tick: Decimal) -> Decimal | None:
    return grid_value(value, increment=tick, significant=None)


def sent(number: float) -> Decimal:
    """What a bot sends for a float: its shortest repr (json.dumps, ccxt, str)."""
    return Decimal(repr(number))


@given(
    tick=st.sampled_from(TICKS),
    parts=st.lists(st.integers(1, 10**6), min_size=2, max_size=3),
)
@example(tick=D("0.1"), parts=[600000, 1, 2])  # 60000.0 + 0.1 + 0.2 = 60000.299999999996
def test_noise_when_floats_on_the_grid_are_summed_then_the_sum_passes_as_the_grid_point(
    tick: Decimal, parts: list[int]
) -> None:
    point = sum(parts) * tick
    total = 0.0
    for part in parts:
        total += float(part * tick)

    assert passes_as(sent(total), tick) == point


@given(
    tick=st.sampled_from(TICKS),
    count=st.integers(1, 10**6),
)
@example(tick=D("0.1"), count=3)  # 3 * 0.1 = 0.30000000000000004
def test_noise_when_a_count_of_ticks_is_multiplied_in_floats_then_it_passes_as_the_grid_point(
    tick: Decimal, count: int
) -> None:
    assert passes_as(sent(count * float(tick)), tick) == count * tick


@given(tick=st.sampled_from(TICKS), units=st.integers(0, 10**9))
@example(tick=D("0.01"), units=6000000)  # 60000.005 on a 0.01 tick
def test_noise_when_a_value_is_half_a_tick_off_then_it_stays_off_grid(
    tick: Decimal, units: int
) -> None:
    value = units * tick + tick / 2

    assert passes_as(value, tick) is None


@given(
    units=st.integers(1, 10**15),
    offset=st.sampled_from([D("1e-9"), D("-1e-9"), D("3e-9"), D("5e-9")]),
)
@example(units=6000012345678, offset=D("1e-9"))
def test_noise_when_a_decimal_is_a_fraction_of_a_1e8_tick_off_then_it_stays_off_grid(
    units: int, offset: Decimal
) -> None:
    # Off-grid unless it is float noise as defined: within NOISE_ULPS ulps of the point on
    # a grid the float can resolve. Between ~1e6 and ~4e6 one ulp is 2.3e-10 to 9.3e-10,
    # so a 1e-9 offset is 1-4 ulps: exactly what a float sum lands on, hence noise there
    # (2097152.000000001 passes as 2097152). Past ~4e6 the grid is too fine: no allowance.
    value = units * D("1e-8") + offset
    bound = NOISE_ULPS * D(math.ulp(float(value)))
    assume(not (abs(offset) <= bound and D("1e-8") > 2 * bound))

    assert passes_as(value, D("1e-8")) is None


@given(units=st.integers(2**20 * 10**8, 2**22 * 10**8 - 1))
def test_noise_when_a_float_lands_a_few_ulps_off_a_1e8_tick_then_it_passes_as_the_point(
    units: int,
) -> None:
    point = units * D("1e-8")
    number = float(point) + 2 * math.ulp(float(point))  # where a float sum may land

    assert passes_as(sent(number), D("1e-8")) == point


def test_noise_when_a_value_has_more_digits_than_a_float_then_it_is_a_real_decimal() -> None:
    assert passes_as(D("60000.3000000000000001"), D("0.1")) is None
    assert passes_as(D("60000.2999999999999"), D("0.1")) is None  # not a float's shortest repr


def test_noise_when_the_classic_examples_are_sent_then_they_pass_as_the_grid_value() -> None:
    assert passes_as(D("60000.299999999996"), D("0.1")) == D("60000.3")
    assert passes_as(D("0.30000000000000004"), D("0.1")) == D("0.3")
    assert passes_as(D("0.7999999999999999"), D("0.1")) == D("0.8")
    assert passes_as(D("60000.005"), D("0.01")) is None


def test_noise_bound_is_exactly_noise_ulps_units_in_the_last_place() -> None:
    number = 0.3
    ulp = D(math.ulp(number))
    point = D("0.3")
    inside = D(repr(number + NOISE_ULPS * math.ulp(number)))
    outside = D(repr(number + (NOISE_ULPS + 2) * math.ulp(number)))

    assert float_noise_of(inside, point, D("0.1"))
    assert not float_noise_of(outside, point, D("0.1"))
    # a grid finer than twice the bound gets no allowance, even for the same value
    assert not float_noise_of(inside, point, 2 * NOISE_ULPS * ulp)


def test_noise_on_significant_digit_grids_then_it_passes_as_the_grid_value() -> None:
    value = sent(12345.0 + 0.1 + 0.2 - 0.3)  # 12345.000000000002 or exact
    assert grid_value(value, increment=None, significant=5) == D("12345")
    assert grid_value(D("12345.5"), increment=None, significant=5) is None
