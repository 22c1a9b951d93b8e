"""Feed memory: sequence, duplicates, silence and a reference price per feed stream, pure.

A stream is one (venue, symbol, family): trades and book tops are numbered separately by
venues, so each family has its own memory (``stream_of``). One ``StreamState`` per stream,
stored by the runtime under ``("feed", row_key(stream_id))``; the state carries its own id,
so the runtime rebuilds its ``{StreamId: StreamState}`` map from the decoded rows.

How the runtime calls it:

- ``ingest``, before ``Gate.evaluate``: ``new, seen = observe(config, states.get(sid), ...)``
  with the event's plain fields and the context's ``now_ms``. Complete the context from
  ``seen`` (the view BEFORE this event: ``feed.last_seq = seen.last_seq``,
  ``feed.duplicate = seen.duplicate``, ``feed.known_symbol = known(universe, venue,
  symbol)``), decide, then commit ``new`` (every ingest changes its stream's row).
- ``pre_trade`` and ``monitor``: ``silence(states, venue, symbol, now_ms)`` gives the
  milliseconds since the last new event of each stream of that pair.

Only a new event (neither a duplicate nor out of order) moves a stream: its sequence
number, both timestamps and the reference price. A replayed old quote therefore can neither
move ``last_seq`` backwards nor hide a stall from ``silence``. Every event that is not a
duplicate enters the duplicate memory: its id (numbered events) or its key (unnumbered).

Commit stream rows only for pairs the universe knows (``known``): otherwise a caller
sending random symbols would grow the store by a row per symbol.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from riskctl.kinds import Instruments, RiskLimits
from riskctl.scope_index import scope_index

__all__ = [
    "DEFAULT_FEED_CONFIG",
    "FeedConfig",
    "Observation",
    "SeqMode",
    "Stream",
    "StreamId",
    "StreamState",
    "known",
    "observe",
    "row_key",
    "silence",
    "stream_of",
    "universe_of",
]

SeqMode = Literal["contiguous", "monotonic"]
Stream = Literal["trades", "book", "balance", "order_update"]
StreamId = tuple[str, str, Stream]  # (venue, symbol, stream)
MAX_MEMORY = 4096  # the id window is an int of this many bits, stored as decimal digits
COUNT_CAP = 2**53 - 1  # counters saturate here: bounded, and exact in any JSON reader
_STREAMS: dict[str, Stream] = {
    "trade": "trades",
    "book": "book",
    "ticker": "book",  # a ticker carries the book top and its update id
    "balance": "balance",
    "order_update": "order_update",
}


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """How one stream is numbered and how much it remembers.

    ``contiguous``: every id follows the last by one; a skip is a gap of the missing count.
    ``monotonic``: ids rise but may skip (Binance bookTicker update ids); no gap is reported.
    In both, an id at or below the last is out of order.
    ``reference_trade_types``: venue trade-type labels whose prints set the reference price
    (Binance marks ``INSURANCE_FUND`` and ``ADL`` prints, which may be far off the market);
    an unlabelled trade counts as normal.
    """

    mode: SeqMode = "contiguous"
    idempotency_memory: int = 1024
    reference_trade_types: tuple[str, ...] = ("MARKET",)

    def __post_init__(self) -> None:
        if not 0 <= self.idempotency_memory <= MAX_MEMORY:
            raise ValueError(f"idempotency_memory must be from 0 to {MAX_MEMORY}")


DEFAULT_FEED_CONFIG = FeedConfig()


@dataclass(frozen=True, slots=True)
class StreamState:
    """What one stream remembers; every part bounded."""

    venue: str
    symbol: str
    stream: Stream
    last_seq: int | None = None
    last_ts_ms: int | None = None  # the venue's timestamp of the last new event
    last_receive_ms: int | None = None  # our receive time of the last new event
    reference_price: Decimal | None = None  # last normal trade price, or the last book mid
    gaps: int = 0  # events that followed a gap (contiguous mode)
    missing: int = 0  # ids skipped in those gaps
    out_of_order: int = 0
    duplicates: int = 0
    ids: int = 0  # bit i set: id last_seq - i was seen (i < N), the anti-replay window
    keys: tuple[str, ...] = ()  # the last N idempotency keys of unnumbered events, oldest first


@dataclass(frozen=True, slots=True)
class Observation:
    """The stream as this event found it: what the context is completed from."""

    last_seq: int | None  # before this event
    seq_gap: int | None  # ids missing before this one; 0 in order; None without numbering
    out_of_order: bool  # id at or below last_seq
    duplicate: bool  # the idempotency key is in memory
    venue_delay_ms: int  # now - venue ts: the venue, the wire and our queue together
    wire_delay_ms: int  # receive - venue ts: the venue and the wire (and clock skew)
    since_last_ms: int | None  # receive - last receive: silence this event ended
    venue_since_last_ms: int | None  # venue ts - last venue ts: silence at the venue
    reference_price: Decimal | None  # before this event


def stream_of(event_type: str) -> Stream:
    """The stream an event type belongs to (trade -> trades; book and ticker -> book)."""
    return _STREAMS[event_type]


@lru_cache(maxsize=4096)  # a process sees few streams, and each event asks again
def row_key(sid: StreamId) -> str:
    """The store key of a stream's row: unambiguous whatever venue and symbol contain."""
    return json.dumps(list(sid), separators=(",", ":"))


