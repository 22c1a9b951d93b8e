"""Typed limits as built-in rules, resolved per (venue, symbol) by scope specificity.

Each typed limit is written once, below, as an expression in the same language as custom
rules, so it compiles, evaluates, fails closed and reports exactly like them. Limits meant
for opening risk skip exits (reduce-only orders that shrink the position); the price collar
and a halt apply to every order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from engine.kinds import RiskLimits
from engine.kinds.risk_limits import LIMIT_FIELDS, LimitSet

__all__ = ["BUILTIN_STATE_RULES", "LIMIT_RULES", "BuiltinRule", "resolve_limits"]


@dataclass(frozen=True, slots=True)
class BuiltinRule:
    """A typed check: expression template over ``{v}`` (the limit), action and message."""

    name: str
    when: str
    message: str
    action: str = "reject"
    exits_exempt: bool = True
    clip: bool = False


LIMIT_RULES: dict[str, BuiltinRule] = {
    rule.name: rule
    for rule in (
        BuiltinRule(
            "max_order_qty", "order.qty > {v}", "order quantity is over max_order_qty", clip=True
        ),
        BuiltinRule(
            "max_order_notional",
            "order.notional is None or order.notional > {v}",
            "order notional is over max_order_notional, or the order cannot be valued",
        ),
        BuiltinRule(
            "price_collar_bps",
            "order.type == 'limit' and (market.mid is None"
            " or abs(order.price - market.mid) * 10000 > {v} * market.mid)",
            "limit price is outside the collar around mid, or there is no mid to check it",
            exits_exempt=False,
        ),
        BuiltinRule(
            "max_position_qty",
            "not order.reduces_position and abs(position.qty_after) > {v}",
            "position after the fill would be over max_position_qty",
            clip=True,
        ),
        BuiltinRule(
            "max_position_notional",
            "not order.reduces_position and (order.valuation_price is None"
            " or abs(position.qty_after) * order.valuation_price > {v})",
            "position value after the fill would be over max_position_notional",
        ),
        BuiltinRule(
            "max_gross_exposure",
            "not order.reduces_position and (order.notional is None"
            " or account.gross_exposure + order.notional > {v})",
            "gross exposure after the fill would be over max_gross_exposure",
        ),
        BuiltinRule("max_open_orders", "account.open_orders + 1 > {v}", "too many open orders"),
        BuiltinRule(
            "max_orders_per_second",
            "account.orders_last_second + 1 > {v}",
            "order rate is over max_orders_per_second",
        ),
        BuiltinRule(
            "max_daily_loss",
            "-account.daily_pnl > {v}",
            "daily loss is beyond max_daily_loss; only exits pass",
            action="reduce_only",
        ),
        BuiltinRule(
            "max_drawdown",
            "account.drawdown > {v}",
            "drawdown from the session peak is beyond max_drawdown; only exits pass",
            action="reduce_only",
        ),
        BuiltinRule(
            "stale_market_data_ms",
            "market.age_ms > {v}",
            "market data is older than stale_market_data_ms",
        ),
        BuiltinRule(
            "stale_balance_ms",
            "account.balance_age_ms > {v}",
            "the account balance is older than stale_balance_ms",
            action="reduce_only",
        ),
    )
}

STALE_BALANCE_ACTIONS = {"skip": "alert", "reduce": "reduce_only", "halt": "halt"}

BUILTIN_STATE_RULES: tuple[BuiltinRule, ...] = (
    BuiltinRule("kill_switch", "state.kill_switch", "the kill switch is on", exits_exempt=False),
    BuiltinRule(
        "halted", "state.trading_state == 'HALTED'", "trading is HALTED", exits_exempt=False
    ),
    BuiltinRule(
        "reducing",
        "state.trading_state == 'REDUCING'",
        "trading is REDUCING: only orders that reduce the position pass",
    ),
    BuiltinRule(
        "order_type_price",
        "(order.type == 'limit') == (order.price is None)",
        "a limit order needs a price and a market order must not have one",
        exits_exempt=False,
    ),
)

UNKNOWN_INSTRUMENT = BuiltinRule(
    "unknown_instrument",
    "True",
    "the venue or symbol is not in any RiskLimits universe",
)


def resolve_limits(
    document: RiskLimits, venue: str, symbol: str
) -> dict[str, tuple[Decimal | int | str | bool, str]]:
    """Limit name -> (value, scope label) that applies to (venue, symbol) in one document.

    The most specific scope that sets a limit wins (venue+symbol > symbol > venue > defaults),
    limit by limit, so a symbol override of one limit still inherits the others. Entries of
    equal specificity apply in file order (lint flags such duplicates).
    """
    layers: list[tuple[int, str, LimitSet]] = [(-1, "*:*", document.spec.defaults)]
    layers += [
        (s.scope.specificity(), s.scope.label(), s)
        for s in document.spec.scoped
        if s.scope.matches(venue, symbol)
    ]
    layers.sort(key=lambda layer: layer[0])
    values: dict[str, tuple[Decimal | int | str | bool, str]] = {}
    for _, label, limits in layers:
        for name in LIMIT_FIELDS:
            value = getattr(limits, name)
            if value is not None:
                values[name] = (value, label)
    return values


def in_universe(documents: Iterable[RiskLimits], venue: str, symbol: str) -> bool:
    return any(
        account.venue == venue and symbol in account.symbols
        for document in documents
        for account in document.spec.venues
    )
