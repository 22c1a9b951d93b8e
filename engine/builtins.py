"""Built-in rules: typed limits, trading state, order sanity, venue conformance, balances.

Each check is written once, below, as an expression in the same language as custom rules,
so it compiles, evaluates, fails closed and reports exactly like them. Checks meant for
opening risk skip exits (reduce-only orders that shrink the position); the price collar,
a halt, the kill switch and the venue's own grid and order-type rules apply to every order.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL_BUILTINS",
    "BALANCE_RULES",
    "BUILTIN_NAMES",
    "BUILTIN_STATE_RULES",
    "CLOCK_SKEW",
    "CONFORMANCE_RULES",
    "DEFAULT_CLOCK_SKEW_MS",
    "LIMIT_RULES",
    "ORDER_SANITY_RULES",
    "REDUCE_ONLY_OPENING",
    "SEND_RULES",
    "STALE_BALANCE_ACTIONS",
    "UNKNOWN_INSTRUMENT",
    "BuiltinRule",
]


@dataclass(frozen=True, slots=True)
class BuiltinRule:
    """A typed check: expression template over ``{v}`` (the limit), action and message.

    ``modify`` names how the order can be fixed instead of rejected (see riskctl.decide),
    when the policy asks for it.
    """

    name: str
    when: str
    message: str
    action: str = "reject"
    exits_exempt: bool = True
    modify: str | None = None


LIMIT_RULES: dict[str, BuiltinRule] = {
    rule.name: rule
    for rule in (
        BuiltinRule(
            "max_order_qty",
            "order.qty > {v}",
            "order quantity is over max_order_qty",
            modify="clip_to_limit",
        ),
        BuiltinRule(
            "max_order_notional",
            "order.notional is None or order.notional > {v}",
            "order notional is over max_order_notional, or the order cannot be valued",
            modify="clip_to_notional_limit",
        ),
        BuiltinRule(
            "price_collar_bps",
            # Market orders too, at the price they would take (ask or bid): a flatten into
            # an empty book is as dangerous as a fat-fingered limit. A stop's trigger too:
            # a trigger far from the market is a fat finger that fires later.
            "order.valuation_price is None or market.mid is None"
            " or abs(order.valuation_price - market.mid) * 10000 > {v} * market.mid"
            " or (order.trigger_price is not None"
            " and abs(order.trigger_price - market.mid) * 10000 > {v} * market.mid)",
            "the order's price (or the touch a market order would take, or a stop's trigger)"
            " is outside the collar around mid, or there is no mid to check it",
            exits_exempt=False,
        ),
        BuiltinRule(
            "max_position_qty",
            "not order.reduces_position and abs(position.qty_after) > {v}",
            "position after the fill would be over max_position_qty",
            modify="clip_to_position",
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
        # Order counts and rates protect the venue relationship (a ban traps every later
        # exit), not opening risk, so they apply to exits too; cancels are never limited.
        BuiltinRule(
            "max_open_orders",
            "account.open_orders + 1 > {v}",
            "too many open orders",
            exits_exempt=False,
        ),
        BuiltinRule(
            "max_orders_per_second",
            "order.action == 'new' and account.orders_last_second + 1 > {v}",
            "order rate is over max_orders_per_second",
            exits_exempt=False,
        ),
        BuiltinRule(
            "max_amends_per_second",
            "order.action == 'amend' and account.amends_last_second + 1 > {v}",
            "amend rate is over max_amends_per_second",
            exits_exempt=False,
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

# The runtime's own exits (origin runtime: the reduce-only orders a flatten sends) pass a
# kill switch and HALTED: a kill that cannot unwind leaves the risk it was pulled for. They
# still meet the price collar, the venue's rules and every rule that spares no exit.
KILL_SWITCH = BuiltinRule(
    "kill_switch",
    "state.kill_switch and not (order.is_exit and order.origin == 'runtime')",
    "the kill switch is on",
    exits_exempt=False,
)
HALTED = BuiltinRule(
    "halted",
    "state.trading_state == 'HALTED' and not (order.is_exit and order.origin == 'runtime')",
    "trading is HALTED",
    exits_exempt=False,
)

BUILTIN_STATE_RULES: tuple[BuiltinRule, ...] = (
    KILL_SWITCH,
    HALTED,
    BuiltinRule(
        "reducing",
        "state.trading_state == 'REDUCING'",
        "trading is REDUCING: only reduce_only orders that shrink the position pass",
    ),
    BuiltinRule(
        "paused",
        "state.paused",
        "new orders on this symbol are paused by an open circuit breaker; exits pass",
    ),
    BuiltinRule(
        "band_blocks_increasing",
        "state.block_increasing and abs(position.qty_after) > abs(position.qty)",
        "the inventory band blocks orders that grow the position; orders that shrink it pass",
    ),
    BuiltinRule(
        "order_type_price",
        "(order.type in ('limit', 'stop_limit')) == (order.price is None)",
        "a limit or stop_limit order needs a price, and a market or stop_market order must not"
        " have one",
        exits_exempt=False,
    ),
)

# Always on: an order the venue cannot value or that has already expired never goes out.
ORDER_SANITY_RULES: tuple[BuiltinRule, ...] = (
    BuiltinRule(
        "market_without_quote",
        "order.type == 'market' and order.valuation_price is None",
        "a market order needs a quote on its side (ask to buy, bid to sell) to be valued",
        exits_exempt=False,
    ),
    BuiltinRule(
        "gtd_expired",
        "order.time_in_force == 'GTD' and (order.expire_at_ms is None"
        " or order.expire_at_ms <= now_ms)",
        "a good-till-date order needs an expiry after now",
        exits_exempt=False,
    ),
)

# On unless a policy turns it off (check_reduce_only: false): a reduce_only order that would
# open or grow the position, or cross through zero, is not an exit; venues refuse it.
REDUCE_ONLY_OPENING = BuiltinRule(
    "reduce_only_would_open",
    "order.reduce_only and not order.reduces_position",
    "the order is reduce_only but would open or grow the position, or cross through zero;"
    " a reduce_only order must be opposite the position and no larger than it",
    exits_exempt=False,
)

# Always on, bound max_clock_skew_ms (default DEFAULT_CLOCK_SKEW_MS): a quote from the
# future by more than the bound means a broken clock, so its age says nothing. Exits pass,
# as they do on stale data.
CLOCK_SKEW = BuiltinRule(
    "clock_skew",
    "market.age_ms < -{v}",
    "the quote's timestamp is ahead of our clock by more than max_clock_skew_ms: a clock is"
    " wrong, so the quote's age cannot be trusted",
)
DEFAULT_CLOCK_SKEW_MS = 50

# With `conformance` configured: what the venue would refuse never leaves.
CONFORMANCE_RULES: tuple[BuiltinRule, ...] = (
    BuiltinRule(
        "instrument_unknown",
        "instrument is None",
        "no instrument data for this venue and symbol; its grid and size rules cannot be checked",
    ),
    BuiltinRule(
        "price_off_grid",
        "order.price_on_grid == False",
        "the limit price is not on the instrument's tick grid",
        exits_exempt=False,
        modify="round_price",
    ),
    BuiltinRule(
        "trigger_off_grid",
        "order.trigger_on_grid == False",
        "the stop's trigger price is not on the instrument's tick grid",
        exits_exempt=False,
    ),
    # Always a fix, whatever the conformance setting: the bot meant the grid value (ccxt's
    # price_to_precision would send it), and the decision says exactly which value passes.
    BuiltinRule(
        "float_noise",
        "order.float_noise == True",
        "the price, quantity or trigger carries binary-float noise; the exact grid value passes",
        exits_exempt=False,
        modify="round_float_noise",
    ),
    BuiltinRule(
        "qty_off_grid",
        "order.qty_on_grid == False",
        "the quantity is not on the instrument's step grid",
        exits_exempt=False,
        modify="round_qty",
    ),
    BuiltinRule(
        "qty_below_min",
        "instrument is not None and instrument.min_qty is not None"
        " and order.qty < instrument.min_qty",
        "the quantity is below the instrument's min_qty",
    ),
    BuiltinRule(
        "qty_above_max",
        "instrument is not None and instrument.max_qty is not None"
        " and order.qty > instrument.max_qty",
        "the quantity is above the instrument's max_qty",
        exits_exempt=False,
        modify="clip_to_max_qty",
    ),
    BuiltinRule(
        "notional_below_min",
        "instrument is not None and instrument.min_notional is not None"
        " and (order.notional is None or order.notional < instrument.min_notional)",
        "the order value is below the instrument's min_notional, or cannot be valued",
    ),
    BuiltinRule(
        "notional_above_max",
        "instrument is not None and instrument.max_notional is not None"
        " and (order.notional is None or order.notional > instrument.max_notional)",
        "the order value is above the instrument's max_notional, or cannot be valued",
        exits_exempt=False,
        modify="clip_to_max_notional",
    ),
    BuiltinRule(
        "order_type_unsupported",
        "order.type_supported == False",
        "the venue does not accept this order type for the symbol",
        exits_exempt=False,
    ),
    BuiltinRule(
        "dust",
        "order.is_exit and instrument is not None and ("
        "(instrument.min_qty is not None and order.qty < instrument.min_qty)"
        " or (instrument.min_notional is not None and order.notional is not None"
        " and order.notional < instrument.min_notional))",
        "the exit is below the venue's minimum (dust): it cannot be sent, and the position"
        " stays unclosable until it grows",
        exits_exempt=False,
    ),
)

# With `check_balance: true`: two orders never spend the same free balance. Exits are
# exempt only where the venue needs no balance for them: a derivatives exit releases margin,
# but a spot exit (a buy back, a sell of the base) is paid from the balance like any order.
BALANCE_RULES: tuple[BuiltinRule, ...] = (
    BuiltinRule(
        "insufficient_quote",
        "order.side == 'buy'"
        " and not (order.is_exit and instrument is not None and instrument.type != 'spot')"
        " and (order.notional is None"
        " or order.notional * {fee_factor} > account.quote_free - account.quote_reserved)",
        "the buy's value plus the fee reserve does not fit the free quote balance",
        exits_exempt=False,
    ),
    BuiltinRule(
        "insufficient_base",
        "order.side == 'sell' and (instrument is None or instrument.type == 'spot')"
        " and order.qty > account.base_free - account.base_reserved",
        "the spot sell does not fit the free base balance",
        exits_exempt=False,
    ),
)

# Exits too: outside the universe no limit applies, not even the price collar, so
# letting anything through there would fail open. Keep a symbol listed while you unwind it.
UNKNOWN_INSTRUMENT = BuiltinRule(
    "unknown_instrument",
    "True",
    "the venue or symbol is not in any RiskLimits universe",
    exits_exempt=False,
)

# At order_send, for every request but cancels: a retry queued before the kill switch,
# or a request for a venue outside the universe, never reaches the venue.
SEND_RULES: tuple[BuiltinRule, ...] = (
    BuiltinRule(
        "kill_switch",
        "state.kill_switch and request.origin != 'runtime'",
        "the kill switch is on",
        exits_exempt=False,
    ),
    BuiltinRule(
        "halted",
        "state.trading_state == 'HALTED' and request.origin != 'runtime'",
        "trading is HALTED",
        exits_exempt=False,
    ),
)

ALL_BUILTINS: tuple[BuiltinRule, ...] = (
    *LIMIT_RULES.values(),
    *BUILTIN_STATE_RULES,
    *ORDER_SANITY_RULES,
    REDUCE_ONLY_OPENING,
    CLOCK_SKEW,
    *CONFORMANCE_RULES,
    *BALANCE_RULES,
    UNKNOWN_INSTRUMENT,
)
BUILTIN_NAMES: frozenset[str] = frozenset(rule.name for rule in ALL_BUILTINS)
