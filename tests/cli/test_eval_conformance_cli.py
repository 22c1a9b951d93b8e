"""``riskctl eval --stage pre_trade`` with conformance and balance checks configured.

Each new check is shown firing through the real command (a subprocess per context, run in
parallel), and with ``modify`` the decision JSON carries the modified order. The command
exits 0 whenever it evaluated the context, whatever the outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"
DATA = REPO / "tests" / "data" / "conformance"

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: cli-conformance, version: 1, owner: desk-test}}
spec:
  environment: paper
  venues:
    - venue: binance
      account: test-binance
      symbols: [TICK1/USDT, LIMITONLY/USDT, NOINST/USDT]
  defaults:
    max_orders_per_second: 5
    max_amends_per_second: 3
    check_balance: true
    fee_reserve_bps: 10
    conformance:
      price_off_grid: {fix}
      qty_off_grid: {fix}
      qty_above_max: {fix}
      notional_above_max: {fix}
      require_instrument: true
"""


def context(
    *,
    symbol: str = "TICK1/USDT",
    side: str = "buy",
    qty: Any = "1.000",
    price: Any = "100.00",
    kind: str = "limit",
    bid: Any = "99.00",
    ask: Any = "101.00",
    position: str = "0",
    reduce_only: bool = False,
    account: dict[str, Any] | None = None,
    **order: Any,
) -> dict[str, Any]:
    body = {
        "venue": "binance",
        "symbol": symbol,
        "side": side,
        "type": kind,
        "qty": qty,
        "reduce_only": reduce_only,
        "client_order_id": "cid-cli",
        "strategy": "mm",
        **order,
    }
    if kind == "limit":
        body["price"] = price
    return {
        "now_ms": 1_700_000_000_000,
        "order": body,
        "market": {"bid": bid, "ask": ask, "age_ms": 0},
        "position": {"qty": position},
        "account": {
            "equity": "1000000",
            "available_balance": "1000000",
            "balance_age_ms": 0,
            "quote_free": "1000000",
            "base_free": "1000",
            **(account or {}),
        },
    }


# name -> (policy dir, context, outcome, hit codes, modifications). Every process costs a
# start-up, so one context may show several checks firing at once.
CASES: dict[str, tuple[str, dict[str, Any], str, set[str], dict[str, str]]] = {
    "on-grid-json-numbers": (
        "reject",
        context(price=172.06, qty=0.3),  # JSON numbers, read as exact decimals
        "allow",
        set(),
        {},
    ),
    "grids-and-maximums": (
        "reject",
        context(price="2500.017", qty="50.0005"),
        "reject",
        {
            "instrument.price_off_grid",
            "instrument.qty_off_grid",
            "instrument.qty_above_max",
            "instrument.notional_above_max",
        },
        {},
    ),
    "minimums-and-insufficient-base": (
        "reject",
        context(side="sell", price="9.99", qty="0.009", account={"base_free": "0.008"}),
        "reject",
        {
            "instrument.qty_below_min",
            "instrument.notional_below_min",
            "balance.insufficient_base",
        },
        {},
    ),
    "order-type-expired-gtd-and-no-quote": (
        "reject",
        context(
            symbol="LIMITONLY/USDT",
            kind="market",
            price=None,
            ask=None,
            time_in_force="GTD",
            expire_at_ms=1_700_000_000_000,
        ),
        "reject",
        # a market order that cannot be valued also fails every check that needs its
        # notional (LIMITONLY/USDT has no notional bounds; the balance check has)
        {
            "instrument.order_type_unsupported",
            "order.gtd_expired",
            "order.market_without_quote",
            "balance.insufficient_quote",
        },
        {},
    ),
    "instrument-unknown": (
        "reject",
        context(symbol="NOINST/USDT"),
        "reject",
        {"instrument.instrument_unknown"},
        {},
    ),
    "dust": (
        "reject",
        context(side="sell", qty="0.005", price="5000.00", position="0.005", reduce_only=True),
        "reject",
        {"instrument.dust"},
        {},
    ),
    "insufficient-quote-and-amend-rate": (
        "reject",
        context(
            price="1000.00",
            action="amend",
            account={"quote_free": "1000.99", "amends_last_second": 3},
        ),
        "reject",
        {"balance.insufficient_quote", "limit.max_amends_per_second"},
        {},
    ),
    "modify-buy": (
        "modify",
        context(price="3000.017", qty="45"),
        "modify",
        {"instrument.price_off_grid", "instrument.notional_above_max"},
        {"price": "3000.01", "qty": "33.333"},
    ),
}


def _run(policies: Path, input_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(RISKCTL),
            "eval",
            "--policies",
            str(policies),
            "--stage",
            "pre_trade",
            "--input",
            str(input_file),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("eval-conformance")
    dirs = {}
    for fix in ("reject", "modify"):
        policies = root / fix
        policies.mkdir()
        shutil.copy(DATA / "instruments.yaml", policies / "instruments.yaml")
        (policies / "risk-limits.yaml").write_text(LIMITS.format(fix=fix))
        dirs[fix] = policies
    jobs = {}
    for name, (fix, ctx, *_) in CASES.items():
        input_file = root / f"{name}.json"
        input_file.write_text(json.dumps(ctx))
        jobs[name] = (dirs[fix], input_file)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(_run, *job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_eval_when_conformance_configured_then_each_check_fires_and_exit_is_0(
    results: dict[str, subprocess.CompletedProcess[str]], name: str
) -> None:
    _, _, outcome, expected_codes, modifications = CASES[name]
    done = results[name]

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    decision = json.loads(done.stdout)
    assert decision["stage"] == "pre_trade"
    assert decision["outcome"] == outcome, decision["hits"]
    assert decision["allowed"] is (outcome != "reject")
    assert {hit["code"] for hit in decision["hits"]} == expected_codes
    assert decision["modifications"] == modifications


def test_eval_when_dust_exit_is_refused_then_decision_asks_for_an_alert(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    decision = json.loads(results["dust"].stdout)

    assert decision["actions"] == ["reject", "alert"]


def test_eval_when_modified_then_hit_action_is_round_or_clip(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    decision = json.loads(results["modify-buy"].stdout)

    actions = {hit["code"]: hit["action"] for hit in decision["hits"]}
    assert actions == {
        "instrument.price_off_grid": "round",
        "instrument.notional_above_max": "clip",
    }
    assert sorted(decision["actions"]) == ["clip", "round"]


def test_eval_when_balance_short_then_hit_values_show_the_numbers(
    results: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    decision = json.loads(results["insufficient-quote-and-amend-rate"].stdout)

    values = next(h for h in decision["hits"] if h["code"] == "balance.insufficient_quote")[
        "values"
    ]
    assert values["order.notional"] == "1000.00000"
    assert values["account.quote_free"] == "1000.99"
