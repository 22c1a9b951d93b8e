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

Group commit (``batch``, ``evaluate_many``, what ``riskctl run`` does with the lines already
waiting): steps 1-4 run for each decision in turn, exactly as above, and step 5 once for
all of them, each changed row written once with its newest value. No step is handed out
before that commit, so a ``kill -9`` loses only decisions nobody was answered, and the
state after a restart is the uninterrupted run's state after some prefix of the input that
includes every answered decision: no fill, trip, kill or loss that an answer depended on is
ever missing. What a crash can leave: decisions of the batch being made (never answered,
never in the file: send them again), and, if the process dies between the commit and its
answers reaching the bot, committed decisions without an answer. Sent again, those apply a
second time, which never loosens anything: a fill is ``already_applied`` by its trade id, an
event is a ``duplicate``, an order counts twice in the order-rate window, a breaker match
counts twice. A decision whose audit record cannot be stored fails alone, as it would
unbatched; a failed commit fails the whole batch (every step a reject).

Time is the context's ``now_ms``: a replay of the same stream gives the same states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import ValidationError

from riskctl.bundle import PolicyBundle
from riskctl.context import CONTEXTS
from riskctl.context.base import StageContext
from riskctl.decide import failure
from riskctl.decision import Decision, Outcome
from riskctl.errors import Diagnostic, redact
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
from riskctl.state.orders import OrderRecord
from riskctl.state.pnl import SessionConfig
from riskctl.state.store import (
    Control,
    NewRecord,
    RowKey,
    StateStore,
    body_text,
    record_text,
)

