"""Coverage: every traded (venue, symbol) has the limits no book should trade without.

Each (venue, symbol) in a RiskLimits universe must resolve an order-size limit, a notional
limit, a price collar and a loss limit. The gate applies every RiskLimits document's
limits to an order, so a limit set by any document of the bundle counts. A paper account
may go without; say so with a waiver on its venue line, which is where this points.
"""

from __future__ import annotations

from collections.abc import Iterator

from riskctl.errors import Diagnostic
from riskctl.kinds import RiskLimits
from riskctl.limits import resolve_limits
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["REQUIRED", "check"]

REQUIRED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("an order-size limit (max_order_qty)", ("max_order_qty",)),
    ("a notional limit (max_order_notional)", ("max_order_notional",)),
    ("a price collar (price_collar_bps)", ("price_collar_bps",)),
    ("a loss limit (max_daily_loss or max_drawdown)", ("max_daily_loss", "max_drawdown")),
)


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """One finding per (venue account, symbol) that lacks a required kind of limit."""
    documents = [document for _, document in of_kind(policies, RiskLimits)]
    for policy, document in of_kind(policies, RiskLimits):
        for i, account in enumerate(document.spec.venues):
            for symbol in account.symbols:
                missing = _missing(documents, account.venue, symbol)
                if missing:
                    yield _uncovered(policy, i, account.venue, symbol, missing)


def _missing(documents: list[RiskLimits], venue: str, symbol: str) -> list[str]:
    configured: set[str] = set()
    for document in documents:
        configured.update(resolve_limits(document, venue, symbol))
    return [label for label, names in REQUIRED if configured.isdisjoint(names)]


def _uncovered(
    policy: LoadedPolicy, index: int, venue: str, symbol: str, missing: list[str]
) -> Diagnostic:
    listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
    return Diagnostic(
        "limits.coverage",
        f"{venue} {symbol} is missing {listed}; every traded symbol needs an order-size limit,"
        " a notional limit, a price collar and a loss limit",
        policy.source.location(("spec", "venues", index)),
        hint=(
            f"set the missing limits in spec.defaults or in a scope covering {venue} {symbol};"
            " for an account with no real risk, waive it on this venue line:"
            " # riskctl: ignore[limits.coverage] reason"
        ),
    )
