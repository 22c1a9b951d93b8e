"""Circuit breakers in the runtime: conditions compiled once, states kept per instance.

Each breaker's ``when`` is compiled with the rules' code generator, one program per stage
(all breakers of a stage in one function), so a stage's breakers cost one call. A condition
that raises counts as a match (fail closed). See ``riskctl.state.breakers`` for the machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from riskctl.bundle import PolicyBundle
from riskctl.codegen import Compiled
from riskctl.context.base import StageContext
from riskctl.decision import Decision
from riskctl.errors import RiskctlError
from riskctl.kinds import CircuitBreakers, RiskLimits
from riskctl.kinds.circuit_breakers import Breaker
from riskctl.limits import resolve_limits
from riskctl.runtime.completion import Completion
from riskctl.runtime.expressions import compile_stage
from riskctl.runtime.part import Scope
from riskctl.state import breakers as trips
from riskctl.state.codec import decode
from riskctl.state.effects import Effect
from riskctl.state.store import Control
from riskctl.state.trading import Mode
from riskctl.symbols import Type

__all__ = ["BreakerPart"]


class BreakerPart:
    """The runtime's binding of every breaker in the bundle."""

    machine = "breaker"

    def __init__(self, bundle: PolicyBundle | None) -> None:
        documents = bundle.of_kind(CircuitBreakers) if bundle is not None else ()
        self._limits = bundle.of_kind(RiskLimits) if bundle is not None else ()
        self._specs: dict[str, Breaker] = {
            b.name: b for document in documents for b in document.spec.breakers
        }
        self._by_stage: dict[str, list[Breaker]] = {}
        for spec in self._specs.values():
            self._by_stage.setdefault(spec.stage, []).append(spec)
        self._programs: dict[str, Compiled] = {
            stage: compile_stage(stage, [(b.name, b.when) for b in specs], expect=Type.BOOL)
            for stage, specs in self._by_stage.items()
        }
        self._states: dict[str, trips.BreakerState] = {}
        # Keys of the open and half-open instances: while none is, nothing restricts and
        # nothing ticks, and every evaluation skips the scan of all instances.
        self._unclosed: set[str] = set()
        self._changed: set[str] = set()
        self._pending_probes: dict[str, trips.BreakerState] = {}
        # What open breakers impose per scope, until the next change of any state: each
        # evaluation asks twice (completing, and for the step's mode after it).
        self._found: dict[Scope, trips.Restrictions] = {}

    def load(self, rows: Mapping[str, str]) -> None:
        self._states = {key: decode(trips.BreakerState, text) for key, text in rows.items()}
        self._unclosed = {k for k, s in self._states.items() if s.status != "closed"}
        self._changed.clear()
        self._found = {}

    def _put(self, key: str, state: trips.BreakerState) -> None:
        before = self._states.get(key)
        if before is not state and before != state:
            self._states[key] = state
            self._changed.add(key)
            self._found = {}
            if state.status == "closed":
                self._unclosed.discard(key)
            else:
                self._unclosed.add(key)

    def tick(self, now_ms: int) -> list[Effect]:
        effects: list[Effect] = []
        if not self._unclosed:
            return effects
        for key, state in list(self._states.items()):
            spec = self._specs.get(state.name)
            if spec is not None and state.status == "open":
                after, done = trips.tick(spec, state, now_ms)
                self._put(key, after)
                effects += done
        return effects

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None:
        self._pending_probes = {}
        if scope is None or not self._unclosed:
            completion.update("state", _NOT_PAUSED)
            return
        found = self._restrictions(scope)
        completion.restrictions += self.modes(scope)
        paused = found.paused
        if found.probes and stage == "pre_trade" and _is_new_order(completion):
            for key in found.probes:  # an order is a probe only if every half-open one admits it
                state = self._states[key]
                after, probe = trips.admit_probe(self._specs[state.name], state)
                fits = probe.qty_ratio is None or self._fits(scope, probe.qty_ratio, completion)
                paused = paused or not probe.admitted or not fits
                self._pending_probes[key] = after
        elif found.probes and stage == "pre_trade":
            paused = True  # half-open admits probes only, and only as new orders
        completion.set("state.paused", paused)

    def modes(self, scope: Scope | None) -> list[Mode]:
        """The trading modes open breakers impose at ``scope`` (after this evaluation)."""
        if scope is None or not self._unclosed:
            return []
        found = self._restrictions(scope)
        imposed: list[Mode] = []
        if found.halt:
            imposed.append("HALTED")
        if found.reduce_only:
            imposed.append("REDUCING")
        return imposed

    def _restrictions(self, scope: Scope) -> trips.Restrictions:
        found = self._found.get(scope)
        if found is None:
            unclosed = self._unclosed
            states = [s for key, s in self._states.items() if key in unclosed]
            found = self._found[scope] = trips.restrictions(self._specs, states, *scope)
        return found

    def _fits(self, scope: Scope, ratio: Decimal, completion: Completion) -> bool:
        """A probe is at most ``ratio`` of the scope's max_order_qty; a quote-sized order
        (no qty before validation) is not a probe: fail closed."""
        limits = [
            value
            for document in self._limits
            for value, _ in filter(None, [resolve_limits(document, *scope).get("max_order_qty")])
        ]
        if not limits:
            return True  # no normal maximum to take a share of
        qty = completion.given("order.qty")
        try:
            size = Decimal(str(qty)) if qty is not None and not isinstance(qty, bool) else None
        except InvalidOperation:
            size = None
        return size is not None and size.is_finite() and size <= ratio * min(limits)

    def apply(self, stage: str, ctx: StageContext, decision: Decision, now_ms: int) -> list[Effect]:
        effects = self._observe(stage, ctx, now_ms)
        # A probe counts only when it was let out, and after this evaluation's own
        # observation: a later, clean evaluation closes the breaker, not the probe itself.
        if decision.allowed:
            for key, state in self._pending_probes.items():
                if self._states.get(key, state).status == "half_open":
                    self._put(key, state)
        self._pending_probes = {}
        return effects

    def _observe(self, stage: str, ctx: StageContext, now_ms: int) -> list[Effect]:
        specs = self._by_stage.get(stage)
        if not specs:
            return []
        venue, symbol = ctx.scope_key()
        fired: list[Any] = []
        self._programs[stage].run(ctx, fired)
        matched = {entry for entry in fired if isinstance(entry, int)}
        failed = {entry[0] for entry in fired if isinstance(entry, tuple)}
        effects: list[Effect] = []
        for index, spec in enumerate(specs):
            if not trips.in_scope(spec, venue, symbol):
                continue
            key, _ = trips.instance(spec, venue, symbol)
            state = self._states.get(key) or trips.initial(spec, venue, symbol)
            hit = index in matched
            after, done = trips.observe(spec, state, hit, now_ms, failed=index in failed)
            if after != state or key in self._states:
                self._put(key, after)
            effects += done
        return effects

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        if control.verb != "reset":
            return []
        spec = self._specs.get(control.target)
        if spec is None:
            return [_refused(control, "breaker.unknown", f"no breaker is named {control.target}")]
        effects: list[Effect] = []
        instances = [k for k, s in self._states.items() if s.name == spec.name]
        for key in instances:
            try:
                after, done = trips.reset(
                    spec, self._states[key], control.by, control.reason, now_ms
                )
            except RiskctlError as exc:
                effects.append(_refused(control, getattr(exc, "code", "breaker.error"), str(exc)))
                continue
            self._put(key, after)
            effects += done
        if not instances:
            effects.append(
                _refused(control, "breaker.not_open", f"breaker {spec.name} never tripped")
            )
        return effects

    def dirty(self) -> dict[str, Any]:
        changed = {key: self._states.get(key) for key in self._changed}
        self._changed.clear()
        return changed

    def describe(self) -> dict[str, Any]:
        return {
            "breakers": {
                key: {
                    "status": s.status,
                    "since_ms": s.since_ms,
                    "trips": s.trips,
                    "reason": s.reason,
                }
                for key, s in sorted(self._states.items())
            }
        }


_NOT_PAUSED = MappingProxyType({"paused": False})


def _is_new_order(completion: Completion) -> bool:
    return completion.given("order.action") in (None, "new")


def _refused(control: Control, code: str, message: str) -> Effect:
    return Effect(
        "record",
        "control_refused",
        f"control:{control.id}",
        message=message,
        detail={"code": code, "target": control.target},
    )
