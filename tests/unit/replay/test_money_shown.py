"""The replay's text summary shows P&L rounded for a person; the JSON keeps it exact."""

from __future__ import annotations

import pytest

from riskctl.venues.replay.command import _money


@pytest.mark.parametrize(
    ("exact", "shown"),
    [
        ("266.4609406019935351449676089", "266.4609406"),
        ("-43753.55592586", "-43753.55592586"),
        ("0.000000005", "0"),  # half-even: 5e-9 rounds to 0
        ("0.000000015", "0.00000002"),
        ("-0.000000001", "0"),
        ("1E+3", "1000"),
        ("12.50", "12.5"),
        ("Infinity", "Infinity"),
        ("1e40", "1e40"),  # more digits than rounding can keep: shown as it is
    ],
)
def test_money_when_shown_then_rounded_half_even_to_8_places(exact: str, shown: str) -> None:
    assert _money(exact) == shown
