"""ChangeControl watchdogs that cannot do what they say.

* ``watchdog.duplicate-metric``: two triggers watch the same metric; only the first can
  ever be the one that trips first, so the second is dead or a typo for another metric.
* ``watchdog.drop-beyond-loss-limit``: a ``session_pnl`` drop at or past the smallest
  ``max_daily_loss`` / ``max_drawdown`` of the bundle's RiskLimits: the gate admits only
  exits before such a fall, so the watchdog would revert the change too late to matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from riskctl.errors import Diagnostic, Severity
from riskctl.kinds import ChangeControl, RiskLimits
from riskctl.kinds.change_control import PnlDropTrigger
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["check"]

_LOSS_LIMITS = ("max_daily_loss", "max_drawdown")


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """Findings for every ChangeControl watchdog."""
    smallest = _smallest_loss_limit(policies)
    for policy, document in of_kind(policies, ChangeControl):
        watchdog = document.spec.watchdog
        if watchdog is None:
            continue
        seen: set[str] = set()
        for index, trigger in enumerate(watchdog.triggers):
            where = ("spec", "watchdog", "triggers", index)
            if trigger.metric in seen:
                yield Diagnostic(
                    "watchdog.duplicate-metric",
                    f"the watchdog watches {trigger.metric} twice; only one trigger per metric "
                    "can trip first",
                    policy.source.location((*where, "metric")),
                    Severity.WARNING,
                    hint="merge the triggers into one, or watch another metric",
                )
            seen.add(trigger.metric)
            if isinstance(trigger, PnlDropTrigger) and smallest is not None:
                limit, name = smallest
                if trigger.drop >= limit:
                    yield _too_late(policy, (*where, "drop"), trigger.drop, limit, name)


def _too_late(
    policy: LoadedPolicy, where: tuple[str | int, ...], drop: Decimal, limit: Decimal, name: str
) -> Diagnostic:
    return Diagnostic(
        "watchdog.drop-beyond-loss-limit",
        f"the watchdog's session_pnl drop is {drop}, at or past the smallest {name} of "
        f"{limit}: the gate admits only exits before the P&L falls that far",
        policy.source.location(where),
        Severity.WARNING,
        hint=f"set drop below {limit}, so a bad change is reverted before the loss limit",
    )


def _smallest_loss_limit(policies: tuple[LoadedPolicy, ...]) -> tuple[Decimal, str] | None:
    found: list[tuple[Decimal, str]] = []
    for _, document in of_kind(policies, RiskLimits):
        for limits in (document.spec.defaults, *document.spec.scoped):
            for name in _LOSS_LIMITS:
                value = getattr(limits, name, None)
                if value is not None:
                    found.append((value, name))
    return min(found) if found else None
