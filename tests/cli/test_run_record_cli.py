"""``riskctl run --record FILE`` writes a live run's inputs as a session, and the session
replays: market data, signals, orders and fills become events; what cannot be one is
counted, not written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clikit import REPO, riskctl

from riskctl.session import (
    BookEvent,
    FillEvent,
    OrderEvent,
    SessionHeader,
    SessionProblem,
    SignalEvent,
    TradeEvent,
    read_header,
    read_session,
)

T0 = 1_765_000_000_000


def line(stage: str, context: dict[str, Any]) -> str:
    return json.dumps({"stage": stage, "context": context})


def inputs() -> str:
    book = {"type": "book", "venue": "binance", "symbol": "BTC/USDT", "ts_ms": T0 - 2,
            "bid": "60000.00", "ask": "60000.02", "seq": 7}  # fmt: skip
    trade = {"type": "trade", "venue": "binance", "symbol": "BTC/USDT", "ts_ms": T0,
             "price": "60000.01", "size": "0.25", "idempotency_key": "trade:991"}  # fmt: skip
    signal = {"strategy": "mm", "venue": "binance", "symbol": "BTC/USDT", "side": "buy",
              "qty": "0.1", "price": "59990"}  # fmt: skip
    order = {"venue": "binance", "symbol": "BTC/USDT", "side": "buy", "type": "limit",
             "qty": "0.1", "price": "59990", "client_order_id": "c-1",
             "strategy": "mm"}  # fmt: skip
    cancel = {"venue": "binance", "symbol": "BTC/USDT", "action": "cancel",
              "client_order_id": "c-1", "strategy": "mm"}  # fmt: skip
    fill = {"venue": "binance", "symbol": "BTC/USDT", "client_order_id": "c-1",
            "trade_id": "t-1", "side": "buy", "qty": "0.1", "price": "59990",
            "fee": "0.6"}  # fmt: skip
    market = {"bid": "60000.00", "ask": "60000.02", "age_ms": 5}
    return "\n".join([
        line("ingest", {"now_ms": T0, "event": book}),
        line("ingest", {"now_ms": T0 + 1, "event": trade}),
        line("signal", {"now_ms": T0 + 2, "signal": signal}),
        line("pre_trade", {"now_ms": T0 + 3, "order": order, "market": market}),
        line("fill", {"now_ms": T0 + 4, "fill": fill}),
        line("pre_trade", {"now_ms": T0 + 5, "order": cancel, "market": market}),
        line("monitor", {"now_ms": T0 + 6, "venue": "binance", "symbol": "BTC/USDT"}),
        line("ingest", {"now_ms": T0 + 7, "event": {"type": "book", "venue": "binance"}}),
        "{not json",
    ]) + "\n"  # fmt: skip


def test_when_a_run_is_recorded_then_its_inputs_read_back_as_session_events(
    tmp_path: Path,
) -> None:
    recorded = tmp_path / "day.jsonl"
    done = riskctl("run", "--policies", REPO / "policies", "--memory", "--record", recorded,
                   input_text=inputs())  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 9  # every line still answered
    assert "1 inputs were not recordable" in done.stderr
    items = list(read_session(recorded))
    assert not [i for i in items if isinstance(i, SessionProblem)]
    assert [type(i) for i in items] == [BookEvent, TradeEvent, SignalEvent, OrderEvent,
                                        FillEvent, OrderEvent]  # fmt: skip
    book, trade, _, new, fill, cancel = items
    header = read_header(recorded)
    assert isinstance(header, SessionHeader)
    assert header.name == "day"
    assert (book.bid, book.seq, book.ts_ms, book.recv_ms) == (
        book.bid.__class__("60000.00"), 7, T0 - 2, T0,
    )  # fmt: skip
    assert (trade.id, str(trade.qty), trade.side) == ("991", "0.25", None)
    assert (new.action, new.order_type, str(new.price)) == ("new", "limit", "59990")
    assert (fill.trade_id, fill.ts_ms) == ("t-1", T0 + 4)
    assert cancel.action == "cancel"


def test_when_a_recording_is_replayed_then_its_orders_go_through_as_recorded(
    tmp_path: Path,
) -> None:
    recorded = tmp_path / "day.jsonl.gz"
    done = riskctl("run", "--policies", REPO / "policies", "--memory", "--record", recorded,
                   input_text=inputs())  # fmt: skip
    assert done.returncode == 0, done.stderr
    replayed = riskctl("replay", recorded, "--policies", REPO / "policies", "--format", "json")
    assert replayed.returncode == 0, replayed.stderr
    summary = json.loads(replayed.stdout)["summary"]
    assert summary["event_types"] == {"book": 1, "fill": 1, "order": 2, "signal": 1, "trade": 1}
    assert summary["decisions"]["pre_trade"] == {"allow": 1}  # the new order, sent
    assert sum(summary["decisions"]["order_send"].values()) == 2  # it, and its cancel


def test_when_the_record_file_cannot_be_opened_then_exit_2_names_it(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "day.jsonl"
    done = riskctl("run", "--policies", REPO / "policies", "--memory", "--record", target,
                   input_text="")  # fmt: skip
    assert done.returncode == 2
    assert f"cannot open the record file {target}" in done.stderr
