"""The limit an of_limit alert is a share of: resolved per watched pair as the gate resolves
limits (most specific scope per document, the smallest across documents), one value or none."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from riskctl.alert_limits import LimitTable
from riskctl.kinds import RiskLimits
from riskctl.kinds.alert_thresholds import Alert

D = Decimal


def limits(name: str, defaults: dict[str, Any], *scoped: dict[str, Any]) -> RiskLimits:
    return RiskLimits.model_validate(
        {
            "apiVersion": "riskctl/v1",
            "kind": "RiskLimits",
            "metadata": {"name": name, "version": 1, "owner": "t"},
            "spec": {
                "environment": "paper",
                "venues": [
                    {"venue": "binance", "account": "a", "symbols": ["BTC/USDT", "ETH/USDT"]},
                    {"venue": "okx", "account": "b", "symbols": ["BTC/USDT"]},
                ],
                "defaults": defaults,
                "scoped": list(scoped),
            },
        }
    )


def alert(**fields: Any) -> Alert:
    return Alert.model_validate({"name": "a", "metric": "-pnl.daily", "warn": 80, **fields})


def test_when_two_documents_set_the_limit_then_the_smallest_is_in_force_at_each_pair() -> None:
    table = LimitTable(
        [
            limits("a", {"max_daily_loss": 50000}),
            limits("b", {}, {"scope": {"venue": "okx"}, "max_daily_loss": 30000}),
        ]
    )
    found = table.for_alert(alert(of_limit="max_daily_loss"))

    assert found is not None
    assert dict(found.by_pair) == {
        ("binance", "BTC/USDT"): D(50000),
        ("binance", "ETH/USDT"): D(50000),
        ("okx", "BTC/USDT"): D(30000),
    }
    assert found.value() is None
    assert (found.soonest("above"), found.soonest("below")) == (D(30000), D(50000))
    okx = table.for_alert(alert(of_limit="max_daily_loss", scope={"venue": "okx"}))
    assert okx is not None
    assert okx.value() == D(30000)


def test_when_a_symbol_scope_overrides_a_venue_scope_then_the_symbol_s_value_is_used() -> None:
    table = LimitTable(
        [
            limits(
                "a",
                {"max_order_qty": 10},
                {"scope": {"venue": "okx"}, "max_order_qty": 3},
                {"scope": {"symbol": "BTC/USDT"}, "max_order_qty": 5},
            )
        ]
    )
    found = table.for_alert(alert(of_limit="max_order_qty", scope={"symbol": "BTC/USDT"}))

    assert found is not None
    assert found.value() == D(5)  # symbol beats venue on okx too: one value


def test_an_integer_limit_is_a_decimal_and_an_absolute_alert_has_no_limit() -> None:
    table = LimitTable([limits("a", {"max_open_orders": 200})])
    found = table.for_alert(alert(of_limit="max_open_orders"))

    assert found is not None
    assert found.value() == D(200)
    assert table.for_alert(alert()) is None


def test_when_nothing_sets_the_limit_then_there_is_no_value_and_nothing_alerts_soonest() -> None:
    found = LimitTable([limits("a", {})]).for_alert(alert(of_limit="max_drawdown"))

    assert found is not None
    assert (found.value(), found.soonest("above")) == (None, None)
    assert found.described() == (
        "binance:BTC/USDT not set, binance:ETH/USDT not set, okx:BTC/USDT not set"
    )
