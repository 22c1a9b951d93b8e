"""Alerts whose levels are percent of a RiskLimits limit (``of_limit``).

* ``alert.share-not-positive``: a warn or critical percent that is 0 or below: a share of a
  positive limit at or under 0% is a level no limit-relative alert means.
* ``alert.limit-unset``: no pair the alert watches has the limit set, so its levels are
  percent of nothing and it never fires.
* ``alert.limit-varies``: the pairs it watches have different values of the limit (or some
  do not set it): one alert has one state, so it needs one limit; scope it narrower.

The limit is resolved as the runtime resolves it (:mod:`riskctl.alert_limits`), against the
RiskLimits documents linted with the alert; with none (a lone file), there is nothing to
resolve against and only the percents are checked, as ``reach`` does for scopes.
Whether warn comes before critical is ``consistency``'s (the same check as absolute levels:
a positive limit keeps the order).
"""

from __future__ import annotations

from collections.abc import Iterator

from riskctl.alert_limits import LimitInForce, LimitTable
from riskctl.errors import Diagnostic, Location
from riskctl.kinds import AlertThresholds, RiskLimits
from riskctl.kinds.alert_thresholds import Alert
from riskctl.lint.documents import of_kind
from riskctl.loader import LoadedPolicy

__all__ = ["check"]


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """Every finding about of_limit alerts in the documents that loaded."""
    table: LimitTable | None = None
    for policy, document in of_kind(policies, AlertThresholds):
        for i, alert in enumerate(document.spec.alerts):
            if alert.of_limit is None:
                continue
            path = ("spec", "alerts", i)
            yield from _percents(policy, path, alert)
            if table is None:
                table = LimitTable(d for _, d in of_kind(policies, RiskLimits))
            in_force = table.for_alert(alert) if table else None
            if in_force is not None:
                yield from _limit(policy.source.location((*path, "of_limit")), alert, in_force)


def _percents(
    policy: LoadedPolicy, path: tuple[str | int, ...], alert: Alert
) -> Iterator[Diagnostic]:
    for name in ("warn", "critical"):
        percent = getattr(alert, name)
        if percent is not None and percent <= 0:
            yield Diagnostic(
                "alert.share-not-positive",
                f"alert {alert.name!r} has {name} {percent}, percent of {alert.of_limit}; a"
                " share of a limit must be above 0%",
                policy.source.location((*path, name)),
                hint=f"give {name} as a percent above 0, e.g. 80 for 80% of the limit",
            )


def _limit(where: Location, alert: Alert, in_force: LimitInForce) -> Iterator[Diagnostic]:
    scope = "every traded pair" if alert.scope is None else f"scope {alert.scope.label()}"
    if not in_force.by_pair:
        yield Diagnostic(
            "alert.limit-unset",
            f"alert {alert.name!r} is a share of {alert.of_limit}, but {scope} holds no pair"
            " any RiskLimits universe trades, so no limit is in force",
            where,
            hint="scope the alert to a venue or symbol listed in spec.venues of RiskLimits",
        )
    elif all(value is None for value in in_force.by_pair.values()):
        yield Diagnostic(
            "alert.limit-unset",
            f"alert {alert.name!r} is a share of {alert.of_limit}, which no RiskLimits document"
            f" sets for {scope}, so its levels are percent of nothing and it never fires",
            where,
            hint=f"set {alert.of_limit} in RiskLimits (defaults or a scope), or give levels",
        )
    elif in_force.value() is None:
        yield Diagnostic(
            "alert.limit-varies",
            f"alert {alert.name!r} is a share of {alert.of_limit}, which is not one value across"
            f" {scope}: {in_force.described()}; one alert has one state, so it needs one limit",
            where,
            hint="scope the alert to pairs that share the limit (one alert per scope)",
        )
