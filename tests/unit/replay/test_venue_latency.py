"""A recorded ``latency`` venue event slows the paper venue's next answers on session time,
so the gateway measures it and ``order_send`` rules on venue latency act in a replay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskctl import Gate
from riskctl.runtime import StatefulGate
from riskctl.session import parse_line
from riskctl.state import MemoryStore
from riskctl.venues.replay.driver import Replay

POLICIES = Path(__file__).resolve().parents[3] / "policies"
T0 = 1_765_000_000_000


def events(*, slow: bool) -> list[Any]:
    lines: list[dict[str, Any]] = [{"type": "session", "name": "latency", "venues": ["binance"]}]
    t, seq = T0, 1
    for i in range(12):
        t += 200
        seq += 1
        lines.append(
            {"type": "book", "venue": "binance", "symbol": "BTC/USDT", "bid": "60000.00",
             "ask": "60001.00", "bid_qty": "1", "ask_qty": "1", "seq": seq, "ts_ms": t - 2,
             "recv_ms": t}
        )  # fmt: skip
        if i == 3 and slow:
            lines.append(
                {"type": "venue", "venue": "binance", "event": "latency", "latency_ms": 1_800,
                 "count": 2, "recv_ms": t}
            )  # fmt: skip
        if i >= 4 and i % 2 == 0:
            lines.append(
                {"type": "order", "venue": "binance", "symbol": "BTC/USDT", "action": "new",
                 "client_order_id": f"o-{i}", "strategy": "rec", "side": "buy",
                 "order_type": "limit", "qty": "0.01", "price": "59990.00", "recv_ms": t}
            )  # fmt: skip
    return [parse_line(json.dumps(line), line=n, path="t") for n, line in enumerate(lines, 1)]


def replayed(*, slow: bool) -> dict[str, Any]:
    runtime = StatefulGate(Gate.from_path(POLICIES), MemoryStore(), audit=False)
    replay = Replay(runtime, ["binance"])
    summary = replay.run(events(slow=slow)).summary()
    summary["clock_s"] = replay.clock()
    return summary


def unhealthy(summary: dict[str, Any]) -> int:
    return sum(n for rule, n in summary["rule_hits"].items() if rule.endswith("venue-unhealthy"))


def test_when_the_venue_answers_slowly_then_the_next_orders_are_held_by_the_latency_rule() -> None:
    slow, fast = replayed(slow=True), replayed(slow=False)
    assert unhealthy(fast) == 0
    # The first order's create took 1.8 s; the orders after it see latency_p99_ms 1800 > 1500.
    assert unhealthy(slow) >= 1
    assert slow["decisions"]["order_send"].get("reject", 0) == unhealthy(slow)
    # The slow answer took session time (a virtual clock: the test took no real time): the
    # first order's create at T0 + 1.0 s ended 1.8 s later, past the session's last event.
    assert slow["clock_s"] >= (T0 + 1_000) / 1000 + 1.8 > fast["clock_s"]
