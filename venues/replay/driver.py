"""The replay: a recorded session through all six stages, on session time.

For each event, in file order, at its ``recv_ms``:

- ``book`` / ``trade``: ``ingest`` through the stateful runtime. Only an event the gate
  admits moves the market the replay knows (and the paper venue's book, whose crossings
  fill resting orders); the strategy then sees the book and its actions go through
  ``signal``, then the order gateway (``pre_trade``, ``order_send``, the paper venue);
- ``order``: a recorded strategy action, sent through the gateway as the bot sent it;
- ``signal``: decided at ``signal``; ``venue``: the venue's recorded faults, replayed at
  the paper venue (a 429 burst, errors, slow answers, an outage), so the gateway meets
  them as it would meet the real ones; ``balance``: the paper account's balance; ``fill`` and
  ``position``: informative (the paper venue makes its own fills from the recorded book);
- every ``monitor_ms`` of session time, a ``monitor`` context per venue and symbol.

Time is the session's: the runtime decides at each event's ``recv_ms``, and the gateway's
retries and breaker waits run on a virtual clock that session time moves, so a replay is
deterministic for a seed and runs as fast as the machine allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from riskctl.runtime import StatefulGate
from riskctl.runtime.stateful import Step
from riskctl.session import (
    BalanceEvent,
    BookEvent,
    OrderEvent,
    SessionProblem,
    SignalEvent,
    TradeEvent,
    VenueEvent,
)
from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.gateway import OrderGateway, OrderResult
from riskctl.venues.paper import PaperVenue
from riskctl.venues.replay.collect import Collector
from riskctl.venues.replay.strategy import (
    BookView,
    CancelOrder,
    FillView,
    NewOrder,
    ReplayStrategy,
)
from riskctl.venues.retry import Backoff, RetryBudget

__all__ = ["Replay", "ReplayOptions", "SessionClock"]

ZERO = Decimal(0)
DEFAULT_BALANCES = {"USDT": Decimal(2_000_000), "BTC": Decimal(10), "ETH": Decimal(200)}


class SessionClock:
    """Seconds of session time; a gateway's sleep moves it on instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def at_ms(self, ms: int) -> None:
        self.now = max(self.now, ms / 1000)

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@dataclass(frozen=True)
class ReplayOptions:
    seed: int = 0
    monitor_ms: int = 1_000
    balances: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_BALANCES))
    fee_bps: Decimal = Decimal("1")


@dataclass(slots=True)
class _Market:
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_qty: Decimal | None = None
    ask_qty: Decimal | None = None
    ts_ms: int = 0
    recv_ms: int = 0


