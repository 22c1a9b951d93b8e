"""The watchdog's judgement: do the metrics since an advisor change say to revert it? Pure.

A ``ChangeControl`` ``watchdog`` watches the last advisor change for ``window_ms`` of
context time after it took effect (``since_ms``). Its metrics, judged in this order:

* ``session_pnl``: trips when ``pnl_at_change - pnl_now > drop`` (a fall of exactly
  ``drop`` does not);
* ``rejects_per_minute``: trips when at least ``min_rejects`` orders were rejected after
  the change and the rate after it exceeds ``factor`` times the rate before it. A rate is
  rejects over the time observed, that time counted as at least one minute (so ten rejects
  in the first second after the change read as ten per minute, not six hundred). The rate
  before is measured over ``lookback_ms`` before the change, or over the time the runtime
  had run by then when that is shorter. The comparison is exact (cross-multiplied).

Nothing trips before ``since_ms`` or after ``since_ms + window_ms``. :class:`RejectCounts`
keeps the reject counts the judgement needs, per second of context time, bounded by the
lookback.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskctl.kinds.change_control import PnlDrop, RejectRate, Watchdog

__all__ = ["MINUTE_MS", "Observed", "RejectCounts", "Verdict", "judge", "per_minute"]

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Observed:
    """What the runtime saw: around the change and now."""

    since_ms: int  # when the change took effect (context time)
    now_ms: int
    pnl_at_change: Decimal | None  # None: no session yet
    pnl_now: Decimal | None
    rejects_before: int
    before_span_ms: int  # the time the rejects before were counted over
    rejects_after: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why the watchdog reverts: the metric, its value before and after, the threshold."""

    metric: str
    before: Decimal
    after: Decimal
    threshold: Decimal
    message: str
    at_ms: int
    detail: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "before": _text(self.before),
            "after": _text(self.after),
            "threshold": _text(self.threshold),
            "message": self.message,
            "at_ms": self.at_ms,
            **dict(self.detail),
        }


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def per_minute(count: int, span_ms: int) -> Decimal:
    """``count`` per minute over ``span_ms``, the span counted as at least a minute."""
    return Decimal(count) * MINUTE_MS / max(span_ms, MINUTE_MS)


def judge(spec: Watchdog, seen: Observed) -> Verdict | None:
    """The first metric that degraded (session_pnl, then rejects_per_minute); None when
    neither did or the observation is outside the window."""
    elapsed = seen.now_ms - seen.since_ms
    if elapsed < 0 or elapsed > spec.window_ms:
        return None
    verdict = None if spec.session_pnl is None else _pnl(spec.session_pnl, seen)
    if verdict is None and spec.rejects_per_minute is not None:
        verdict = _rejects(spec.rejects_per_minute, seen)
    return verdict


def _pnl(trigger: PnlDrop, seen: Observed) -> Verdict | None:
    if seen.pnl_at_change is None or seen.pnl_now is None:
        return None
    fall = seen.pnl_at_change - seen.pnl_now
    if fall <= trigger.drop:
        return None
    return Verdict(
        "session_pnl",
        seen.pnl_at_change,
        seen.pnl_now,
        trigger.drop,
        f"session P&L fell by {_text(fall)} since the change, more than the drop of "
        f"{_text(trigger.drop)}",
        seen.now_ms,
    )


def _rejects(trigger: RejectRate, seen: Observed) -> Verdict | None:
    if seen.rejects_after < trigger.min_rejects:
        return None
    before_span = max(seen.before_span_ms, MINUTE_MS)
    after_span = max(seen.now_ms - seen.since_ms, MINUTE_MS)
    # after / after_span > factor * before / before_span, without dividing
    if seen.rejects_after * before_span <= trigger.factor * seen.rejects_before * after_span:
        return None
    before = per_minute(seen.rejects_before, seen.before_span_ms)
    after = per_minute(seen.rejects_after, seen.now_ms - seen.since_ms)
    threshold = trigger.factor * before
    return Verdict(
        "rejects_per_minute",
        before,
        after,
        threshold,
        f"{seen.rejects_after} orders rejected since the change, {_text(after)} per minute; "
        f"more than {_text(trigger.factor)} x the {_text(before)} per minute before it",
        seen.now_ms,
        (
            ("factor", _text(trigger.factor)),
            ("rejects_after", seen.rejects_after),
            ("min_rejects", trigger.min_rejects),
        ),
    )


class RejectCounts:
    """Rejects per second of context time over the last ``keep_ms``, and the first time seen."""

    def __init__(self, keep_ms: int) -> None:
        self.keep_ms = keep_ms
        self.first_ms: int | None = None
        self._seconds: deque[list[int]] = deque()  # [second, rejects], oldest first

    def seen(self, at_ms: int, *, rejected: bool) -> None:
        """One decision at ``at_ms`` (context time never moves back in the runtime)."""
        if self.first_ms is None:
            self.first_ms = at_ms
        if not rejected:
            return
        second = at_ms // 1000
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1][1] += 1
        else:
            self._seconds.append([second, 1])
        self._trim(at_ms)

    def since(self, start_ms: int) -> int:
        """Rejects in the seconds from ``start_ms`` on (whole seconds: a second's share)."""
        first = start_ms // 1000
        return sum(count for second, count in self._seconds if second >= first)

    def _trim(self, now_ms: int) -> None:
        oldest = (now_ms - self.keep_ms) // 1000
        while self._seconds and self._seconds[0][0] < oldest:
            self._seconds.popleft()
