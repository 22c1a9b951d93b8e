"""``riskctl run --record FILE``: the inputs of a live run, written as a session.

Each input the runtime is asked to decide becomes the session event it stands for, so the
day can be replayed later (``riskctl replay FILE``, without a strategy: the orders are
replayed as the bot sent them):

========= ==========================================================================
stage     event
========= ==========================================================================
ingest    a ``book`` (book and ticker events) or a ``trade``
signal    a ``signal``
pre_trade an ``order`` (new, amend or cancel)
fill      a ``fill``
========= ==========================================================================

``order_send`` and ``monitor`` contexts are not recorded: the replay's gateway and clock
make their own. ``recv_ms`` is the context's ``now_ms``. A context that cannot be an
event (a field missing or out of its bounds: the gate refused it too) is counted in
``skipped`` and not written. Lines are flushed after every batch the run answers, so a
crash loses at most the batch being decided (for ``.gz`` output, a killed process leaves
a file without its gzip trailer; plain ``.jsonl`` is the crash-safe choice).
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson
from pydantic import ValidationError

from riskctl.session.codec import write_event
from riskctl.session.events import (
    BookEvent,
    FillEvent,
    OrderEvent,
    SessionEvent,
    SessionHeader,
    SignalEvent,
    TradeEvent,
)
from riskctl.session.fields import SessionModel

__all__ = ["SessionRecorder", "recorded_event"]

_E = TypeVar("_E", bound=SessionModel)


def recorded_event(stage: str, context: Mapping[str, Any]) -> SessionEvent | None:
    """The session event a ``(stage, context)`` input stands for, or None."""
    now_ms = context.get("now_ms")
    try:
        if stage == "ingest":
            return _market(_section(context, "event"), now_ms)
        if stage == "signal":
            return _event(
                SignalEvent, {"type": "signal", **_section(context, "signal"), "recv_ms": now_ms}
            )
        if stage == "pre_trade":
            return _order(_section(context, "order"), now_ms)
        if stage == "fill":
            fill = _section(context, "fill")
            ts_ms = fill.get("ts_ms", now_ms)
            return _event(
                FillEvent,
                {"type": "fill", **_pick(fill, _FILL_FIELDS), "ts_ms": ts_ms, "recv_ms": now_ms},
            )
    except (ValidationError, TypeError, ValueError):
        return None
    return None


_FILL_FIELDS = ("venue", "symbol", "client_order_id", "trade_id", "side", "qty", "price", "fee")
_ORDER_FIELDS = ("venue", "symbol", "client_order_id", "strategy", "side", "qty", "price",
                 "time_in_force", "reduce_only", "group", "leg_timeout_ms")  # fmt: skip


def _event(cls: type[_E], data: Mapping[str, Any]) -> _E:
    """The event from a context's values: through JSON, as a session line is read (a bot's
    decimals arrive as text or Decimal; the models are strict about Python types)."""
    return cls.model_validate_json(orjson.dumps(data, default=str))


def _section(context: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = context.get(name)
    if not isinstance(value, Mapping):
        raise ValueError(f"no {name} section")
    return value


def _pick(section: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: section[name] for name in names if section.get(name) is not None}


def _market(event: Mapping[str, Any], now_ms: Any) -> SessionEvent | None:
    kind = event.get("type")
    common = {"venue": event.get("venue"), "symbol": event.get("symbol"), "recv_ms": now_ms}
    if event.get("ts_ms") is not None:
        common["ts_ms"] = event["ts_ms"]
    if kind in ("book", "ticker"):
        return _event(BookEvent, {"type": "book", **common, **_pick(event, ("bid", "ask", "seq"))})
    if kind == "trade":
        key, seq = event.get("idempotency_key"), event.get("seq")
        trade_id = key if isinstance(key, str) else None if seq is None else str(seq)
        if trade_id is None:
            return None  # a trade without an id cannot be told from its duplicate later
        trade_id = trade_id.removeprefix("trade:")
        fields = {"id": trade_id, "qty": event.get("size"), **_pick(event, ("price", "trade_type"))}
        return _event(TradeEvent, {"type": "trade", **common, **fields})
    return None


def _order(order: Mapping[str, Any], now_ms: Any) -> SessionEvent:
    action = order.get("action", "new")
    if action == "cancel":
        picked = _pick(order, ("venue", "symbol", "client_order_id", "strategy"))
        return _event(
            OrderEvent, {"type": "order", "action": "cancel", **picked, "recv_ms": now_ms}
        )
    picked = _pick(order, _ORDER_FIELDS)
    order_type = order.get("type", "limit")
    return _event(
        OrderEvent,
        {"type": "order", "action": action, "order_type": order_type, **picked, "recv_ms": now_ms},
    )


class SessionRecorder:
    """Appends the recorded events of a run to a session file (a header first when new)."""

    def __init__(self, path: Path, *, name: str | None = None) -> None:
        self.path = path
        self.written = 0
        self.skipped = 0
        fresh = not path.exists() or path.stat().st_size == 0
        self._fp: IO[str] = (
            gzip.open(path, "at", encoding="utf-8", newline="\n")  # noqa: SIM115  # closed in close()
            if path.name.endswith(".gz")
            else path.open("a", encoding="utf-8", newline="\n")
        )
        if fresh:
            header = SessionHeader(type="session", name=name or _stem(path))
            write_event(self._fp, header)

    def record(self, stage: str, context: Any) -> None:
        if stage in ("order_send", "monitor") or not isinstance(context, Mapping):
            return
        event = recorded_event(stage, context)
        if event is None:
            self.skipped += 1
            return
        write_event(self._fp, event)
        self.written += 1

    def flush(self) -> None:
        self._fp.flush()

    def close(self) -> None:
        self._fp.close()


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name or "recorded"
