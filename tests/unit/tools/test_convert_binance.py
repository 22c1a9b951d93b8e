"""tools/convert_binance.py on small dumps in the shapes data.binance.vision ships."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.session import BookEvent, SessionProblem, TradeEvent, read_header, read_session

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / "tools" / "convert_binance.py"

# Real rows (2024: milliseconds; from 2025 spot times are microseconds).
SPOT_TRADES = [
    "3301093585,42283.58000000,0.00236000,99.78924880,1704067200009,True,True",
    "4367341301,93576.00000000,0.00011000,10.29336000,1735689600047123,False,True",
    "4367341302,93576.01000000,0.01000000,935.76010000,1735689600047999,True,True",
]
FUTURES_TRADES = [
    "id,price,qty,quote_qty,time,is_buyer_maker",
    "5849013880,93530.10,0.003,280.59030,1735689600037,true",
    "5849013881,93530.00,0.120,11223.60000,1735689600040,false",
]
BOOK_TICKER = [
    "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time",
    "6212340034501,93530.00,5.713,93530.10,2.207,1735689600003,1735689600008",
    "6212340034517,93530.00,5.700,93530.10,2.100,1735689600012,1735689600015",
    "6212340034530,0,0,93530.20,0.500,1735689600020,1735689600021",
]
SPOT_AGG_TRADES = [
    "3364386140,93576.00000000,0.00011000,4367341301,4367341301,1735689600047123,False,True",
]


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_binance_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_binance_tool"] = module
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def csv_file(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def convert(tmp_path: Path, *args: str) -> tuple[list[Any], str]:
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, str(TOOL), *args, "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return list(read_session(out)), result.stderr


def test_spot_trades_without_header_in_ms_and_us_become_trades_with_the_taker_side(
    tmp_path: Path,
) -> None:
    source = csv_file(tmp_path / "BTCUSDT-trades-2025-01-01.csv", SPOT_TRADES)

    events, stderr = convert(tmp_path, str(source))

    assert events == [
        TradeEvent(type="trade", venue="binance", symbol="BTC/USDT", id="3301093585",
                   price=Decimal("42283.58"), qty=Decimal("0.00236"), side="sell",
                   ts_ms=1704067200009, recv_ms=1704067200009),
        TradeEvent(type="trade", venue="binance", symbol="BTC/USDT", id="4367341301",
                   price=Decimal("93576"), qty=Decimal("0.00011"), side="buy",
                   ts_ms=1735689600047, recv_ms=1735689600047),
        TradeEvent(type="trade", venue="binance", symbol="BTC/USDT", id="4367341302",
                   price=Decimal("93576.01"), qty=Decimal("0.01"), side="sell",
                   ts_ms=1735689600047, recv_ms=1735689600047),
    ]  # fmt: skip
    assert "wrote 3 events" in stderr


def test_futures_trades_with_a_header_are_read_by_their_column_names(tmp_path: Path) -> None:
    source = csv_file(tmp_path / "BTCUSDT-trades-2025-01-01.csv", FUTURES_TRADES)

    events, _ = convert(tmp_path, "--symbol", "BTC/USDT:USDT", str(source))

    assert [(e.id, e.price, e.qty, e.side, e.symbol) for e in events] == [
        ("5849013880", Decimal("93530.1"), Decimal("0.003"), "sell", "BTC/USDT:USDT"),
        ("5849013881", Decimal("93530"), Decimal("0.12"), "buy", "BTC/USDT:USDT"),
    ]


def test_book_ticker_keeps_update_ids_as_seq_and_an_empty_side_as_none(tmp_path: Path) -> None:
    source = csv_file(tmp_path / "BTCUSDT-bookTicker-2025-01-01.csv", BOOK_TICKER)

    events, _ = convert(tmp_path, "BTC/USDT:USDT=" + str(source))

    assert events[0] == BookEvent(
        type="book", venue="binance", symbol="BTC/USDT:USDT", bid=Decimal("93530"),
        ask=Decimal("93530.1"), bid_qty=Decimal("5.713"), ask_qty=Decimal("2.207"),
        seq=6212340034501, ts_ms=1735689600003, recv_ms=1735689600008,
    )  # fmt: skip
    assert [e.seq for e in events] == [6212340034501, 6212340034517, 6212340034530]
    assert (events[2].bid, events[2].bid_qty, events[2].ask) == (None, None, Decimal("93530.2"))


def test_spot_agg_trades_in_a_zip_become_trades_named_by_their_agg_id(tmp_path: Path) -> None:
    archive = tmp_path / "BTCUSDT-aggTrades-2025-01-01.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("BTCUSDT-aggTrades-2025-01-01.csv", "\n".join(SPOT_AGG_TRADES) + "\n")

    events, _ = convert(tmp_path, str(archive))

    assert [(e.id, e.ts_ms, e.side) for e in events] == [("3364386140", 1735689600047, "buy")]


def test_when_a_row_is_malformed_then_it_is_located_on_stderr_and_the_rest_converts(
    tmp_path: Path,
) -> None:
    rows = [
        FUTURES_TRADES[0],
        FUTURES_TRADES[1],
        "5849013882,abc,0.1,1,1735689600041,true",
        "5849013883,93530.00,0.1,1,1735689600042",
        "5849013884,-5,0.1,1,1735689600043,true",
        "5849013885,93530.00,0.1,1,1735689600044,maybe",
        FUTURES_TRADES[2].replace("600040", "600045"),
    ]
    source = csv_file(tmp_path / "ETHUSDT-trades-2025-01-01.csv", rows)

    events, stderr = convert(tmp_path, str(source))

    assert [e.id for e in events] == ["5849013880", "5849013881"]
    problems = [line for line in stderr.splitlines() if "convert.bad-row" in line]
    assert problems == [
        f"{source}:3: convert.bad-row: price 'abc' is not a number",
        f"{source}:4: convert.bad-row: 5 columns, expected 6",
        f"{source}:5: convert.bad-row: price: Input should be greater than 0",
        f"{source}:6: convert.bad-row: is_buyer_maker 'maybe' is not true or false",
    ]
    assert "4 bad rows skipped" in stderr


def test_several_inputs_merge_by_time_then_input_order(tmp_path: Path) -> None:
    book = csv_file(tmp_path / "BTCUSDT-bookTicker-2025-01-01.csv", BOOK_TICKER)
    trades = csv_file(tmp_path / "BTCUSDT-trades-2025-01-01.csv", FUTURES_TRADES)
    late = csv_file(
        tmp_path / "ETHUSDT-trades-2025-01-01.csv",
        ["3301093585,3000.5,1,3000.5,1735689600008,True,True"],  # the book's first recv_ms
    )

    events, _ = convert(tmp_path, "--symbol", "BTC/USDT:USDT", str(book), str(trades), str(late))

    assert [(e.type, e.recv_ms) for e in events] == [
        ("book", 1735689600008),
        ("trade", 1735689600008),  # a tie: the earlier input first
        ("book", 1735689600015),
        ("book", 1735689600021),
        ("trade", 1735689600037),
        ("trade", 1735689600040),
    ]


def test_the_output_header_says_recv_ms_is_the_venue_time_and_gzip_is_written(
    tmp_path: Path,
) -> None:
    source = csv_file(tmp_path / "BTCUSDT-trades-2025-01-01.csv", SPOT_TRADES)
    out = tmp_path / "day.jsonl.gz"

    assert tool.main([str(source), "--out", str(out)]) == 0

    header = read_header(out)
    assert header is not None
    assert header.name == "day"
    assert (header.venues, header.symbols) == (["binance"], ["BTC/USDT"])
    assert "recv_ms is the venue's" in (header.description or "")
    items = list(read_session(out))
    assert len(items) == 3
    assert not any(isinstance(item, SessionProblem) for item in items)


def test_when_no_symbol_can_be_told_then_usage_error(tmp_path: Path) -> None:
    source = csv_file(tmp_path / "trades.csv", SPOT_TRADES)

    with pytest.raises(SystemExit, match="no symbol"):
        tool.main([str(source), "--out", str(tmp_path / "o.jsonl")])


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1704067200009", 1704067200009),  # milliseconds
        ("1735689600047123", 1735689600047),  # microseconds: cut to the millisecond
        ("1735689600047999", 1735689600047),
        ("1735689600047123456", 1735689600047),  # nanoseconds
        ("99999999999999", 99999999999999),  # the largest value read as milliseconds
        ("100000000000000", 100000000000),  # the smallest read as microseconds
    ],
)
def test_timestamps_are_read_by_magnitude(text: str, ms: int) -> None:
    assert tool.to_ms(text) == ms


@given(st.lists(st.lists(st.integers(0, 50), max_size=8).map(sorted), min_size=1, max_size=4))
def test_the_merge_is_ordered_by_time_and_loses_no_row(times: list[list[int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sources = []
        for index, stream in enumerate(times):
            rows = [f"{index}{n:02d},1,1,1,{1735689600000 + t},true" for n, t in enumerate(stream)]
            path = csv_file(Path(folder) / f"in{index}.csv", [*rows, ""] if rows else [""])
            sources.append(tool.Source(path, "BTC/USDT", "binance", "trades"))

        events = list(tool.merged(sources, lambda problem: None))

    # By time; a tie keeps input order, then row order: a stable merge, no row lost.
    expected = sorted((t, i, n) for i, s in enumerate(times) for n, t in enumerate(s))
    assert [e.id for e in events] == [f"{i}{n:02d}" for _, i, n in expected]
    assert [e.recv_ms for e in events] == [1735689600000 + t for t, _, _ in expected]
