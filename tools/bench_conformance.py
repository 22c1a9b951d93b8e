"""Benchmark what venue conformance and balance checks add to the gate's pre_trade path.

Run: ``.venv/bin/python tools/bench_conformance.py`` (``--quick`` for a CI smoke run).

Two bundles are written to temporary directories. Both hold the same Instruments document
and the same typed limits; the second adds ``conformance`` (every check rejecting,
instrument data required), ``check_balance`` with a fee reserve and an amend rate. The same
generated contexts, built as ``PreTradeContext`` models (instrument filled in) before any
timing, are evaluated by both gates: ``Gate.evaluate("pre_trade", model)``. Each timed pass
runs with the garbage collector collected and disabled; passes of the two gates alternate,
and the median of the repeats is reported as microseconds per decision, with the ratio.
The checks reject more orders, and a reject takes the slower decision-building path, so
the allow path alone (contexts on which neither bundle fires a rule) is reported as well.

Adding checks may only make decisions stricter, so before timing every context is checked:
a context the plain bundle rejects must be rejected with the checks too. A violation exits
non-zero.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl.context import PreTradeContext
from riskctl.decision import Outcome
from riskctl.gate import Gate

STAGE = "pre_trade"
DEFAULT_SEED = 20_261_123
NOW_MS = 1_795_000_000_000

INSTRUMENTS = """\
apiVersion: riskctl/v1
kind: Instruments
metadata: {name: bench-instruments, version: 1, owner: bench}
spec:
  instruments:
    - {venue: binance, symbol: BTC/USDT, price_increment: 0.01, qty_increment: 0.00001,
       min_qty: 0.00001, max_qty: 9000, min_notional: 5, max_notional: 9000000}
    - {venue: binance, symbol: ETH/USDT, price_increment: 0.01, qty_increment: 0.0001,
       min_qty: 0.0001, max_qty: 100000, min_notional: 5, max_notional: 9000000}
    - {venue: okx, symbol: BTC/USDT, price_increment: 0.1, qty_increment: 0.00000001,
       min_qty: 0.00001, max_qty: 1000, max_notional: 1000000}
    - {venue: okx, symbol: ETH/USDT, price_increment: 0.01, qty_increment: 0.000001,
       min_qty: 0.0001, max_qty: 10000, max_notional: 1000000, order_types: [limit]}
"""

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: bench-limits, version: 1, owner: bench}}
spec:
  environment: paper
  venues:
    - {{venue: binance, account: bench-binance, symbols: [BTC/USDT, ETH/USDT]}}
    - {{venue: okx, account: bench-okx, symbols: [BTC/USDT, ETH/USDT]}}
  defaults:
    max_order_notional: 250000
    price_collar_bps: 50
    max_gross_exposure: 2000000
    max_open_orders: 200
    max_orders_per_second: 20
    max_daily_loss: 50000
    max_drawdown: 80000
    stale_market_data_ms: 2000
    stale_balance_ms: 30000
{extra}
  scoped:
    - scope: {{symbol: BTC/USDT}}
      max_order_qty: 5
      max_position_qty: 25
    - scope: {{symbol: ETH/USDT}}
      max_order_qty: 80
      max_position_qty: 400
"""

CHECKS = """\
    max_amends_per_second: 10
    check_balance: true
    fee_reserve_bps: 10
    conformance:
      price_off_grid: reject
      qty_off_grid: reject
      qty_above_max: reject
      notional_above_max: reject
      require_instrument: true
"""

MIDS = {"BTC/USDT": Decimal("50000"), "ETH/USDT": Decimal("3000")}
QTY_SCALE = {"BTC/USDT": Decimal("0.5"), "ETH/USDT": Decimal("8")}


def write_bundle(directory: Path, *, checks: bool) -> Path:
    (directory / "instruments.yaml").write_text(INSTRUMENTS)
    (directory / "risk-limits.yaml").write_text(LIMITS.format(extra=CHECKS if checks else ""))
    return directory


