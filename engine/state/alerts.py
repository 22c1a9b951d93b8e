"""Alert thresholds: one pure state machine per alert (inactive, pending, firing), like Prometheus.

How the runtime calls it, for a bundle's ``AlertThresholds`` alerts:

1. Once per bundle, ``levels_of(spec, limit)``: the alert's levels in the metric's units,
   exact. ``limit`` is the limit in force for an ``of_limit`` alert
   (``riskctl.alert_limits``); when there is none, the alert is ``unavailable``.
2. For each context of ``spec.stage`` inside ``spec.scope`` (every context when it has none),
   evaluate ``spec.metric`` and call ``observe(spec, state, value, now_ms, levels=...)``;
   ``value`` is None when the metric could not be computed (an expression error, a missing
   field). The state to pass is the one stored under ``("alert", key(spec, venue,
   symbol))``, or ``initial(spec, venue, symbol)``: one per alert, or one per venue and
   symbol for an alert kept ``per: pair``.
3. Hand the returned ``alert`` effects to the sinks (JSONL file, log); each is one
   transition. ``record`` effects go to the audit log only.
4. ``state show`` prints ``state.status`` (inactive|pending|firing) and ``state.severity``.

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
- ``of_limit``: warn, critical and hysteresis are percent of the limit; the machine
  compares the value with ``percent x limit / 100`` computed exactly (no rounding at any
  precision), so an alert at p% of a limit fires exactly as one at the absolute level
  p% x limit would. Events also carry ``of_limit``, ``limit``, the ``level`` of the
  severity and ``share_pct`` (value / limit x 100, to 8 decimals toward zero: display only).
- ``value`` None changes nothing (a firing alert never resolves silently) and emits one
  ``record`` per run of unknown values, not one per evaluation; so does ``unavailable``.
- Events are emitted per transition, never per evaluation: no storm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Context, Decimal, Inexact
from typing import Literal

from riskctl.errors import RiskctlError
from riskctl.kinds.alert_thresholds import Alert
from riskctl.state.effects import Effect

__all__ = [
    "AlertError",
    "AlertState",
    "Level",
    "Levels",
    "Severity",
    "Status",
    "initial",
    "key",
    "levels_of",
    "observe",
    "unavailable",
]

Status = Literal["inactive", "pending", "firing"]
Severity = Literal["warn", "critical"]
Step = tuple["AlertState", tuple[Effect, ...]]

_RANK: dict[Severity, int] = {"warn": 1, "critical": 2}
_HUNDRED = Decimal(100)
_SHARE_PLACES = Decimal("0.00000001")
MAX_EXACT_DIGITS = 1000  # far past any bounded level; beyond it a level is refused, not rounded


class AlertError(RiskctlError):
    """Levels the machine cannot compute exactly, or an of_limit alert without its limit."""


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
    pair: tuple[str, str] | None = None  # (venue, symbol) of a per-pair instance


@dataclass(frozen=True, slots=True)
class Level:
    """One level in the metric's units: breached past ``at``, breached still until ``clear``."""

    at: Decimal
    clear: Decimal  # above: at - hysteresis; below: at + hysteresis


@dataclass(frozen=True, slots=True)
class Levels:
    """An alert's levels in the metric's units, and the limit they are percent of (of_limit)."""

    warn: Level | None
    critical: Level | None
    limit: Decimal | None = None


def key(spec: Alert, venue: str = "", symbol: str = "") -> str:
    """The state key of the alert instance a context at ``venue``/``symbol`` feeds: the
    alert's name, or ``name@venue:symbol`` for an alert kept ``per: pair``."""
    return f"{spec.name}@{venue}:{symbol}" if spec.per == "pair" else spec.name


def initial(spec: Alert, venue: str = "", symbol: str = "") -> AlertState:
    """An inactive alert (instance)."""
    pair = (venue, symbol) if spec.per == "pair" else None
    return AlertState(name=spec.name, pair=pair)


