"""tools/advisor_example.py's decisions without a subprocess: what it proposes from the
counts it saw, and how it corrects a value from refusals."""

from __future__ import annotations

import importlib.util
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from riskctl.change import Refusal

TOOL = Path(__file__).resolve().parents[3] / "tools" / "advisor_example.py"


def advisor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("advisor_example", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sizes(*values: str) -> list[Decimal]:
    return [Decimal(v) for v in values]


def test_target_when_the_limit_rejects_often_then_the_90th_percentile_of_the_rejected() -> None:
    found = advisor().target(
        10,
        Counter({"max_order_qty": 5}),
        sizes("81", "82", "83", "84", "99", *["10"] * 5),
        limit=Decimal(80),
        rate=Decimal("0.1"),
    )

    assert found == Decimal(99)


def test_target_when_orders_stay_far_under_the_limit_then_tighten_to_a_quarter_above() -> None:
    module = advisor()
    far = module.target(3, Counter(), sizes("10", "20", "30"), limit=Decimal(80), rate=Decimal(0))
    near = module.target(1, Counter(), sizes("50"), limit=Decimal(80), rate=Decimal(0))

    assert far == Decimal("37.5")
    assert near is None


def test_corrected_when_several_ranges_then_inside_all_and_none_without_a_range() -> None:
    module = advisor()
    step = Refusal("change.step-too-large", "p", "m", Decimal(16), (Decimal(64), Decimal(96)))
    drift = Refusal("change.drift-too-large", "p", "m", Decimal(10), (Decimal(70), None))
    protected = Refusal("change.protected", "p", "m")

    assert module.corrected(Decimal(100), [step, drift]) == Decimal(96)
    assert module.corrected(Decimal(50), [step, drift]) == Decimal(70)
    assert module.corrected(Decimal(100), [step, protected]) is None
