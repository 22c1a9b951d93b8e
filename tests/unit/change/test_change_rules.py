"""The pure parts of change control: directions, selectors, bounds, drift, YAML edits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.change.checks import check_value, step_bound
from riskctl.change.direction import Direction, direction_of
from riskctl.change.edit import EditError, replace_scalars
from riskctl.change.selector import matches, parse_path
from riskctl.kinds.change_control import ChangeBound, ChangeControlSpec

QTY = ("spec", "scoped", 0, "max_order_qty")
POLICY = "RiskLimits/btc-eth-mm"


def spec(**bound: object) -> ChangeControlSpec:
    return ChangeControlSpec.model_validate(
        {
            "max_changes_per_day": 6,
            "allow": [{"path": f"{POLICY}:spec.scoped[*].max_order_qty", **bound}],
            "protected": [f"{POLICY}:spec.defaults.max_daily_loss", f"{POLICY}:spec.venues"],
        }
    )


@pytest.mark.parametrize(
    ("field", "old", "new", "expected"),
    [
        ("max_order_qty", 5, Decimal("4"), Direction.TIGHTENS),
        ("max_order_qty", 5, Decimal("6"), Direction.LOOSENS),
        ("price_collar_bps", 50, Decimal("40"), Direction.TIGHTENS),
        ("skew_multiplier", 2, Decimal("3"), Direction.TIGHTENS),
        ("skew_multiplier", 2, Decimal("1"), Direction.LOOSENS),
        ("stale_balance_ms", 30000, Decimal("20000"), Direction.TIGHTENS),
        ("up_to", Decimal("0.5"), Decimal("0.4"), Direction.LOOSENS),  # unknown: loosens
        ("check_balance", True, False, Direction.LOOSENS),
        ("max_order_qty", 5, Decimal("5.0"), Direction.UNCHANGED),
    ],
)
def test_direction_when_a_field_moves_then_the_table_decides(
    field: str, old: object, new: object, expected: Direction
) -> None:
    assert direction_of(field, old, new) is expected


def test_selector_when_it_names_a_parent_or_a_wildcard_then_it_covers_the_path() -> None:
    assert matches(f"{POLICY}:spec.scoped[*].max_order_qty", POLICY, QTY)
    assert matches(f"{POLICY}:spec.venues", POLICY, ("spec", "venues", 1, "account"))
    assert matches("RiskLimits/*:spec.scoped[0].max_*", POLICY, QTY)
    assert not matches(f"{POLICY}:spec.scoped[1].max_order_qty", POLICY, QTY)
    assert not matches("InventoryBands/*:spec.sets", POLICY, ("spec", "sets"))
    assert parse_path("spec.sets[0].bands[2].skew_multiplier") == (
        "spec", "sets", 0, "bands", 2, "skew_multiplier",
    )  # fmt: skip


def test_protected_when_also_allowed_then_refused() -> None:
    control = spec(min=0)
    control.allow.append(ChangeBound(path=f"{POLICY}:spec.defaults.*"))

    refusals = check_value(
        control, policy=POLICY, path=("spec", "defaults", "max_daily_loss"),
        current=50000, to=Decimal(40000), baseline=50000,
    )  # fmt: skip

    assert [r.code for r in refusals] == ["change.protected"]


def test_step_when_over_the_limit_then_refused_with_the_limit_and_range() -> None:
    refusals = check_value(
        spec(min=Decimal("0.1"), max=10, max_step_pct=20), policy=POLICY, path=QTY,
        current=Decimal(5), to=Decimal("6.5"), baseline=Decimal(5),
    )  # fmt: skip

    assert [r.to_json() for r in refusals] == [
        {
            "code": "change.step-too-large",
            "path": f"{POLICY}:spec.scoped[0].max_order_qty",
            "message": f"{POLICY}:spec.scoped[0].max_order_qty would move 1.5 from the current "
            "value 5; one step may move at most 1",
            "limit": "1",
            "allowed_range": ["4", "6"],
        }
    ]


def test_min_max_when_outside_then_refused_with_the_range() -> None:
    refusals = check_value(
        spec(min=1, max=10), policy=POLICY, path=QTY,
        current=Decimal(9), to=Decimal(11), baseline=Decimal(9),
    )  # fmt: skip

    assert [(r.code, r.to_json()["allowed_range"]) for r in refusals] == [
        ("change.above-max", ["1", "10"])
    ]


def test_unlisted_path_when_proposed_then_not_allowed() -> None:
    refusals = check_value(
        spec(), policy=POLICY, path=("spec", "defaults", "max_order_notional"),
        current=1, to=Decimal(2), baseline=1,
    )  # fmt: skip

    assert [r.code for r in refusals] == ["change.not-allowed"]


@given(
    steps=st.lists(st.decimals(min_value=-3, max_value=3, places=2), min_size=1, max_size=30),
    pct=st.integers(min_value=1, max_value=50),
    absolute=st.decimals(min_value=Decimal("0.01"), max_value=5, places=2),
)
def test_drift_when_any_sequence_of_steps_is_accepted_then_it_ends_within_one_bound(
    steps: list[Decimal], pct: int, absolute: Decimal
) -> None:
    control = spec(max_step_pct=pct, max_step_abs=absolute)
    baseline = value = Decimal(5)
    for step in steps:
        proposed = value + step
        if not check_value(
            control, policy=POLICY, path=QTY, current=value, to=proposed, baseline=baseline
        ):
            value = proposed

    assert abs(value - baseline) <= step_bound(control.allow[0], baseline)  # type: ignore[operator]


def test_drift_when_small_steps_add_up_then_the_last_is_refused() -> None:
    control = spec(max_step_pct=20)  # 1 from a baseline of 5

    refusals = check_value(
        control, policy=POLICY, path=QTY, current=Decimal("5.9"), to=Decimal("6.5"),
        baseline=Decimal(5),
    )  # fmt: skip

    assert [r.code for r in refusals] == ["change.drift-too-large"]
    assert refusals[0].to_json()["allowed_range"] == ["4.72", "6"]  # step from 5.9, drift from 5


def test_edit_when_a_value_changes_then_every_other_byte_stays() -> None:
    text = (
        "# head\nspec:\n  a: 5              # five\n"
        "  sets:\n    - {name: WARN, up_to: 0.75, skew_multiplier: 2, alert: true, extra: long}\n"
    )

    out = replace_scalars(text, {("spec", "a"): "4.5", ("spec", "sets", 0, "skew_multiplier"): "3"})

    assert out == text.replace("a: 5   ", "a: 4.5 ").replace("multiplier: 2", "multiplier: 3")
    with pytest.raises(EditError):
        replace_scalars(text, {("spec", "missing"): "1"})