def levels_of(spec: Alert, limit: Decimal | None = None) -> Levels:
    """The alert's levels, exact: as written, or with ``of_limit`` percent x ``limit`` / 100.

    Raises AlertError when ``limit`` is given for an absolute alert or missing for an
    ``of_limit`` one, or when a level would need over MAX_EXACT_DIGITS digits to be exact.
    """
    if (limit is None) != (spec.of_limit is None):
        wanted = "needs the limit in force" if limit is None else "takes no limit"
        raise AlertError(f"alert {spec.name!r} {wanted}")
    hysteresis = spec.hysteresis if limit is None else _share(spec.hysteresis, limit)
    back = hysteresis.copy_negate() if spec.direction == "above" else hysteresis  # exact

    def level(written: Decimal | None) -> Level | None:
        if written is None:
            return None
        at = written if limit is None else _share(written, limit)
        return Level(at, _exact_sum(at, back))

    return Levels(level(spec.warn), level(spec.critical), limit)


def _share(percent: Decimal, limit: Decimal) -> Decimal:
    """percent x limit / 100, exact: a product needs no more digits than its factors have."""
    digits = len(percent.as_tuple().digits) + len(limit.as_tuple().digits)
    return _exactly(digits, lambda c: c.multiply(percent, limit).scaleb(-2, c))


def _exact_sum(a: Decimal, b: Decimal) -> Decimal:
    """a + b, exact: as many digits as from the larger's carry to the smaller's last."""
    if not b:
        return a
    top = max(a.adjusted(), b.adjusted()) + 2
    bottom = min(int(a.as_tuple().exponent), int(b.as_tuple().exponent))
    return _exactly(top - bottom, lambda c: c.add(a, b))


def _exactly(digits: int, compute: Callable[[Context], Decimal]) -> Decimal:
    """``compute`` under a context of ``digits`` digits; Inexact is trapped, so never rounded."""
    if digits > MAX_EXACT_DIGITS:
        message = f"a level needs {digits} digits to be exact; at most {MAX_EXACT_DIGITS}"
        raise AlertError(message)
    return compute(Context(prec=max(digits, 1), traps=[Inexact]))


def _breach_since(
    level: Level | None, above: bool, since: int | None, value: Decimal, now_ms: int
) -> int | None:
    if level is None:
        return None
    if value > level.at if above else value < level.at:
        return now_ms if since is None else since
    if since is not None and (value > level.clear if above else value < level.clear):
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


def _event(
    spec: Alert, state: AlertState, value: Decimal, previous: Severity | None, found: Levels
) -> Effect:
    status = "resolved" if state.status == "inactive" else state.status
    severity = previous if status == "resolved" else state.severity
    labels = dict(spec.labels)
    if state.pair is not None:  # a per-pair instance says which book it is about
        labels |= {"venue": state.pair[0], "symbol": state.pair[1]}
    detail: dict[str, object] = {
        "status": status,
        "severity": severity,
        "value": str(value),
        "labels": labels,
        "channels": tuple(spec.channels),
    }
    if status == "firing" and previous is not None and previous != severity:
        detail["previous"] = previous
    scope = None if spec.scope is None else (spec.scope.venue or "*", spec.scope.symbol or "*")
    if state.pair is not None:
        scope = state.pair
    where = "" if state.pair is None else f" at {state.pair[0]}:{state.pair[1]}"
    message = f"{spec.name}{where} {status} ({severity}): {spec.metric} = {value}"
    if found.limit is not None:
        share = _share_pct(value, found.limit)
        level = found.critical if severity == "critical" else found.warn
        limit = _text(found.limit)
        detail |= {"of_limit": spec.of_limit, "limit": limit, "share_pct": share}
        if level is not None:
            detail["level"] = _text(level.at)
        message += f" ({share}% of {spec.of_limit} {limit})"
    return Effect("alert", spec.name, f"alert:{spec.name}", scope, message, detail)