def observe(
    config: FeedConfig,
    state: StreamState | None,
    *,
    event_type: str,
    venue: str,
    symbol: str,
    seq: int | None,
    idempotency_key: str | None,
    ts_ms: int,
    now_ms: int,
    receive_ms: int | None = None,
    price: Decimal | None = None,
    bid: Decimal | None = None,
    ask: Decimal | None = None,
    trade_type: str | None = None,
) -> tuple[StreamState, Observation]:
    """One event into its stream: the new state and what the stream looked like before it.

    ``receive_ms`` is when our receiver read the event off the wire (``now_ms`` when the
    caller has no separate receive time). A numbered event is a duplicate when its id is
    among the last ``idempotency_memory`` ids (within a stream an id names one event, so a
    trade needs no key); an unnumbered one when its ``idempotency_key`` is among the last
    ``idempotency_memory`` keys.
    """
    s = StreamState(venue, symbol, stream_of(event_type)) if state is None else state
    received = now_ms if receive_ms is None else receive_ms
    memory = config.idempotency_memory
    last = s.last_seq
    if seq is None:
        ids = s.ids
        duplicate = idempotency_key is not None and memory > 0 and idempotency_key in s.keys
        keys = s.keys if duplicate else _remember(s.keys, idempotency_key, memory)
    else:
        duplicate, ids = _seen_ids(s.ids, last, seq, memory)
        keys = s.keys
    out_of_order = seq is not None and last is not None and seq <= last
    gap = _gap(config.mode, seq, last)
    seen = Observation(
        last_seq=last,
        seq_gap=gap,
        out_of_order=out_of_order,
        duplicate=duplicate,
        venue_delay_ms=now_ms - ts_ms,
        wire_delay_ms=received - ts_ms,
        since_last_ms=None if s.last_receive_ms is None else received - s.last_receive_ms,
        venue_since_last_ms=None if s.last_ts_ms is None else ts_ms - s.last_ts_ms,
        reference_price=s.reference_price,
    )
    # The constructor, not dataclasses.replace: every event of every feed comes here.
    if duplicate or out_of_order:  # nothing moves but the counters and the memory
        return StreamState(
            venue=s.venue,
            symbol=s.symbol,
            stream=s.stream,
            last_seq=last,
            last_ts_ms=s.last_ts_ms,
            last_receive_ms=s.last_receive_ms,
            reference_price=s.reference_price,
            gaps=s.gaps,
            missing=s.missing,
            out_of_order=_bump(s.out_of_order, out_of_order),
            duplicates=_bump(s.duplicates, duplicate),
            ids=ids,
            keys=keys,
        ), seen
    missing = gap or 0
    return StreamState(
        venue=s.venue,
        symbol=s.symbol,
        stream=s.stream,
        last_seq=last if seq is None else seq,
        last_ts_ms=ts_ms,
        last_receive_ms=received,
        reference_price=_reference(
            config, s, event_type=event_type, price=price, bid=bid, ask=ask, trade_type=trade_type
        ),
        gaps=_bump(s.gaps, missing > 0),
        missing=min(COUNT_CAP, s.missing + missing),
        out_of_order=s.out_of_order,
        duplicates=s.duplicates,
        ids=ids,
        keys=keys,
    ), seen