def generate(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Pre_trade contexts: mostly conforming limit orders, with a share of each failure."""
    contexts = []
    for i in range(count):
        venue = rng.choice(("binance", "okx"))
        symbol = rng.choice(("BTC/USDT", "ETH/USDT"))
        mid = MIDS[symbol] * (1 + Decimal(rng.randint(-100, 100)) / 10_000)
        bid, ask = (
            (mid - Decimal("0.5")).quantize(Decimal("0.1")),
            (mid + Decimal("0.5")).quantize(Decimal("0.1")),
        )
        side = rng.choice(("buy", "sell"))
        kind = "market" if rng.random() < 0.1 else "limit"
        qty = (QTY_SCALE[symbol] * Decimal(rng.randint(1, 1000)) / 1000).quantize(Decimal("0.0001"))
        if rng.random() < 0.05:
            qty += Decimal("0.000001")  # off the step on binance
        price = (bid if side == "buy" else ask) - Decimal(rng.randint(0, 50)) / 10
        if rng.random() < 0.05:
            price += Decimal("0.001")  # off the tick everywhere
        position = Decimal(rng.randint(-4, 4)) * QTY_SCALE[symbol] / 4
        exit_order = position != 0 and rng.random() < 0.2
        if exit_order:
            side = "sell" if position > 0 else "buy"
            qty = min(qty, abs(position))
        order: dict[str, Any] = {
            "venue": venue,
            "symbol": symbol,
            "side": side,
            "type": kind,
            "qty": str(qty),
            "reduce_only": exit_order,
            "client_order_id": f"bench-{i}",
            "strategy": "bench",
        }
        if kind == "limit":
            order["price"] = str(price)
        thin = rng.random() < 0.05
        contexts.append(
            {
                "now_ms": NOW_MS,
                "order": order,
                "market": {"bid": str(bid), "ask": str(ask), "age_ms": rng.randint(0, 2100)},
                "position": {"qty": str(position)},
                "account": {
                    "equity": "1000000",
                    "available_balance": "900000",
                    "balance_age_ms": rng.randint(0, 5000),
                    "gross_exposure": str(rng.randint(0, 500_000)),
                    "open_orders": rng.randint(0, 60),
                    "orders_last_second": rng.randint(0, 8),
                    "quote_free": "100" if thin else "900000",
                    "quote_reserved": str(rng.randint(0, 5000)),
                    "base_free": "0.0001" if thin else "1000",
                },
            }
        )
    return contexts


def build_models(gate: Gate, data: list[dict[str, Any]]) -> list[PreTradeContext]:
    return [PreTradeContext.model_validate(gate.complete(STAGE, item)) for item in data]


def timed_pass(gate: Gate, models: list[PreTradeContext]) -> float:
    """Microseconds per decision for one pass over ``models``, gc disabled."""
    evaluate = gate.evaluate
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for model in models:
            evaluate(STAGE, model)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / len(models) / 1000


def stricter_everywhere(
    plain: Gate, checked: Gate, models: list[PreTradeContext]
) -> tuple[Counter[str], Counter[str], list[int], list[PreTradeContext]]:
    """Outcome counts of both gates, the contexts where the checks made a decision looser,
    and the contexts both gates allow without a hit (the hot path)."""
    counts_plain: Counter[str] = Counter()
    counts_checked: Counter[str] = Counter()
    looser = []
    clean = []
    for index, model in enumerate(models):
        without = plain.evaluate(STAGE, model)
        with_checks = checked.evaluate(STAGE, model)
        counts_plain[str(without.outcome)] += 1
        counts_checked[str(with_checks.outcome)] += 1
        for hit in with_checks.hits:
            counts_checked[hit.code] += 1
        if with_checks.outcome < without.outcome or (
            without.outcome is Outcome.REJECT and with_checks.outcome is not Outcome.REJECT
        ):
            looser.append(index)
        if not without.hits and not with_checks.hits:
            clean.append(model)
    return counts_plain, counts_checked, looser, clean


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contexts", type=int, default=10_000, help="contexts per pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per gate")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--quick", action="store_true", help="1000 contexts, 3 repeats (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.contexts, args.repeats = 1_000, 3
    if args.contexts < 1 or args.repeats < 1:
        parser.error("--contexts and --repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-conformance-") as tmp:
        root = Path(tmp)
        (root / "plain").mkdir()
        (root / "checked").mkdir()
        plain = Gate.from_path(write_bundle(root / "plain", checks=False))
        checked = Gate.from_path(write_bundle(root / "checked", checks=True))

    data = generate(random.Random(args.seed), args.contexts)
    models = build_models(checked, data)  # the same model objects for both gates
    counts_plain, counts_checked, looser, clean = stricter_everywhere(plain, checked, models)
    if looser:
        print(f"error: the checks made {len(looser)} decisions looser, e.g. context {looser[0]}")
        return 1

    for _ in range(2):  # warm both paths (programs, caches) before timing
        timed_pass(plain, models[:200])
        timed_pass(checked, models[:200])
    samples: dict[str, list[float]] = {k: [] for k in ("without", "with", "clean-", "clean+")}
    for _ in range(args.repeats):
        samples["without"].append(timed_pass(plain, models))
        samples["with"].append(timed_pass(checked, models))
        if clean:
            samples["clean-"].append(timed_pass(plain, clean))
            samples["clean+"].append(timed_pass(checked, clean))
    without = statistics.median(samples["without"])
    with_checks = statistics.median(samples["with"])

    print(
        f"python {platform.python_version()} on {platform.machine()} ({platform.system()}); "
        f"{args.contexts} contexts, median of {args.repeats}, seed {args.seed}"
    )
    print(f"outcomes without checks: {_counts(counts_plain, ('allow', 'modify', 'reject'))}")
    print(f"outcomes with checks:    {_counts(counts_checked, ('allow', 'modify', 'reject'))}")
    fired = {k: v for k, v in counts_checked.items() if "." in k}
    print(f"hits with checks:        {_counts(fired, sorted(fired))}")
    print(f"pre_trade without conformance/balance: {without:8.2f} µs/decision")
    print(f"pre_trade with conformance/balance:    {with_checks:8.2f} µs/decision")
    print(f"ratio with/without:                    {with_checks / without:8.2f}x")
    if clean:
        clean_without = statistics.median(samples["clean-"])
        clean_with = statistics.median(samples["clean+"])
        print(
            f"allow path only ({len(clean)} contexts no rule fires on): "
            f"{clean_without:.2f} -> {clean_with:.2f} µs/decision, "
            f"{clean_with / clean_without:.2f}x"
        )
    return 0


def _counts(counts: Any, keys: Sequence[str]) -> str:
    return ", ".join(f"{key} {counts.get(key, 0)}" for key in keys) or "none"


if __name__ == "__main__":
    sys.exit(main())
