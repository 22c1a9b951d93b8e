"""ChangeControl watchdogs that cannot do what they say.

``watchdog.drop-beyond-loss-limit``: a ``session_pnl`` drop at or past the smallest
``max_daily_loss`` / ``max_drawdown`` of the bundle's RiskLimits. The gate admits only
exits before the P&L falls that far, so the watchdog would revert the change too late to
matter (a day's loss limit counts from the day's start, not from the change, so a drop
close to it is still late; only one at or past it is certainly so).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from riskctl.errors import Diagnostic, Severity
from riskctl.kinds import ChangeControl, RiskLimits
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["check"]

_LOSS_LIMITS = ("max_daily_loss", "max_drawdown")


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """One finding per watchdog whose session_pnl drop the loss limits would stop first."""
    smallest = _smallest_loss_limit(policies)
    if smallest is None:
        return
    limit, name = smallest
    for policy, document in of_kind(policies, ChangeControl):
        watchdog = document.spec.watchdog
        if watchdog is None or watchdog.session_pnl is None:
            continue
        drop = watchdog.session_pnl.drop
        if drop >= limit:
            yield Diagnostic(
                "watchdog.drop-beyond-loss-limit",
                f"the watchdog's session_pnl drop is {drop}, at or past the smallest {name} "
                f"of {limit}: the gate admits only exits before the P&L falls that far",
                policy.source.location(("spec", "watchdog", "session_pnl", "drop")),
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