def silence(
    states: Mapping[StreamId, StreamState], venue: str, symbol: str, now_ms: int
) -> dict[Stream, int]:
    """Milliseconds since the last new event of each stream of (venue, symbol), by our
    receive time: a stall shows here while it lasts, not only when the next event ends it."""
    out: dict[Stream, int] = {}
    for stream in ("trades", "book", "balance", "order_update"):
        state = states.get((venue, symbol, stream))
        if state is not None and state.last_receive_ms is not None:
            out[stream] = now_ms - state.last_receive_ms
    return out


def universe_of(
    limits: Iterable[RiskLimits], instruments: Iterable[Instruments] = ()
) -> frozenset[tuple[str, str]]:
    """The (venue, symbol) pairs the policies trade: RiskLimits venues' symbols (the same
    universe pre_trade's unknown-instrument rule reads) and any Instruments entries."""
    pairs: set[tuple[str, str]] = set()
    for document in limits:
        pairs |= scope_index(document).pair_set
    for listing in instruments:
        pairs.update((entry.venue, entry.symbol) for entry in listing.spec.instruments)
    return frozenset(pairs)


def known(universe: frozenset[tuple[str, str]], venue: str, symbol: str) -> bool:
    """True when the policies' universe lists (venue, symbol): ``feed.known_symbol``."""
    return (venue, symbol) in universe


def _gap(mode: SeqMode, seq: int | None, last: int | None) -> int | None:
    if seq is None or last is None:
        return None
    if seq <= last:
        return 0  # out of order, reported as such, not as a negative gap
    return seq - last - 1 if mode == "contiguous" else 0


def _seen_ids(ids: int, last: int | None, seq: int, memory: int) -> tuple[bool, int]:
    """(seq is in the window, the window with seq in it): IPsec's anti-replay window, so a
    numbered stream remembers N ids in N bits and updates by a shift, not an N-copy."""
    if last is None or seq - last >= memory:
        return False, 1 if memory > 0 else 0  # a first event, or a jump past the window
    if seq > last:
        return False, ((ids << (seq - last)) | 1) & ((1 << memory) - 1)
    bit = 1 << (last - seq) if last - seq < memory else 0  # older than memory: cannot tell
    return bool(ids & bit), ids | bit


def _bump(count: int, flag: bool) -> int:
    return min(COUNT_CAP, count + 1) if flag else count


def _remember(keys: tuple[str, ...], key: str | None, memory: int) -> tuple[str, ...]:
    if key is None or memory <= 0:
        return keys if len(keys) <= memory else keys[len(keys) - memory :]
    if len(keys) < memory:
        return (*keys, key)
    return (*keys[len(keys) - memory + 1 :], key)


def _reference(
    config: FeedConfig,
    state: StreamState,
    *,
    event_type: str,
    price: Decimal | None,
    bid: Decimal | None,
    ask: Decimal | None,
    trade_type: str | None,
) -> Decimal | None:
    if event_type == "trade" and price is not None:
        normal = trade_type is None or trade_type in config.reference_trade_types
        return price if normal else state.reference_price
    if bid is not None and ask is not None and bid < ask:
        return (bid + ask) / 2  # a crossed book is no reference
    return state.reference_price
