"""expr.null-never-matches: == and in on a nullable field need an explicit null test."""

from __future__ import annotations

import ast

import pytest

from riskctl.lint.expressions import null_equalities


def found(stage: str, text: str) -> list[str]:
    root = ast.parse(text, mode="eval").body
    return [path for _, path in null_equalities(stage, root)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order.price == 100", ["order.price"]),
        ("100 == order.price", ["order.price"]),
        ("order.price in (1, 2)", ["order.price"]),
        ("market.spread_bps == 0 or order.qty > 1", ["market.spread_bps"]),
        # guarded, either way round: the author said what null means
        ("order.price is not None and order.price == 100", []),
        ("order.price is None or order.price == 100", []),
        # fail closed or fire on null: no silent miss
        ("order.price != 100", []),
        ("order.price > 100", []),
        # never null
        ("order.qty == 1", []),
        ("order.side == 'buy'", []),
    ],
)
def test_equality_on_a_nullable_field_without_a_null_test_is_reported(text, expected) -> None:
    assert found("pre_trade", text) == expected


def test_a_field_of_an_optional_group_counts_as_nullable() -> None:
    assert found("pre_trade", "instrument.min_qty == 1") == ["instrument.min_qty"]
