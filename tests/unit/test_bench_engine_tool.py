"""tools/bench_engine.py runs, verifies its baselines, and prints the table issue notes quote.

The seeded contexts never carry float noise, stop orders, skewed clocks or reduce_only
orders that would open, so the hand-written baselines' handling of those is checked here
against the gate on contexts made for it. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from riskctl.bundle import load_bundle
from riskctl.context import PreTradeContext
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
TOOL = TOOLS / "bench_engine.py"
PATHS = ("every decision", "allow", "reject, one hit", "modify")


def load_tool() -> ModuleType:
    sys.path.insert(0, str(TOOLS))  # the tool imports bench_data beside it
    spec = importlib.util.spec_from_file_location("bench_engine_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_engine_tool"] = module
    spec.loader.exec_module(module)
    return module


bench = load_tool()
data = sys.modules["bench_data"]
GATE = Gate(load_bundle(REPO / "policies"))


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.slow
def test_when_the_quick_benchmark_runs_then_it_exits_0_with_the_table_for_every_path() -> None:
    result = run_tool("--quick")

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "verdict: 0 disagreements, 0 gate failures" in out
    assert "| workload | path | n | hand-written µs | riskctl prebuilt µs |" in out
    for workload in ("example policies", "100 rules"):
        for path in PATHS:
            assert f"| {workload} | {path} |" in out
    assert "load + compile, example policies (policies/):" in out
    assert "load + compile, 100-rule bundle:" in out


def test_when_the_counts_are_not_positive_then_the_tool_refuses_to_run() -> None:
    result = run_tool("--contexts", "0")

    assert result.returncode == 2
    assert "--contexts and --repeats must be positive" in result.stderr


def test_when_the_example_policies_load_then_the_hand_written_tables_match_them() -> None:
    assert bench.limits_problems(GATE.bundle) == []


def test_when_the_table_drifts_from_the_policy_then_the_problem_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(bench.ASSUMED_SETTINGS, "max_clock_skew_ms", 60)

    problems = bench.limits_problems(GATE.bundle)

    assert len(problems) == 4  # one per (venue, symbol)
    assert all("'max_clock_skew_ms': 50" in p for p in problems)


def base_context(**order: Any) -> dict[str, Any]:
    """An ordinary binance BTC/USDT buy, as a bot sends it; ``order`` overrides fields."""
    rng = random.Random(7)
    context = data.context_data(rng, 0)
    context["order"] = {
        "venue": "binance",
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "qty": Decimal("0.5"),
        "price": Decimal("65000.01"),
        "client_order_id": "t-1",
        "strategy": "mm-quoter",
        **order,
    }
    context["market"] = {"bid": Decimal("65000"), "ask": Decimal("65000.02"), "age_ms": 10}
    context["position"] = {"qty": Decimal("0"), "avg_price": None}
    context["state"] = {"trading_state": "ACTIVE", "kill_switch": False}
    context["account"].update(quote_free=Decimal("1000000"), base_free=Decimal("10"))
    context["instrument"] = {
        "venue": "binance",
        "symbol": "BTC/USDT",
        **data.INSTRUMENTS[("binance", "BTC/USDT")],
    }
    return context


EDGES = {
    "float noise in the price": {"price": Decimal("65000.020000000004")},  # 6500002 * 0.01
    "float noise in the size": {"qty": Decimal("0.30000000000000004")},
    "a real off-grid price": {"price": Decimal("65000.015")},
    "a stop_market with its trigger on the grid": {
        "type": "stop_market",
        "price": None,
        "trigger_price": Decimal("65010.5"),
    },
    "a stop_limit with its trigger off the grid": {
        "type": "stop_limit",
        "trigger_price": Decimal("65010.505"),
    },
    "a stop trigger outside the collar": {
        "type": "stop_market",
        "price": None,
        "trigger_price": Decimal("70000"),
    },
    "a stop where the venue takes none": {
        "symbol": "ETH/USDT",
        "type": "stop_market",
        "price": None,
        "trigger_price": Decimal("65010.5"),
    },
    "a reduce_only order that would open": {"reduce_only": True},
}


@pytest.mark.parametrize("edge", sorted(EDGES))
def test_when_a_context_takes_a_rare_built_in_path_then_both_baselines_fire_what_the_gate_fires(
    edge: str,
) -> None:
    raw = base_context(**EDGES[edge])
    if raw["order"]["symbol"] == "ETH/USDT":
        raw["instrument"] = {  # the scope's own instrument: the tables are per scope
            "venue": "binance",
            "symbol": "ETH/USDT",
            **data.INSTRUMENTS[("binance", "ETH/USDT")],
        }
    context = PreTradeContext.model_validate(raw)
    fired = bench.fired_by_engine(GATE.evaluate("pre_trade", context))

    assert frozenset(bench.example_check(context)) == fired
    assert frozenset(bench.raw_example_check(bench.as_input(context))) == fired


@pytest.mark.parametrize("skew", [-50, -51])
def test_when_the_quote_is_from_the_future_then_the_baselines_bound_the_skew_like_the_gate(
    skew: int,
) -> None:
    raw = base_context()
    raw["market"]["age_ms"] = skew
    context = PreTradeContext.model_validate(raw)
    fired = bench.fired_by_engine(GATE.evaluate("pre_trade", context))

    assert ("clock_skew" in fired) is (skew < -50)
    assert frozenset(bench.example_check(context)) == fired
    assert frozenset(bench.raw_example_check(bench.as_input(context))) == fired
