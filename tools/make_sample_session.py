#!/usr/bin/env python3
"""Generate ``tools/sessions/sample.jsonl.gz``: a seeded, synthetic 2.5-hour session that
makes every breaker, band, alert and typed limit of ``policies/`` fire on a replay.

    tools/make_sample_session.py                      # the committed sample (seed 20261120)
    tools/make_sample_session.py --minutes 2 --out /tmp/short.jsonl.gz
    tools/make_sample_session.py --timeline           # what happens when, then exit

BTC/USDT and ETH/USDT on binance (book tops every ~250 ms, trades), ETH/USDT on okx (book
tops every ~500 ms, contiguous ids), balance snapshots every 5 s, and at fixed minutes
the episodes of :data:`SCHEDULE` (README.md beside the sample has the table and what each
one makes fire). ``--minutes`` cuts the session short: episodes past the end are left out.

Deterministic: the same seed and minutes give the same bytes (gzip without a timestamp;
prices come from integer ticks and random draws without libm, so no platform's ``exp`` or
``log`` can move a tick). Written with :func:`riskctl.session.open_session_writer`; every
line is a canonical event except the two deliberately broken ones (``BROKEN_LINES``).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from riskctl.session import (
    BalanceEvent,
    BookEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    SessionHeader,
    SignalEvent,
    TradeEvent,
    VenueEvent,
    open_session_writer,
    write_event,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tools" / "sessions" / "sample.jsonl.gz"
DEFAULT_SEED = 20261120
DEFAULT_MINUTES = 150
T0_MS = 1_795_179_600_000  # 2026-11-20 13:00:00 UTC
MINUTE = 60_000
SECOND = 1_000
GRID_MS = 50  # resolution of the price paths
BROKEN_LINES = (
    '{"type": "book", "venue": "binance", "symbol": "BTC/USDT", "bid": "600',  # a torn write
    '{"type": "heartbeat", "venue": "binance", "recv_ms": %d}',  # a type the format lacks
)

Side = Literal["buy", "sell"]
D = Decimal

# Minute of the session each episode starts at (README.md: "What happens when").
SCHEDULE: dict[str, float] = {
    "duplicates": 15,
    "broken_lines": 15.25,
    "clock_skew": 20,
    "no_timestamps": 25,
    "stale_prices": 30,
    "bad_print": 35,
    "crossed_book": 35.5,
    "feed_stall": 40,
    "okx_gaps": 45,
    "limit_probes": 50,
    "order_burst": 52,
    "okx_open_orders": 55,
    "okx_amends": 57,
    "baskets": 60,
    "rate_limits": 70,
    "venue_errors": 71,
    "outage": 73,
    "low_balance": 85,
    "btc_ramp": 90,
    "eth_ramp": 100,
    "crash_build": 125,
    "stale_balance": 126,
    "flash_crash": 128,
}


@dataclass(frozen=True, slots=True)
class Feed:
    """One venue's market in one symbol: grid, cadence and how it numbers book tops."""

    venue: str
    symbol: str
    tick: Decimal
    step: Decimal
    path: str  # which price path it follows
    book_ms: int
    trade_gap_ms: tuple[int, int]  # a trade every so many ms (uniform)
    seq_skip: int  # book ids rise by 1..seq_skip (1: contiguous)
    basis: float = 0.0  # offset from the path, quote units

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.symbol}"


BTC = Feed("binance", "BTC/USDT", D("0.01"), D("0.00001"), "BTC", 250, (100, 900), 40)
ETH = Feed("binance", "ETH/USDT", D("0.01"), D("0.0001"), "ETH", 250, (100, 900), 40)
OKX_ETH = Feed("okx", "ETH/USDT", D("0.01"), D("0.000001"), "ETH", 500, (500, 3500), 1, 0.3)
FEEDS = (BTC, ETH, OKX_ETH)
START_PRICE = {"BTC": 60_000.0, "ETH": 3_000.0}
# Percent moves of the flash crash: (seconds after its start, move) pieces, linear between.
CRASH = {
    "BTC": ((0, 0.0), (15, -9.0), (35, -8.6), (95, -5.0), (700, -3.5)),
    "ETH": ((0, 0.0), (15, -6.0), (35, -5.8), (95, -3.5), (700, -2.5)),
}


