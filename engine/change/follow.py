"""What ``riskctl run`` does for change control, between batches and while idle.

A :class:`ChangeFollower` watches the change log of every policy directory the run serves:

* **follow**: when a new receipt appears (an advisor's ``apply``, a rollback, an expiry,
  from this process or another), the runtime reloads the policies
  (``StatefulGate.reload``: a bundle that does not load or lint never replaces the one in
  force; the run goes on with the old one and reports it);
* **expire**: overrides due now (wall-clock UTC) are reverted through the apply path
  (:func:`riskctl.change.api.expire_due`), then reloaded;
* **watch**: when the reload was of an advisor ``change`` and the served ChangeControl has
  a ``watchdog``, the change is watched for ``window_ms`` of context time from the last
  decision before it: session P&L from the runtime (``state show``'s
  ``session.session_pnl``) and the orders rejected at pre_trade, fed by each batch's steps.
  A trip reverts the change (:func:`riskctl.change.restore.plan_revert`) with a
  ``watchdog`` receipt naming the metric, its values and threshold, and reloads.

The log is looked at no more often than every ``every_s`` seconds (a ``stat``; it is read
only when it changed), so the cost per decision is a comparison. Everything done is
reported as one JSON object per line through ``report`` (``riskctl run``: stderr, since
stdout carries one decision per input line): ``{"event": "change.reload" | "change.expiry" |
"change.expiry-superseded" | "change.watchdog" | "change.refused" | "change.reload-refused",
...}``. A run started after a change does not watch it: it never saw the rates before it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl.change.api import expire_due
from riskctl.change.applier import apply_plan
from riskctl.change.expiry import open_overrides
from riskctl.change.receipts import log_path, read_receipts
from riskctl.change.restore import plan_revert
from riskctl.change.watchdog import Observed, RejectCounts, judge
from riskctl.decision import Outcome
from riskctl.kinds import ChangeControl
from riskctl.kinds.change_control import Watchdog
from riskctl.runtime.stateful import StatefulGate, Step

__all__ = ["EVERY_S", "ChangeFollower"]

EVERY_S = 1.0  # how often the change logs are looked at, at most
RETRY = dt.timedelta(minutes=1)  # a refused expiry is tried (and reported) again after this
Report = Callable[[dict[str, Any]], None]
Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class _Log:
    """One policy directory's change log as last read."""

    directory: Path
    signature: tuple[int, int] | None = None  # (mtime_ns, size) of the log file
    last_hash: str | None = None
    next_due: dt.datetime | None = None  # the earliest open override's expiry


@dataclass(slots=True)
class _Watch:
    """An advisor change being watched."""

    log: _Log
    spec: Watchdog
    receipt_hash: str
    since_ms: int | None  # None: no decision yet; the next one starts the window
    pnl_at_change: Decimal | None
    rejects_before: int
    before_span_ms: int
    rejects_after: int = 0


