"""The order gateway: the only road from a bot to a venue, and every answer back to the runtime.

For a new order:

1. ``pre_trade`` through the stateful runtime; a reject never leaves, a ``modify`` is sent
   as modified;
2. ``order_send`` with the request and the venue's health as the gateway measured it
   (error rate, p99 latency, oldest pending request, rate-limit headroom), so
   ``CircuitBreakers`` act on the venue; a venue breaker open after a 429 refuses here too;
3. the request, retried within a budget with the SAME client order id; before a retry the
   id is looked up, so a response lost on the wire never opens a second order;
4. the venue's answer back to the runtime: a venue reject closes the order locally, fills
   flow through ``fill`` (applied once each, by trade id).

Actions the runtime emits (``cancel_all`` from a kill or a breaker) are carried out with
the hardened cancel-all. Time for contexts is the caller's ``now_ms`` where given, else the
gateway's clock (a seam, so tests and replays run on their own time).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from riskctl.context import Instrument, PreTradeContext
from riskctl.decide import fixed_context
from riskctl.runtime import StatefulGate
from riskctl.runtime.stateful import Origin, Step
from riskctl.venues.cancel_all import CancelAllReport, cancel_all
from riskctl.venues.errors import VenueError, VenueErrorKind, translate
from riskctl.venues.health import VenueHealthTracker
from riskctl.venues.records import OrderRequest, VenueOrder, VenueTrade
from riskctl.venues.retry import Backoff, Found, RetryBudget, call_with_retry
from riskctl.venues.venue import Venue

__all__ = ["OrderGateway", "OrderResult", "SendStatus"]

T = TypeVar("T")
MAX_TRADES = 100_000
MAX_EXITS = 1_000
SendStatus = Literal["rejected", "sent", "venue_rejected", "failed"]


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What became of one order: the gate's steps, and the venue's answer if it was sent."""

    status: SendStatus
    steps: tuple[Step, ...]
    order: VenueOrder | None = None
    error: VenueError | None = None
    fills: tuple[Step, ...] = ()
    cancel_all: tuple[CancelAllReport, ...] = field(default=())

    @property
    def decision(self) -> Step:
        """The step that settled it: the last gate step (pre_trade or order_send)."""
        return self.steps[-1]

    def venue_json(self) -> dict[str, Any]:
        """The venue part of a ``riskctl run`` output line."""
        out: dict[str, Any] = {"status": self.status}
        if self.order is not None:
            out["order"] = self.order.to_json()
        if self.error is not None:
            out["error"] = self.error.to_dict()
        if self.fills:
            out["fills"] = [step.to_json() for step in self.fills]
        if self.cancel_all:
            out["cancel_all"] = [report.to_json() for report in self.cancel_all]
        return out


