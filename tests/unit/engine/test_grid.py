"""riskctl.grid: exact Decimal grids (tick sizes, steps, significant digits), no float tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskctl.grid import on_grid, sig_digits, snap

D = Decimal


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("172.0600", 5),
        ("172.06", 5),
        ("0.00120", 2),
        ("0.00000001", 1),
        ("1200", 2),
        ("12340", 4),
        ("1", 1),
        ("0", 0),
        ("0.000", 0),
        ("123456789.123456789", 18),
    ],
)
def test_sig_digits_when_value_has_trailing_or_leading_zeros_then_they_do_not_count(
    value: str, digits: int
) -> None:
    assert sig_digits(D(value)) == digits


@pytest.mark.parametrize(
    ("value", "increment"),
    [
        ("172.06", "0.01"),
        ("172.0600", "0.01"),  # trailing zeros change the exponent, not the value
        ("172.06000000000000000000", "0.01"),
        ("0.3", "0.1"),  # 0.1 + 0.2 in float is 0.30000000000000004; in Decimal it is exact
        ("0.30", "0.1"),
        ("100.05", "0.05"),
        ("100.5", "0.5"),
        ("100", "0.5"),
        ("1E+2", "0.5"),  # exponent form
        ("0.00001234", "0.00000001"),
        ("50000.00000001", "0.00000001"),
        ("7", "1"),
        ("7.000", "1"),
        ("0.001", "0.001"),
        ("99999999999.999", "0.001"),  # near the largest quantity a policy allows
        ("120", "10"),
    ],
)
def test_on_grid_when_value_is_a_multiple_of_the_increment_then_true(
    value: str, increment: str
) -> None:
    assert on_grid(D(value), increment=D(increment), significant=None)


@pytest.mark.parametrize(
    ("value", "increment"),
    [
        ("172.061", "0.01"),
        ("172.059", "0.01"),
        ("172.0600001", "0.01"),
        ("0.30000000000000004", "0.1"),  # the float drift itself is off the grid
        ("100.07", "0.05"),
        ("100.04", "0.05"),
        ("100.3", "0.5"),
        ("100.25", "0.5"),
        ("0.000012345", "0.00000001"),
        ("7.5", "1"),
        ("0.0015", "0.001"),
        ("125", "10"),
    ],
)
def test_on_grid_when_value_is_between_grid_points_then_false(value: str, increment: str) -> None:
    assert not on_grid(D(value), increment=D(increment), significant=None)


@pytest.mark.parametrize(
    ("value", "significant", "expected"),
    [
        ("12345", 5, True),
        ("12345.0", 5, True),
        ("1234.5", 5, True),
        ("0.00012345", 5, True),
        ("123450000", 5, True),
        ("12345.6", 5, False),
        ("0.000123456", 5, False),
        ("123456", 5, False),
        ("1.2345", 4, False),
        ("1200", 2, True),
    ],
)
def test_on_grid_when_significant_digits_then_counts_only_significant_ones(
    value: str, significant: int, expected: bool
) -> None:
    assert on_grid(D(value), increment=None, significant=significant) is expected


def test_on_grid_when_no_increment_and_no_digits_then_anything_is_on_grid() -> None:
    assert on_grid(D("3.14159265358979"), increment=None, significant=None)


def test_on_grid_when_both_increment_and_digits_then_both_must_hold() -> None:
    assert on_grid(D("12.35"), increment=D("0.05"), significant=4)
    assert not on_grid(D("12.36"), increment=D("0.05"), significant=4)  # off tick
    assert not on_grid(D("123.45"), increment=D("0.05"), significant=4)  # 5 digits


@pytest.mark.parametrize(
    ("value", "increment", "down", "up"),
    [
        ("100.017", "0.01", "100.01", "100.02"),
        ("100.07", "0.05", "100.05", "100.10"),
        ("100.3", "0.5", "100.0", "100.5"),
        ("0.000012345", "0.00000001", "0.00001234", "0.00001235"),
        ("0.3005", "0.001", "0.300", "0.301"),
        ("7.9", "1", "7", "8"),
        ("125", "10", "120", "130"),
    ],
)
def test_snap_when_off_grid_then_moves_to_the_neighbour_on_the_chosen_side(
    value: str, increment: str, down: str, up: str
) -> None:
    assert snap(D(value), increment=D(increment), significant=None, up=False) == D(down)
    assert snap(D(value), increment=D(increment), significant=None, up=True) == D(up)


@pytest.mark.parametrize(
    ("value", "increment"),
    [("172.0600", "0.01"), ("0.3", "0.1"), ("100.05", "0.05"), ("0.00001234", "0.00000001")],
)
def test_snap_when_already_on_grid_then_value_unchanged_both_ways(
    value: str, increment: str
) -> None:
    for up in (False, True):
        assert snap(D(value), increment=D(increment), significant=None, up=up) == D(value)


@pytest.mark.parametrize(
    ("value", "significant", "down", "up"),
    [
        ("12345.6", 5, "12345", "12346"),
        ("0.000123456", 5, "0.00012345", "0.00012346"),
        ("99999.5", 5, "99999", "100000"),
        ("123456789", 5, "123450000", "123460000"),
        ("1.2345", 4, "1.234", "1.235"),
    ],
)
def test_snap_when_significant_digits_then_rounds_at_the_last_allowed_digit(
    value: str, significant: int, down: str, up: str
) -> None:
    assert snap(D(value), increment=None, significant=significant, up=False) == D(down)
    assert snap(D(value), increment=None, significant=significant, up=True) == D(up)


def test_snap_when_below_one_increment_and_rounding_down_then_zero() -> None:
    assert snap(D("0.004"), increment=D("0.01"), significant=None, up=False) == 0
    assert snap(D("0.004"), increment=D("0.01"), significant=None, up=True) == D("0.01")


def test_snap_when_both_increment_and_digits_then_result_is_on_both_grids() -> None:
    down = snap(D("0.07"), increment=D("0.05"), significant=3, up=False)
    up = snap(D("0.07"), increment=D("0.05"), significant=3, up=True)
    assert (down, up) == (D("0.05"), D("0.1"))
    assert on_grid(down, increment=D("0.05"), significant=3)
    assert on_grid(up, increment=D("0.05"), significant=3)
