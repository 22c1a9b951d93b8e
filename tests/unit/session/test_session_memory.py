"""read_session streams: a long gzip session is read in memory that does not grow with it."""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import pytest

from riskctl.session import BookEvent, SessionProblem, TradeEvent, read_session

LINES = 200_000
T0 = 1_763_647_200_000


def make_session(path: Path) -> int:
    """LINES canonical lines (book tops and trades, a bad line every 50,000); text bytes."""
    size = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as fp:
        for i in range(LINES):
            if i % 50_000 == 49_999:
                line = '{"type":"trade","price":\n'
            elif i % 2:
                side = "buy" if i % 3 else "sell"
                line = (
                    f'{{"type":"trade","venue":"binance","symbol":"BTC/USDT","id":"{i}",'
                    f'"price":"{60000 + i % 997}.{i % 100:02d}","qty":"0.0{i % 89 + 10}",'
                    f'"side":"{side}","ts_ms":{T0 + i},"recv_ms":{T0 + i + 5}}}\n'
                )
            else:
                bid = 60000 + i % 997
                line = (
                    f'{{"type":"book","venue":"binance","symbol":"BTC/USDT","bid":"{bid}",'
                    f'"ask":"{bid}.01","bid_qty":"1.5","ask_qty":"0.25","seq":{i},'
                    f'"ts_ms":{T0 + i},"recv_ms":{T0 + i + 5}}}\n'
                )
            size += len(line)
            fp.write(line)
    return size


@pytest.mark.slow
def test_when_a_200k_line_gzip_session_is_read_then_memory_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    text_bytes = make_session(path)
    counts = {"trade": 0, "book": 0, "problem": 0}

    tracemalloc.start()
    try:
        for number, item in enumerate(read_session(path), start=1):
            if isinstance(item, SessionProblem):
                counts["problem"] += 1
            elif isinstance(item, TradeEvent | BookEvent):
                counts[item.type] += 1
            if number == LINES // 4:  # caches and buffers warmed up, a bad line met
                warm, _ = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert counts == {"trade": 99_996, "book": 100_000, "problem": 4}
    assert text_bytes > 30_000_000
    # Bounded: reading the last three quarters takes no more than was held after the first
    # (buffers, caches), and that is a small fraction of the text the file holds.
    assert peak < warm + 256_000, (warm, peak)
    assert peak < text_bytes / 20, f"peak {peak} bytes for a {text_bytes}-byte session"
