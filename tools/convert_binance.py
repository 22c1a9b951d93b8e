#!/usr/bin/env python3
"""Convert Binance public market-data dumps (data.binance.vision) into a riskctl session.

    tools/convert_binance.py BTCUSDT-trades-2025-11-20.zip ETHUSDT-trades-2025-11-20.zip \\
        --out day.jsonl.gz
    tools/convert_binance.py --symbol BTC/USDT:USDT BTCUSDT-bookTicker-2025-11-20.zip \\
        BTCUSDT-trades-2025-11-20.zip --out perp.jsonl.gz

Inputs (``.csv``, or the ``.zip`` the dumps ship as), kind told by the header, else the
file name, else the columns:

- ``trades``: spot, no header: ``id, price, qty, quote_qty, time, is_buyer_maker,
  is_best_match``; USD-M futures, a header ``id,price,qty,quote_qty,time,is_buyer_maker``.
- ``aggTrades``: spot, no header: ``agg_trade_id, price, qty, first_trade_id,
  last_trade_id, time, is_buyer_maker, is_best_match``; futures with a header
  (``agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker``).
- ``bookTicker`` (futures), a header ``update_id,best_bid_price,best_bid_qty,
  best_ask_price,best_ask_qty,transaction_time,event_time``.

Rules:

- ``is_buyer_maker`` true means the buyer's order rested, so the taker SOLD: side sell.
- Timestamps are read per value by magnitude (spot dumps switched from milliseconds to
  microseconds on 2025-01-01, and a merged set may hold both): a value of at least 1e14 is
  microseconds and at least 1e17 nanoseconds; both are cut down to whole milliseconds.
  Milliseconds stay below 1e14 until the year 5138; microseconds passed it in 1973.
- The dumps hold no receiver time, so ``recv_ms`` is the venue's: a trade's ``time``, a
  bookTicker's ``event_time`` (its ``transaction_time`` is ``ts_ms``). The header says so.
- bookTicker ``update_id`` becomes ``seq``: the ids rise but skip, as on the live stream.
- A side of the book with price 0 is empty (no bid, or no ask).
- Decimals are kept exact; trailing zeros after the point are dropped ("93576.00000000"
  is "93576", "0.00011000" is "0.00011").
- Several inputs are merged by time (``recv_ms``, then input order, then row) in one
  streaming k-way merge: memory holds one row per input, whatever the files' sizes.
- A malformed row is reported on stderr as ``path:row: message`` and skipped; the
  conversion goes on. Exit 0 when the output was written, 2 on bad usage or unreadable input.

The symbol is ``--symbol`` (unified, e.g. BTC/USDT, or BTC/USDT:USDT for a perpetual), an
input given as ``SYMBOL=PATH``, or else the file name's pair as spot (``BTCUSDT-...`` is
BTC/USDT).
"""

from __future__ import annotations

import argparse
import csv
import heapq
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from riskctl.fields import SYMBOL_PATTERN
from riskctl.session import BookEvent, SessionEvent, SessionHeader, TradeEvent, write_event
from riskctl.session.writer import open_session_writer

Kind = Literal["trades", "aggTrades", "bookTicker"]
KINDS: tuple[Kind, ...] = ("trades", "aggTrades", "bookTicker")
MICROS = 10**14  # at or above: microseconds (see the module docstring)
NANOS = 10**17
QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY")
TRUE, FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
# Column names -> the fields read from them, per kind (header names of the futures dumps).
HEADER_KINDS: dict[frozenset[str], Kind] = {
    frozenset({"id", "price", "qty", "quote_qty", "time", "is_buyer_maker"}): "trades",
    frozenset(
        {"agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id",
         "transact_time", "is_buyer_maker"}
    ): "aggTrades",
    frozenset(
        {"update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty",
         "transaction_time", "event_time"}
    ): "bookTicker",
}  # fmt: skip
# Positional columns of header-less files: the field each column holds.
POSITIONS: dict[Kind, tuple[str, ...]] = {
    "trades": ("id", "price", "qty", "quote_qty", "time", "is_buyer_maker", "is_best_match"),
    "aggTrades": (
        "agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id",
        "transact_time", "is_buyer_maker", "is_best_match",
    ),
    "bookTicker": (
        "update_id", "best_bid_price", "best_bid_qty", "best_ask_price", "best_ask_qty",
        "transaction_time", "event_time",
    ),
}  # fmt: skip
# Header-less spot files have one column more than futures ones (is_best_match).
MIN_COLUMNS: dict[Kind, int] = {"trades": 6, "aggTrades": 7, "bookTicker": 7}


class RowError(ValueError):
    """A row that cannot be converted; the message says why."""


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    symbol: str
    venue: str
    forced_kind: Kind | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    path: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.row}: convert.bad-row: {self.message}"


# -- values -------------------------------------------------------------------------------


