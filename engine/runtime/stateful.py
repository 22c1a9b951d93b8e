"""The stateful gate: the pure Gate with a memory that survives a crash.

For each ``(stage, context)`` a ``StatefulGate``:

1. applies operator controls another process posted (kill, resume, reset) and advances
   every machine to the context's ``now_ms`` (cooldowns, timeouts);
2. **completes** the context: every field the runtime owns is set from its own state;
   where the bot sent a different value the runtime's wins and a disagreement is recorded;
3. **decides** with ``Gate.evaluate``;
4. **applies** the decision's actions and each machine's transitions;
5. **commits** the changed state rows and the audit record in one transaction, and only
   then returns. A ``kill -9`` loses at most the decision being made, never one returned.
   If the commit fails, the decision is a reject (fail closed) and the state in memory is
   reloaded from the store, so memory never runs ahead of what is durable.

Time is the context's ``now_ms``: a replay of the same stream gives the same states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import ValidationError

from riskctl.bundle import PolicyBundle
from riskctl.context import CONTEXTS
from riskctl.context.base import StageContext
from riskctl.decide import failure
from riskctl.decision import Decision, Outcome
from riskctl.errors import redact
from riskctl.gate import Gate
from riskctl.kinds import RiskLimits
from riskctl.runtime.bands import AlertPart, BandPart
from riskctl.runtime.book import BookPart
from riskctl.runtime.breakers import BreakerPart
from riskctl.runtime.completion import Completion, scope_of
from riskctl.runtime.feeds import FeedPart
from riskctl.runtime.part import Part
from riskctl.state import trading as modes
from riskctl.state.codec import decode, encode
from riskctl.state.effects import Effect
from riskctl.state.pnl import SessionConfig
from riskctl.state.store import Control, NewRecord, RowKey, StateStore

__all__ = ["StatefulGate", "Step", "describe"]

TRADING: RowKey = ("trading", "")
Origin = Literal["strategy", "runtime"]
_ORIGIN_SECTION = {"pre_trade": "order", "order_send": "request"}  # where origin lives


@dataclass(frozen=True, slots=True)
class Step:
    """What one evaluation produced: the decision, the trading state after it, the effects."""

    decision: Decision
    trading_state: modes.Mode
    kill_switch: bool
    effects: tuple[Effect, ...] = ()
    disagreements: Mapping[str, Any] = field(default_factory=dict)
    # The decision's JSON as the audit record holds it: built once per decision, not twice.
    decision_json: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The decision JSON of ``riskctl eval`` plus the state after it (``riskctl run``)."""
        shown = self.decision_json
        out = dict(shown) if shown is not None else self.decision.to_json()
        out["trading_state"] = self.trading_state
        out["kill_switch"] = self.kill_switch
        out["effects"] = [effect.as_json() for effect in self.effects]
        if self.disagreements:
            out["disagreements"] = dict(self.disagreements)
        return out


def parts_for(bundle: PolicyBundle | None, *, book_of_record: bool = True) -> list[Part]:
    """Every machine the runtime drives for a bundle (None: to read rows back only)."""
    # Order matters: the book completes positions before bands read them.
    return [
        BreakerPart(bundle),
        FeedPart(bundle),
        BookPart(book_of_record=book_of_record, session=_session_config(bundle)),
        BandPart(bundle),
        AlertPart(bundle),
    ]


def _session_config(bundle: PolicyBundle | None) -> SessionConfig | None:
    """The trading day of the first RiskLimits document (one desk, one trading day)."""
    documents = bundle.of_kind(RiskLimits) if bundle is not None else ()
    if not documents:
        return None
    day = documents[0].spec.trading_day
    return SessionConfig(day_roll_ms_of_day=day.roll_ms_of_day(), timezone=day.timezone)