__all__ = ["Batch", "StatefulGate", "Step", "describe"]

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
    # The decision's and the effects' JSON as the audit record holds them: built once per
    # decision, not twice.
    decision_json: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    effects_json: Sequence[Mapping[str, Any]] | None = field(
        default=None, compare=False, repr=False
    )
    now_ms: int = field(default=0, compare=False)  # the runtime's now_ms after this step
    # The validated context the decision was made on (None when it did not validate): what
    # the decision judged, e.g. a quote-sized order's base quantity, which the gateway sends.
    context: StageContext | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The decision JSON of ``riskctl eval`` plus the state after it (``riskctl run``)."""
        shown = self.decision_json
        out = dict(shown) if shown is not None else self.decision.to_json()
        out["trading_state"] = self.trading_state
        out["kill_switch"] = self.kill_switch
        shown_effects = self.effects_json
        out["effects"] = (
            list(shown_effects)
            if shown_effects is not None
            else [effect.as_json() for effect in self.effects]
        )
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

    def __init__(
        self,
        gate: Gate,
        store: StateStore,
        *,
        book_of_record: bool = True,
        audit: bool = True,
    ) -> None:
        """``book_of_record``: positions and P&L come from the fills the runtime applied
        (the default); False takes the bot's, and still remembers orders and fills.

        ``audit``: every decision, control and order update is written to the store's
        audit log (the default). False writes state rows only, for a run whose log nobody
        reads (a replay's what-if, a policy test): building each record is about a tenth
        of a decision's cost. Decisions and states are the same either way."""
        self.gate = gate
        self.store = store
        self.audit = audit
        self._parts = parts_for(gate.bundle, book_of_record=book_of_record)
        self._breakers = next(p for p in self._parts if isinstance(p, BreakerPart))
        self._book = next(p for p in self._parts if isinstance(p, BookPart))
        self._pending = _Pending()
        self._batch: Batch | None = None
        self._load()

    def _load(self, overlay: Mapping[RowKey, str | None] | None = None) -> None:
        """Memory from the committed rows, with ``overlay`` (encoded rows not yet
        committed; None deletes) on top."""
        rows = dict(self.store.load().rows)
        for key, text in (overlay or {}).items():
            if text is None:
                rows.pop(key, None)
            else:
                rows[key] = text
        self._trading = decode(modes.Trading, rows[TRADING]) if TRADING in rows else modes.Trading()
        self._trading_dirty = False
        for part in self._parts:
            part.load(
                {key: text for (machine, key), text in rows.items() if machine == part.machine}
            )
            part.dirty()  # what was just loaded is not a change
        self._last_now = 0

    def _restore(self) -> None:
        """Drop what the current evaluation changed in memory: back to what is durable plus
        the decisions of the open batch before it (memory never runs ahead of those)."""
        self._load(_encoded(self._pending.rows))

    @property
    def now_ms(self) -> int:
        """The latest context time this process has decided at."""
        return self._last_now

    @property
    def trading(self) -> modes.Trading:
        return self._trading

    def position(self, venue: str, symbol: str) -> Decimal:
        """The book's position in ``symbol`` at ``venue`` (0 when flat or never traded)."""
        return self._book.position_qty((venue, symbol))

    def session_pnl(self) -> Decimal | None:
        """The session's P&L (``describe()["session"]["session_pnl"]`` without describing
        everything: the watchdog asks after every batch of its window)."""
        return self._book.session_pnl()

    def open_orders(self, venue: str) -> list[OrderRecord]:
        """The runtime's open orders at ``venue``, oldest first (``describe`` without the
        cost of describing everything: a replay asks on every book update)."""
        return self._book.open_orders(venue)

    def _set_trading(self, value: modes.Trading) -> None:
        if value != self._trading:
            self._trading = value
            self._trading_dirty = True

    # -- operator controls ---------------------------------------------------------------

    def kill(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Engage the kill switch now (``riskctl kill`` posts the same from another process)."""
        self._unbatched()
        self.store.post_control("kill", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def resume(self, *, by: str, reason: str, now_ms: int) -> Step:
        """Release the kill switch and return to ACTIVE."""
        self._unbatched()
        self.store.post_control("resume", by=by, reason=reason, at_ms=now_ms)
        return self._controls_only(now_ms)

    def reset(self, breaker: str, *, by: str, reason: str, now_ms: int) -> Step:
        """Close a breaker that waits for a manual reset."""
        self._unbatched()
        self.store.post_control("reset", by=by, reason=reason, at_ms=now_ms, target=breaker)
        return self._controls_only(now_ms)

    def poll_controls(self, *, now_ms: int) -> Step | None:
        """Apply the operator controls another process posted since the last decision,
        without waiting for the next context: an idle bot's ``riskctl kill`` must still
        cancel its orders. None when nothing was posted (cheap: one store query)."""
        self._unbatched()
        if not self.store.controls(self._trading.last_control):
            return None
        now_ms = max(now_ms, self._last_now)
        self._last_now = now_ms
        return self._controls_only(now_ms)

    def _controls_only(self, now_ms: int) -> Step:
        records: list[NewRecord] = []
        effects = self._apply_controls(now_ms, records)
        self._add(Decision("control", Outcome.ALLOW), records, effects=effects)
        return self._commit()[0]

    def order_update(
        self, venue: str, client_order_id: str, status: str, *, now_ms: int, reason: str = ""
    ) -> Step:
        """The venue's word on one of our orders: ``canceled``, ``rejected`` or ``expired``
        closes it locally (other statuses are recorded only; fills close an order as they
        are applied). The order gateway calls this on the venue's confirmation, never on
        the assumption that a request worked. Recorded in the audit log."""
        self._unbatched()
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
        if self.audit:
            records.append(NewRecord(now_ms, "order", body))
        self._add(Decision("order", Outcome.ALLOW), records, effects=effects)
        return self._commit()[0]

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
            if self.audit:
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
        self._unbatched()
        self._step(stage, context, origin)
        return self._commit()[0]

    def refuse(self, stage: str, code: str, message: str, values: dict[str, Any]) -> Step:
        """A reject for input that is not a context at all (a malformed ``riskctl run``
        line), recorded in the audit log like any decision."""
        self._unbatched()
        self._refusal(stage, code, message, values)
        return self._commit()[0]

    def batch(self) -> Batch:
        """Decisions committed together in one transaction (group commit), as a context
        manager: ``with runtime.batch() as batch: batch.evaluate(...)``; then
        ``batch.steps``. See :class:`Batch` for what a crash can lose."""
        self._unbatched()
        self._batch = Batch(self)
        return self._batch

    def evaluate_many(self, items: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Step]:
        """Each ``(stage, context)`` decided in order, all committed in one transaction;
        returns their steps once that commit is durable."""
        with self.batch() as batch:
            for stage, context in items:
                batch.evaluate(stage, context)
        return batch.steps

    def _unbatched(self) -> None:
        if self._batch is not None:
            raise RuntimeError("a batch is open: decide through it, or commit it first")

    def _step(self, stage: str, context: Mapping[str, Any], origin: Origin = "strategy") -> None:
        """One decision into the pending work: controls, ticks, complete, decide, apply."""
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
            self._restore()  # drop whatever this evaluation changed in memory
            self._last_now = max(self._last_now, now_ms)
            message = f"the runtime could not evaluate this context: {type(exc).__name__}: {exc}"
            refused = failure(stage, "runtime.error", redact(message))
            failed: dict[str, Any] | None = None
            if self.audit:
                failed = {"stage": stage, "decision": refused.to_json(), "context": context}
            self._add(refused, [], body=failed, at_ms=now_ms)
            return
        body: dict[str, Any] | None = None
        if self.audit:
            body = {"stage": stage, "decision": decision.to_json(), "context": completion.data}
        self._add(
            decision,
            records,
            body=body,
            at_ms=now_ms,
            effects=effects,
            disagreements=completion.disagreements,
            restrictions=self._breakers.modes(completion.scope),
            context=ctx,
        )

    def _refusal(self, stage: str, code: str, message: str, values: dict[str, Any]) -> None:
        decision = failure(stage, code, message, values)
        body: dict[str, Any] | None = None
        if self.audit:
            body = {"stage": stage, "decision": decision.to_json()}
        self._add(decision, [], body=body, at_ms=self._last_now)

    def _complete(self, stage: str, context: Mapping[str, Any], origin: Origin) -> Completion:
        """The context with every runtime-owned field set from state."""
        is_mapping = type(context) is dict or isinstance(context, Mapping)
        completion = Completion(context if is_mapping else {})
        model = CONTEXTS.get(stage)
        if model is None or not is_mapping:
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

    # -- pending work and the commit -------------------------------------------------------

    def _add(
        self,
        decision: Decision,
        records: list[NewRecord],
        *,
        body: dict[str, Any] | None = None,
        at_ms: int = 0,
        effects: Sequence[Effect] = (),
        disagreements: Mapping[str, Any] | None = None,
        restrictions: Sequence[modes.Mode] = (),
        context: StageContext | None = None,
    ) -> None:
        """One step into the pending work: its records encoded, its changed state values
        collected. A record that cannot be stored fails this step alone, as a commit would.

        The step's trading state is the one in force where the context was, after it:
        the process's own mode tightened by breakers open there.
        """
        state = self._trading
        mode = modes.effective(state, *restrictions)
        disagreements = disagreements or {}
        shown = shown_effects = None
        if body is not None:  # a decision's record: the decision, the context, the state after
            shown = body["decision"]
            body["trading_state"] = mode
            if effects:
                shown_effects = body["effects"] = [effect.as_json() for effect in effects]
            if disagreements:
                body["disagreements"] = dict(disagreements)
        try:  # encoded now: a record that cannot be stored fails this decision, not a batch
            encoded = [NewRecord(r.at_ms, r.kind, r.body, record_text(r)) for r in records]
            if body is not None:
                encoded.append(NewRecord(at_ms, "decision", body, body_text(at_ms, body)))
        except Exception as exc:  # noqa: BLE001  # nothing durable: never let the order out
            self._restore()  # memory must not run ahead of the store
            self._pending.steps.append(self._commit_failed(decision.stage, exc))
            return
        self._collect()
        self._pending.records += encoded
        step = Step(
            decision,
            mode,
            state.kill.engaged,
            tuple(effects),
            disagreements,
            shown,
            shown_effects,
            self._last_now,
            context,
        )
        self._pending.steps.append(step)

    def _collect(self) -> None:
        """Move the values changed since the last step into the pending rows (newest wins):
        a batch encodes and writes each changed row once, however many steps changed it."""
        rows = self._pending.rows
        if self._trading_dirty:
            rows[TRADING] = self._trading
            self._trading_dirty = False
        for part in self._parts:
            changed = part.dirty()
            if changed:
                machine = part.machine
                for key, value in changed.items():
                    rows[(machine, key)] = value

    def _commit(self) -> list[Step]:
        """Commit the pending rows and records in one transaction; then hand out the steps.
        A failed commit turns every pending step into a reject and reloads memory."""
        pending, self._pending = self._pending, _Pending()
        if not pending.records and not pending.rows:
            return pending.steps
        try:
            self.store.commit(pending.rows, pending.records)  # the store encodes what it keeps
        except Exception as exc:  # noqa: BLE001  # nothing durable: never let the order out
            self._load()  # memory must not run ahead of the store
            return [self._commit_failed(step.decision.stage, exc) for step in pending.steps]
        return pending.steps

    def _commit_failed(self, stage: str, exc: Exception) -> Step:
        message = f"the state could not be committed: {type(exc).__name__}: {exc}"
        refused = failure(stage, "state.commit-failed", redact(message))
        return Step(refused, self._trading.mode, self._trading.kill.engaged, now_ms=self._last_now)

    def _discard(self) -> None:
        """Forget the pending work (a batch abandoned by an exception): back to the store."""
        self._pending = _Pending()
        self._load()

    def describe(self) -> dict[str, Any]:
        """What ``riskctl state show`` prints, from this process's memory."""
        return _describe(self._trading, self._parts)

    def close(self) -> None:
        self.store.close()

    def reload(self, *paths: str | Path) -> tuple[Diagnostic, ...]:
        """Serve the bundle at ``paths`` (``Gate.reload``: all or nothing) and rebuild the
        machines from it with their committed state, as a restart on the same store would.
        Between decisions only. Returns the gate's problems; on any, nothing changed."""
        self._unbatched()
        problems = self.gate.reload(*paths)
        if problems:
            return problems
        now_ms = self._last_now  # _load forgets it; time must not move back
        self._parts = parts_for(self.gate.bundle, book_of_record=self._book.book_of_record)
        self._breakers = next(p for p in self._parts if isinstance(p, BreakerPart))
        self._book = next(p for p in self._parts if isinstance(p, BookPart))
        self._load()
        self._last_now = now_ms
        return ()


class Batch:
    """Decisions made one after another and committed together, in one transaction.

    Each decision sees every earlier one of the batch and the operator controls posted
    before it, exactly as unbatched, and gets the same answer. Nothing of the batch is
    durable, and no step is handed out, until :meth:`commit` (or leaving the ``with``
    block) returns: ``steps`` before that raises. So a ``kill -9`` mid-batch loses the
    batch's decisions, none of which was answered, and nothing else. A failed commit makes
    every step of the batch a ``state.commit-failed`` reject; an exception inside the
    ``with`` block drops the batch and reloads memory from the store.
    """

    def __init__(self, runtime: StatefulGate) -> None:
        self._runtime = runtime
        self._steps: list[Step] | None = None
        self._size = 0

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._steps is not None:
            return
        if kind is not None:
            self._runtime._batch = None
            self._runtime._discard()
            return
        self.commit()

    def __len__(self) -> int:
        """Decisions in the batch so far."""
        return self._size

    def evaluate(
        self, stage: str, context: Mapping[str, Any], *, origin: Origin = "strategy"
    ) -> None:
        """``StatefulGate.evaluate`` without the commit: its step comes with the others."""
        self._open()._step(stage, context, origin)
        self._size += 1

    def refuse(self, stage: str, code: str, message: str, values: dict[str, Any]) -> None:
        """``StatefulGate.refuse`` without the commit."""
        self._open()._refusal(stage, code, message, values)
        self._size += 1

    def commit(self) -> list[Step]:
        """Commit every decision of the batch at once; their steps, in order, once durable."""
        runtime = self._open()
        runtime._batch = None
        self._steps = runtime._commit()
        return self._steps

    @property
    def steps(self) -> list[Step]:
        """The batch's steps, in order; only after the commit (before it, nothing is durable)."""
        if self._steps is None:
            raise RuntimeError("the batch is not committed: its steps are not durable yet")
        return self._steps

    def _open(self) -> StatefulGate:
        if self._steps is not None or self._runtime._batch is not self:
            raise RuntimeError("this batch is closed")
        return self._runtime


@dataclass(slots=True)
class _Pending:
    """Work decided but not yet committed: changed state values (None deletes a row),
    encoded audit records, and the steps to hand out after the commit."""

    rows: dict[RowKey, Any] = field(default_factory=dict)
    records: list[NewRecord] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _encoded(values: Mapping[RowKey, Any]) -> dict[RowKey, str | None]:
    return {key: None if value is None else encode(value) for key, value in values.items()}


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
        "band_pairs": {},
        "alerts": {},
        "alert_pairs": {},
        "session": {},
        "positions": {},
        "open_orders": {},
        "feeds": {},
    }
    for part in parts:
        view.update(part.describe())
    return view


def _now_of(context: Any, last: int) -> int:
    is_mapping = type(context) is dict or isinstance(context, Mapping)
    value = context.get("now_ms") if is_mapping else None
    return value if type(value) is int and value >= 0 else last
