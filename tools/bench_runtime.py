"""Benchmark the stateful runtime against the stateless gate on the same raw contexts.

Issue 16's figures: pre_trade decisions per second through ``StatefulGate`` with the
SQLite store (durable per decision, as shipped) and with the in-memory store, each as a
ratio to ``Gate.evaluate`` on the same raw dicts in the same run. Targets: in-memory at
most 1.5x stateless; SQLite at least 20,000 decisions/s.

    .venv/bin/python tools/bench_runtime.py [--contexts N] [--repeats R]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import as_input, make_contexts  # the same seeded example contexts

from riskctl import Gate, load_bundle
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore, SqliteStore

POLICIES = Path(__file__).resolve().parents[1] / "policies"


def timed(decide: Callable[[dict[str, Any]], object], items: Sequence[dict[str, Any]]) -> float:
    """Microseconds per decision, garbage collection off while timing."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for item in items:
            decide(item)
        return (time.perf_counter() - start) / len(items) * 1e6
    finally:
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    gate = Gate(load_bundle(POLICIES))
    raw = [as_input(c) for c in make_contexts(args.contexts, 1)]
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            memory = StatefulGate(gate.fresh(), MemoryStore())
            sqlite = StatefulGate(gate.fresh(), SqliteStore(Path(tmp) / f"state-{repeat}.db"))
            stateless = gate.fresh()
            runs = {
                "stateless Gate.evaluate": lambda c, g=stateless: g.evaluate("pre_trade", c),
                "StatefulGate, MemoryStore": lambda c, r=memory: r.evaluate("pre_trade", c),
                "StatefulGate, SqliteStore": lambda c, r=sqlite: r.evaluate("pre_trade", c),
            }
            for name, decide in runs.items():
                us = timed(decide, raw)
                best[name] = min(best.get(name, us), us)
            sqlite.close()
    base = best["stateless Gate.evaluate"]
    print(f"{args.contexts:,} raw pre_trade contexts (example policies), best of {args.repeats}")
    print("| path | µs per decision | decisions/s | x stateless |")
    print("|---|---|---|---|")
    for name, us in best.items():
        print(f"| {name} | {us:.1f} | {1e6 / us:,.0f} | {us / base:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
