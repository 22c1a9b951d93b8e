"""Feed memory in the runtime: at ingest, ``feed.last_seq``, ``feed.duplicate`` and
``feed.known_symbol`` come from the runtime's own memory of each stream, never the bot.

Streams of pairs outside the policies' universe are not stored (a caller sending random
symbols must not grow the state). See ``riskctl.state.feeds`` for the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from riskctl.bundle import PolicyBundle
from riskctl.context.base import StageContext
from riskctl.decision import Decision
from riskctl.kinds import Instruments, RiskLimits
from riskctl.runtime.completion import Completion
from riskctl.runtime.part import Scope
from riskctl.state import feeds as streams
from riskctl.state.codec import decode
from riskctl.state.effects import Effect
from riskctl.state.store import Control

__all__ = ["FeedPart"]


class FeedPart:
    """One StreamState per (venue, symbol, stream) of the universe."""

    machine = "feed"

    def __init__(self, bundle: PolicyBundle | None, config: streams.FeedConfig | None = None):
        limits = bundle.of_kind(RiskLimits) if bundle is not None else ()
        listings = bundle.of_kind(Instruments) if bundle is not None else ()
        self._universe = streams.universe_of(limits, listings)
        self._config = config or streams.DEFAULT_FEED_CONFIG
        self._modes: dict[tuple[str, str], streams.SeqMode] = {
            (account.venue, stream): mode
            for document in limits
            for account in document.spec.venues
            for stream, mode in account.sequence.items()
        }
        self._configs: dict[streams.SeqMode, streams.FeedConfig] = {
            mode: replace(self._config, mode=mode) for mode in ("contiguous", "monotonic")
        }
        self._states: dict[streams.StreamId, streams.StreamState] = {}
        self._changed: set[streams.StreamId] = set()
        self._pending: streams.StreamState | None = None

    def load(self, rows: Mapping[str, str]) -> None:
        self._states = {}
        for text in rows.values():
            state = decode(streams.StreamState, text)
            self._states[(state.venue, state.symbol, state.stream)] = state
        self._changed.clear()

    def tick(self, now_ms: int) -> list[Effect]:
        return []

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None:
        self._pending = None
        if scope is None:
            return
        if stage in ("pre_trade", "monitor"):
            self._complete_silence(stage, scope, completion)
            return
        if stage != "ingest":
            return
        event = completion.section("event")  # one lookup, then plain reads (the hot path)
        if event is None:
            return  # the gate refuses the context as it stands
        get = event.get
        kind, seq, key = get("type"), get("seq"), get("idempotency_key")
        ts_ms, now_ms = get("ts_ms"), completion.given("now_ms")
        if kind not in ("trade", "book", "ticker", "balance", "order_update"):
            return  # the gate refuses the event as it stands
        if type(ts_ms) is not int or type(now_ms) is not int:
            return
        if (seq is not None and type(seq) is not int) or (key is not None and type(key) is not str):
            return
        known = streams.known(self._universe, *scope)
        sid: streams.StreamId = (scope[0], scope[1], streams.stream_of(kind))
        mode = self._modes.get((scope[0], sid[2]), self._config.mode)
        after, seen = streams.observe(
            self._configs[mode],
            self._states.get(sid),
            event_type=kind,
            venue=scope[0],
            symbol=scope[1],
            seq=seq,
            idempotency_key=key,
            ts_ms=ts_ms,
            now_ms=now_ms,
            price=_decimal(get("price")),
            bid=_decimal(get("bid")),
            ask=_decimal(get("ask")),
            trade_type=_text(get("trade_type")),
        )
        completion.set("event.reference_price", seen.reference_price)
        completion.update(  # one section copy for the four fields (the hot path)
            "feed",
            {
                "known_symbol": known,
                "mode": mode,
                "last_seq": seen.last_seq,
                "duplicate": seen.duplicate,
            },
        )
        if known:
            self._pending = after

    def _complete_silence(self, stage: str, scope: Scope, completion: Completion) -> None:
        now_ms = completion.given("now_ms")
        if type(now_ms) is not int or not self._states:
            return
        quiet = streams.silence(self._states, scope[0], scope[1], now_ms).get("book")
        if quiet is None:
            return
        if stage == "pre_trade":
            completion.set("market.silence_ms", quiet)
        else:
            completion.set("health.feed_age_ms", max(quiet, 0))

    def apply(self, stage: str, ctx: StageContext, decision: Decision, now_ms: int) -> list[Effect]:
        pending, self._pending = self._pending, None
        if pending is not None:
            sid = (pending.venue, pending.symbol, pending.stream)
            if self._states.get(sid) != pending:
                self._states[sid] = pending
                self._changed.add(sid)
        return []

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        return []

    def dirty(self) -> dict[str, Any]:
        changed = {streams.row_key(sid): self._states.get(sid) for sid in self._changed}
        self._changed.clear()
        return changed

    def describe(self) -> dict[str, Any]:
        shown: dict[str, dict[str, int | None]] = {}
        for (venue, symbol, stream), state in sorted(self._states.items()):
            shown.setdefault(f"{venue}:{symbol}", {})[stream] = state.last_seq
        return {"feeds": shown}


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
