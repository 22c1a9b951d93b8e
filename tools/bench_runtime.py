"""Benchmark the stateful runtime against the stateless gate on the same raw contexts.

Issue 16's figures: pre_trade decisions per second through ``StatefulGate`` with the
SQLite store and with the in-memory store, each as a ratio to ``Gate.evaluate`` on the same
raw dicts in the same run. Targets: in-memory at most 1.5x stateless; SQLite at least
20,000 decisions/s.

SQLite is measured as shipped (WAL, ``synchronous=NORMAL``: a returned commit survives
``kill -9``, not power loss), durable per decision (``evaluate``: one transaction each)
and with group commit (``evaluate_many`` over 16 and 256 decisions: one transaction per
batch, as ``riskctl run`` does with the lines already waiting). "SqliteStore.commit alone"
is the store's part: the same decisions' audit records committed one per transaction.

Timing is interleaved: the stream is cut into chunks, every path decides each chunk in
turn, and each chunk's best of ``--repeats`` runs counts, so a neighbour's load on this
shared machine hits every path alike. With ``--cli``, ``riskctl run`` is also timed end to
end as a subprocess fed through a pipe (startup, measured on empty input, shown apart).

    .venv/bin/python tools/bench_runtime.py [--contexts N] [--repeats R] [--cli N ...]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
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
from riskctl.state import MemoryStore, NewRecord, SqliteStore
from riskctl.state.store import canonical_body

POLICIES = Path(__file__).resolve().parents[1] / "policies"
RISKCTL = Path(sys.executable).parent / "riskctl"
CHUNK = 512  # contexts per interleaved chunk (a multiple of every batch size)
STATELESS = "stateless Gate.evaluate"

Decide = Callable[[Sequence[dict[str, Any]]], object]


def per_decision(runtime: StatefulGate) -> Decide:
    def decide(chunk: Sequence[dict[str, Any]]) -> None:
        for context in chunk:
            runtime.evaluate("pre_trade", context)

    return decide


def grouped(runtime: StatefulGate, size: int) -> Decide:
    def decide(chunk: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(chunk), size):
            runtime.evaluate_many([("pre_trade", c) for c in chunk[start : start + size]])

    return decide


def stateless(gate: Gate) -> Decide:
    def decide(chunk: Sequence[dict[str, Any]]) -> None:
        for context in chunk:
            gate.evaluate("pre_trade", context)

    return decide


def commits_alone(store: SqliteStore, records: Sequence[NewRecord]) -> Decide:
    """The store's own cost: one decision's audit record per transaction."""
    position = iter(records)

    def decide(chunk: Sequence[dict[str, Any]]) -> None:
        for _ in chunk:
            store.commit({}, [next(position)])

    return decide


def paths(gate: Gate, tmp: Path, repeat: int, records: Sequence[NewRecord]) -> dict[str, Decide]:
    def sqlite(name: str) -> StatefulGate:
        return StatefulGate(gate.fresh(), SqliteStore(tmp / f"{name}-{repeat}.db"))

    return {
        STATELESS: stateless(gate.fresh()),
        "MemoryStore, per decision": per_decision(StatefulGate(gate.fresh(), MemoryStore())),
        "MemoryStore, batches of 256": grouped(StatefulGate(gate.fresh(), MemoryStore()), 256),
        "SqliteStore, commit per decision": per_decision(sqlite("single")),
        "SqliteStore, group commit 16": grouped(sqlite("g16"), 16),
        "SqliteStore, group commit 256": grouped(sqlite("g256"), 256),
        "SqliteStore.commit alone (1 record)": commits_alone(
            SqliteStore(tmp / f"commit-{repeat}.db"), records
        ),
    }


def audit_records(gate: Gate, contexts: Sequence[dict[str, Any]]) -> list[NewRecord]:
    """The runtime's own audit records for ``contexts`` (text already encoded)."""
    store = MemoryStore()
    runtime = StatefulGate(gate.fresh(), store)
    for context in contexts:
        runtime.evaluate("pre_trade", context)
    return [NewRecord(r.at_ms, r.kind, r.body, canonical_body(r.body)) for r in store.audit()]


def measure(gate: Gate, contexts: list[dict[str, Any]], repeats: int) -> dict[str, float]:
    """Seconds per path: each chunk's best over ``repeats``, summed."""
    records = audit_records(gate, contexts)
    best: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            timed = paths(gate, Path(tmp), repeat, records)
            for index, start in enumerate(range(0, len(contexts), CHUNK)):
                chunk = contexts[start : start + CHUNK]
                for name, decide in timed.items():
                    gc.collect()
                    gc.disable()
                    began = time.perf_counter()
                    decide(chunk)
                    took = time.perf_counter() - began
                    gc.enable()
                    best[(name, index)] = min(best.get((name, index), took), took)
    totals: dict[str, float] = {}
    for (name, _), took in best.items():
        totals[name] = totals.get(name, 0.0) + took
    return totals


def cli_seconds(args: list[str], data: bytes) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [str(RISKCTL), "run", "--policies", str(POLICIES), *args],
        input=data,
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode())
    return took


def cli_table(sizes: Sequence[int]) -> None:
    """``riskctl run`` end to end: a subprocess fed raw pre_trade lines through a pipe."""
    print()
    print("`riskctl run` end to end (subprocess, stdin and stdout piped)")
    print("| input | mode | total s | startup s | decisions/s after startup |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        modes: dict[str, Callable[[str], list[str]]] = {
            "--memory": lambda _: ["--memory"],
            "--state FILE (group commit)": lambda n: ["--state", f"{tmp}/g{n}.db"],
            "--state FILE --max-batch 1": lambda n: [
                *("--state", f"{tmp}/s{n}.db"),
                *("--max-batch", "1"),
            ],
        }
        startup = cli_seconds(["--memory"], b"")
        for n in sizes:
            lines = (
                json.dumps({"stage": "pre_trade", "context": c}, default=str)
                for c in (as_input(m) for m in make_contexts(n, 1))
            )
            data = ("\n".join(lines) + "\n").encode()
            for mode, extra in modes.items():
                total = cli_seconds(extra(str(n)), data)
                rate = n / max(total - startup, 1e-9)
                print(f"| {n:,} lines | {mode} | {total:.2f} | {startup:.2f} | {rate:,.0f} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cli", type=int, nargs="*", default=[], metavar="N", help="time riskctl run on N lines"
    )
    args = parser.parse_args(argv)
    gate = Gate(load_bundle(POLICIES))
    contexts = [as_input(c) for c in make_contexts(args.contexts, 1)]
    totals = measure(gate, contexts, args.repeats)
    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "d.db") as probe:
        durability = probe.durability
    base = totals[STATELESS]
    print(
        f"{args.contexts:,} raw pre_trade contexts (example policies), chunks of {CHUNK},"
        f" best of {args.repeats}; SQLite {durability}"
    )
    print("| path | µs per decision | decisions/s | x stateless |")
    print("|---|---|---|---|")
    for name, took in totals.items():
        us = took / len(contexts) * 1e6
        print(f"| {name} | {us:.1f} | {1e6 / us:,.0f} | {took / base:.2f}x |")
    if args.cli:
        cli_table(args.cli)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
