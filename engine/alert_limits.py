"""The limit an ``of_limit`` alert's levels are shares of: one value per alert, from RiskLimits.

An alert watches the universe pairs (venue, symbol) its scope matches, every traded pair
when it has none. At each pair the limit in force is what the gate enforces there: within a
RiskLimits document the most specific scope that sets it (:func:`riskctl.limits.resolve_limits`),
across documents the smallest (the gate applies every document's limits, so the tightest
binds). Only values the policies set count: an engine default (``max_clock_skew_ms`` 50
when unset) is not a policy's limit.

The alert's limit is that value when every watched pair agrees. An alert has one state, and
a session-wide metric such as ``pnl.daily`` compared with a different limit per context
would flap, so otherwise there is no one limit: lint reports ``alert.limit-unset`` (no
watched pair sets it) or ``alert.limit-varies`` (pairs disagree, or some do not set it) and
asks for a scope narrow enough for one limit. The runtime may run a bundle lint refused
(``riskctl run`` does not lint): it then takes, over the pairs that set the limit, the value
that alerts soonest (the smallest for ``above``, the largest for ``below``), and an alert
no pair sets a limit for is unavailable: it records why, once, and never fires or resolves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from riskctl.kinds import RiskLimits
from riskctl.kinds.alert_thresholds import Alert
from riskctl.limits import resolve_limits

__all__ = ["LimitInForce", "LimitTable", "Pair"]

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LimitInForce:
    """One alert's limit at each pair it watches (None: not set there), pairs sorted."""

    name: str
    by_pair: Mapping[Pair, Decimal | None]

    def value(self) -> Decimal | None:
        """The one limit of the alert: every watched pair sets the same value; else None."""
        values = set(self.by_pair.values())
        if len(values) != 1:
            return None
        return next(iter(values))

    def soonest(self, direction: str) -> Decimal | None:
        """The limit that alerts soonest over the pairs that set one (None: no pair does)."""
        values = [v for v in self.by_pair.values() if v is not None]
        if not values:
            return None
        return min(values) if direction == "above" else max(values)

    def described(self) -> str:
        """``binance:BTC/USDT 25, okx:ETH/USDT not set``: the limit at each pair, for a message."""
        shown = [
            f"{venue}:{symbol} {'not set' if v is None else format(v, 'f')}"
            for (venue, symbol), v in self.by_pair.items()
        ]
        return ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")


class LimitTable:
    """The RiskLimits documents of a bundle, resolved once per pair and limit name."""

    def __init__(self, documents: Iterable[RiskLimits]) -> None:
        self._documents = tuple(documents)
        self.pairs: tuple[Pair, ...] = tuple(
            sorted({pair for document in self._documents for pair in document.spec.pairs()})
        )
        self._resolved: dict[Pair, list[dict[str, object]]] = {}

    def __bool__(self) -> bool:
        return bool(self._documents)

    def at(self, name: str, pair: Pair) -> Decimal | None:
        """The tightest value of ``name`` any document sets for ``pair``; None: none does."""
        found = self._resolved.get(pair)
        if found is None:
            found = [
                {k: v for k, (v, _) in resolve_limits(d, *pair).items()} for d in self._documents
            ]
            self._resolved[pair] = found
        values = [v for layer in found if isinstance(v := layer.get(name), (int, Decimal))]
        return Decimal(min(values)) if values else None

    def for_alert(self, alert: Alert) -> LimitInForce | None:
        """The alert's limit at every pair it watches; None when it has no ``of_limit``."""
        if alert.of_limit is None:
            return None
        scope = alert.scope
        watched = [p for p in self.pairs if scope is None or scope.matches(*p)]
        return LimitInForce(alert.of_limit, {p: self.at(alert.of_limit, p) for p in watched})
