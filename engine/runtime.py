"""The stateful gate: the pure Gate with a memory that survives a crash.

For each ``(stage, context)`` a ``StatefulGate``:

1. applies operator controls another process posted (kill, resume, reset) and advances
   time-driven machines to the context's ``now_ms``;
2. **completes** the context: every field the runtime owns (``state.*`` and, as machines
   land, feed memory, P&L, order counts, positions) is set from its own state; where the
   bot sent a different value the runtime's wins and a ``disagreement`` is recorded;
3. **decides** with ``Gate.evaluate``;
4. **applies** the decision's actions and the stage's transitions;
5. **commits** the changed state rows and the audit records in one transaction, and only
   then returns. A ``kill -9`` loses at most the decision being made, never one returned.

Time is the context's ``now_ms``: a replay of the same stream gives the same states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from riskctl.context import CONTEXTS
from riskctl.context.base import StageContext
from riskctl.decide import failure
from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate
from riskctl.state import trading as mode_machine
from riskctl.state.codec import decode, encode
from riskctl.state.effects import Effect
from riskctl.state.store import Control, NewRecord, RowKey, StateStore

__all__ = ["StatefulGate", "Step", "describe"]

TRADING: RowKey = ("trading", "")


@dataclass(frozen=True, slots=True)
class Step:
    """What one evaluation produced: the decision, the trading state after it, the effects."""

    decision: Decision
    trading_state: mode_machine.Mode
    kill_switch: bool
    effects: tuple[Effect, ...] = ()
    disagreements: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The decision JSON of ``riskctl eval`` plus the state after it (``riskctl run``)."""
        out = self.decision.to_json()
        out["trading_state"] = self.trading_state
        out["kill_switch"] = self.kill_switch
        out["effects"] = [effect.as_json() for effect in self.effects]
        if self.disagreements:
            out["disagreements"] = dict(self.disagreements)
        return out


class StatefulGate:
    """A Gate that remembers, on a StateStore. Not thread-safe: one per process and store."""

    def __init__(self, gate: Gate, store: StateStore) -> None:
        self.gate = gate
        self.store = store
        snapshot = store.load()
        rows = snapshot.rows
        self._trading = decode(mode_machine.Trading, rows[TRADING]) if TRADING in rows else None
        self._dirty: dict[RowKey, Any] = {}
        self._last_now = 0

    # -- state --------------------------------------------------------------------------

    @property
    def trading(self) -> mode_machine.Trading:
        return self._trading or mode_machine.Trading()

    def _set_trading(self, value: mode_machine.Trading) -> None:
        if value != self._trading:
            self._trading = value
            self._dirty[TRADING] = value

    # -- operator controls ---------------------------------------------------------------

    def kill(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Engage the kill switch now (the CLI posts the same control from another process)."""
        self.store.post_control("kill", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def resume(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Release the kill switch and return to ACTIVE."""
        self.store.post_control("resume", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def _controls_only(self, now_ms: int) -> Step:
        records: list[NewRecord] = []
        effects = self._apply_controls(now_ms, records)
        self._commit(records)
        state = self.trading
        return Step(_no_decision(), state.mode, state.kill.engaged, effects)

    def _apply_controls(self, now_ms: int, records: list[NewRecord]) -> tuple[Effect, ...]:
        effects: list[Effect] = []
        for control in self.store.controls(self.trading.last_control):
            applied = self._apply_control(control, now_ms)
            effects += applied
            records.append(
                NewRecord(
                    now_ms,
                    "control",
                    {
                        "id": control.id,
                        "verb": control.verb,
                        "by": control.by,
                        "reason": control.reason,
                        "target": control.target,
                        "posted_at_ms": control.at_ms,
                        "effects": [e.as_json() for e in applied],
                    },
                )
            )
        return tuple(effects)

    def _apply_control(self, control: Control, now_ms: int) -> tuple[Effect, ...]:
        state = self.trading
        effects: tuple[Effect, ...] = ()
        if control.verb == "kill":
            state, effects = mode_machine.kill(
                state, by=control.by, reason=control.reason, now_ms=now_ms
            )
        elif control.verb == "resume":
            state, effects = mode_machine.resume(
                state, by=control.by, reason=control.reason, now_ms=now_ms
            )
        self._set_trading(replace(state, last_control=control.id))
        return effects

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(self, stage: str, context: Mapping[str, Any]) -> Step:
        """Complete, decide, apply, commit; then return. Never raises for bad input."""
        now_ms = _now_of(context, self._last_now)
        self._last_now = max(self._last_now, now_ms)
        records: list[NewRecord] = []
        effects = list(self._apply_controls(now_ms, records))
        completed, disagreements = self._complete(stage, context)
        decision, ctx = self._decide(stage, completed)
        if ctx is not None:
            effects += self._apply(stage, ctx, decision, now_ms)
        state = self.trading
        step = Step(decision, state.mode, state.kill.engaged, tuple(effects), disagreements)
        body = {"stage": stage, "decision": decision.to_json(), "context": _plain(completed)}
        if effects:
            body["effects"] = [effect.as_json() for effect in effects]
        if disagreements:
            body["disagreements"] = disagreements
        body["trading_state"] = state.mode
        records.append(NewRecord(now_ms, "decision", body))
        self._commit(records)
        return step

    def refuse(self, stage: str, code: str, message: str, values: dict[str, Any]) -> Step:
        """A reject for input that is not a context at all (a malformed ``riskctl run``
        line), recorded in the audit log like any decision."""
        decision = failure(stage, code, message, values)
        state = self.trading
        body = {"stage": stage, "decision": decision.to_json(), "trading_state": state.mode}
        self._commit([NewRecord(self._last_now, "decision", body)])
        return Step(decision, state.mode, state.kill.engaged)

    def _complete(
        self, stage: str, context: Mapping[str, Any]
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """The context with every runtime-owned field set from state; what the bot said
        differently, per field path."""
        if not isinstance(context, Mapping) or stage not in CONTEXTS:
            return context, {}
        state = self.trading
        owned = {"trading_state": state.mode, "kill_switch": state.kill.engaged}
        given = context.get("state")
        disagreements: dict[str, Any] = {}
        if isinstance(given, Mapping):
            for name, value in owned.items():
                if name in given and given[name] != value:
                    disagreements[f"state.{name}"] = {"given": given[name], "used": value}
            owned = {**given, **owned}
        return {**context, "state": owned}, disagreements

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
        state, effects = mode_machine.on_actions(
            self.trading, decision.actions, f"{stage} decision", now_ms
        )
        self._set_trading(state)
        return list(effects)

    def _commit(self, records: Iterable[NewRecord]) -> None:
        rows = {key: encode(value) for key, value in self._dirty.items()}
        self.store.commit(rows, list(records))
        self._dirty.clear()

    def close(self) -> None:
        self.store.close()


def _now_of(context: Any, last: int) -> int:
    value = context.get("now_ms") if isinstance(context, Mapping) else None
    return value if type(value) is int and value >= 0 else last


def _no_decision() -> Decision:
    return Decision("control", Outcome.ALLOW)


def _plain(value: Any) -> Any:
    """A context as JSON-able data for the audit record (Decimals as their exact text)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, bool, float)) or value is None:
        return value
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"))
    return str(value)


def describe(rows: Mapping[RowKey, str]) -> dict[str, Any]:
    """What ``riskctl state show`` prints: the state rows of a store, decoded and named."""
    state = (
        decode(mode_machine.Trading, rows[TRADING]) if TRADING in rows else mode_machine.Trading()
    )
    kill = state.kill
    return {
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
        "feeds": {},
    }
