"""Alert thresholds: one pure state machine per alert (inactive, pending, firing), like Prometheus.

How the runtime calls it, for a bundle's ``AlertThresholds`` alerts:

1. For each context of ``spec.stage`` inside ``spec.scope`` (every context when it has none),
   evaluate ``spec.metric`` and call ``observe(spec, state, value, now_ms)``; ``value`` is
   None when the metric could not be computed (an expression error, a missing field). The
   state to pass is the one stored under ``("alert", key(spec))``, or ``initial(spec)``.
2. Hand the returned ``alert`` effects to the sinks (JSONL file, log); each is one
   transition. ``record`` effects go to the audit log only.
3. ``state show`` prints ``state.status`` (inactive|pending|firing) and ``state.severity``.

Decisions written down here (and tested):
- A level is breached when the value is past it (above: ``value > level``; below:
  ``value < level``) and stays breached until it clears: above ``value <= level -
  hysteresis``, below ``value >= level + hysteresis``. Each level keeps the time its
  current breach began, so ``for_ms`` is measured per level.
- Breached -> pending (event ``pending``); a level breached for ``for_ms`` or more, to the
  millisecond (fires at exactly ``since + for_ms``), -> firing at the highest such level
  (event ``firing``); without ``for_ms`` it fires at once. Pending that clears -> inactive,
  no event.
- Firing: a higher level due (``for_ms`` again) escalates, and a lower breached level once
  the higher one cleared de-escalates; each is a new ``firing`` event with ``previous``.
  When no level is breached the alert keeps firing ``keep_firing_for_ms`` and then
  resolves (event ``resolved``); a breach within that time keeps it firing, no event.
- ``value`` None changes nothing (a firing alert never resolves silently) and emits one
  ``record`` per run of unknown values, not one per evaluation.
- Events are emitted per transition, never per evaluation: no storm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal

from riskctl.kinds.alert_thresholds import Alert
from riskctl.state.effects import Effect

__all__ = ["AlertState", "Severity", "Status", "initial", "key", "observe"]

Status = Literal["inactive", "pending", "firing"]
Severity = Literal["warn", "critical"]
Step = tuple["AlertState", tuple[Effect, ...]]

_RANK: dict[Severity, int] = {"warn": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class AlertState:
    """One alert's memory; ``severity`` is None only while inactive."""

    name: str
    status: Status = "inactive"
    severity: Severity | None = None
    since_ms: int = 0  # when the current status began
    warn_since_ms: int | None = None  # when the current breach of the warn level began
    critical_since_ms: int | None = None
    cleared_since_ms: int | None = None  # firing, nothing breached since then: keep-firing
    unknown: bool = False  # the last value could not be computed (recorded once)


def key(spec: Alert) -> str:
    """The state key of an alert: its name."""
    return spec.name


def initial(spec: Alert) -> AlertState:
    """An inactive alert."""
    return AlertState(name=spec.name)


def _breach_since(
    spec: Alert, level: Decimal | None, since: int | None, value: Decimal, now_ms: int
) -> int | None:
    if level is None:
        return None
    sign = 1 if spec.direction == "above" else -1
    past = sign * (value - level)  # > 0: past the level; <= -hysteresis: cleared
    if past > 0:
        return now_ms if since is None else since
    if since is not None and past > -spec.hysteresis:
        return since  # inside the hysteresis gap: the breach goes on
    return None


def _highest(state: AlertState, now_ms: int, wait_ms: int) -> Severity | None:
    """The highest level breached for at least ``wait_ms``."""
    levels: tuple[tuple[Severity, int | None], ...] = (
        ("critical", state.critical_since_ms),
        ("warn", state.warn_since_ms),
    )
    for severity, since in levels:
        if since is not None and now_ms - since >= wait_ms:
            return severity
    return None


def _event(spec: Alert, state: AlertState, value: Decimal, previous: Severity | None) -> Effect:
    status = "resolved" if state.status == "inactive" else state.status
    severity = previous if status == "resolved" else state.severity
    detail: dict[str, object] = {
        "status": status,
        "severity": severity,
        "value": str(value),
        "labels": dict(spec.labels),
        "channels": tuple(spec.channels),
    }
    if status == "firing" and previous is not None and previous != severity:
        detail["previous"] = previous
    scope = None if spec.scope is None else (spec.scope.venue or "*", spec.scope.symbol or "*")
    message = f"{spec.name} {status} ({severity}): {spec.metric} = {value}"
    return Effect("alert", spec.name, f"alert:{spec.name}", scope, message, detail)


def _to(state: AlertState, status: Status, severity: Severity | None, now_ms: int) -> AlertState:
    return replace(state, status=status, severity=severity, since_ms=now_ms, cleared_since_ms=None)


def _firing(spec: Alert, state: AlertState, value: Decimal, now_ms: int) -> Step:
    due = _highest(state, now_ms, spec.for_ms or 0)
    breached = _highest(state, now_ms, 0)
    if breached is None:
        cleared = state.cleared_since_ms if state.cleared_since_ms is not None else now_ms
        if now_ms - cleared < (spec.keep_firing_for_ms or 0):
            return replace(state, cleared_since_ms=cleared), ()
        resolved = _to(state, "inactive", None, now_ms)
        return resolved, (_event(spec, resolved, value, state.severity),)
    current = state.severity or "warn"
    if due is not None and _RANK[due] > _RANK[current]:
        severity: Severity = due  # escalation, once the higher level held for_ms
    elif _RANK[breached] < _RANK[current]:
        severity = breached  # the higher level cleared past its hysteresis
    else:
        return replace(state, cleared_since_ms=None), ()
    moved = _to(state, "firing", severity, now_ms)
    return moved, (_event(spec, moved, value, current),)


def observe(spec: Alert, state: AlertState, value: Decimal | None, now_ms: int) -> Step:
    """One evaluation of the alert's metric; ``value`` None: it could not be computed."""
    if value is None:
        if state.unknown:
            return state, ()
        why = f"The metric {spec.metric} could not be computed; the alert stays {state.status}."
        note = Effect("record", "metric_unavailable", f"alert:{spec.name}", None, why)
        return replace(state, unknown=True), (note,)
    state = replace(
        state,
        unknown=False,
        warn_since_ms=_breach_since(spec, spec.warn, state.warn_since_ms, value, now_ms),
        critical_since_ms=_breach_since(
            spec, spec.critical, state.critical_since_ms, value, now_ms
        ),
    )
    if state.status == "firing":
        return _firing(spec, state, value, now_ms)
    due = _highest(state, now_ms, spec.for_ms or 0)
    breached = _highest(state, now_ms, 0)
    if due is not None:
        fired = _to(state, "firing", due, now_ms)
        return fired, (_event(spec, fired, value, None),)
    if breached is None:
        return _to(state, "inactive", None, now_ms) if state.status == "pending" else state, ()
    if state.status == "inactive":
        pending = _to(state, "pending", breached, now_ms)
        return pending, (_event(spec, pending, value, None),)
    return replace(state, severity=breached), ()