class StatefulGate:
    """A Gate that remembers, on a StateStore. Not thread-safe: one per process and store."""

    def __init__(self, gate: Gate, store: StateStore, *, book_of_record: bool = True) -> None:
        """``book_of_record``: positions and P&L come from the fills the runtime applied
        (the default); False takes the bot's, and still remembers orders and fills."""
        self.gate = gate
        self.store = store
        self._parts = parts_for(gate.bundle, book_of_record=book_of_record)
        self._breakers = next(p for p in self._parts if isinstance(p, BreakerPart))
        self._book = next(p for p in self._parts if isinstance(p, BookPart))
        self._load()

    def _load(self) -> None:
        rows = self.store.load().rows
        self._trading = decode(modes.Trading, rows[TRADING]) if TRADING in rows else modes.Trading()
        self._trading_dirty = False
        for part in self._parts:
            part.load(
                {key: text for (machine, key), text in rows.items() if machine == part.machine}
            )
            part.dirty()  # what was just loaded is not a change
        self._last_now = 0

    @property
    def now_ms(self) -> int:
        """The latest context time this process has decided at."""
        return self._last_now

    @property
    def trading(self) -> modes.Trading:
        return self._trading

    def _set_trading(self, value: modes.Trading) -> None:
        if value != self._trading:
            self._trading = value
            self._trading_dirty = True

    # -- operator controls ---------------------------------------------------------------

    def kill(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Engage the kill switch now (``riskctl kill`` posts the same from another process)."""
        self.store.post_control("kill", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def resume(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Release the kill switch and return to ACTIVE."""
        self.store.post_control("resume", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def reset(self, breaker: str, *, by: str, reason: str, now_ms: int) -> Step:
        """Close a breaker that waits for a manual reset."""
        self.store.post_control("reset", by=by, reason=reason, at_ms=now_ms, target=breaker)
        return self._controls_only(now_ms)

    def _controls_only(self, now_ms: int) -> Step:
        records: list[NewRecord] = []
        effects = self._apply_controls(now_ms, records)
        decision = Decision("control", Outcome.ALLOW)
        return self._finish(decision, effects, {}, records)

    def order_update(
        self, venue: str, client_order_id: str, status: str, *, now_ms: int, reason: str = ""
    ) -> Step:
        """The venue's word on one of our orders: ``canceled``, ``rejected`` or ``expired``
        closes it locally (other statuses are recorded only; fills close an order as they
        are applied). The order gateway calls this on the venue's confirmation, never on
        the assumption that a request worked. Recorded in the audit log."""
        now_ms = max(now_ms, self._last_now)
        self._last_now = now_ms
        records: list[NewRecord] = []
        effects = self._apply_controls(now_ms, records)
        closed = self._book.order_update(venue, client_order_id, status)
        body = {
            "venue": venue,
            "client_order_id": client_order_id,
            "status": status,
            "closed": closed,
            "reason": reason,
        }
        records.append(NewRecord(now_ms, "order", body))
        return self._finish(Decision("order", Outcome.ALLOW), effects, {}, records)

    def _apply_controls(self, now_ms: int, records: list[NewRecord]) -> list[Effect]:
        effects: list[Effect] = []
        for control in self.store.controls(self._trading.last_control):
            applied = self._apply_control(control, now_ms)
            effects += applied
            body = {
                "id": control.id,
                "verb": control.verb,
                "by": control.by,
                "reason": control.reason,
                "target": control.target,
                "posted_at_ms": control.at_ms,
                "effects": [e.as_json() for e in applied],
            }
            records.append(NewRecord(now_ms, "control", body))
        return effects

    def _apply_control(self, control: Control, now_ms: int) -> list[Effect]:
        state = self._trading
        effects: list[Effect] = []
        if control.verb == "kill":
            state, done = modes.kill(state, by=control.by, reason=control.reason, now_ms=now_ms)
            effects += done
        elif control.verb == "resume":
            state, done = modes.resume(state, by=control.by, reason=control.reason, now_ms=now_ms)
            effects += done
        for part in self._parts:
            effects += part.control(control, now_ms)
        self._set_trading(replace(state, last_control=control.id))
        return effects

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, stage: str, context: Mapping[str, Any], *, origin: Origin = "strategy"
    ) -> Step:
        """Complete, decide, apply, commit; then return. Never raises for bad input.

        ``origin`` is who sends an order or request (``order.origin``, ``request.origin``):
        only the order gateway passes ``runtime``, for the exits a flatten sends; whatever
        a context says, this argument wins (a bot cannot call its order an exit of ours)."""
        now_ms = _now_of(context, self._last_now)
        self._last_now = max(self._last_now, now_ms)
        records: list[NewRecord] = []
        try:
            effects = self._apply_controls(now_ms, records)
            for part in self._parts:
                effects += part.tick(now_ms)
            completion = self._complete(stage, context, origin)
            decision, ctx = self._decide(stage, completion.data)
            if ctx is not None:
                effects += self._apply(stage, ctx, decision, now_ms)
        except Exception as exc:  # noqa: BLE001  # a machine failed: reject, keep the old state
            self._load()  # drop whatever this evaluation changed in memory
            self._last_now = max(self._last_now, now_ms)
            message = f"the runtime could not evaluate this context: {type(exc).__name__}: {exc}"
            refused = failure(stage, "runtime.error", redact(message))
            body = {"stage": stage, "decision": refused.to_json(), "context": context}
            return self._finish(refused, [], {}, [NewRecord(now_ms, "decision", body)])
        body = {"stage": stage, "decision": decision.to_json(), "context": completion.data}
        records.append(NewRecord(now_ms, "decision", body))
        scope = completion.scope
        return self._finish(
            decision, effects, completion.disagreements, records, self._breakers.modes(scope)
        )

    def refuse(self, stage: str, code: str, message: str, values: dict[str, Any]) -> Step:
        """A reject for input that is not a context at all (a malformed ``riskctl run``
        line), recorded in the audit log like any decision."""
        decision = failure(stage, code, message, values)
        body = {"stage": stage, "decision": decision.to_json()}
        return self._finish(decision, [], {}, [NewRecord(self._last_now, "decision", body)])

    def _complete(self, stage: str, context: Mapping[str, Any], origin: Origin) -> Completion:
        """The context with every runtime-owned field set from state."""
        completion = Completion(context if isinstance(context, Mapping) else {})
        model = CONTEXTS.get(stage)
        if model is None or not isinstance(context, Mapping):
            return completion  # the gate rejects it as it stands
        scope = completion.scope = scope_of(model.SCOPE_FIELDS, context)
        for part in self._parts:
            part.complete(stage, scope, completion)
        state = self._trading
        mode = modes.effective(state, *completion.restrictions)
        completion.update("state", {"trading_state": mode, "kill_switch": state.kill.engaged})
        section = _ORIGIN_SECTION.get(stage)
        # The default is "strategy": set it only when it says something (hot path).
        if (
            section is not None
            and isinstance(context.get(section), Mapping)
            and (origin != "strategy" or completion.given(f"{section}.origin") is not None)
        ):
            completion.set(f"{section}.origin", origin)
        return completion

    def _decide(
        self, stage: str, completed: Mapping[str, Any]
    ) -> tuple[Decision, StageContext | None]:
        """The gate's decision, and the validated context when it was valid."""
        try:
            ctx = self.gate.context(stage, completed)
        except (ValidationError, KeyError, TypeError, AttributeError):
            return self.gate.evaluate(stage, completed), None
        return self.gate.evaluate(stage, ctx), ctx

    def _apply(
        self, stage: str, ctx: StageContext, decision: Decision, now_ms: int
    ) -> list[Effect]:
        state, done = modes.on_actions(self._trading, decision.actions, f"{stage} decision", now_ms)
        self._set_trading(state)
        effects = list(done)
        for part in self._parts:
            effects += part.apply(stage, ctx, decision, now_ms)
        return effects

    def _finish(
        self,
        decision: Decision,
        effects: Sequence[Effect],
        disagreements: Mapping[str, Any],
        records: list[NewRecord],
        restrictions: Sequence[modes.Mode] = (),
    ) -> Step:
        """Commit, then return the step; a failed commit turns the decision into a reject.

        The step's trading state is the one in force where the context was, after it:
        the process's own mode tightened by breakers open there.
        """
        state = self._trading
        mode = modes.effective(state, *restrictions)
        shown = None
        if records and records[-1].kind == "decision":
            body = dict(records[-1].body)
            shown = body["decision"]
            body["trading_state"] = mode
            if effects:
                body["effects"] = [effect.as_json() for effect in effects]
            if disagreements:
                body["disagreements"] = dict(disagreements)
            records[-1] = replace(records[-1], body=body)
        try:
            self.store.commit(self._dirty_rows(), records)
        except Exception as exc:  # noqa: BLE001  # nothing durable: never let the order out
            self._load()  # memory must not run ahead of the store
            message = f"the state could not be committed: {type(exc).__name__}: {exc}"
            refused = failure(decision.stage, "state.commit-failed", redact(message))
            return Step(refused, self._trading.mode, self._trading.kill.engaged)
        return Step(decision, mode, state.kill.engaged, tuple(effects), disagreements, shown)

    def _dirty_rows(self) -> dict[RowKey, str | None]:
        rows: dict[RowKey, str | None] = {}
        if self._trading_dirty:
            rows[TRADING] = encode(self._trading)
            self._trading_dirty = False
        for part in self._parts:
            for key, value in part.dirty().items():
                rows[(part.machine, key)] = None if value is None else encode(value)
        return rows

    def describe(self) -> dict[str, Any]:
        """What ``riskctl state show`` prints, from this process's memory."""
        return _describe(self._trading, self._parts)

    def close(self) -> None:
        self.store.close()


def describe(rows: Mapping[RowKey, str]) -> dict[str, Any]:
    """``riskctl state show`` for committed rows."""
    parts = parts_for(None)
    for part in parts:
        part.load({key: text for (machine, key), text in rows.items() if machine == part.machine})
    state = decode(modes.Trading, rows[TRADING]) if TRADING in rows else modes.Trading()
    return _describe(state, parts)


def _describe(state: modes.Trading, parts: Sequence[Part]) -> dict[str, Any]:
    kill = state.kill
    view: dict[str, Any] = {
        "trading_state": state.mode,
        "since_ms": state.since_ms,
        "reason": state.reason,
        "kill_switch": {
            "engaged": kill.engaged,
            "by": kill.by,
            "reason": kill.reason,
            "at_ms": kill.at_ms,
        },
        "breakers": {},
        "bands": {},
        "alerts": {},
        "session": {},
        "positions": {},
        "open_orders": {},
        "feeds": {},
    }
    for part in parts:
        view.update(part.describe())
    return view


def _now_of(context: Any, last: int) -> int:
    value = context.get("now_ms") if isinstance(context, Mapping) else None
    return value if type(value) is int and value >= 0 else last
