"""Store costs for issue 16: commits/s per decision (SQLite as shipped, batched, memory),
controls() when nothing is new, and audit verification throughput.

    .venv/bin/python tools/bench_store.py [--records 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from riskctl.state import MemoryStore, NewRecord, StateStore
from riskctl.state.audit import verify
from riskctl.state.sqlite_store import SqliteStore

_BODY = {f"field_{i:02d}": "x" * 24 for i in range(30)}  # ~1 KB canonical JSON
_VALUE = "v" * 200


def _decision(i: int) -> tuple[dict[tuple[str, str], str | None], NewRecord]:
    rows: dict[tuple[str, str], str | None] = {
        ("breaker", str(i % 8)): _VALUE,
        ("feed", "binance:BTCUSDT"): _VALUE,
        ("session", "pnl"): _VALUE,
    }
    return rows, NewRecord(i, "decision", _BODY)


def _commits_per_s(store: StateStore, n: int, batch: int) -> float:
    start = time.perf_counter()
    for first in range(0, n, batch):
        rows: dict[tuple[str, str], str | None] = {}
        records = []
        for i in range(first, first + batch):
            changed, record = _decision(i)
            rows.update(changed)
            records.append(record)
        store.commit(rows, records)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"memory: {_commits_per_s(MemoryStore(), args.decisions, 1):,.0f} decisions/s")
        for batch in (1, 4, 16, 64):
            with SqliteStore(Path(tmp) / f"b{batch}.db") as store:
                rate = _commits_per_s(store, args.decisions, batch)
                print(f"sqlite batch {batch}: {rate:,.0f} decisions/s ({1e6 / rate:.1f} us each)")
        with SqliteStore(Path(tmp) / "v.db") as store:
            n = 10_000
            start = time.perf_counter()
            for _ in range(n):
                store.controls(0)
            print(f"controls() nothing new: {(time.perf_counter() - start) / n * 1e6:.2f} us")
            _commits_per_s(store, args.records, 1000)
            start = time.perf_counter()
            found = verify(store.audit())
            took = time.perf_counter() - start
            print(f"verify {args.records:,} records: {took:.2f} s, {len(found)} findings")


if __name__ == "__main__":
    main()
