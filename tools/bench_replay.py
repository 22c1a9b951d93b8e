"""Benchmark ``riskctl replay``: events per second of the gate path, end-to-end time, memory.

Issue 18's figures, on a seeded synthetic session (two symbols at one venue, book tops and
trades; ``--events`` of them), with the example policies:

- **gate path**: the replay driver (stateful runtime with the in-memory store, gate, paper
  venue, collector; no report) over events already parsed, with and without the reference
  strategy, as events/s and as a ratio to ``Gate.evaluate`` (stateless) deciding the same
  ingest contexts in the same run, so a neighbour's load on this shared machine shows in
  both;
- **end to end**: ``riskctl replay`` as a subprocess on the session written to a gzip file
  (startup and reading included), wall time and peak RSS;
- **memory**: peak RSS of the end-to-end run at ``--events`` and at 4x as many: a replay
  streams its input, so the two should be close (the report's own series excluded: this
  runs without ``--report``).

    .venv/bin/python tools/bench_replay.py [--events N] [--no-strategy] [--skip-e2e]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskctl import Gate
from riskctl.runtime import StatefulGate
from riskctl.session import parse_line
from riskctl.state import MemoryStore
from riskctl.venues.replay.command import load_strategy
from riskctl.venues.replay.driver import Replay, ReplayOptions

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
STRATEGY = REPO / "tools" / "strategies" / "avellaneda_stoikov.py"
T0 = 1_765_000_000_000


def session_lines(events: int, seed: int = 11) -> Iterator[str]:
    """A header, then ``events`` book tops and trades: BTC/USDT and ETH/USDT by turns,
    one every 50 ms, a random walk of a few bps per step."""
    rng = random.Random(seed)
    yield json.dumps({"type": "session", "name": "bench", "venues": ["binance"]})
    mids = {"BTC/USDT": 60_000.0, "ETH/USDT": 3_000.0}
    seq, t = 1, T0
    for i in range(events):
        t += 50
        symbol = "BTC/USDT" if i % 2 else "ETH/USDT"
        mid = mids[symbol] = mids[symbol] * (1 + rng.gauss(0, 0.0001))
        seq += rng.randint(1, 2)
        if i % 5 == 0:
            line: dict[str, Any] = {
                "type": "trade", "venue": "binance", "symbol": symbol, "id": str(seq),
                "price": f"{mid:.2f}", "qty": "0.01", "side": rng.choice(("buy", "sell")),
                "ts_ms": t - 2, "recv_ms": t,
            }  # fmt: skip
        else:
            line = {
                "type": "book", "venue": "binance", "symbol": symbol, "bid": f"{mid - 0.01:.2f}",
                "ask": f"{mid + 0.01:.2f}", "bid_qty": "1", "ask_qty": "1", "seq": seq,
                "ts_ms": t - 3, "recv_ms": t,
            }  # fmt: skip
        yield json.dumps(line)


def parsed(events: int) -> list[Any]:
    return [
        parse_line(text, line=n, path="bench") for n, text in enumerate(session_lines(events), 1)
    ]


def gate_baseline(gate: Gate, items: list[Any]) -> float:
    """Seconds for the stateless gate to decide each book or trade as an ingest context."""
    contexts = []
    for event in items:
        kind = getattr(event, "type", None)
        if kind not in ("book", "trade"):
            continue
        body: dict[str, Any] = {"type": kind, "venue": event.venue, "symbol": event.symbol,
                                "ts_ms": event.ts_ms}  # fmt: skip
        if kind == "book":
            body.update(bid=event.bid, ask=event.ask, seq=event.seq)
        else:
            body.update(price=event.price, size=event.qty, idempotency_key=f"trade:{event.id}")
        contexts.append({"now_ms": event.recv_ms, "event": body})
    started = time.perf_counter()
    for context in contexts:
        gate.evaluate("ingest", context)
    return time.perf_counter() - started


def replay_seconds(gate: Gate, items: list[Any], *, strategy: bool) -> tuple[float, int]:
    """Seconds for one replay of the parsed events, and the decisions it made."""
    runtime = StatefulGate(gate, MemoryStore(), audit=False)
    chosen = load_strategy(str(STRATEGY), 0) if strategy else None
    replay = Replay(runtime, ["binance"], strategy=chosen, options=ReplayOptions())
    started = time.perf_counter()
    collector = replay.run(items)
    elapsed = time.perf_counter() - started
    decisions = sum(sum(c.values()) for c in collector.summary()["decisions"].values())
    return elapsed, decisions


def end_to_end(events: int, *, strategy: bool) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of ``riskctl replay`` on a gzip session of ``events``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as out:
            for line in session_lines(events):
                out.write(line + "\n")
        command = [str(REPO / ".venv" / "bin" / "riskctl"), "replay", str(path),
                   "--policies", str(POLICIES), "--format", "json"]  # fmt: skip
        if strategy:
            command += ["--strategy", str(STRATEGY)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return elapsed, max(peak, before) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="events in the session")
    parser.add_argument("--no-strategy", action="store_true", help="recorded flow only")
    parser.add_argument("--skip-e2e", action="store_true", help="skip the subprocess runs")
    parser.add_argument("--repeat", type=int, default=3, help="replays of each kind; best kept")
    args = parser.parse_args(argv)
    gate = Gate.from_path(POLICIES)
    items = parsed(args.events)
    baseline = min(gate_baseline(gate, items) for _ in range(args.repeat))
    print(f"session: {args.events:,} events (book tops and trades, 2 symbols)")
    print(f"  Gate.evaluate, ingest only (baseline): {args.events / baseline:>10,.0f} events/s")
    for strategy in (False,) if args.no_strategy else (False, True):
        # The best of --repeat runs: a neighbour's load only ever slows a run down.
        runs = [replay_seconds(gate, items, strategy=strategy) for _ in range(args.repeat)]
        seconds, decisions = min(runs)
        label = "replay with the reference strategy" if strategy else "replay, no strategy"
        print(
            f"  {label:<38} {args.events / seconds:>10,.0f} events/s "
            f"({decisions:,} decisions, {seconds / baseline:.1f}x baseline)"
        )
    if args.skip_e2e:
        return 0
    strategy = not args.no_strategy
    # A new interpreter each: ru_maxrss of children is the largest child so far, so the
    # smaller run goes first.
    for events in (args.events, 4 * args.events):
        wall, rss = end_to_end(events, strategy=strategy)
        shown = f"{events:>9,} events: {wall:6.1f} s, peak RSS {rss:,.0f} MiB"
        print(f"  riskctl replay end to end, {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
