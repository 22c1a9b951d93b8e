"""How building a gate and linting grow with the size of a policy set.

Generates RiskLimits documents of growing size (venues x symbols pairs, with scoped
entries proportional to the pairs: per venue, per symbol and per venue+symbol), then
times ``Gate(load_bundle(dir))`` (load, compile, warm every scope) and ``lint_paths``.
Linear growth shows as a time-per-pair that stays flat; the last column is the ratio of
each size's time per pair to the smallest size's.

    .venv/bin/python tools/bench_scale.py                  # 100, 300, 1000, 3000 pairs
    .venv/bin/python tools/bench_scale.py --pairs 100 1000 9000

Generated policies go to a temporary directory and are removed after the run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from riskctl import Gate, load_bundle
from riskctl.kinds import RiskLimits
from riskctl.lint import lint_paths

VENUES = ("binance", "okx", "bybit", "kraken", "kucoin", "bitget", "gateio", "mexc", "htx")
LIMITS = (
    "max_order_qty: 10, max_order_notional: 250000, price_collar_bps: 50, "
    "max_position_qty: 20, max_position_notional: 500000, max_daily_loss: 5000, "
    "max_drawdown: 5000, stale_market_data_ms: 2000"
)


def policy_text(pairs: int) -> str:
    """One RiskLimits document covering ``pairs`` (venue, symbol) pairs."""
    venues = VENUES[: max(3, -(-pairs // 1000))]  # a venue account lists at most 1,000 symbols
    per_venue = max(1, pairs // len(venues))
    symbols = [f"C{i:05d}/USDT" for i in range(per_venue)]
    lines = [
        "apiVersion: riskctl/v1",
        "kind: RiskLimits",
        "metadata: {name: scale, version: 1, owner: bench}",
        "spec:",
        "  environment: paper",
        "  venues:",
        *(
            f"    - {{venue: {v}, account: acct-{v}, symbols: [{', '.join(symbols)}]}}"
            for v in venues
        ),
        f"  defaults: {{{LIMITS}}}",
        "  scoped:",
    ]
    for venue in venues:
        lines.append(f"    - {{scope: {{venue: {venue}}}, max_order_qty: 9}}")
    for i, symbol in enumerate(symbols):
        lines.append(f"    - {{scope: {{symbol: '{symbol}'}}, max_order_qty: {5 + i % 4}}}")
        for venue in venues:
            lines.append(
                f"    - {{scope: {{venue: {venue}, symbol: '{symbol}'}}, "
                f"max_position_qty: {10 + i % 7}}}"
            )
    return "\n".join(lines) + "\n"


def measure(pairs: int) -> tuple[int, int, float, float]:
    with tempfile.TemporaryDirectory(prefix="riskctl-scale-") as tmp:
        text = policy_text(pairs)
        (Path(tmp) / "limits.yaml").write_text(text, encoding="utf-8")
        start = time.perf_counter()
        gate = Gate(load_bundle(tmp))
        build = time.perf_counter() - start
        start = time.perf_counter()
        lint_paths([tmp])
        lint = time.perf_counter() - start
        scoped = sum(len(d.spec.scoped) for d in gate.bundle.of_kind(RiskLimits))
    return pairs, scoped, build, lint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[100, 300, 1000, 3000])
    args = parser.parse_args()
    rows = [measure(n) for n in args.pairs]
    base_build = rows[0][2] / rows[0][0]
    base_lint = rows[0][3] / rows[0][0]
    header = ("pairs", 6), ("scoped", 7), ("build s", 8), ("lint s", 8), ("build/pair", 11)
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'lint/pair':>10}")
    for pairs, scoped, build, lint in rows:
        print(
            f"{pairs:>6} {scoped:>7} {build:>8.2f} {lint:>8.2f} "
            f"{build / pairs / base_build:>10.2f}x {lint / pairs / base_lint:>9.2f}x"
        )


if __name__ == "__main__":
    main()