class Replay:
    """One replay of one session under one runtime, with one paper venue per venue id."""

    def __init__(
        self,
        runtime: StatefulGate,
        venue_ids: Iterable[str],
        *,
        strategy: ReplayStrategy | None = None,
        options: ReplayOptions | None = None,
        collector: Collector | None = None,
    ) -> None:
        self.options = options or ReplayOptions()
        self.runtime = runtime
        self.clock = SessionClock()
        self.papers = {
            vid: PaperVenue(
                vid,
                balances=self.options.balances,
                fee_bps=self.options.fee_bps,
                sleep=self.clock.sleep,  # a slow answer takes session time, not wall time
            )
            for vid in sorted(set(venue_ids))
        }
        self.gateway = OrderGateway(
            runtime,
            self.papers,
            budget=RetryBudget(max_attempts=3, deadline_s=2.0),
            backoff=Backoff(base_s=0.05, cap_s=1.0),
            seed=self.options.seed,
            clock=self.clock,
            sleep=self.clock.sleep,
            wall_ms=lambda: int(self.clock() * 1000),
        )
        self.strategy = strategy
        self.collect = collector or Collector(runtime)
        self._markets: dict[tuple[str, str], _Market] = {}
        self._next_monitor: int | None = None
        self._balance_ms: dict[str, int] = {}  # venue -> session time of its last balance
        self._now = 0

    # -- the loop ----------------------------------------------------------------------------

    def run(self, items: Iterable[Any]) -> Collector:
        """Replay every event (a SessionProblem is counted and reported, and skipped)."""
        return asyncio.run(self.arun(items))

    async def arun(self, items: Iterable[Any]) -> Collector:
        handlers: dict[type, Callable[[Any], Awaitable[None]]] = {
            BookEvent: self._book,
            TradeEvent: self._trade,
            OrderEvent: self._order,
            SignalEvent: self._signal,
            VenueEvent: self._venue,
            BalanceEvent: self._balance,
        }
        for item in items:
            if isinstance(item, SessionProblem):
                self.collect.problem(item)
                continue
            handler = handlers.get(type(item))
            recv = getattr(item, "recv_ms", None)
            if recv is None:
                continue  # the header
            self.collect.event(item)
            await self._advance(int(recv))
            if handler is not None:
                await handler(item)
        await self._monitor(self._now)
        return self.collect

    async def _advance(self, recv_ms: int) -> None:
        self._now = max(self._now, recv_ms)
        self.clock.at_ms(self._now)
        if self._next_monitor is None:
            self._next_monitor = self._now + self.options.monitor_ms
        while self._now >= self._next_monitor:
            await self._monitor(self._next_monitor)
            self._next_monitor += self.options.monitor_ms

    # -- market data -------------------------------------------------------------------------

    async def _book(self, event: BookEvent) -> None:
        ts = event.ts_ms if event.ts_ms is not None else event.recv_ms
        context: dict[str, Any] = {
            "now_ms": self._now,
            "event": {
                "type": "book",
                "venue": event.venue,
                "symbol": event.symbol,
                "ts_ms": ts,
                "bid": event.bid,
                "ask": event.ask,
                "seq": event.seq,
            },
        }
        step = await self._decide("ingest", context, scope=(event.venue, event.symbol))
        if not step.decision.allowed:
            return
        market = self._markets.setdefault((event.venue, event.symbol), _Market())
        market.bid, market.ask = event.bid, event.ask
        market.bid_qty, market.ask_qty = event.bid_qty, event.ask_qty
        market.ts_ms, market.recv_ms = ts, event.recv_ms
        paper = self.papers.get(event.venue)
        if paper is not None:
            paper.set_top(event.symbol, event.bid, event.ask, self._now)
            await self._paper_fills(event.venue)
        await self._run_strategy(event.venue, event.symbol)

    async def _trade(self, event: TradeEvent) -> None:
        ts = event.ts_ms if event.ts_ms is not None else event.recv_ms
        context = {
            "now_ms": self._now,
            "event": {
                "type": "trade",
                "venue": event.venue,
                "symbol": event.symbol,
                "ts_ms": ts,
                "price": event.price,
                "size": event.qty,
                "trade_type": event.trade_type,
                "idempotency_key": f"trade:{event.id}",
            },
        }
        await self._decide("ingest", context, scope=(event.venue, event.symbol))

    # -- orders ------------------------------------------------------------------------------

    async def _run_strategy(self, venue: str, symbol: str) -> None:
        if self.strategy is None:
            return
        market = self._markets[(venue, symbol)]
        mine = tuple(
            o.client_order_id for o in self.runtime.open_orders(venue) if o.symbol == symbol
        )
        view = BookView(
            venue=venue,
            symbol=symbol,
            bid=market.bid,
            ask=market.ask,
            bid_qty=market.bid_qty,
            ask_qty=market.ask_qty,
            ts_ms=self._now,
            position=self.runtime.position(venue, symbol),
            open_orders=mine,
        )
        for action in self.strategy.on_book(view):
            if isinstance(action, CancelOrder):
                result = await self.gateway.cancel(
                    action.venue, action.symbol, action.client_order_id, now_ms=self._now
                )
                self._result(result, None)
            elif isinstance(action, NewOrder):
                await self._new_order(action)

    async def _new_order(self, action: NewOrder) -> None:
        signal = {
            "now_ms": self._now,
            "signal": {
                "strategy": self.strategy.name if self.strategy is not None else "replay",
                "venue": action.venue,
                "symbol": action.symbol,
                "side": action.side,
                "qty": action.qty,
                "price": action.price,
            },
        }
        decided = await self._decide("signal", signal, scope=(action.venue, action.symbol))
        if not decided.decision.allowed:
            return
        order = {
            "venue": action.venue,
            "symbol": action.symbol,
            "side": action.side,
            "type": action.type,
            "qty": str(action.qty),
            "price": None if action.price is None else str(action.price),
            "time_in_force": action.time_in_force,
            "reduce_only": action.reduce_only,
            "client_order_id": action.client_order_id,
            "strategy": self.strategy.name if self.strategy is not None else "replay",
        }
        if action.group is not None:
            order["group"] = action.group
        await self._submit(order)

    async def _order(self, event: OrderEvent) -> None:
        if event.action == "cancel":
            result = await self.gateway.cancel(
                event.venue, event.symbol, event.client_order_id, now_ms=self._now
            )
            self._result(result, None)
            return
        order: dict[str, Any] = {
            "venue": event.venue,
            "symbol": event.symbol,
            "side": event.side,
            "type": event.order_type or "limit",
            "qty": None if event.qty is None else str(event.qty),
            "price": None if event.price is None else str(event.price),
            "time_in_force": event.time_in_force,
            "reduce_only": event.reduce_only,
            "client_order_id": event.client_order_id,
            "strategy": event.strategy,
            "action": event.action,
        }
        if event.group is not None:
            order["group"] = event.group
        if event.leg_timeout_ms is not None:
            order["leg_timeout_ms"] = event.leg_timeout_ms
        await self._submit(order)

    async def _submit(self, order: dict[str, Any]) -> None:
        venue, symbol = order["venue"], order["symbol"]
        market = self._markets.get((venue, symbol), _Market())
        context = {
            "now_ms": self._now,
            "order": order,
            "market": {
                "bid": market.bid,
                "ask": market.ask,
                # Signed: a venue clock ahead of ours makes it negative (clock_skew says so).
                "age_ms": self._now - market.ts_ms if market.ts_ms else 0,
            },
            "account": self._account(venue, symbol),
        }
        result = await self.gateway.submit(context)
        self._result(result, order)
        await self._paper_fills(venue)

    def _result(self, result: OrderResult, order: Mapping[str, Any] | None) -> None:
        for step in result.steps:
            self.collect.step(step, self._now)
        for step in result.fills:
            self.collect.step(step, self._now)
        self.collect.order(result, order, self._now)
        self._exits()

    def _exits(self) -> None:
        """The exits a flatten sent (the gateway carried out a band's or a basket's
        flatten): orders of the runtime's own, reported like any other."""
        for order, result in self.gateway.take_exits():
            self._result(result, order)

    async def _paper_fills(self, venue: str) -> None:
        paper = self.papers.get(venue)
        if paper is None:
            return
        fresh = paper.take_trades()
        for step in self.gateway.apply_trades(venue, fresh, self._now):
            self.collect.step(step, self._now)
            await self._carry_out(step)
        for trade in fresh:
            self.collect.fill(venue, trade, self._now)
            if self.strategy is not None and trade.client_order_id is not None:
                self.strategy.on_fill(
                    FillView(
                        venue=venue,
                        symbol=trade.symbol,
                        client_order_id=trade.client_order_id,
                        side=trade.side,
                        qty=trade.qty,
                        price=trade.price,
                        ts_ms=trade.ts_ms,
                    )
                )

    # -- the rest ----------------------------------------------------------------------------

    async def _signal(self, event: SignalEvent) -> None:
        context = {
            "now_ms": self._now,
            "signal": {
                "strategy": event.strategy,
                "venue": event.venue,
                "symbol": event.symbol,
                "side": event.side,
                "qty": event.qty,
                "price": event.price,
            },
        }
        await self._decide("signal", context, scope=(event.venue, event.symbol))

    async def _venue(self, event: VenueEvent) -> None:
        paper = self.papers.get(event.venue)
        if paper is None:
            return
        if event.event == "outage_start":
            paper.set_outage(True)
        elif event.event == "outage_end":
            paper.set_outage(False)
        elif event.event == "latency" and event.latency_ms is not None:
            paper.delay_next(event.latency_ms / 1000, count=event.count)
        elif event.event in ("rate_limited", "error"):
            kind = (
                VenueErrorKind.RATE_LIMITED
                if event.event == "rate_limited"
                else (VenueErrorKind.UNAVAILABLE)
            )
            retry = None if event.retry_after_s is None else float(event.retry_after_s)
            error = VenueError(
                kind,
                event.venue,
                f"recorded {event.event}"
                + (f" (HTTP {event.http_status})" if event.http_status else ""),
                retry_after_s=retry,
                http_status=event.http_status,
                error_class=event.error_class,
            )
            paper.fail_next(error, count=event.count)
        self.collect.venue_event(event, self._now)

    async def _balance(self, event: BalanceEvent) -> None:
        paper = self.papers.get(event.venue)
        if paper is not None:
            paper.set_balance(event.asset, event.free + event.locked)
            self._balance_ms[event.venue] = self._now

    async def _monitor(self, at_ms: int) -> None:
        for (venue, symbol), market in sorted(self._markets.items()):
            position = self.runtime.position(venue, symbol)
            bid, ask = market.bid, market.ask
            notional = ZERO
            if bid is not None and ask is not None:
                notional = abs(position) * (bid + ask) / 2
            context = {
                "now_ms": at_ms,
                "venue": venue,
                "symbol": symbol,
                "account": self._account(venue, symbol),
                # The runtime owns the position; its mark-to-market at the replay's mid is ours.
                "inventory": {"position_notional": notional},
                "health": {
                    "feed_age_ms": max(0, at_ms - market.recv_ms),
                    "feed_connected": True,
                },
            }
            await self._decide("monitor", context, scope=(venue, symbol), at_ms=at_ms)
        self.collect.snapshot(at_ms, self._markets_mid())

    # -- helpers -----------------------------------------------------------------------------

    async def _decide(
        self,
        stage: str,
        context: Mapping[str, Any],
        *,
        scope: tuple[str, str],
        at_ms: int | None = None,
    ) -> Step:
        step = self.runtime.evaluate(stage, context)
        self.collect.step(step, self._now if at_ms is None else at_ms, scope=scope)
        await self._carry_out(step)
        return step

    async def _carry_out(self, step: Step) -> None:
        """What a step outside an order's own decision asked for (a breaker's cancel_all
        at ingest or monitor, a band's flatten after a fill), done at the paper venue as
        the order gateway does it for a live run."""
        if step.effects:
            await self.gateway.carry_out(step, self._now)
            self._exits()

    def _markets_mid(self) -> dict[str, Decimal]:
        out = {}
        for (venue, symbol), market in self._markets.items():
            if market.bid is not None and market.ask is not None:
                out[f"{venue}:{symbol}"] = (market.bid + market.ask) / 2
        return out

    def _account(self, venue: str, symbol: str) -> dict[str, Any]:
        paper = self.papers.get(venue)
        base, _, quote = symbol.partition("/")
        quote = quote.partition(":")[0]
        if paper is None:
            return {"equity": "0", "available_balance": "0", "balance_age_ms": 0}
        quote_total = paper.balance(quote)
        equity = quote_total
        for (v, s), market in self._markets.items():
            if v == venue and market.bid is not None and market.ask is not None:
                equity += paper.balance(s.partition("/")[0]) * (market.bid + market.ask) / 2
        return {
            "equity": equity,
            "available_balance": quote_total - paper.reserved(quote),
            # How old the venue's balance snapshot is: the session's balance events are the
            # snapshots (none recorded: the paper account is its own, always current).
            "balance_age_ms": self._now - self._balance_ms.get(venue, self._now),
            "quote_free": quote_total,
            "quote_reserved": paper.reserved(quote),
            "base_free": paper.balance(base),
            "base_reserved": paper.reserved(base),
        }
