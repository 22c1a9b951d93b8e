"""Circuit breakers: one pure state machine per breaker instance (closed, open, half-open).

How the runtime calls it, for a bundle's ``CircuitBreakers`` specs:

1. On every evaluation, of any stage, first ``tick(spec, state, now_ms)`` for each stored
   breaker state: it ends cooldowns (``reset: auto``) and returns the effects of doing so.
2. For each context of ``spec.stage`` with ``in_scope(spec, venue, symbol)``, evaluate
   ``spec.when`` and call ``observe(spec, state, matched, now_ms, failed=...)``. An expression
   error is ``failed=True`` and counts as a match (fail closed). The state to pass is the one
   stored under ``("breaker", key)`` with ``key, _ = instance(spec, venue, symbol)``, or
   ``initial(spec, venue, symbol)`` when none is stored.
3. To complete a ``pre_trade`` context, ``restrictions(specs, states, venue, symbol)`` says
   what the open breakers block there. For a new order in a scope with half-open breakers
   (``Restrictions.probes``), call ``admit_probe`` on each: an order is a probe only if every
   one admits it, and its quantity is at most ``probe_qty_ratio`` of the normal maximum.
4. An operator's ``riskctl reset`` calls ``reset(spec, state, by, reason, now_ms)``.

Decisions written down here (and tested):
- The count window is half-open, ``(now - window_ms, now]``: a match exactly ``window_ms`` old
  no longer counts. Only the latest ``at_least - 1`` match times are kept, so state is bounded.
- An open breaker ignores matches: no re-trip, no second alert, no storm.
- After the cooldown, ``reset: auto`` goes half-open when ``half_open`` is configured, else
  closed; ``reset: manual`` stays open until ``reset``, which always closes (the operator
  has looked: no probe phase).
- Half-open admits ``probe_orders`` probes; a match re-opens it (a new trip, with effects);
  the first ``observe`` without a match after the last probe was admitted closes it.
- ``pause_symbol`` on a breaker whose scope names no symbol pauses the symbol it saw, so
  its instances are per venue and symbol; every other breaker has one instance, its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from riskctl.errors import RiskctlError
from riskctl.fields import Scope
from riskctl.kinds.circuit_breakers import Breaker
from riskctl.state.effects import Effect

__all__ = [
    "BreakerError",
    "BreakerState",
    "Probe",
    "Restrictions",
    "admit_probe",
    "in_scope",
    "initial",
    "instance",
    "observe",
    "reset",
    "restrictions",
    "tick",
]

Status = Literal["closed", "open", "half_open"]
Step = tuple["BreakerState", tuple[Effect, ...]]

_MATCHED = "the condition matched"
_FAILED = "the condition could not be evaluated (counted as a match)"


class BreakerError(RiskctlError):
    """An operator's request that does not apply, e.g. resetting a closed breaker."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class BreakerState:
    """One breaker instance. ``venue``/``symbol`` is the scope it blocks (``*`` for any)."""

    name: str
    venue: str = "*"
    symbol: str = "*"
    status: Status = "closed"
    since_ms: int = 0
    matches: tuple[int, ...] = ()  # recent match times while closed, at most at_least - 1
    probes_admitted: int = 0
    trips: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Restrictions:
    """What open and half-open breakers block for one venue and symbol."""

    halt: bool = False
    reduce_only: bool = False
    paused: bool = False  # no new orders here: pause_symbol or cancel_all
    probes: tuple[str, ...] = ()  # instance keys of half-open breakers: call admit_probe
    probe_qty_ratio: Decimal | None = None  # the smallest ratio among them
    sources: tuple[str, ...] = ()  # "breaker:<key>" of every breaker that restricts


@dataclass(frozen=True, slots=True)
class Probe:
    """``admit_probe``'s answer: admitted, and the largest size as a ratio of the normal max."""

    admitted: bool
    qty_ratio: Decimal | None = None


def _per_symbol(spec: Breaker) -> bool:
    return spec.action == "pause_symbol" and (spec.scope is None or spec.scope.symbol is None)


def instance(spec: Breaker, venue: str, symbol: str) -> tuple[str, tuple[str, str]]:
    """The state key of the instance a context at ``venue``/``symbol`` feeds, and its scope."""
    if _per_symbol(spec):
        return f"{spec.name}@{venue}:{symbol}", (venue, symbol)
    scope = spec.scope or Scope()
    return spec.name, (scope.venue or "*", scope.symbol or "*")


def initial(spec: Breaker, venue: str, symbol: str) -> BreakerState:
    """A closed breaker instance for the context at ``venue``/``symbol``."""
    _, (v, s) = instance(spec, venue, symbol)
    return BreakerState(name=spec.name, venue=v, symbol=s)


def in_scope(spec: Breaker, venue: str, symbol: str) -> bool:
    """Whether the breaker watches contexts at this venue and symbol."""
    return spec.scope is None or spec.scope.matches(venue, symbol)


def _source(state: BreakerState, spec: Breaker) -> str:
    return f"breaker:{instance(spec, state.venue, state.symbol)[0]}"


