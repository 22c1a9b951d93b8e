"""Shared builders for gateway tests: a runtime on a small bundle, a paper venue, a clock."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from gatekit import make_gate, pre_trade  # the engine tests' bundle builder

from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore
from riskctl.venues.gateway import OrderGateway
from riskctl.venues.paper import PaperVenue
from riskctl.venues.retry import Backoff, RetryBudget

__all__ = ["T0", "VirtualClock", "gateway", "order", "pre_trade"]

T0 = 1_700_000_000_000


class VirtualClock:
    """Monotonic seconds that only move when someone sleeps: tests run in no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def gateway(
    tmp_path: Path, limits: dict[str, Any] | None = None, **kwargs: Any
) -> tuple[OrderGateway, PaperVenue, VirtualClock]:
    gate = make_gate(tmp_path, {"max_order_qty": 50, **(limits or {})})
    runtime = StatefulGate(gate, MemoryStore())
    paper = PaperVenue("binance", fee_bps=Decimal(0))
    paper.set_top("BTC/USDT", Decimal("99.9"), Decimal("100.1"), T0)
    clock = VirtualClock()
    gw = OrderGateway(
        runtime,
        {"binance": paper},
        budget=kwargs.pop("budget", RetryBudget(max_attempts=4, deadline_s=30)),
        backoff=Backoff(base_s=0.1, cap_s=2.0),
        seed=7,
        clock=clock,
        sleep=clock.sleep,
        wall_ms=lambda: T0,
        **kwargs,
    )
    return gw, paper, clock


def order(cid: str, side: str = "buy", qty: str = "1", price: str = "100", **extra: Any) -> dict:
    data = pre_trade(order={"client_order_id": cid, "side": side, "qty": qty, "price": price})
    data["order"].update(extra.pop("order", {}))
    data.update(extra)
    data["now_ms"] = extra.get("now_ms", T0)
    return data
