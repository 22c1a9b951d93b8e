"""Time ``lint_paths`` over generated policy files: ``python tools/bench_lint.py [N] [--seed S]``.

Writes N files (200 by default) of every kind into a temporary directory, with realistic
sizes (a few venues and symbols, a dozen rules with expressions, band sets, breakers,
alerts), then times ``lint_paths`` on the directory. The baseline is loading alone
(``load_documents``), measured in the same run, so the ratio says what the checks cost
on top of parsing and validation. The target is under 2 s for 200 files.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from riskctl.lint import lint_paths  # noqa: E402  # after the path setup above
from riskctl.loader import load_documents  # noqa: E402

VENUES = ("binance", "okx", "kraken", "bybit")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT")
HEADER = "apiVersion: riskctl/v1\nkind: {kind}\nmetadata:\n  name: {name}\n  version: {version}\n"
HEADER += "  owner: desk-crypto\n"

RULE_TEMPLATES = (
    ("pre_trade", "order.notional is not None and order.notional > {n}"),
    (
        "pre_trade",
        "order.type == 'market' and market.spread_bps is not None and market.spread_bps > {b}",
    ),
    ("pre_trade", "account.available_balance < {frac} * account.equity"),
    ("pre_trade", "account.equity > 0 and order.qty * {p} / account.equity > 0.5"),
    ("ingest", "event.age_ms > {ms}"),
    ("ingest", "event.seq_gap is not None and event.seq_gap > {gap}"),
    ("signal", "data.degraded or data.age_ms > {ms}"),
    ("order_send", "request.kind == 'create' and venue.error_rate_pct > {pct}"),
    ("fill", "fill.slippage_bps is not None and fill.slippage_bps > {b}"),
    ("monitor", "health.heartbeat_age_ms > {ms} or not health.feed_connected"),
)


def _values(rng: random.Random, unique: int) -> dict[str, int | str]:
    """Template values; ``unique`` keeps every generated condition distinct (no shadowing)."""
    return {
        "n": rng.randrange(10_000, 500_000) * 10_000 + unique,
        "b": rng.randrange(5, 80) * 10_000 + unique,
        "p": rng.randrange(100, 70_000) * 10_000 + unique,
        "ms": rng.randrange(500, 10_000) * 10_000 + unique,
        "pct": f"{rng.randrange(5, 60)}.{unique:05d}",
        "frac": f"0.{unique:05d}",
        "gap": unique,
    }


def risk_limits(rng: random.Random, name: str) -> str:
    venues = rng.sample(VENUES, rng.randrange(1, 4))
    symbols = rng.sample(SYMBOLS, rng.randrange(2, 5))
    lines = [HEADER.format(kind="RiskLimits", name=name, version=rng.randrange(1, 50))]
    lines.append("spec:\n  environment: paper\n  venues:\n")
    for venue in venues:
        lines.append(f"    - venue: {venue}\n      account: {venue}-mm-1\n")
        lines.append(f"      symbols: [{', '.join(symbols)}]\n")
    lines.append(
        "  defaults:\n    max_order_notional: 250000\n    price_collar_bps: 50\n"
        "    max_daily_loss: 50000\n    max_drawdown: 80000\n    max_open_orders: 200\n"
    )
    lines.append("  scoped:\n")
    for symbol in symbols:
        qty = rng.randrange(1, 100)
        lines.append(f"    - scope: {{symbol: {symbol}}}\n      max_order_qty: {qty}\n")
        lines.append(f"      max_position_qty: {qty * 5}\n")
    lines.append(f"    - scope: {{venue: {venues[0]}}}\n      max_orders_per_second: 10\n")
    return "".join(lines)


_COUNTER = iter(range(1, 10**9))


def rules(rng: random.Random, name: str) -> str:
    lines = [HEADER.format(kind="Rules", name=name, version=1), "spec:\n  rules:\n"]
    for i in range(12):
        stage, template = rng.choice(RULE_TEMPLATES)
        when = template.format(**_values(rng, next(_COUNTER)))
        lines.append(f"    - id: {name}-r{i}\n      stage: {stage}\n      when: {when}\n")
        lines.append("      message: Generated rule for the benchmark.\n")
    return "".join(lines)


def breakers(rng: random.Random, name: str) -> str:
    lines = [HEADER.format(kind="CircuitBreakers", name=name, version=2), "spec:\n  breakers:\n"]
    for i in range(5):
        window = rng.randrange(1_000, 60_000)
        lines.append(
            f"    - name: {name}-b{i}\n      stage: order_send\n"
            f"      when: venue.error_rate_pct > {rng.randrange(5, 60)}\n"
            f"      count: {{at_least: 3, window_ms: {window}}}\n      action: cancel_all\n"
            f"      cooldown_ms: {window * 2}\n      reset: auto\n      message: Generated.\n"
        )
    return "".join(lines)


def bands(rng: random.Random, name: str) -> str:
    lines = [HEADER.format(kind="InventoryBands", name=name, version=1), "spec:\n  sets:\n"]
    for symbol in rng.sample(SYMBOLS, 3):
        lines.append(
            f"    - scope: {{symbol: {symbol}}}\n      measure: position_ratio\n"
            "      hysteresis: 0.05\n      bands:\n        - {name: NORMAL, up_to: 0.5}\n"
            "        - {name: WARN, up_to: 0.8, skew_multiplier: 2, alert: true}\n"
            "        - {name: HARD, up_to: 1, block_increasing: true, flatten: true}\n"
        )
    return "".join(lines)


def alerts(rng: random.Random, name: str) -> str:
    lines = [HEADER.format(kind="AlertThresholds", name=name, version=1), "spec:\n  alerts:\n"]
    for i in range(6):
        warn = rng.randrange(1_000, 50_000)
        lines.append(
            f"    - name: {name}-a{i}\n      metric: -pnl.daily\n      warn: {warn}\n"
            f"      critical: {warn * 2}\n      for_ms: 30000\n"
            "      labels: {team: desk-crypto, runbook: 'https://wiki.example/runbooks/loss'}\n"
        )
    return "".join(lines)


def change_control(rng: random.Random, name: str) -> str:
    return HEADER.format(kind="ChangeControl", name=name, version=1) + (
        f"spec:\n  max_changes_per_day: {rng.randrange(1, 20)}\n  allow:\n"
        "    - path: 'RiskLimits/*:spec.scoped[*].max_order_qty'\n      min: 0.1\n      max: 10\n"
    )


GENERATORS: tuple[Callable[[random.Random, str], str], ...] = (
    risk_limits,
    rules,
    rules,
    breakers,
    bands,
    alerts,
    change_control,
)


def generate(directory: Path, count: int, seed: int) -> None:
    """Write ``count`` policy files of varied kinds, deterministic for a seed."""
    rng = random.Random(seed)
    for i in range(count):
        make = GENERATORS[i % len(GENERATORS)]
        name = f"gen-{make.__name__.replace('_', '-')}-{i:04d}"
        (directory / f"{name}.yaml").write_text(make(rng, name), encoding="utf-8")


def _best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU time of ``repeat`` runs (CPU time shrugs off a busy host)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        generate(directory, args.count, args.seed)
        start = time.perf_counter()
        report = lint_paths([directory])
        first = time.perf_counter() - start
        load = _best(lambda: load_documents([directory]), args.repeat)
        lint = _best(lambda: lint_paths([directory]), args.repeat)
    codes = statistics.multimode(d.code for d in report.diagnostics) if report.diagnostics else []
    print(f"files: {report.files}, findings: {len(report.diagnostics)} {codes}")
    print(f"lint_paths, first run (cold caches): {first:.3f} s")
    print(f"lint_paths, best of {args.repeat}: {lint[0]:.3f} s wall, {lint[1]:.3f} s CPU")
    print(
        f"load_documents alone (baseline), best of {args.repeat}:"
        f" {load[0]:.3f} s wall, {load[1]:.3f} s CPU"
    )
    print(f"lint / load (CPU): {lint[1] / load[1]:.2f}x; target: under 2 s for 200 files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