class Draws:
    """Seeded draws from ``random.random`` and integers only: no libm, so no platform drift."""

    def __init__(self, seed: int, name: str) -> None:
        self._rng = random.Random(f"{seed}:{name}")

    def normal(self) -> float:
        """About N(0, 1): Irwin-Hall, twelve uniforms less six."""
        return sum(self._rng.random() for _ in range(12)) - 6.0

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self._rng.random()

    def int(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def chance(self, p: float) -> bool:
        return self._rng.random() < p


class PricePath:
    """A mean-reverting random walk of the mid (relative to its start), on a 50 ms grid."""

    def __init__(self, draws: Draws, *, start: float, steps: int, crash_at_ms: int | None):
        sigma = 0.6 / math.sqrt(365 * 86_400) * math.sqrt(GRID_MS / 1000)  # 60% a year
        pull = GRID_MS / 1000 / 1800  # half a 30-minute memory
        self._start, self._crash_at = start, crash_at_ms
        self._x: list[float] = []
        x = 0.0
        for _ in range(steps + 1):
            x += -pull * x + sigma * draws.normal()
            x = min(0.012, max(-0.012, x))  # BTC stays under 60,750: four BTC fit 250k
            self._x.append(x)

    def mid(self, at_ms: int, crash: tuple[tuple[int, float], ...]) -> float:
        index = min(len(self._x) - 1, max(0, (at_ms - T0_MS) // GRID_MS))
        return self._start * (1 + self._x[index]) * (1 + _crash_move(crash, at_ms, self._crash_at))


def _crash_move(pieces: tuple[tuple[int, float], ...], at_ms: int, start: int | None) -> float:
    if start is None or at_ms < start:
        return 0.0
    seconds = (at_ms - start) / 1000
    for (s0, m0), (s1, m1) in itertools.pairwise(pieces):
        if seconds <= s1:
            return (m0 + (m1 - m0) * (seconds - s0) / (s1 - s0)) / 100
    return pieces[-1][1] / 100


WindowKind = Literal["stall", "skew", "no_ts", "stale", "very_stale", "gaps", "wide"]


@dataclass(frozen=True, slots=True)
class Window:
    """An episode that changes how a feed's book tops look while it lasts."""

    kind: WindowKind
    start: int
    end: int
    feeds: frozenset[str]


@dataclass(slots=True)
class Top:
    recv: int
    bid: int  # in ticks
    ask: int


@dataclass(slots=True)
class Line:
    key: tuple[int, int, int]  # (arrival ms, priority, counter): the order lines are written
    item: Any  # a session event, or the text of a broken line


@dataclass
class Sample:
    """Everything one seed and length generate, as lines in arrival order."""

    seed: int
    minutes: float
    lines: list[Line] = field(default_factory=list)
    tops: dict[str, list[Top]] = field(default_factory=dict)
    top_times: dict[str, list[int]] = field(default_factory=dict)
    book_lines: dict[str, list[Line]] = field(default_factory=dict)
    trade_lines: dict[str, list[Line]] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)
    desk_position: dict[str, Decimal] = field(default_factory=dict)
    _count: int = 0
    _ids: int = 0

    @property
    def end(self) -> int:
        return T0_MS + int(self.minutes * MINUTE)

    def at(self, episode: str, offset_s: float = 0) -> int:
        return T0_MS + int(SCHEDULE[episode] * MINUTE + offset_s * SECOND)

    def has(self, episode: str, duration_s: float = 0) -> bool:
        return self.at(episode, duration_s) < self.end

    def add(self, arrival: int, item: Any, priority: int = 1) -> Line:
        self._count += 1
        line = Line((arrival, priority, self._count), item)
        self.lines.append(line)
        return line

    def next_id(self, prefix: str = "desk") -> str:
        self._ids += 1
        return f"{prefix}{self._ids:05d}"  # alphanumeric: okx clOrdId takes nothing else

    def top(self, feed: Feed, at: int) -> Top:
        """The last regular book top of ``feed`` before ``at``."""
        index = bisect.bisect_left(self.top_times[feed.key], at) - 1
        return self.tops[feed.key][max(index, 0)]

    def next_top(self, feed: Feed, at: int) -> Top:
        """The first regular book top of ``feed`` after ``at``."""
        index = bisect.bisect_right(self.top_times[feed.key], at)
        return self.tops[feed.key][min(index, len(self.tops[feed.key]) - 1)]

    def in_window(self, kind: str, feed: Feed, at: int) -> bool:
        return any(
            w.kind == kind and w.start <= at < w.end and feed.key in w.feeds for w in self.windows
        )


def price(feed: Feed, ticks: int) -> Decimal:
    return Decimal(ticks) * feed.tick


def qty(feed: Feed, steps: int) -> Decimal:
    return Decimal(steps) * feed.step


def ticks_of(feed: Feed, value: float) -> int:
    return int(value / float(feed.tick))


# -- the market -----------------------------------------------------------------------------


def market(sample: Sample) -> None:
    """Book tops and trades of every feed, shaped by the episodes' windows."""
    steps = int(sample.minutes * MINUTE) // GRID_MS + 1
    crash = sample.at("flash_crash") if sample.has("flash_crash") else None
    paths = {
        name: PricePath(Draws(sample.seed, f"path:{name}"), start=p, steps=steps, crash_at_ms=crash)
        for name, p in START_PRICE.items()
    }
    for feed in FEEDS:
        books(sample, feed, paths[feed.path], Draws(sample.seed, f"books:{feed.key}"))
        trades(sample, feed, Draws(sample.seed, f"trades:{feed.key}"))


def books(sample: Sample, feed: Feed, path: PricePath, draws: Draws) -> None:
    tops = sample.tops.setdefault(feed.key, [])
    times = sample.top_times.setdefault(feed.key, [])
    lines = sample.book_lines.setdefault(feed.key, [])
    crash = CRASH[feed.path]
    at = T0_MS + draws.int(0, feed.book_ms)
    seq = 70_000_000_000 if feed.venue == "binance" else 1_900_000
    frozen: Top | None = None
    while at < sample.end:
        if not sample.in_window("stall", feed, at):
            seq += draws.int(1, feed.seq_skip)
            if sample.in_window("gaps", feed, at) and draws.chance(0.5):
                seq += draws.int(1, 3)  # okx numbers every update: a skip is a lost message
            mid = path.mid(at, crash) + feed.basis
            top = _touch(feed, mid, draws, wide=sample.in_window("wide", feed, at))
            stale = sample.in_window("stale", feed, at) or sample.in_window("very_stale", feed, at)
            frozen = (frozen or Top(at, top.bid, top.ask)) if stale else None
            shown = frozen or top
            lines.append(
                sample.add(at, _book_event(sample, feed, draws, at=at, top=shown, seq=seq))
            )
            if not stale:
                tops.append(Top(at, top.bid, top.ask))
                times.append(at)
        at += feed.book_ms + draws.int(-feed.book_ms // 5, feed.book_ms // 5)


def _touch(feed: Feed, mid: float, draws: Draws, *, wide: bool) -> Top:
    center = ticks_of(feed, mid)
    spread = 1 if draws.chance(0.8) else draws.int(2, 6)
    if wide:  # a flash crash empties the book: 2-30 bps wide
        spread = int(center * draws.uniform(2, 30) / 10_000)
    bid = center - spread // 2
    return Top(0, bid, bid + spread)


def _book_event(
    sample: Sample, feed: Feed, draws: Draws, *, at: int, top: Top, seq: int
) -> BookEvent:
    ts: int | None = at - draws.int(1, 8)
    if feed.venue == "binance" and draws.chance(0.2):
        ts = at + draws.int(1, 15)  # binance's clock runs a few ms ahead of ours
    if sample.in_window("skew", feed, at):
        ts = at + draws.int(60, 120)  # an NTP step: quotes 60-120 ms "from the future"
    if sample.in_window("stale", feed, at):
        ts = at - draws.int(2_200, 2_900)  # the venue's engine lags: old, frozen quotes
    if sample.in_window("very_stale", feed, at):
        ts = at - draws.int(3_100, 4_000)
    if sample.in_window("no_ts", feed, at):
        ts = None
    lot = 1000 if feed.path == "BTC" else 100
    return BookEvent(
        type="book",
        venue=feed.venue,
        symbol=feed.symbol,
        bid=price(feed, top.bid),
        ask=price(feed, top.ask),
        bid_qty=qty(feed, draws.int(1, 400) * lot),
        ask_qty=qty(feed, draws.int(1, 400) * lot),
        seq=seq,
        ts_ms=ts,
        recv_ms=at,
    )


def trades(sample: Sample, feed: Feed, draws: Draws) -> None:
    trade_id = 5_100_000_000 if feed.venue == "binance" else 880_000_000
    at = T0_MS + draws.int(*feed.trade_gap_ms)
    lot = 100 if feed.path == "BTC" else 10
    while at < sample.end:
        quiet = any(sample.in_window(kind, feed, at) for kind in ("stall", "stale", "very_stale"))
        if not quiet:
            trade_id += 1
            top = sample.top(feed, at)
            side: Side = "buy" if draws.chance(0.5) else "sell"
            event = TradeEvent(
                type="trade",
                venue=feed.venue,
                symbol=feed.symbol,
                id=str(trade_id),
                price=price(feed, top.ask if side == "buy" else top.bid),
                qty=qty(feed, draws.int(1, 300) * lot),
                side=side,
                ts_ms=None if sample.in_window("no_ts", feed, at) else at - draws.int(1, 6),
                recv_ms=at,
            )
            sample.trade_lines.setdefault(feed.key, []).append(sample.add(at, event))
        at += draws.int(*feed.trade_gap_ms)


# -- windows: episodes that change how the feeds look ---------------------------------------


def windows(sample: Sample) -> None:
    """Register the episodes that reshape book tops; before :func:`market` runs."""
    every = frozenset(f.key for f in FEEDS)
    plan: list[tuple[str, WindowKind, int, int, set[str]]] = [
        ("clock_skew", "skew", 0, 40, {ETH.key}),
        ("no_timestamps", "no_ts", 0, 120, {ETH.key}),
        ("stale_prices", "stale", 0, 20, {BTC.key}),
        ("stale_prices", "very_stale", 20, 26, {BTC.key}),
        ("feed_stall", "stall", 0, 16, every),
        ("okx_gaps", "gaps", 0, 8, {OKX_ETH.key}),
        ("flash_crash", "wide", 10, 40, {BTC.key, ETH.key}),
    ]
    for episode, kind, start_s, end_s, keys in plan:
        if sample.has(episode):
            start, end = sample.at(episode, start_s), sample.at(episode, end_s)
            sample.windows.append(Window(kind, start, end, frozenset(keys)))


# -- data faults: duplicates, late and broken lines, bad prints ------------------------------


def data_faults(sample: Sample, draws: Draws) -> None:
    if sample.has("duplicates", 60):
        for feed in (BTC, ETH):
            for n in range(4):
                _duplicate_book(sample, feed, sample.at("duplicates", 5 + 14 * n))
                _late_book(sample, feed, sample.at("duplicates", 12 + 14 * n))
                _duplicate_trade(sample, feed, sample.at("duplicates", 9 + 14 * n))
        _thread_clocks(sample, draws)
    if sample.has("broken_lines", 10):
        sample.add(sample.at("broken_lines"), BROKEN_LINES[0])
        at = sample.at("broken_lines", 10)
        sample.add(at, BROKEN_LINES[1] % at)
    if sample.has("bad_print", 1):
        _bad_print(sample)
    if sample.has("crossed_book", 10):
        _odd_books(sample)


def _line_after(lines: list[Line], at: int) -> int:
    return next(i for i, line in enumerate(lines) if line.key[0] >= at)


def _duplicate_book(sample: Sample, feed: Feed, at: int) -> None:
    """The same top delivered twice (a reconnect replays the last message)."""
    original = sample.book_lines[feed.key][_line_after(sample.book_lines[feed.key], at)]
    recv = original.key[0] + 3
    sample.add(recv, original.item.model_copy(update={"recv_ms": recv}))


def _late_book(sample: Sample, feed: Feed, at: int) -> None:
    """A top that arrives after the next one: its id is below the last seen."""
    lines = sample.book_lines[feed.key]
    i = _line_after(lines, at)
    late, nxt = lines[i], lines[i + 1]
    recv = nxt.key[0] + 2
    late.key = (recv, late.key[1], late.key[2])
    late.item = late.item.model_copy(update={"recv_ms": recv})


def _duplicate_trade(sample: Sample, feed: Feed, at: int) -> None:
    lines = sample.trade_lines[feed.key]
    original = lines[_line_after(lines, at)]
    recv = original.key[0] + 4
    sample.add(recv, original.item.model_copy(update={"recv_ms": recv}))


def _thread_clocks(sample: Sample, draws: Draws) -> None:
    """Trades stamped by another receiver thread whose clock is 1-3 ms behind, written just
    after a book top: their recv_ms goes back from the line before (the file keeps arrival
    order, the reader passes it on as it is)."""
    trades = sample.trade_lines[BTC.key]
    books = sample.book_lines[BTC.key]
    start = _line_after(trades, sample.at("duplicates"))
    for line in trades[start : start + 200 : 20]:
        book = books[_line_after(books, line.key[0])]
        arrival = book.key[0]
        line.key = (arrival, 3, line.key[2])  # right after the book (priority 1)
        line.item = line.item.model_copy(update={"recv_ms": arrival - draws.int(1, 3)})


def _bad_print(sample: Sample) -> None:
    """An insurance-fund print 2.5% under the market, then an unlabelled one 3% over it."""
    at = sample.at("bad_print")
    top = sample.top(BTC, at)
    for n, (label, move) in enumerate((("INSURANCE_FUND", -0.025), (None, 0.03))):
        sample.add(
            at + n * 7_000,
            TradeEvent(
                type="trade",
                venue=BTC.venue,
                symbol=BTC.symbol,
                id=f"{5_000_000_000 + n}",  # far below the live ids: a separate engine's id
                price=price(BTC, int(top.bid * (1 + move))),
                qty=D("0.84"),
                side="sell",
                trade_type=label,
                ts_ms=at + n * 7_000 - 4,
                recv_ms=at + n * 7_000,
            ),
        )


def _odd_books(sample: Sample) -> None:
    """A crossed top on BTC (bid above ask), then a one-sided ETH top (no asks shown)."""
    for feed, at, crossed in ((BTC, sample.at("crossed_book"), True),
                              (ETH, sample.at("crossed_book", 10), False)):  # fmt: skip
        lines = sample.book_lines[feed.key]
        before = lines[_line_after(lines, at) - 1].item
        top = sample.top(feed, at)
        update: dict[str, Any] = {"recv_ms": at, "ts_ms": at - 3, "seq": before.seq + 1}
        if crossed:
            update |= {"bid": price(feed, top.ask + 5), "ask": price(feed, top.ask)}
        else:
            update |= {"ask": None, "ask_qty": None}
        sample.add(at, before.model_copy(update=update))


# -- orders: what the desk's other bots sent, recorded ---------------------------------------


@dataclass(frozen=True, slots=True)
class Ask:
    """One recorded new order; ``limit`` None: a market order."""

    feed: Feed
    side: Side
    qty: Decimal
    limit: Decimal | None
    strategy: str = "desk-manual"
    tif: Literal["GTC", "IOC", "PO"] = "IOC"
    reduce_only: bool = False
    group: str | None = None
    leg_timeout_ms: int | None = None


def send(sample: Sample, at: int, ask: Ask, *, cid: str | None = None) -> str:
    cid = cid or sample.next_id()
    sample.add(
        at,
        OrderEvent(
            type="order",
            venue=ask.feed.venue,
            symbol=ask.feed.symbol,
            action="new",
            client_order_id=cid,
            strategy=ask.strategy,
            side=ask.side,
            order_type="market" if ask.limit is None else "limit",
            qty=ask.qty,
            price=ask.limit,
            time_in_force=ask.tif,
            reduce_only=ask.reduce_only,
            group=ask.group,
            leg_timeout_ms=ask.leg_timeout_ms,
            recv_ms=at,
        ),
        priority=2,
    )
    return cid


def through(feed: Feed, top: Top, side: Side, bps: int = 5) -> Decimal:
    """A limit ``bps`` through the touch: marketable, with a cap on the price paid."""
    if side == "buy":
        return price(feed, top.ask + top.ask * bps // 10_000)
    return price(feed, top.bid - top.bid * bps // 10_000)


def away(feed: Feed, top: Top, side: Side, bps: float) -> Decimal:
    """A resting limit ``bps`` behind the touch (below the bid for a buy)."""
    if side == "buy":
        return price(feed, int(top.bid * (1 - bps / 10_000)))
    return price(feed, int(top.ask * (1 + bps / 10_000)) + 1)


def filled(sample: Sample, at: int, ask: Ask, cid: str) -> None:
    """The fill the venue reported for a marketable order (informative in a replay), and the
    desk's position, which the venue's position snapshots report a few seconds late."""
    top = sample.top(ask.feed, at)
    px = price(ask.feed, top.ask if ask.side == "buy" else top.bid)
    sample.add(
        at + 6,
        FillEvent(
            type="fill",
            venue=ask.feed.venue,
            symbol=ask.feed.symbol,
            client_order_id=cid,
            trade_id=sample.next_id("t"),
            side=ask.side,
            qty=ask.qty,
            price=px,
            fee=(ask.qty * px / 10_000).quantize(D("0.00000001")),
            ts_ms=at + 2,
            recv_ms=at + 6,
        ),
    )
    sign = 1 if ask.side == "buy" else -1
    held = sample.desk_position.get(ask.feed.key, D(0)) + sign * ask.qty
    sample.desk_position[ask.feed.key] = held
    sample.add(
        at + 2_500,
        PositionEvent(
            type="position", venue=ask.feed.venue, symbol=ask.feed.symbol, qty=held,
            recv_ms=at + 2_500,
        ),
    )  # fmt: skip


def taker(sample: Sample, at: int, ask: Ask, *, signal: bool = False) -> str:
    """A marketable order (with the fill the venue reported) and, if asked, its signal."""
    if signal:
        sample.add(
            at - 40,
            SignalEvent(
                type="signal", strategy=ask.strategy, venue=ask.feed.venue,
                symbol=ask.feed.symbol, side=ask.side, qty=ask.qty, price=ask.limit,
                recv_ms=at - 40,
            ),
        )  # fmt: skip
    cid = send(sample, at, ask)
    filled(sample, at, ask, cid)
    return cid


def stall_order(sample: Sample) -> None:
    """The desk sends a buy 5 s into the feed stall: its market is 5 s old."""
    at = sample.at("feed_stall", 5)
    top = sample.top(BTC, at)
    send(sample, at, Ask(BTC, "buy", D("0.05"), through(BTC, top, "buy")))


def limit_probes(sample: Sample) -> None:
    """One order per typed limit, 5 s apart; IOC and not marketable, so nothing rests."""
    at = sample.at("limit_probes")
    probes: list[tuple[Feed, Side, str, str]] = [
        (ETH, "buy", "81", "bid"),  # max_order_qty (80 ETH)
        (BTC, "buy", "4.5", "bid"),  # max_order_notional (250k)
        (BTC, "buy", "0.2", "collar"),  # price_collar_bps (50 bps): 1% over the mid
        (BTC, "buy", "0.2", "off_grid"),  # price_off_grid: half a tick
        (BTC, "buy", "0.123456", "bid"),  # qty_off_grid: modified down to 0.12345
        (BTC, "buy", "35", "bid"),  # max_gross_exposure (2M), position limits, max qty
        (OKX_ETH, "sell", "10001", "ask"),  # qty_above_max (okx 10,000 ETH)
        (OKX_ETH, "sell", "350", "ask"),  # notional_above_max (okx 1M)
    ]
    for n, (feed, side, size, where) in enumerate(probes):
        when = at + n * 5_000
        top = sample.top(feed, when)
        limit = {
            "bid": price(feed, top.bid - 40),
            "ask": price(feed, top.ask + 40),
            "collar": price(feed, top.ask + top.ask // 100),
            "off_grid": price(feed, top.bid - 40) + feed.tick / 2,
        }[where]
        send(sample, when, Ask(feed, side, D(size), limit))
    top = sample.top(BTC, at + 45_000)
    taker(sample, at + 45_000, Ask(BTC, "buy", D("0.01"), None))  # a market order fills


def order_burst(sample: Sample) -> None:
    """25 IOC orders in half a second: past max_orders_per_second (20 on binance)."""
    at = sample.at("order_burst")
    top = sample.top(BTC, at)
    for n in range(25):
        send(sample, at + 20 * n, Ask(BTC, "buy", D("0.001"), price(BTC, top.bid - 500)))


def okx_open_orders(sample: Sample, draws: Draws) -> None:
    """An okx quoter fills the book with small resting orders at 8 a second, 14 in one
    second (okx allows 10), until max_open_orders (200) refuses them; one 429 on the way;
    then it cancels them all."""
    at = sample.at("okx_open_orders")
    sent: list[str] = []
    times = [at + 125 * n for n in range(216)]
    times += [at + 10_000 + 40 * n + 5 for n in range(6)]
    for n, when in enumerate(sorted(times)):
        side: Side = "buy" if n % 2 == 0 else "sell"
        limit = away(OKX_ETH, sample.top(OKX_ETH, when), side, 40 + draws.int(0, 20))
        sent.append(send(sample, when, Ask(OKX_ETH, side, D("0.01"), limit, "okx-quoter", "GTC")))
    _venue(sample, at + 5_050, "okx", "rate_limited", http_status=429, retry_after_s=D("0.2"))
    for n, cid in enumerate(sent):
        _cancel(sample, at + 90_000 + 5 * n, OKX_ETH, cid, "okx-quoter")


def okx_amends(sample: Sample) -> None:
    """45 amends of one resting order in 0.9 s: past max_amends_per_second (40)."""
    at = sample.at("okx_amends")
    top = sample.top(OKX_ETH, at)
    base = top.bid - top.bid // 200
    ask = Ask(OKX_ETH, "buy", D("0.01"), price(OKX_ETH, base), "okx-quoter", "GTC")
    cid = send(sample, at, ask)
    for n in range(45):
        when = at + 1_000 + 20 * n
        sample.add(
            when,
            OrderEvent(
                type="order", venue=OKX_ETH.venue, symbol=OKX_ETH.symbol, action="amend",
                client_order_id=cid, strategy="okx-quoter", side="buy", order_type="limit",
                qty=D("0.01"), price=price(OKX_ETH, base + n + 1), recv_ms=when,
            ),
            priority=2,
        )  # fmt: skip
    _cancel(sample, at + 5_000, OKX_ETH, cid, "okx-quoter")


def _cancel(sample: Sample, at: int, feed: Feed, cid: str, strategy: str) -> None:
    sample.add(
        at,
        OrderEvent(
            type="order", venue=feed.venue, symbol=feed.symbol, action="cancel",
            client_order_id=cid, strategy=strategy, recv_ms=at,
        ),
        priority=2,
    )  # fmt: skip


def baskets(sample: Sample) -> None:
    """A pair whose two legs both fill; then one whose IOC sell leg misses (the venue
    cancels it unfilled) while its buy leg filled: a legged basket."""
    at = sample.at("baskets")
    pair: tuple[tuple[Feed, Side, str], ...] = ((BTC, "buy", "0.3"), (ETH, "sell", "6"))
    for n, (feed, side, size) in enumerate(pair):
        when = at + 30 * n
        limit = through(feed, sample.top(feed, when), side)
        taker(sample, when, Ask(feed, side, D(size), limit, "desk-pairs", group="pair01"))
    at = sample.at("baskets", 60)
    limit = through(ETH, sample.top(ETH, at), "buy")
    leg = Ask(ETH, "buy", D("8"), limit, "desk-pairs", group="pair02", leg_timeout_ms=3_000)
    taker(sample, at, leg)
    limit = price(BTC, sample.top(BTC, at + 25).ask + 2_000)  # 20 USDT over the ask: misses
    leg = Ask(BTC, "sell", D("0.4"), limit, "desk-pairs", group="pair02", leg_timeout_ms=3_000)
    send(sample, at + 25, leg)


# -- venue faults and the account -----------------------------------------------------------


def _venue(sample: Sample, at: int, venue: str, event: str, **fields: Any) -> None:
    sample.add(at, VenueEvent(type="venue", venue=venue, event=event, recv_ms=at, **fields), 0)


def venue_faults(sample: Sample) -> None:
    """On binance: a burst of 429s, then 503s failing a stream of requests, then an outage."""
    if sample.has("rate_limits", 10):
        for n in range(3):
            _venue(
                sample, sample.at("rate_limits", 3 * n), "binance", "rate_limited",
                http_status=429, retry_after_s=D("1"), error_class="DDoSProtection", count=3,
            )  # fmt: skip
    if sample.has("venue_errors", 40):
        for n in range(20):
            _venue(
                sample, sample.at("venue_errors", 2 * n), "binance", "error",
                http_status=503, error_class="ExchangeNotAvailable", count=6,
            )  # fmt: skip
    if sample.has("outage", 60):
        _venue(sample, sample.at("outage"), "binance", "outage_start", http_status=503)
        _venue(sample, sample.at("outage", 20), "binance", "latency", latency_ms=1_800, count=20)
        _venue(sample, sample.at("outage", 45), "binance", "outage_end")


NORMAL_BALANCES = {
    ("binance", "USDT"): D("3000000"),
    ("binance", "BTC"): D("50"),
    ("binance", "ETH"): D("1000"),
    ("okx", "USDT"): D("1000000"),
    ("okx", "ETH"): D("500"),
}


def _balance_at(sample: Sample, venue: str, asset: str, at: int) -> Decimal | None:
    """Free balance a snapshot at ``at`` reports; None while the snapshots are stale."""
    if sample.at("stale_balance") <= at < sample.at("stale_balance", 90):
        return None  # the account stream froze: no snapshot for 90 s (limit 30 s)
    if sample.at("low_balance") <= at < sample.at("low_balance", 120):
        low = at >= sample.at("low_balance", 40)
        if asset == "USDT":
            return D("30000") if low else D("80000")  # free-balance: warn 100k, critical 40k
        if asset == "BTC":
            return D("0.5")
    return NORMAL_BALANCES[(venue, asset)]


def balances(sample: Sample) -> None:
    """A snapshot of each asset every 5 s (the policies expect one every 5 s)."""
    for at in range(T0_MS + 1_000, sample.end, 5_000):
        for n, (venue, asset) in enumerate(NORMAL_BALANCES):
            free = _balance_at(sample, venue, asset, at)
            if free is not None:
                sample.add(
                    at + n,
                    BalanceEvent(
                        type="balance", venue=venue, asset=asset, free=free, locked=D(0),
                        recv_ms=at + n,
                    ),
                )  # fmt: skip


def low_balance_orders(sample: Sample) -> None:
    """While free USDT is 30k and free BTC 0.5: a buy and a sell that do not fit."""
    tries: tuple[tuple[int, Side, str], ...] = ((60, "buy", "1"), (70, "sell", "2"))
    for offset, side, size in tries:
        at = sample.at("low_balance", offset)
        send(sample, at, Ask(BTC, side, D(size), through(BTC, sample.top(BTC, at), side)))


# -- inventory and the crash ----------------------------------------------------------------


# The ETH build-up: bought at once, held past the inventory-notional-eth alert's for_ms (60 s)
# with room for the quoter selling some of it back, then topped up past HARD.
ETH_BUILD = ("80", "80", "80", "60")  # 300 ETH: WARN (past 200), under HARD (past 320)
ETH_HOLD_S = 75
ETH_TOP_UP = "60"  # on the ~280 ETH left: past 320, HARD, which flattens


def eth_ramp(sample: Sample) -> None:
    """A momentum bot buys 300 ETH in 150 ms (WARN past 200) and holds it for 75 s: about
    900k notional, over the inventory-notional-eth warn level (720k) for longer than its
    for_ms (the quoter sells about 20 ETH of it meanwhile). HARD (past 320 ETH, about 960k)
    flattens, so only a book held inside WARN can make that alert fire. Then it buys 60
    more: HARD."""
    at = sample.at("eth_ramp")
    for n, size in enumerate(ETH_BUILD):
        when = at + 50 * n
        limit = through(ETH, sample.top(ETH, when), "buy")
        taker(sample, when, Ask(ETH, "buy", D(size), limit, "desk-momentum"), signal=True)
    when = sample.at("eth_ramp", ETH_HOLD_S)
    limit = through(ETH, sample.top(ETH, when), "buy")
    taker(sample, when, Ask(ETH, "buy", D(ETH_TOP_UP), limit, "desk-momentum"), signal=True)


def btc_ramp(sample: Sample) -> None:
    """The momentum bot buys 16 BTC (WARN), then two resting 4-BTC bids that one downtick
    fills together (CRITICAL, then HARD); more is refused; it sells back to CRITICAL."""
    at = sample.at("btc_ramp")
    for n in range(4):
        when = at + n * 1_000
        limit = through(BTC, sample.top(BTC, when), "buy")
        taker(sample, when, Ask(BTC, "buy", D("4"), limit, "desk-momentum"), signal=True)
    when, bid = _before_downtick(sample, BTC, at + 10_000)
    for _ in range(2):
        ask = Ask(BTC, "buy", D("4"), price(BTC, bid), "desk-momentum", "GTC")
        cid = send(sample, when, ask)
        filled(sample, sample.next_top(BTC, when).recv, ask, cid)
        when += 1
    when = at + 20_000  # more is refused: the band blocks it, and so do the position limits
    send(sample, when, Ask(BTC, "buy", D("2"), through(BTC, sample.top(BTC, when), "buy")))
    when = at + 30_000  # back under HARD's exit (85%): CRITICAL
    limit = through(BTC, sample.top(BTC, when), "sell")
    taker(sample, when, Ask(BTC, "sell", D("4"), limit, "desk-momentum", reduce_only=True))


def crash_build(sample: Sample) -> None:
    """Minutes before the crash the momentum bot buys 22 BTC: WARN, then CRITICAL (which
    blocks more, so it never reaches HARD, whose flatten would leave nothing to lose)."""
    at = sample.at("crash_build")
    for n, size in enumerate(("4", "4", "4", "4", "2.5", "3.5")):
        when = at + n * 1_000
        limit = through(BTC, sample.top(BTC, when), "buy")
        taker(sample, when, Ask(BTC, "buy", D(size), limit, "desk-momentum"), signal=True)


def _before_downtick(sample: Sample, feed: Feed, after: int) -> tuple[int, int]:
    """A moment just after a top whose next top's ask is lower, and that lower ask: a bid
    there rests now and the next top fills it."""
    tops = sample.tops[feed.key]
    i = bisect.bisect_left(sample.top_times[feed.key], after)
    while tops[i + 1].ask >= tops[i].ask or tops[i + 1].recv - tops[i].recv < 100:
        i += 1
    return tops[i].recv + 5, tops[i + 1].ask


def crash_orders(sample: Sample) -> None:
    """A stop-loss market sell into the emptied book, 12 s into the crash."""
    at = sample.at("flash_crash", 12)
    send(sample, at, Ask(BTC, "sell", D("2"), None, "desk-momentum", reduce_only=True))


# -- the whole session ----------------------------------------------------------------------


EPISODES = (
    ("feed_stall", 10, lambda s, d: stall_order(s)),
    ("limit_probes", 50, lambda s, d: limit_probes(s)),
    ("order_burst", 5, lambda s, d: order_burst(s)),
    ("okx_open_orders", 100, okx_open_orders),
    ("okx_amends", 10, lambda s, d: okx_amends(s)),
    ("baskets", 130, lambda s, d: baskets(s)),
    ("low_balance", 120, lambda s, d: low_balance_orders(s)),
    ("eth_ramp", ETH_HOLD_S + 5, lambda s, d: eth_ramp(s)),
    ("btc_ramp", 40, lambda s, d: btc_ramp(s)),
    ("crash_build", 10, lambda s, d: crash_build(s)),
    ("flash_crash", 20, lambda s, d: crash_orders(s)),
)


def generate(seed: int = DEFAULT_SEED, minutes: float = DEFAULT_MINUTES) -> Sample:
    """Every line of the session, in the order they are written."""
    sample = Sample(seed, minutes)
    windows(sample)
    market(sample)
    draws = Draws(seed, "episodes")
    data_faults(sample, draws)
    venue_faults(sample)
    for name, duration_s, make in EPISODES:
        if sample.has(name, duration_s):
            make(sample, draws)
    balances(sample)
    sample.lines.sort(key=lambda line: line.key)
    return sample


def header(sample: Sample) -> SessionHeader:
    times = [line.item.recv_ms for line in sample.lines if not isinstance(line.item, str)]
    return SessionHeader(
        type="session",
        name="sample",
        description=(
            f"Synthetic, generated by tools/make_sample_session.py --seed {sample.seed}"
            f" --minutes {sample.minutes:g}: binance BTC/USDT and ETH/USDT, okx ETH/USDT, with"
            " the episodes of tools/sessions/README.md at fixed minutes."
        ),
        venues=["binance", "okx"],
        symbols=["BTC/USDT", "ETH/USDT"],
        start_ms=min(times, default=T0_MS),
        end_ms=max(times, default=T0_MS),
    )


def write(sample: Sample, out: Path) -> int:
    """Write the header and every line to ``out``; how many lines were written."""
    with open_session_writer(out) as fp:
        write_event(fp, header(sample))
        for line in sample.lines:
            if isinstance(line.item, str):
                fp.write(line.item + "\n")
            else:
                write_event(fp, line.item)
    return len(sample.lines) + 1


def timeline() -> Iterator[str]:
    for name, minute in SCHEDULE.items():
        whole = int(minute)
        seconds = round((minute - whole) * 60)
        yield f"{whole // 60:02d}:{whole % 60:02d}:{seconds:02d}  {name}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="session file to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--minutes", type=float, default=DEFAULT_MINUTES, help="length of the session"
    )
    parser.add_argument("--timeline", action="store_true", help="print the episodes and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.timeline:
        print("\n".join(timeline()))
        return 0
    if not 0 < args.minutes <= 24 * 60:
        print("make_sample_session: --minutes must be > 0 and at most 1440", file=sys.stderr)
        return 2
    sample = generate(args.seed, args.minutes)
    try:
        count = write(sample, args.out)
    except OSError as exc:
        print(f"make_sample_session: {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {count} lines to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
