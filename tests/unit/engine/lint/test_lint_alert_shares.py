"""Lint of alerts at a share of a limit (of_limit), against the RiskLimits linted with them:
the limit must exist, be set for the pairs the alert watches and be one value there; the
percents must be above 0 and ordered by direction. Every finding is located."""

from __future__ import annotations

from pathlib import Path

from riskctl.errors import Diagnostic
from riskctl.lint import lint_paths

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: limits, version: 1, owner: desk}
spec:
  environment: paper
  venues:
    - {venue: binance, account: mm-1, symbols: [BTC/USDT, ETH/USDT]}
    - {venue: okx, account: mm-2, symbols: [BTC/USDT, ETH/USDT]}
  defaults:
    max_order_notional: 250000
    price_collar_bps: 50
    max_daily_loss: 50000
  scoped:
    - {scope: {symbol: BTC/USDT}, max_order_qty: 5, max_position_qty: 25}
    - {scope: {symbol: ETH/USDT}, max_order_qty: 80, max_position_qty: 400}
"""
HEAD = """\
apiVersion: riskctl/v1
kind: AlertThresholds
metadata: {name: alerts, version: 1, owner: desk}
spec:
  alerts:
"""


def lint(tmp_path: Path, *alerts: str, limits: str | None = LIMITS) -> list[Diagnostic]:
    if limits is not None:
        (tmp_path / "limits.yaml").write_text(limits, encoding="utf-8")
    body = "".join(f"    - {alert}\n" for alert in alerts)
    (tmp_path / "alerts.yaml").write_text(HEAD + body, encoding="utf-8")
    return [d for d in lint_paths([tmp_path]).diagnostics if d.code.startswith(("alert", "pol"))]


def at(alert: str, value: str, line: int = 6) -> tuple[str, int, int]:
    """Where ``value`` is in ``alert`` as written on ``line`` of alerts.yaml (1-based column)."""
    return ("alerts.yaml", line, len("    - ") + alert.index(value) + 1)


def found(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int, str]]:
    return [
        (Path(d.location.path).name, d.location.line, d.location.column, d.code)
        for d in diagnostics
    ]


def test_when_the_daily_loss_share_is_well_formed_then_nothing_is_reported(tmp_path: Path) -> None:
    alert = "{name: loss, metric: -pnl.daily, of_limit: max_daily_loss, warn: 80, critical: 100}"

    assert lint(tmp_path, alert) == []


def test_when_of_limit_names_no_limit_then_it_is_an_invalid_choice_at_its_value(
    tmp_path: Path,
) -> None:
    alert = "{name: loss, metric: -pnl.daily, of_limit: max_loss, warn: 80}"
    problems = lint(tmp_path, alert)

    assert found(problems) == [(*at(alert, "max_loss"), "policy.invalid-choice")]
    assert "'max_loss'" in problems[0].message
    assert "'max_daily_loss'" in problems[0].message


def test_when_the_limit_is_set_nowhere_then_limit_unset_is_reported_at_of_limit(
    tmp_path: Path,
) -> None:
    alert = "{name: dd, metric: account.drawdown, of_limit: max_drawdown, warn: 80}"
    problems = lint(tmp_path, alert)

    assert found(problems) == [(*at(alert, "max_drawdown"), "alert.limit-unset")]
    assert "no RiskLimits document sets for every traded pair" in problems[0].message


def test_when_the_alert_is_scoped_outside_the_universe_then_no_limit_is_in_force(
    tmp_path: Path,
) -> None:
    alert = (
        "{name: loss, metric: -pnl.daily, scope: {venue: kraken}, of_limit: max_daily_loss,"
        " warn: 80}"
    )
    problems = lint(tmp_path, alert)

    assert found(problems) == [(*at(alert, "max_daily_loss"), "alert.limit-unset")]
    assert "scope kraken:* holds no pair any RiskLimits universe trades" in problems[0].message


def test_when_the_limit_differs_across_the_pairs_watched_then_limit_varies_names_them(
    tmp_path: Path,
) -> None:
    alert = "{name: pos, metric: abs(inventory.position_qty), of_limit: max_position_qty, warn: 80}"
    problems = lint(tmp_path, alert)

    assert found(problems) == [(*at(alert, "max_position_qty"), "alert.limit-varies")]
    assert "binance:BTC/USDT 25, binance:ETH/USDT 400, okx:BTC/USDT 25" in problems[0].message


def test_when_the_alert_is_scoped_to_one_limit_then_limit_varies_is_gone(tmp_path: Path) -> None:
    alert = (
        "{name: pos, metric: abs(inventory.position_qty), scope: {symbol: BTC/USDT},"
        " of_limit: max_position_qty, warn: 80}"
    )

    assert lint(tmp_path, alert) == []


def test_when_some_pairs_in_scope_do_not_set_the_limit_then_it_varies_with_not_set(
    tmp_path: Path,
) -> None:
    limits = LIMITS.replace(
        "    - {scope: {symbol: ETH/USDT}, max_order_qty: 80, max_position_qty: 400}\n",
        "    - {scope: {symbol: ETH/USDT}, max_order_qty: 80}\n",
    )
    alert = "{name: pos, metric: abs(inventory.position_qty), of_limit: max_position_qty, warn: 80}"
    problems = lint(tmp_path, alert, limits=limits)

    assert found(problems) == [(*at(alert, "max_position_qty"), "alert.limit-varies")]
    assert "binance:ETH/USDT not set" in problems[0].message


def test_when_a_second_risk_limits_document_is_tighter_somewhere_then_the_limit_varies(
    tmp_path: Path,
) -> None:
    (tmp_path / "okx-limits.yaml").write_text(
        LIMITS.replace("name: limits", "name: okx-limits").replace("50000", "30000"),
        encoding="utf-8",
    )
    alert = "{name: loss, metric: -pnl.daily, of_limit: max_daily_loss, warn: 80}"

    # The smallest of the two documents binds at every pair: 30,000 everywhere, one value.
    assert lint(tmp_path, alert) == []


def test_when_a_percent_is_zero_or_negative_then_share_not_positive_is_reported_at_it(
    tmp_path: Path,
) -> None:
    alert = "{name: loss, metric: -pnl.daily, of_limit: max_daily_loss, warn: -10, critical: 0}"

    assert found(lint(tmp_path, alert)) == [
        (*at(alert, "-10"), "alert.share-not-positive"),
        (*at(alert, "0}"), "alert.share-not-positive"),
    ]


def test_when_percents_are_misordered_for_the_direction_then_warn_beyond_critical(
    tmp_path: Path,
) -> None:
    above = "{name: up, metric: -pnl.daily, of_limit: max_daily_loss, warn: 100, critical: 80}"
    below = (
        "{name: down, metric: -pnl.daily, direction: below, of_limit: max_daily_loss,"
        " warn: 10, critical: 20}"
    )

    assert found(lint(tmp_path, above, below)) == [
        (*at(above, "100"), "alert.warn-beyond-critical"),
        (*at(below, "10,", line=7), "alert.warn-beyond-critical"),
    ]


def test_when_no_risk_limits_is_linted_with_the_alert_then_only_the_percents_are_checked(
    tmp_path: Path,
) -> None:
    alert = "{name: loss, metric: -pnl.daily, of_limit: max_drawdown, warn: 0}"

    assert found(lint(tmp_path, alert, limits=None)) == [
        (*at(alert, "0}"), "alert.share-not-positive")
    ]