def _text(value: Decimal) -> str:
    """Exact text without trailing zeros: 80% of 50000 is 40000, not 40000.00."""
    exact = Context(prec=max(len(value.as_tuple().digits), 1))
    return format(value.normalize(exact), "f")


def _share_pct(value: Decimal, limit: Decimal) -> str:
    """value / limit x 100 to 8 decimals toward zero, trailing zeros dropped (display only)."""
    context = Context(prec=60, rounding=ROUND_DOWN)
    share = context.divide(context.multiply(value, _HUNDRED), limit)
    if share.adjusted() > 50:  # past what 8 decimals fit in 60 digits: shown as computed
        return str(share)
    shown = share.quantize(_SHARE_PLACES, rounding=ROUND_DOWN, context=context)
    return format(shown.normalize(context) if shown else Decimal(0), "f")


def _to(state: AlertState, status: Status, severity: Severity | None, now_ms: int) -> AlertState:
    return replace(state, status=status, severity=severity, since_ms=now_ms, cleared_since_ms=None)


def _firing(spec: Alert, state: AlertState, value: Decimal, now_ms: int, found: Levels) -> Step:
    due = _highest(state, now_ms, spec.for_ms or 0)
    breached = _highest(state, now_ms, 0)
    if breached is None:
        cleared = state.cleared_since_ms if state.cleared_since_ms is not None else now_ms
        if now_ms - cleared < (spec.keep_firing_for_ms or 0):
            return replace(state, cleared_since_ms=cleared), ()
        resolved = _to(state, "inactive", None, now_ms)
        return resolved, (_event(spec, resolved, value, state.severity, found),)
    current = state.severity or "warn"
    if due is not None and _RANK[due] > _RANK[current]:
        severity: Severity = due  # escalation, once the higher level held for_ms
    elif _RANK[breached] < _RANK[current]:
        severity = breached  # the higher level cleared past its hysteresis
    else:
        return replace(state, cleared_since_ms=None), ()
    moved = _to(state, "firing", severity, now_ms)
    return moved, (_event(spec, moved, value, current, found),)


def unavailable(
    spec: Alert, state: AlertState, why: str, *, record: str = "metric_unavailable"
) -> Step:
    """The alert cannot be evaluated now (``why``): nothing changes; ``record`` is written once
    per run of such evaluations (``levels_unavailable``: no limit in force to be a share of)."""
    if state.unknown:
        return state, ()
    note = Effect("record", record, f"alert:{spec.name}", state.pair, why)
    return replace(state, unknown=True), (note,)


def observe(
    spec: Alert,
    state: AlertState,
    value: Decimal | None,
    now_ms: int,
    *,
    levels: Levels | None = None,
) -> Step:
    """One evaluation of the alert's metric; ``value`` None: it could not be computed.

    ``levels`` are the alert's from :func:`levels_of` (computed here when omitted, which an
    ``of_limit`` alert cannot be: it needs its limit).
    """
    if value is None:
        why = f"The metric {spec.metric} could not be computed; the alert stays {state.status}."
        return unavailable(spec, state, why)
    found = levels if levels is not None else levels_of(spec)
    above = spec.direction == "above"
    state = replace(
        state,
        unknown=False,
        warn_since_ms=_breach_since(found.warn, above, state.warn_since_ms, value, now_ms),
        critical_since_ms=_breach_since(
            found.critical, above, state.critical_since_ms, value, now_ms
        ),
    )
    if state.status == "firing":
        return _firing(spec, state, value, now_ms, found)
    due = _highest(state, now_ms, spec.for_ms or 0)
    breached = _highest(state, now_ms, 0)
    if due is not None:
        fired = _to(state, "firing", due, now_ms)
        return fired, (_event(spec, fired, value, None, found),)
    if breached is None:
        return _to(state, "inactive", None, now_ms) if state.status == "pending" else state, ()
    if state.status == "inactive":
        pending = _to(state, "pending", breached, now_ms)
        return pending, (_event(spec, pending, value, None, found),)
    return replace(state, severity=breached), ()
