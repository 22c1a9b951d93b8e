"""Feed memory under the StatefulGate: the runtime, not the bot, says what came before."""

from __future__ import annotations

from gatekit import make_gate

from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore

T0 = 1_700_000_000_000


def event(seq: int, at: int, symbol: str = "BTC/USDT", **claims: object) -> dict:
    return {
        "now_ms": at,
        "event": {
            "type": "trade",
            "venue": "binance",
            "symbol": symbol,
            "seq": seq,
            "ts_ms": at,
            "price": "100",
            "size": "1",
        },
        "feed": dict(claims),
    }


def test_when_events_arrive_then_last_seq_and_duplicates_come_from_the_runtime(tmp_path) -> None:
    runtime = StatefulGate(make_gate(tmp_path, {"max_order_qty": 5}), MemoryStore())
    runtime.evaluate("ingest", event(1, T0))
    second = runtime.evaluate("ingest", event(2, T0 + 1, last_seq=0, duplicate=False))
    assert second.disagreements["feed.last_seq"] == {"given": 0, "used": 1}
    again = runtime.evaluate("ingest", event(2, T0 + 2))
    assert runtime.describe()["feeds"] == {"binance:BTC/USDT": {"trades": 2}}
    body = list(runtime.store.audit())[-1].body["context"]["feed"]
    assert body == {"known_symbol": True, "last_seq": 2, "duplicate": True}
    assert again.decision.stage == "ingest"


def test_when_a_symbol_is_outside_the_universe_then_it_is_unknown_and_not_stored(
    tmp_path,
) -> None:
    runtime = StatefulGate(make_gate(tmp_path, {"max_order_qty": 5}), MemoryStore())
    step = runtime.evaluate("ingest", event(1, T0, symbol="DOGE/USDT", known_symbol=True))
    assert step.disagreements["feed.known_symbol"] == {"given": True, "used": False}
    assert runtime.describe()["feeds"] == {}