def _effects(spec: Breaker, state: BreakerState, action: str, alert: str, why: str) -> Step:
    source, scope = _source(state, spec), (state.venue, state.symbol)
    detail = {"status": alert, "breaker": spec.name, "reason": why}
    return state, (
        Effect("action", action, source, scope, spec.message, {"reason": why}),
        Effect("alert", spec.name, source, scope, spec.message, detail),
    )


def _trip(spec: Breaker, state: BreakerState, why: str, now_ms: int) -> Step:
    opened = replace(
        state,
        status="open",
        since_ms=now_ms,
        matches=(),
        probes_admitted=0,
        trips=state.trips + 1,
        reason=why,
    )
    return _effects(spec, opened, spec.action, "firing", why)


def _close(spec: Breaker, state: BreakerState, why: str, now_ms: int) -> Step:
    closed = replace(state, status="closed", since_ms=now_ms, probes_admitted=0, reason=why)
    return _effects(spec, closed, "resume", "resolved", why)


def observe(
    spec: Breaker, state: BreakerState, matched: bool, now_ms: int, *, failed: bool = False
) -> Step:
    """One evaluation of ``spec.when`` on a context of its stage and scope."""
    hit = matched or failed
    why = _FAILED if failed else _MATCHED
    if state.status == "open":
        return state, ()  # no storm: an open breaker neither re-trips nor re-alerts
    if state.status == "half_open":
        if hit:
            return _trip(spec, state, f"{why} while half-open", now_ms)
        probes = spec.half_open.probe_orders if spec.half_open else 0
        if state.probes_admitted >= probes:
            return _close(spec, state, "the probes passed", now_ms)
        return state, ()
    if not hit:
        return state, ()
    if spec.count is None:
        return _trip(spec, state, why, now_ms)
    window, needed = spec.count.window_ms, spec.count.at_least
    recent = sorted(t for t in (*state.matches, now_ms) if now_ms - t < window)
    if len(recent) >= needed:
        return _trip(spec, state, f"{why} {needed} times within {window} ms", now_ms)
    return replace(state, matches=tuple(recent[-(needed - 1) :])), ()


def tick(spec: Breaker, state: BreakerState, now_ms: int) -> Step:
    """Advance time: end an auto breaker's cooldown (half-open if configured, else closed)."""
    if state.status != "open" or spec.reset != "auto":
        return state, ()
    if now_ms < state.since_ms + spec.cooldown_ms:
        return state, ()
    if spec.half_open is None:
        return _close(spec, state, "the cooldown ended", now_ms)
    half = replace(state, status="half_open", since_ms=now_ms, probes_admitted=0)
    note = Effect("record", "half_open", _source(half, spec), (half.venue, half.symbol))
    return half, (note,)


def reset(spec: Breaker, state: BreakerState, by: str, reason: str, now_ms: int) -> Step:
    """An operator closes an open or half-open breaker; a closed one raises ``BreakerError``."""
    if state.status == "closed":
        raise BreakerError(
            "breaker.not_open", f"Breaker {spec.name} is closed; there is nothing to reset."
        )
    closed, effects = _close(spec, state, f"reset by {by}: {reason}", now_ms)
    detail = {"by": by, "reason": reason, "at_ms": now_ms, "was": state.status}
    note = Effect("record", "reset", effects[0].source, effects[0].scope, "", detail)
    return closed, (*effects, note)


def admit_probe(spec: Breaker, state: BreakerState) -> tuple[BreakerState, Probe]:
    """Whether a new order is let through as a probe, and its size ratio; counts it."""
    if state.status == "closed":
        return state, Probe(True)
    if state.status == "open" or spec.half_open is None:
        return state, Probe(False)
    if state.probes_admitted >= spec.half_open.probe_orders:
        return state, Probe(False)
    admitted = replace(state, probes_admitted=state.probes_admitted + 1)
    return admitted, Probe(True, spec.half_open.probe_qty_ratio)


def restrictions(
    specs: Mapping[str, Breaker], states: Iterable[BreakerState], venue: str, symbol: str
) -> Restrictions:
    """What open and half-open breakers block at ``venue``/``symbol``."""
    flags = {"halt": False, "reduce_only": False, "paused": False}
    probes: list[str] = []
    ratios: list[Decimal] = []
    sources: list[str] = []
    for state in states:
        spec = specs.get(state.name)
        if spec is None or state.status == "closed" or not _covers(state, venue, symbol):
            continue
        sources.append(_source(state, spec))
        if state.status == "half_open":
            probes.append(instance(spec, state.venue, state.symbol)[0])
            ratios.append(spec.half_open.probe_qty_ratio if spec.half_open else Decimal(0))
        else:
            flags["paused" if spec.action in ("pause_symbol", "cancel_all") else spec.action] = True
    return Restrictions(
        **flags,
        probes=tuple(probes),
        probe_qty_ratio=min(ratios) if ratios else None,
        sources=tuple(sources),
    )


def _covers(state: BreakerState, venue: str, symbol: str) -> bool:
    """``Scope.matches`` for an instance's scope ("*" matches all), without a model."""
    return (state.venue in ("*", venue)) and (state.symbol in ("*", symbol))
