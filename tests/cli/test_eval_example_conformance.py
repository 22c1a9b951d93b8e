"""`riskctl eval` on the example policies shows the venue checks: a fixed order comes back
in the decision, what cannot be fixed is rejected with its code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"


def context(**order: Any) -> dict[str, Any]:
    return {
        "now_ms": 1_763_600_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy",
            "qty": "0.1",
            "price": "65000.00",
            "client_order_id": "c1",
            "strategy": "mm",
            **order,
        },
        "market": {"bid": "64999.99", "ask": "65000.01", "age_ms": 20},
        "account": {
            "equity": "2000000",
            "available_balance": "900000",
            "balance_age_ms": 500,
            "quote_free": "900000",
            "base_free": "10",
        },
    }


def evaluate(data: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "ctx.json"
    path.write_text(json.dumps(data))
    done = subprocess.run(
        [str(RISKCTL), "eval", "--stage", "pre_trade", "--input", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decision: dict[str, Any] = json.loads(done.stdout)
    return decision


def test_a_size_off_the_step_grid_comes_back_rounded_down(tmp_path: Path) -> None:
    decision = evaluate(context(qty="0.123456"), tmp_path)
    assert decision["outcome"] == "modify"
    assert decision["modifications"] == {"qty": "0.12345"}
    assert [h["code"] for h in decision["hits"]] == ["instrument.qty_off_grid"]


@pytest.mark.parametrize(
    ("order", "code"),
    [
        ({"price": "65000.005"}, "instrument.price_off_grid"),
        ({"qty": "0.00005"}, "instrument.notional_below_min"),
        ({"qty": "9001", "price": "1"}, "instrument.qty_above_max"),
        ({"time_in_force": "GTD", "expire_at_ms": 1_763_599_999_000}, "order.gtd_expired"),
    ],
)
def test_what_the_venue_would_refuse_is_rejected_with_its_code(
    tmp_path: Path, order: dict[str, Any], code: str
) -> None:
    decision = evaluate(context(**order), tmp_path)
    assert decision["outcome"] == "reject"
    assert code in [h["code"] for h in decision["hits"]]


def test_a_buy_that_the_free_balance_cannot_pay_for_is_rejected(tmp_path: Path) -> None:
    data = context()
    data["account"]["quote_free"] = "6500"  # 6500 < 0.1 x 65000 x 1.001 (fee reserve)
    decision = evaluate(data, tmp_path)
    assert decision["outcome"] == "reject"
    assert [h["code"] for h in decision["hits"]] == ["balance.insufficient_quote"]


def test_a_cancel_with_a_broken_context_is_still_allowed_and_says_why(tmp_path: Path) -> None:
    data = context(action="cancel", qty=None)  # a cancel carries no size
    decision = evaluate(data, tmp_path)
    assert decision["outcome"] == "allow"
    assert [(h["code"], h["mode"]) for h in decision["hits"]] == [("context.invalid", "audit")]


def test_computed_values_are_shown_to_twelve_places(tmp_path: Path) -> None:
    # a 31 bps-wide book: spread_bps = 10000 * 200 / 64900 has no short decimal form
    data = context(type="market", price=None, qty="0.1")
    data["market"] = {"bid": "64800", "ask": "65000", "age_ms": 20}
    decision = evaluate(data, tmp_path)
    spreads = [
        h["values"]["market.spread_bps"]
        for h in decision["hits"]
        if "market.spread_bps" in h["values"]
    ]
    assert spreads, decision
    assert all(len(v.partition(".")[2]) == 12 for v in spreads)