class ChangeFollower:
    """Follow, expire and watch for one runtime (see the module docstring)."""

    def __init__(
        self,
        runtime: StatefulGate,
        paths: Sequence[Path],
        *,
        report: Report,
        clock: Clock = _utc_now,
        every_s: float = EVERY_S,
    ) -> None:
        self.runtime = runtime
        self.paths = tuple(paths)
        self.every_s = every_s
        self._report = report
        self._clock = clock
        self._logs = [_Log(p) for p in paths if p.is_dir()]
        for log in self._logs:
            self._read(log)  # what is in force at the start is not news
        self._watch: _Watch | None = None
        self._spec = _watchdog_of(runtime)
        self._rejects = RejectCounts(_keep_ms(self._spec))
        self._last_tick = time.monotonic()

    @classmethod
    def for_run(
        cls, runtime: StatefulGate, paths: Sequence[Path], *, report: Report
    ) -> ChangeFollower | None:
        """A follower when any of ``paths`` is a directory (a change log lives in one)."""
        return cls(runtime, paths, report=report) if any(p.is_dir() for p in paths) else None

    # -- the runtime's hooks ---------------------------------------------------------------

    def after(self, steps: Iterable[Step]) -> None:
        """A batch was committed and answered: count it, judge the watch, maybe tick."""
        if self._spec is not None:
            for step in steps:
                rejected = step.decision.outcome is Outcome.REJECT and (
                    step.decision.stage == "pre_trade"
                )
                self._rejects.seen(step.now_ms, rejected=rejected)
                if rejected and self._watch is not None:
                    self._watch.rejects_after += 1
            if self._watch is not None:
                self._judge(self._watch)
        if time.monotonic() - self._last_tick >= self.every_s:
            self.tick()

    def tick(self) -> None:
        """Look at the logs: expire what is due, reload what changed."""
        self._last_tick = time.monotonic()
        for log in self._logs:
            before = log.last_hash
            self._read(log)
            if log.next_due is not None and log.next_due <= self._clock():
                self._expire(log)
            if log.last_hash != before:
                self._reload(log)

    # -- the log -----------------------------------------------------------------------------

    def _read(self, log: _Log) -> None:
        try:
            stat = log_path(log.directory).stat()
        except OSError:
            return
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature == log.signature:
            return
        log.signature = signature
        receipts, _ = read_receipts(log.directory)
        log.last_hash = str(receipts[-1].get("hash")) if receipts else None
        due = [o.expires_at for o in open_overrides(receipts)]
        log.next_due = min(due) if due else None

    def _expire(self, log: _Log) -> None:
        now = self._clock()
        report = expire_due(log.directory, now=now)
        if report.refusals:
            self._emit("change.refused", log, refusals=[r.to_json() for r in report.refusals])
        for item in report.expired:
            receipt = item.result.receipt
            if receipt is None:
                refusals = [r.to_json() for r in item.result.refusals]
                self._emit("change.refused", log, override_seq=item.seq, refusals=refusals)
                continue
            self._emit("change.expiry", log, **_receipt_summary(receipt))
            if receipt.get("superseded"):
                self._emit(
                    "change.expiry-superseded",
                    log,
                    seq=receipt["seq"],
                    reverts_seq=receipt.get("reverts_seq"),
                    superseded=receipt["superseded"],
                )
        log.signature = None  # read it again: the expiries wrote to it
        self._read(log)
        if not report.ok and log.next_due is not None:
            # Refused (the override stays in force): say so again in a while, not every tick.
            log.next_due = max(log.next_due, now + RETRY)

    def _reload(self, log: _Log) -> None:
        problems = self.runtime.reload(*self.paths)
        if problems:
            self._emit("change.reload-refused", log, problems=[p.to_json() for p in problems])
            return
        bundle = self.runtime.gate.bundle
        self._emit("change.reload", log, bundle_hash=bundle.hash, receipt=log.last_hash)
        self._spec = _watchdog_of(self.runtime)
        self._watch = None
        receipts, _ = read_receipts(log.directory)
        last = receipts[-1] if receipts else {}
        if self._spec is not None and last.get("kind") == "change":
            self._watch = self._arm(log, self._spec, str(last.get("hash")))
        keep = _keep_ms(self._spec)
        if keep != self._rejects.keep_ms:
            self._rejects.keep_ms = keep

    # -- the watchdog -----------------------------------------------------------------------

    def _arm(self, log: _Log, spec: Watchdog, receipt_hash: str) -> _Watch:
        decided = self._rejects.first_ms is not None
        since = self.runtime.now_ms if decided else None
        lookback = spec.lookback_ms or spec.window_ms
        before, span = 0, 0
        if since is not None and self._rejects.first_ms is not None:
            before = self._rejects.since(since - lookback)
            span = min(lookback, since - self._rejects.first_ms)
        return _Watch(log, spec, receipt_hash, since, self.runtime.session_pnl(), before, span)

    def _judge(self, watch: _Watch) -> None:
        now_ms = self.runtime.now_ms
        if watch.since_ms is None:
            watch.since_ms = now_ms  # the first decision after the change
        if now_ms - watch.since_ms > watch.spec.window_ms:
            self._watch = None  # the window is over: the change stays
            return
        pnl = self.runtime.session_pnl()
        if watch.pnl_at_change is None:
            watch.pnl_at_change = pnl  # the session started after the change
        seen = Observed(
            since_ms=watch.since_ms,
            now_ms=now_ms,
            pnl_at_change=watch.pnl_at_change,
            pnl_now=pnl,
            rejects_before=watch.rejects_before,
            before_span_ms=watch.before_span_ms,
            rejects_after=watch.rejects_after,
        )
        verdict = judge(watch.spec, seen)
        if verdict is not None:
            self._watch = None
            self._revert(watch, verdict.to_json())

    def _revert(self, watch: _Watch, verdict: dict[str, Any]) -> None:
        log = watch.log
        detail = {"window_ms": watch.spec.window_ms, "since_ms": watch.since_ms, **verdict}
        plan = plan_revert(log.directory, watch.receipt_hash, watchdog=detail)
        result = apply_plan(plan.to_json(), approved_by=None, now=self._clock())
        if result.receipt is None:
            refusals = [r.to_json() for r in (plan.refusals or result.refusals)]
            self._emit("change.refused", log, watchdog=detail, refusals=refusals)
            return
        self._emit("change.watchdog", log, **_receipt_summary(result.receipt), watchdog=detail)
        before = log.last_hash
        self._read(log)
        if log.last_hash != before:
            self._reload(log)

    def _emit(self, event: str, log: _Log, **fields: Any) -> None:
        self._report(
            {
                "event": event,
                "policies": str(log.directory),
                "time": self._clock().isoformat(timespec="milliseconds"),
                "at_ms": self.runtime.now_ms,
                **fields,
            }
        )


def _receipt_summary(receipt: dict[str, Any]) -> dict[str, Any]:
    keys = ("seq", "hash", "kind", "reverts", "reverts_seq", "changes", "new_bundle_hash")
    return {k: receipt.get(k) for k in keys}


def _watchdog_of(runtime: StatefulGate) -> Watchdog | None:
    """The first watchdog of the served ChangeControl documents."""
    for document in runtime.gate.bundle.of_kind(ChangeControl):
        if document.spec.watchdog is not None:
            return document.spec.watchdog
    return None


def _keep_ms(spec: Watchdog | None) -> int:
    return 0 if spec is None else spec.lookback_ms or spec.window_ms