def to_ms(text: str) -> int:
    """A Binance timestamp in ms, us or ns (told by magnitude) as whole milliseconds."""
    try:
        value = int(text)
    except ValueError:
        raise RowError(f"timestamp {text!r} is not a whole number") from None
    if value < 0:
        raise RowError(f"timestamp {value} is negative")
    if value >= NANOS:
        return value // 1_000_000
    if value >= MICROS:
        return value // 1000
    return value


def to_decimal(text: str, name: str) -> Decimal:
    """An exact decimal from the dump's text, trailing zeros after the point dropped."""
    text = text.strip()
    if "." in text and "e" not in text.lower():
        text = text.rstrip("0").rstrip(".") or "0"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{name} {text!r} is not a number") from None
    if not value.is_finite():
        raise RowError(f"{name} {text!r} is not a finite number")
    return value


def to_bool(text: str, name: str) -> bool:
    word = text.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise RowError(f"{name} {text!r} is not true or false")


def symbol_of(path: Path) -> str | None:
    """``BTCUSDT-trades-2025-11-20.zip`` -> ``BTC/USDT``; None when the name has no pair."""
    pair = path.name.split("-", 1)[0].upper()
    for quote in QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return f"{pair[: -len(quote)]}/{quote}"
    return None


# -- files ---------------------------------------------------------------------------------


def csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of a CSV file, or of every CSV member of a zip, streamed."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
            if not members:
                raise OSError(f"{path}: the zip holds no .csv file")
            for member in members:
                with archive.open(member) as raw:
                    yield from _rows(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        return
    with path.open(encoding="utf-8", newline="") as text:
        yield from _rows(text)


def _rows(text: io.TextIOBase | io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
    for number, cells in enumerate(csv.reader(text), start=1):
        if cells and any(cell.strip() for cell in cells):
            yield number, cells


def kind_of(cells: list[str], path: Path, forced: Kind | None) -> tuple[Kind, bool]:
    """(kind, whether this first row is a header) from the header, name, option or columns."""
    names = frozenset(cell.strip() for cell in cells)
    for required, kind in HEADER_KINDS.items():
        if required <= names:
            return kind, True
    if cells and not cells[0].strip().isdigit():
        raise RowError(f"a header of unknown columns: {','.join(cells)[:120]}")
    if forced is not None:
        return forced, False
    for kind in KINDS:
        if f"-{kind.lower()}-" in path.name.lower():
            return kind, False
    return _kind_by_columns(cells), False


def _kind_by_columns(cells: list[str]) -> Kind:
    def boolean(index: int) -> bool:
        return index < len(cells) and cells[index].strip().lower() in ("true", "false")

    if len(cells) in (6, 7) and boolean(5):
        return "trades"
    if len(cells) in (7, 8) and boolean(6):
        return "aggTrades"
    if len(cells) == 7:
        return "bookTicker"
    raise RowError(f"cannot tell the kind of a {len(cells)}-column file; give --kind")


# -- rows -> events ------------------------------------------------------------------------


def source_events(
    source: Source, on_problem: Callable[[RowProblem], None]
) -> Iterator[tuple[int, int, SessionEvent]]:
    """(recv_ms, row, event) of one input, in file order; bad rows go to ``on_problem``."""
    rows = csv_rows(source.path)
    first = next(rows, None)
    if first is None:
        return
    try:
        kind, is_header = kind_of(first[1], source.path, source.forced_kind)
    except RowError as exc:
        raise OSError(f"{source.path}: {exc}") from None
    columns = tuple(c.strip() for c in first[1]) if is_header else POSITIONS[kind]
    fewest = len(columns) if is_header else MIN_COLUMNS[kind]
    convert = CONVERTERS[kind]
    pending = rows if is_header else _chain(first, rows)
    for number, cells in pending:
        try:
            if not fewest <= len(cells) <= len(columns):
                raise RowError(f"{len(cells)} columns, expected {len(columns)}")
            event = convert(dict(zip(columns, cells, strict=False)), source)
        except RowError as exc:
            on_problem(RowProblem(str(source.path), number, str(exc)))
            continue
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"])
            on_problem(RowProblem(str(source.path), number, f"{where}: {error['msg']}"))
            continue
        yield event.recv_ms, number, event


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def _trade(row: dict[str, str], source: Source, *, id_column: str, qty_column: str,
           time_column: str) -> TradeEvent:  # fmt: skip
    time_ms = to_ms(row[time_column])
    taker_sold = to_bool(row["is_buyer_maker"], "is_buyer_maker")
    return TradeEvent(
        type="trade",
        venue=source.venue,
        symbol=source.symbol,
        id=row[id_column].strip(),
        price=to_decimal(row["price"], "price"),
        qty=to_decimal(row[qty_column], qty_column),
        side="sell" if taker_sold else "buy",
        ts_ms=time_ms,
        recv_ms=time_ms,
    )


def trade_event(row: dict[str, str], source: Source) -> TradeEvent:
    return _trade(row, source, id_column="id", qty_column="qty", time_column="time")


def agg_trade_event(row: dict[str, str], source: Source) -> TradeEvent:
    return _trade(
        row, source, id_column="agg_trade_id", qty_column="quantity", time_column="transact_time"
    )


def book_event(row: dict[str, str], source: Source) -> BookEvent:
    bid = to_decimal(row["best_bid_price"], "best_bid_price")
    ask = to_decimal(row["best_ask_price"], "best_ask_price")
    update_id = row["update_id"].strip()
    if not update_id.isdigit():
        raise RowError(f"update_id {update_id!r} is not a whole number")
    return BookEvent(
        type="book",
        venue=source.venue,
        symbol=source.symbol,
        bid=bid or None,  # 0: that side of the book is empty
        ask=ask or None,
        bid_qty=to_decimal(row["best_bid_qty"], "best_bid_qty") if bid else None,
        ask_qty=to_decimal(row["best_ask_qty"], "best_ask_qty") if ask else None,
        seq=int(update_id),
        ts_ms=to_ms(row["transaction_time"]),
        recv_ms=to_ms(row["event_time"]),
    )


CONVERTERS: dict[Kind, Callable[[dict[str, str], Source], SessionEvent]] = {
    "trades": trade_event,
    "aggTrades": agg_trade_event,
    "bookTicker": book_event,
}


def merged(
    sources: Sequence[Source], on_problem: Callable[[RowProblem], None]
) -> Iterator[SessionEvent]:
    """Every input's events merged by (recv_ms, input order, row): a streaming k-way merge."""
    streams = [_keyed(index, source, on_problem) for index, source in enumerate(sources)]
    for _, _, _, event in heapq.merge(*streams, key=lambda item: item[:3]):
        yield event


def _keyed(
    index: int, source: Source, on_problem: Callable[[RowProblem], None]
) -> Iterator[tuple[int, int, int, SessionEvent]]:
    for recv_ms, row, event in source_events(source, on_problem):
        yield recv_ms, index, row, event


# -- command line --------------------------------------------------------------------------


def parse_sources(args: argparse.Namespace) -> list[Source]:
    sources = []
    for given in args.inputs:
        symbol, _, rest = given.partition("=")
        if rest and re.fullmatch(SYMBOL_PATTERN, symbol):
            path, chosen = Path(rest), symbol
        else:
            path, chosen = Path(given), args.symbol or symbol_of(Path(given))
        if chosen is None:
            raise SystemExit(f"convert_binance: no symbol for {path}; give --symbol or SYMBOL=PATH")
        if not re.fullmatch(SYMBOL_PATTERN, chosen):
            raise SystemExit(f"convert_binance: {chosen!r} is not a unified symbol like BTC/USDT")
        sources.append(Source(path, chosen, args.venue, args.kind))
    return sources


def header_for(sources: Sequence[Source], name: str) -> SessionHeader:
    files = ", ".join(s.path.name for s in sources)
    return SessionHeader(
        type="session",
        name=name,
        description=(
            f"Converted from Binance public market data ({files}) by tools/convert_binance.py."
            " The dumps hold no receiver time: recv_ms is the venue's (a trade's time, a"
            " bookTicker's event_time), so stalls and clock skew of a real feed are absent."
        ),
        venues=sorted({s.venue for s in sources}),
        symbols=sorted({s.symbol for s in sources}),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Convert Binance trades, aggTrades and bookTicker dumps into a session."
    )
    parser.add_argument("inputs", nargs="+", metavar="[SYMBOL=]FILE", help=".csv or .zip dumps")
    parser.add_argument("--out", type=Path, required=True, help="output session (.jsonl[.gz])")
    parser.add_argument("--venue", default="binance", help="venue id (default: binance)")
    parser.add_argument("--symbol", help="unified symbol for every input, e.g. BTC/USDT")
    parser.add_argument("--kind", choices=KINDS, help="kind of header-less inputs")
    parser.add_argument("--name", help="session name (default: the output's stem)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sources = parse_sources(args)
    problems = 0

    def report(problem: RowProblem) -> None:
        nonlocal problems
        problems += 1
        print(problem, file=sys.stderr)

    name = args.name or args.out.name.split(".", 1)[0]
    count = 0
    try:
        with open_session_writer(args.out) as out:
            write_event(out, header_for(sources, name))
            for event in merged(sources, report):
                write_event(out, event)
                count += 1
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, csv.Error) as exc:
        print(f"convert_binance: {exc}", file=sys.stderr)
        return 2
    skipped = f", {problems} bad rows skipped" if problems else ""
    print(f"wrote {count} events to {args.out}{skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