class OrderGateway:
    """Bots call this, never a venue: ``await gateway.submit(pre_trade_context)``."""

    def __init__(
        self,
        runtime: StatefulGate,
        venues: Mapping[str, Venue],
        *,
        instruments: Mapping[str, Mapping[str, Instrument]] | None = None,
        budget: RetryBudget | None = None,
        backoff: Backoff | None = None,
        cancel_deadline_s: float = 10.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.runtime = runtime
        self.venues = dict(venues)
        # Instruments as the venue lists them: every context gets them when it has none.
        self._instruments = {
            venue: {symbol: i.model_dump(mode="json") for symbol, i in listed.items()}
            for venue, listed in (instruments or {}).items()
        }
        self._budget = budget or RetryBudget()
        self._backoff = backoff or Backoff()
        self._cancel_deadline_s = cancel_deadline_s
        self._rng = random.Random(seed)
        self._clock = clock
        self._sleep = sleep
        self._wall_ms = wall_ms
        self._health = {vid: VenueHealthTracker(vid, clock=clock) for vid in self.venues}
        # Trade ids this gateway applied, the newest MAX_TRADES (the runtime remembers its
        # own too): bounded, so a long session does not grow memory.
        self._applied_trades: set[str] = set()
        self._applied_order: deque[str] = deque()
        self._requests = 0
        self._stopped: dict[str, VenueError] = {}  # venue -> the auth error that stopped it
        # The last pre_trade context per (venue, symbol): the account and instrument an exit
        # of the runtime's own is decided with (its market is fetched fresh).
        self._last_context: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._exits = 0
        # The exits flatten sent, as (order, result), until a caller takes them (bounded:
        # a caller that never asks keeps the newest).
        self._sent_exits: deque[tuple[dict[str, Any], OrderResult]] = deque(maxlen=MAX_EXITS)

    async def __aenter__(self) -> OrderGateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every venue session (always, whatever failed before)."""
        errors = []
        for venue in self.venues.values():
            try:
                await venue.close()
            except Exception as exc:  # noqa: BLE001  # close the others regardless
                errors.append(exc)
        if errors:
            raise errors[0]

    # -- orders ------------------------------------------------------------------------------

    async def submit(self, context: Mapping[str, Any]) -> OrderResult:
        """Decide a pre_trade context and, if the gate allows it, send it to its venue.

        A cancel (``order.action: cancel``) goes straight to ``cancel``: cancels are never
        blocked, and the runtime learns the order is gone only when the venue confirms it.
        """
        now_ms = self._now(context)
        order = context.get("order")
        if isinstance(order, Mapping) and order.get("action") == "cancel":
            return await self.cancel(
                str(order.get("venue")),
                str(order.get("symbol")),
                str(order.get("client_order_id")),
                now_ms=now_ms,
            )
        if isinstance(order, Mapping):
            self._last_context[(str(order.get("venue")), str(order.get("symbol")))] = context
        full = {**context, "now_ms": now_ms}
        if "instrument" not in full and isinstance(order, Mapping):
            listed = self._instruments.get(str(order.get("venue")), {})
            instrument = listed.get(str(order.get("symbol")))
            if instrument is not None:
                full["instrument"] = instrument
        return await self._decide_and_send(full, now_ms, "strategy")

    async def _decide_and_send(
        self, context: Mapping[str, Any], now_ms: int, origin: Origin
    ) -> OrderResult:
        order = context.get("order")
        decided = self.runtime.evaluate("pre_trade", context, origin=origin)
        followups = await self.carry_out(decided, now_ms)
        if not decided.decision.allowed or not isinstance(order, Mapping):
            return OrderResult("rejected", (decided,), cancel_all=followups)
        order = _as_decided({**order, **decided.decision.modifications}, decided)
        refused = self._refusal(order)
        if refused is not None:
            return self._not_sent(order, decided, refused, now_ms, followups)
        request = _request_of(order)
        venue = self.venues[request.venue]
        sending = self.runtime.evaluate(
            "order_send", self._send_context(request, now_ms), origin=origin
        )
        if not sending.decision.allowed:
            return self._not_sent(order, decided, sending, now_ms, followups)
        result = await self._create(venue, request, (decided, sending), now_ms)
        return replace(result, cancel_all=followups) if followups else result

    def _refusal(self, order: Mapping[str, Any]) -> Step | None:
        """The gateway's own refusal of an order the gate allowed, if any."""
        venue_id = str(order.get("venue"))
        if order.get("action", "new") != "new":
            return self.runtime.refuse(
                "order_send",
                "gateway.unsupported",
                "the gateway sends new orders and cancels; an amend is not sent (cancel the"
                " order and send a new one)",
                {"action": order.get("action", "new")},
            )
        if order.get("qty") is None:
            return self.runtime.refuse(
                "order_send",
                "gateway.unsized",
                "the order has no base quantity the gate checked (qty, or a quote_qty it"
                " converted); it is not sent",
                {"quote_qty": order.get("quote_qty")},
            )
        if venue_id not in self.venues:
            return self.runtime.refuse(
                "order_send",
                "gateway.unknown-venue",
                f"no venue {venue_id!r} is configured; configured: {sorted(self.venues)}",
                {"venue": venue_id},
            )
        stopped = self._stopped.get(venue_id)
        if stopped is not None:
            return self.runtime.refuse(
                "order_send",
                "venue.stopped",
                f"{venue_id} is stopped after an authentication failure; fix the key"
                f" and restart: {stopped.message}",
                {"venue": venue_id},
            )
        return None

    def _not_sent(
        self,
        order: Mapping[str, Any],
        decided: Step,
        refused: Step,
        now_ms: int,
        followups: tuple[CancelAllReport, ...],
    ) -> OrderResult:
        """An order the gate allowed but that never left: the runtime closes it (it holds
        no slot at the venue, and a strategy must not cancel it forever)."""
        hits = refused.decision.hits
        reason = f"not sent: {hits[0].code if hits else 'refused'}"
        self.runtime.order_update(
            str(order.get("venue")),
            str(order.get("client_order_id")),
            "rejected",
            now_ms=now_ms,
            reason=reason,
        )
        stopped = self._stopped.get(str(order.get("venue")))
        return OrderResult("rejected", (decided, refused), error=stopped, cancel_all=followups)

    async def _create(
        self, venue: Venue, request: OrderRequest, steps: tuple[Step, ...], now_ms: int
    ) -> OrderResult:
        health = self._health[request.venue]

        async def attempt() -> VenueOrder:
            return await self._timed(health, venue.create_order(request))

        async def lost_response(error: VenueError) -> Found[VenueOrder] | None:
            # The create may have reached the venue before the answer was lost: look the
            # client order id up before sending it again, so a retry never opens a second
            # order. A failed lookup ends the retries (raised): not resending is the safe side.
            found = await venue.fetch_order(request.symbol, request.client_order_id)
            return None if found is None else Found(found)

        try:
            placed = await call_with_retry(
                attempt,
                venue=request.venue,
                classify=lambda exc: self._classify(request.venue, exc),
                backoff=self._backoff,
                budget=self._budget,
                rng=self._rng,
                clock=self._clock,
                sleep=self._sleep,
                before_retry=lost_response,
            )
        except VenueError as error:
            if error.kind is VenueErrorKind.AUTH:
                self._stopped[request.venue] = error  # never retried, never sent again
            status: SendStatus = "venue_rejected" if _is_refusal(error) else "failed"
            if status == "venue_rejected":
                self.runtime.order_update(
                    request.venue, request.client_order_id, "rejected", now_ms=now_ms
                )
            return OrderResult(status, steps, error=error)
        fills = await self.collect_fills(venue, request.symbol, placed, now_ms)
        if not placed.is_open:
            self.runtime.order_update(
                request.venue, request.client_order_id, placed.status, now_ms=now_ms
            )
        return OrderResult("sent", steps, order=placed, fills=fills)

    async def cancel(
        self, venue_id: str, symbol: str, client_order_id: str, *, now_ms: int | None = None
    ) -> OrderResult:
        """Cancel one order: ``order_send`` (kind cancel), the request with retries, and
        the venue's answer to the runtime. An order the venue no longer has open is looked
        up so its real end (filled, canceled) is what the runtime learns."""
        at = now_ms if now_ms is not None else self._wall_ms()
        venue = self.venues.get(venue_id)
        if venue is None:
            refused = self.runtime.refuse(
                "order_send",
                "gateway.unknown-venue",
                f"no venue {venue_id!r} is configured; configured: {sorted(self.venues)}",
                {"venue": venue_id},
            )
            return OrderResult("rejected", (refused,))
        request = {"venue": venue_id, "symbol": symbol, "kind": "cancel"}
        sending = self.runtime.evaluate(
            "order_send", self._send_context_of(request, client_order_id, venue_id, at)
        )
        if not sending.decision.allowed:
            return OrderResult("rejected", (sending,))
        health = self._health[venue_id]
        try:
            canceled = await call_with_retry(
                lambda: self._timed(health, venue.cancel_order(symbol, client_order_id)),
                venue=venue_id,
                classify=lambda exc: self._classify(venue_id, exc),
                backoff=self._backoff,
                budget=self._budget,
                rng=self._rng,
                clock=self._clock,
                sleep=self._sleep,
            )
        except VenueError as error:
            if error.kind is not VenueErrorKind.ORDER_NOT_FOUND:
                return OrderResult("failed", (sending,), error=error)
            try:
                found = await venue.fetch_order(symbol, client_order_id)
            except VenueError:
                return OrderResult("failed", (sending,), error=error)  # unknown: keep it open
            if found is None:
                # The venue has no such order, open or closed: by its own records it holds
                # no slot there, so it is closed here (rejected: it never stood).
                self.runtime.order_update(
                    venue_id, client_order_id, "rejected", now_ms=at, reason="unknown at venue"
                )
                return OrderResult("venue_rejected", (sending,), error=error)
            if found.is_open:
                return OrderResult("failed", (sending,), error=error)
            canceled = found  # it ended before the cancel: learn how, do not assume
        self.runtime.order_update(venue_id, client_order_id, canceled.status, now_ms=at)
        fills = await self.collect_fills(venue, symbol, canceled, at)
        return OrderResult("sent", (sending,), order=canceled, fills=fills)

    # -- fills -------------------------------------------------------------------------------

    async def collect_fills(
        self, venue: Venue, symbol: str, order: VenueOrder, now_ms: int
    ) -> tuple[Step, ...]:
        if order.filled_qty <= 0:
            return ()
        try:
            trades = await venue.fetch_trades(symbol, since_ms=order.ts_ms)
        except VenueError:
            return ()  # the next poll (poll_fills) brings them; nothing is assumed filled
        mine = [
            replace(t, client_order_id=t.client_order_id or order.client_order_id)
            for t in trades
            if t.order_id == order.id
        ]
        return await self._applied(venue.venue_id, mine, now_ms)

    def apply_trades(
        self, venue_id: str, trades: list[VenueTrade], now_ms: int
    ) -> tuple[Step, ...]:
        """Each venue trade through ``fill`` once (the runtime dedupes by trade id too)."""
        steps = []
        for trade in trades:
            key = f"{venue_id}:{trade.id}"
            if key in self._applied_trades:
                continue
            self._applied_trades.add(key)
            self._applied_order.append(key)
            if len(self._applied_order) > MAX_TRADES:
                self._applied_trades.discard(self._applied_order.popleft())
            steps.append(self.runtime.evaluate("fill", _fill_context(venue_id, trade, now_ms)))
        return tuple(steps)

    async def poll_fills(
        self, venue_id: str, symbol: str, since_ms: int | None = None
    ) -> tuple[Step, ...]:
        """Fetch the venue's recent trades and apply the ones not applied yet."""
        venue = self.venues[venue_id]
        trades = await venue.fetch_trades(symbol, since_ms=since_ms)
        return await self._applied(venue_id, trades, self._wall_ms())

    async def _applied(
        self, venue_id: str, trades: list[VenueTrade], now_ms: int
    ) -> tuple[Step, ...]:
        """``apply_trades``, then what the fills asked for (a band's flatten) carried out."""
        steps = self.apply_trades(venue_id, trades, now_ms)
        for step in steps:
            if step.effects:
                await self.carry_out(step, now_ms)
        return steps

    # -- operator controls -------------------------------------------------------------------

    async def kill(self, *, by: str, reason: str, now_ms: int | None = None) -> OrderResult:
        """Engage the kill switch and cancel every open order on every venue (confirmed).
        A kill posted by another process (``riskctl kill``) is carried out the same way on
        the next order this gateway decides."""
        at = now_ms if now_ms is not None else self._wall_ms()
        step = self.runtime.kill(by=by, reason=reason, now_ms=at)
        return OrderResult("rejected", (step,), cancel_all=await self.carry_out(step, at))

    # -- actions and cancel-all --------------------------------------------------------------

    async def carry_out(self, step: Step, now_ms: int) -> tuple[CancelAllReport, ...]:
        """Carry out what a step asked for: ``cancel_all`` (a kill, a breaker) cancels the
        scope's orders; ``flatten`` (a band, a legged basket) cancels them and sends the
        runtime's own reduce-only exits for the positions there."""
        reports: list[CancelAllReport] = []
        for effect in step.effects:
            if effect.kind != "action" or effect.name not in ("cancel_all", "flatten"):
                continue
            for venue_id, symbol in self._targets(effect.scope):
                reports.append(await self.cancel_all(venue_id, symbol, now_ms=now_ms))
                if effect.name == "flatten":
                    await self.flatten(venue_id, symbol, now_ms=now_ms)
        return tuple(reports)

    def _targets(self, scope: tuple[str, str] | None) -> list[tuple[str, str | None]]:
        venue, symbol = scope if scope is not None else ("*", "*")
        venues = list(self.venues) if venue == "*" else [venue]
        return [(v, None if symbol == "*" else symbol) for v in venues if v in self.venues]

    async def flatten(
        self, venue_id: str, symbol: str | None = None, *, now_ms: int | None = None
    ) -> list[OrderResult]:
        """Send the runtime's own exits: for each position of ``venue_id`` (one symbol, or
        all), a reduce-only IOC limit at the touch that would close it. They are decided
        as ``origin: runtime`` so a kill switch or HALTED lets them pass; the price collar,
        the venue's grid and minimums and every rule that spares no exit still apply."""
        at = now_ms if now_ms is not None else self._wall_ms()
        venue = self.venues[venue_id]
        results = []
        positions = self.runtime.describe().get("positions", {})
        for key, qty_text in sorted(positions.items()):
            pos_venue, _, pos_symbol = key.partition(":")
            qty = Decimal(str(qty_text))
            if pos_venue != venue_id or qty == 0 or symbol not in (None, pos_symbol):
                continue
            base = self._last_context.get((venue_id, pos_symbol))
            if base is None:
                continue  # never traded here through this gateway: no account to decide with
            top = await venue.fetch_top(pos_symbol)
            side = "sell" if qty > 0 else "buy"
            price = top.bid if side == "sell" else top.ask
            if price is None:
                continue
            self._exits += 1
            order = {
                "venue": venue_id,
                "symbol": pos_symbol,
                "side": side,
                "type": "limit",
                "qty": str(abs(qty)),
                "price": str(price),
                "time_in_force": "IOC",
                "reduce_only": True,
                "client_order_id": f"rx-{at}-{self._exits}",
                "strategy": "riskctl-exit",
            }
            market = {"bid": _text(top.bid), "ask": _text(top.ask), "age_ms": 0}
            context = {**base, "now_ms": at, "order": order, "market": market}
            result = await self._decide_and_send(context, at, origin="runtime")
            self._sent_exits.append((order, result))
            results.append(result)
        return results

    def take_exits(self) -> list[tuple[dict[str, Any], OrderResult]]:
        """The exits ``flatten`` sent since the last call, as (order, result), oldest first:
        what a caller that carried out a step reports of it."""
        taken = list(self._sent_exits)
        self._sent_exits.clear()
        return taken

    async def cancel_all(
        self, venue_id: str, symbol: str | None = None, *, now_ms: int | None = None
    ) -> CancelAllReport:
        """Hardened cancel-all on one venue; confirmed cancels are applied to the runtime."""
        venue = self.venues[venue_id]
        report = await cancel_all(
            venue,
            symbol,
            deadline_s=self._cancel_deadline_s,
            backoff=self._backoff,
            rng=self._rng,
            clock=self._clock,
            sleep=self._sleep,
            classify=lambda exc: self._classify(venue_id, exc),
        )
        at = now_ms if now_ms is not None else self._wall_ms()
        for order in report.confirmed:
            if order.client_order_id is not None:
                self.runtime.order_update(venue_id, order.client_order_id, order.status, now_ms=at)
        return report

    # -- helpers -----------------------------------------------------------------------------

    def _now(self, context: Mapping[str, Any]) -> int:
        given = context.get("now_ms")
        return given if isinstance(given, int) and not isinstance(given, bool) else self._wall_ms()

    def _send_context(self, request: OrderRequest, now_ms: int) -> dict[str, Any]:
        fields = {"venue": request.venue, "symbol": request.symbol, "kind": "create"}
        return self._send_context_of(fields, request.client_order_id, request.venue, now_ms)

    def _send_context_of(
        self, request: dict[str, Any], client_order_id: str, venue_id: str, now_ms: int
    ) -> dict[str, Any]:
        venue = self.venues[venue_id]
        headroom = venue.rate_limit_headroom_pct()
        return {
            "now_ms": now_ms,
            "request": {**request, "client_order_id": client_order_id},
            "venue": self._health[venue_id].snapshot(headroom),
        }

    def _classify(self, venue_id: str, exc: BaseException) -> VenueError:
        if isinstance(exc, VenueError):
            return exc
        return translate(exc, venue=venue_id)

    async def _timed(self, health: VenueHealthTracker, call: Coroutine[Any, Any, T]) -> T:
        """One request, measured for the venue's health; refused unsent while its breaker
        is open after a rate-limit answer (half-open: one request goes out as the probe)."""
        if health.is_open():
            call.close()  # the coroutine never runs: nothing is sent
            until = health.open_until()
            raise VenueError(
                kind=VenueErrorKind.RATE_LIMITED,
                venue=health.venue,
                message="the venue breaker is open after a rate-limit answer; nothing was sent",
                retry_after_s=None if until is None else max(0.0, until - self._clock()),
            )
        self._requests += 1
        request_id = self._requests
        health.request_started(request_id)
        started = self._clock()
        try:
            result = await call
        except Exception as exc:
            health.record(self._clock() - started, self._classify(health.venue, exc))
            raise
        finally:
            health.request_finished(request_id)
        health.record(self._clock() - started, None)
        return result


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _is_refusal(error: VenueError) -> bool:
    return error.kind in (VenueErrorKind.REJECTED, VenueErrorKind.AUTH)


def _as_decided(order: Mapping[str, Any], decided: Step) -> Mapping[str, Any]:
    """The order as the gate allowed it (``{**order, **modifications}``), sized in base
    units: a quote-sized order (``quote_qty``) carries the quantity the context converts it
    to (rounded down onto the venue's step grid; a clip's new ``quote_qty`` converts back
    to exactly the clipped quantity), so the venue gets the size every limit was checked
    on, never a quote amount it would turn into some other size. An order that cannot be
    sized so is returned without ``qty``, which the gateway refuses (fail closed)."""
    ctx = decided.context
    if order.get("qty") is not None or not isinstance(ctx, PreTradeContext):
        return order
    try:
        fixed = decided.decision.modifications
        qty = (fixed_context(ctx, fixed) if fixed else ctx).order.qty
    except ValidationError:
        qty = None
    sized = {key: value for key, value in order.items() if key != "quote_qty"}
    if qty is not None:
        sized["qty"] = str(qty)
    return sized


def _request_of(order: Mapping[str, Any]) -> OrderRequest:
    return OrderRequest(
        venue=str(order["venue"]),
        symbol=str(order["symbol"]),
        side=order["side"],
        type=str(order.get("type", "limit")),
        qty=Decimal(str(order["qty"])),
        client_order_id=str(order["client_order_id"]),
        price=None if order.get("price") is None else Decimal(str(order["price"])),
        reduce_only=bool(order.get("reduce_only", False)),
        time_in_force=str(order.get("time_in_force", "GTC")),
    )


def _fill_context(venue_id: str, trade: VenueTrade, now_ms: int) -> dict[str, Any]:
    return {
        "now_ms": max(now_ms, trade.ts_ms),
        "fill": {
            "venue": venue_id,
            "symbol": trade.symbol,
            "client_order_id": trade.client_order_id or trade.order_id,
            "trade_id": trade.id,
            "side": trade.side,
            "qty": str(trade.qty),
            "price": str(trade.price),
            "fee": str(trade.fee),
            "ts_ms": trade.ts_ms,
        },
        "books": {"position_qty": "0"},  # the runtime's book of record sets it
    }
