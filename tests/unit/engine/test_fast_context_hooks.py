"""The models' per-order hooks (derived-key refusal, setting derived fields) after they were
made cheaper for issue 15 item 4: same refusals, same messages, same derived values.

Also runs tools/bench_context.py once, quickly: it checks that the measured prototype fast
path returns a model equal to model_validate's on every policy test context.
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from gatekit import pre_trade
from pydantic import ValidationError

from riskctl.context import Market, Order, PreTradeContext

BENCH = Path(__file__).resolve().parents[3] / "tools" / "bench_context.py"


def test_refuse_derived_when_derived_keys_given_then_every_one_named_at_its_model() -> None:
    data = pre_trade(order={"signed_qty": "1", "notional": "100"})
    with pytest.raises(ValidationError) as caught:
        PreTradeContext.model_validate(data)
    (error,) = caught.value.errors()
    assert error["loc"] == ("order",)
    assert error["msg"] == (
        "Value error, notional, signed_qty is derived by riskctl; remove it from the input"
    )


def test_refuse_derived_when_one_derived_key_given_in_market_then_refused() -> None:
    with pytest.raises(ValidationError, match="mid is derived by riskctl"):
        Market.model_validate({"bid": "1", "ask": "2", "age_ms": 0, "mid": "1.5"})


def test_refuse_derived_when_no_derived_key_then_input_validates() -> None:
    order = Order.model_validate(pre_trade()["order"])
    assert order.notional is None  # derived by the stage context, not by the order alone


def test_set_when_context_derives_then_derived_fields_hold_and_model_stays_frozen() -> None:
    context = PreTradeContext.model_validate(pre_trade(order={"side": "sell", "qty": "2"}))
    assert context.order.signed_qty == Decimal(-2)
    assert context.order.notional == Decimal(200)
    assert context.market.mid == Decimal(100)
    assert context.position.qty_after == Decimal(-2)
    assert "notional" not in context.order.model_dump()  # derived fields stay out of dumps
    with pytest.raises(ValidationError, match="frozen"):
        context.order.qty = Decimal(3)  # type: ignore[misc]


def test_bench_context_when_run_quick_then_prototype_equals_model_validate() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "pre_trade" in run.stdout
    assert "pydantic-core and the rest" in run.stdout
