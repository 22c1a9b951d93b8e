"""Inventory bands and alerts under the StatefulGate: a band reached by fills blocks orders
that grow the position and lets exits pass; an alert fires after its for_ms, once."""

from __future__ import annotations

from pathlib import Path

from gatekit import make_gate, pre_trade

from riskctl import Gate, Outcome
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore

T0 = 1_700_000_000_000

BANDS = """\
apiVersion: riskctl/v1
kind: InventoryBands
metadata: {name: test-bands, version: 1, owner: tests}
spec:
  sets:
    - scope: {symbol: BTC/USDT}
      measure: position_ratio
      hysteresis: 0.05
      max_hold_ms: 60000
      bands:
        - {name: NORMAL, up_to: 0.5}
        - {name: HEAVY, up_to: 1, block_increasing: true, alert: true}
"""
ALERTS = """\
apiVersion: riskctl/v1
kind: AlertThresholds
metadata: {name: test-alerts, version: 1, owner: tests}
spec:
  alerts:
    - {name: long, stage: pre_trade, metric: position.qty, warn: 5, for_ms: 1000}
"""


def gate(tmp_path: Path) -> StatefulGate:
    make_gate(tmp_path, {"max_order_qty": 50, "max_position_qty": 10})
    (tmp_path / "bands.yaml").write_text(BANDS, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(ALERTS, encoding="utf-8")
    return StatefulGate(Gate.from_path(tmp_path), MemoryStore())


def buy(runtime: StatefulGate, cid: str, qty: str, at: int, side: str = "buy"):
    data = pre_trade(order={"client_order_id": cid, "side": side, "qty": qty}) | {"now_ms": at}
    step = runtime.evaluate("pre_trade", data)
    if step.decision.allowed:
        runtime.evaluate(
            "fill",
            {
                "now_ms": at + 1,
                "fill": {
                    "venue": "binance",
                    "symbol": "BTC/USDT",
                    "client_order_id": cid,
                    "trade_id": f"t-{cid}",
                    "side": side,
                    "qty": qty,
                    "price": "100",
                    "ts_ms": at,
                },
                "books": {"position_qty": "0"},
            },
        )
    return step


def test_when_fills_move_the_position_into_a_blocking_band_then_only_exits_pass(
    tmp_path,
) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "6", T0)  # 0.6 of max_position_qty: HEAVY
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "HEAVY"}
    more = buy(runtime, "b", "1", T0 + 10)
    assert "state.band_blocks_increasing" in [hit.code for hit in more.decision.hits]
    exit_ = buy(runtime, "c", "1", T0 + 20, side="sell")  # 0.5: still HEAVY (hysteresis)
    assert exit_.decision.outcome is Outcome.ALLOW
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "HEAVY"}
    buy(runtime, "d", "1", T0 + 30, side="sell")  # 0.4 <= 0.5 - 0.05: back to NORMAL
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "NORMAL"}
    assert buy(runtime, "e", "1", T0 + 40).decision.outcome is Outcome.ALLOW


def test_when_a_position_is_held_past_max_hold_ms_then_it_is_flattened_once(tmp_path) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "1", T0)
    quiet = buy(runtime, "b", "1", T0 + 30_000)
    assert "flatten" not in [e.name for e in quiet.effects]
    held = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 61_000})
    later = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 62_000})
    assert [e.name for e in held.effects].count("flatten") == 1
    assert "flatten" not in [e.name for e in later.effects]


def test_when_an_alert_metric_stays_breached_for_for_ms_then_it_fires_once(tmp_path) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "6", T0)
    first = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 100})
    assert runtime.describe()["alerts"]["long"]["status"] == "pending"
    fired = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 1100})
    again = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 1200})
    assert [e.detail["status"] for e in first.effects if e.name == "long"] == ["pending"]
    assert [e.detail["status"] for e in fired.effects if e.name == "long"] == ["firing"]
    assert [e for e in again.effects if e.name == "long"] == []
    assert runtime.describe()["alerts"]["long"] == {"status": "firing", "severity": "warn"}
