"""Feed memory under the StatefulGate: the runtime, not the bot, says what came before."""

from __future__ import annotations

from gatekit import make_gate, pre_trade

from riskctl import Gate
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
    assert body == {"known_symbol": True, "mode": "contiguous", "last_seq": 2, "duplicate": True}
    assert again.decision.stage == "ingest"


def test_when_a_symbol_is_outside_the_universe_then_it_is_unknown_and_not_stored(
    tmp_path,
) -> None:
    runtime = StatefulGate(make_gate(tmp_path, {"max_order_qty": 5}), MemoryStore())
    step = runtime.evaluate("ingest", event(1, T0, symbol="DOGE/USDT", known_symbol=True))
    assert step.disagreements["feed.known_symbol"] == {"given": True, "used": False}
    assert runtime.describe()["feeds"] == {}


LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: feed-limits, version: 1, owner: tests}
spec:
  environment: paper
  venues:
    - {venue: binance, account: mm-1, symbols: [BTC/USDT], sequence: {book: monotonic}}
  defaults: {max_order_qty: 5}
  scoped: []
"""
GAP_RULE = """\
apiVersion: riskctl/v1
kind: Rules
metadata: {name: feed-rules, version: 1, owner: tests}
spec:
  rules:
    - {id: gap, stage: ingest, when: 'event.seq_gap is not None and event.seq_gap > 0',
       action: alert, message: gap}
"""


def book(seq: int, at: int) -> dict:
    return {
        "now_ms": at,
        "event": {
            "type": "book",
            "venue": "binance",
            "symbol": "BTC/USDT",
            "seq": seq,
            "ts_ms": at,
            "bid": "99",
            "ask": "101",
        },
    }


def test_when_a_stream_is_monotonic_then_skipped_ids_are_not_gaps_but_trades_still_are(
    tmp_path,
) -> None:
    (tmp_path / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(GAP_RULE, encoding="utf-8")
    runtime = StatefulGate(Gate.from_path(tmp_path), MemoryStore())
    runtime.evaluate("ingest", book(100, T0))
    skipped = runtime.evaluate("ingest", book(137, T0 + 1))  # bookTicker ids skip
    assert [hit.code for hit in skipped.decision.hits] == []
    runtime.evaluate("ingest", event(1, T0 + 2))
    gap = runtime.evaluate("ingest", event(5, T0 + 3))  # trades are contiguous
    assert [hit.code for hit in gap.decision.hits] == ["rule.gap"]


STALL_RULE = """\
apiVersion: riskctl/v1
kind: Rules
metadata: {name: stall-rules, version: 1, owner: tests}
spec:
  rules:
    - id: stall
      stage: pre_trade
      when: market.silence_ms is not None and market.silence_ms > 2000
      message: the book feed is silent
"""


def test_when_the_book_feed_stalls_then_pre_trade_sees_the_silence_while_it_lasts(
    tmp_path,
) -> None:
    """A quote taken 1 s old after a 3.9 s stall looks fresh; the runtime knows better."""
    (tmp_path / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(STALL_RULE, encoding="utf-8")
    runtime = StatefulGate(Gate.from_path(tmp_path), MemoryStore())
    runtime.evaluate("ingest", book(100, T0))
    order = pre_trade(market={"age_ms": 1000}) | {"now_ms": T0 + 3900}
    stalled = runtime.evaluate("pre_trade", order)
    assert [hit.code for hit in stalled.decision.hits] == ["rule.stall"]
    runtime.evaluate("ingest", book(101, T0 + 3950))
    fresh = runtime.evaluate("pre_trade", pre_trade(market={"age_ms": 0}) | {"now_ms": T0 + 4000})
    assert fresh.decision.allowed
    assert list(runtime.store.audit())[-1].body["context"]["market"]["silence_ms"] == 50


PRINT_RULE = """\
apiVersion: riskctl/v1
kind: Rules
metadata: {name: print-rules, version: 1, owner: tests}
spec:
  rules:
    - id: off-market-print
      stage: ingest
      when: event.reference_deviation_bps is not None and event.reference_deviation_bps > 100
      action: alert
      message: do not mark to this print
"""


def test_when_an_insurance_fund_print_is_off_the_market_then_a_rule_sees_the_deviation(
    tmp_path,
) -> None:
    (tmp_path / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(PRINT_RULE, encoding="utf-8")
    runtime = StatefulGate(Gate.from_path(tmp_path), MemoryStore())
    runtime.evaluate("ingest", event(1, T0))  # a normal trade at 100
    fund = event(2, T0 + 1)
    fund["event"].update(price="98", trade_type="INSURANCE_FUND")
    flagged = runtime.evaluate("ingest", fund)
    assert [hit.code for hit in flagged.decision.hits] == ["rule.off-market-print"]
    after = event(3, T0 + 2)
    after["event"]["price"] = "100.5"
    normal = runtime.evaluate("ingest", after)  # measured against 100, not the 98 print
    assert normal.decision.hits == ()
    context = list(runtime.store.audit())[-1].body["context"]
    assert str(context["event"]["reference_price"]) == "100"
