"""Seeded inputs for tools/bench_engine.py: pre_trade contexts and a generated rule set.

Kept apart from the timing code so the inputs can be read (and reused) on their own. Both
generators are deterministic for a seed, so figures quoted from a run can be reproduced.

The generated rules are written once, as templates, and rendered twice: as policy
expressions for the engine and simpleeval, and as plain Python over the context models for
the hand-written baseline. One template, two spellings, so the baseline cannot drift from
the policy it is compared with.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl.context import PreTradeContext

__all__ = [
    "INSTRUMENTS",
    "SYMBOLS",
    "VENUES",
    "GeneratedRule",
    "RuleSetSource",
    "generate_rules",
    "make_contexts",
    "write_rules_yaml",
]

VENUES = ("binance", "okx")
SYMBOLS = ("BTC/USDT", "ETH/USDT")
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: any fixed instant keeps runs identical


@dataclass(frozen=True, slots=True)
class _Level:
    """Realistic magnitudes for one symbol, so limits are approached and sometimes crossed."""

    mid: float
    tick: int  # decimal places of a price
    step: int  # decimal places of a quantity
    typical_qty: float  # an ordinary quote
    big_qty: float  # the top of the "near or over the order limit" band
    max_position: float  # the position limit in risk-limits.yaml


LEVELS = {
    "BTC/USDT": _Level(mid=65_000.0, tick=1, step=3, typical_qty=1.2, big_qty=6.5, max_position=25),
    "ETH/USDT": _Level(mid=3_200.0, tick=2, step=2, typical_qty=20, big_qty=100, max_position=400),
}
# The levels' ticks and steps are on every venue's grid below: prices and sizes a quoter
# produces are on the grid, and the tails in _order step off it on purpose.

# What the venue adapter sends with every order (policies/instruments.yaml, as
# load_markets() reported it): tick and step grids, minimum and maximum sizes.
INSTRUMENTS: dict[tuple[str, str], dict[str, Any]] = {
    ("binance", "BTC/USDT"): {
        "price_increment": Decimal("0.01"),
        "qty_increment": Decimal("0.00001"),
        "price_precision": 2,
        "qty_precision": 5,
        "min_qty": Decimal("0.00001"),
        "max_qty": Decimal("9000"),
        "min_notional": Decimal("5"),
        "max_notional": Decimal("9000000"),
        "order_types": ("limit", "market", "stop_market", "stop_limit"),
    },
    ("binance", "ETH/USDT"): {
        "price_increment": Decimal("0.01"),
        "qty_increment": Decimal("0.0001"),
        "price_precision": 2,
        "qty_precision": 4,
        "min_qty": Decimal("0.0001"),
        "max_qty": Decimal("100000"),
        "min_notional": Decimal("5"),
        "max_notional": Decimal("9000000"),
    },
    ("okx", "BTC/USDT"): {
        "price_increment": Decimal("0.1"),
        "qty_increment": Decimal("0.00000001"),
        "price_precision": 1,
        "qty_precision": 8,
        "min_qty": Decimal("0.00001"),
        "max_qty": Decimal("1000"),
        "max_notional": Decimal("1000000"),
    },
    ("okx", "ETH/USDT"): {
        "price_increment": Decimal("0.01"),
        "qty_increment": Decimal("0.000001"),
        "price_precision": 2,
        "qty_precision": 6,
        "min_qty": Decimal("0.0001"),
        "max_qty": Decimal("10000"),
        "max_notional": Decimal("1000000"),
    },
}
OFF_GRID_PRICE = Decimal("0.005")  # half the finest tick above: off every venue's grid
OFF_GRID_QTY = Decimal("0.000000004")  # below the finest step: off every venue's grid


# -- contexts ---------------------------------------------------------------------------


def make_contexts(n: int, seed: int) -> list[PreTradeContext]:
    """``n`` validated pre_trade contexts: mostly ordinary quotes, with tails past each limit.

    Tails: big orders, far limit prices, one-sided books, stale quotes and balances, deep
    losses, busy order and amend rates, REDUCING and HALTED states, reduce-only exits, a
    few amends, cancels, GTD orders (some expired) and malformed limit/market prices.
    Every context carries the venue's instrument and, nearly always, free and reserved
    balances, as the venue adapter sends them; most prices and sizes are on the venue's
    grid. The tails: prices and sizes off the grid, orders under the venue's minimum
    notional, dust positions, quote-sized orders, missing balances and (rarely) no
    instrument at all.
    """
    rng = random.Random(seed)
    return [PreTradeContext.model_validate(context_data(rng, i)) for i in range(n)]


def context_data(rng: random.Random, index: int) -> dict[str, Any]:
    """One context as the input a bot would send (no derived fields)."""
    venue, symbol = rng.choice(VENUES), rng.choice(SYMBOLS)
    level = LEVELS[symbol]
    market, mid = _market(rng, level)
    position = _position(rng, level, mid)
    order = _order(
        rng, level, venue=venue, symbol=symbol, mid=mid, position=position["qty"], index=index
    )
    _size_in_quote(rng, order, market, mid)
    instrument = None
    if rng.random() >= 0.003:  # the adapter nearly always has the venue's filters
        instrument = {"venue": venue, "symbol": symbol, **INSTRUMENTS[(venue, symbol)]}
    return {
        "now_ms": EPOCH_MS + index * 37,  # _order dates GTD expiries from the same clock
        "state": _state(rng),
        "order": order,
        "market": market,
        "position": position,
        "account": _account(rng, level),
        "instrument": instrument,
    }


def _dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _market(rng: random.Random, level: _Level) -> tuple[dict[str, Any], float]:
    mid = level.mid * (1 + rng.gauss(0, 0.01))
    roll = rng.random()
    spread_bps = (
        rng.uniform(0.5, 4)
        if roll < 0.85
        else rng.uniform(4, 30)
        if roll < 0.97
        else rng.uniform(30, 60)
    )
    half = mid * spread_bps / 20_000
    bid, ask = _dec(mid - half, level.tick), _dec(mid + half, level.tick)
    if ask <= bid:
        ask = bid + Decimal(1).scaleb(-level.tick)
    book: dict[str, Any] = {"bid": bid, "ask": ask}
    if rng.random() < 0.02:  # a one-sided book: no mid, no spread
        book[rng.choice(("bid", "ask"))] = None
    age = rng.randint(0, 800) if rng.random() < 0.95 else rng.randint(1_500, 5_000)
    return {**book, "age_ms": age}, mid


def _position(rng: random.Random, level: _Level, mid: float) -> dict[str, Any]:
    if rng.random() < 0.15:
        return {"qty": Decimal(0), "avg_price": None}
    if rng.random() < 0.01:  # dust: worth under 5 USDT, left over from partial fills
        dust = _dec(3.5 / level.mid, level.step + 2) * rng.choice((1, -1))
        return {"qty": dust, "avg_price": _dec(mid, level.tick)}
    bound = level.max_position * 1.05
    qty = max(-bound, min(bound, rng.gauss(0, level.max_position * 0.35)))
    if abs(qty) < 10**-level.step:
        qty = 10**-level.step
    return {
        "qty": _dec(qty, level.step),
        "avg_price": _dec(mid * (1 + rng.gauss(0, 0.005)), level.tick),
    }


def _order(
    rng: random.Random,
    level: _Level,
    *,
    venue: str,
    symbol: str,
    mid: float,
    position: Decimal,
    index: int,
) -> dict[str, Any]:
    smallest = 10**-level.step
    roll = rng.random()
    reduce_only = False
    if position != 0 and roll < 0.08:  # an exit: opposite the position, no larger than it
        side = "sell" if position > 0 else "buy"
        qty = max(smallest, float(abs(position)) * rng.uniform(0.05, 1.0))
        qty = min(qty, float(abs(position)))
        reduce_only = True
    else:
        side = rng.choice(("buy", "sell"))
        big = rng.random() < 0.12
        qty = (
            rng.uniform(level.typical_qty * 0.8, level.big_qty)
            if big
            else rng.uniform(smallest, level.typical_qty)
        )
        reduce_only = roll > 0.98  # flagged reduce-only, but not always reducing
        if rng.random() < 0.015:  # worth a few USDT: around the venue's minimum notional
            qty = rng.uniform(2, 9) / level.mid
    kind = "limit" if rng.random() < 0.85 else "market"
    price: Decimal | None = None
    if kind == "limit":
        near = rng.random() < 0.92
        offset = rng.uniform(-20, 20) if near else rng.choice((-1, 1)) * rng.uniform(30, 120)
        price = _dec(mid * (1 + offset / 10_000), level.tick)
        if rng.random() < 0.02:  # a quoter bug: between two ticks
            price += OFF_GRID_PRICE
    odd = rng.random()
    if odd < 0.003:  # malformed: a limit order without a price, or a market order with one
        price = None if kind == "limit" else _dec(mid, level.tick)
    # below the level's step, the coarsest step of the two venues (two places finer)
    size = _dec(qty, level.step) if qty >= 10**-level.step else _dec(qty, level.step + 2)
    if rng.random() < 0.04:  # a size from the skew model, not yet on the step grid
        size += OFF_GRID_QTY
    now = EPOCH_MS + index * 37
    tif = rng.choices(("GTC", "IOC", "PO", "GTD"), weights=(85, 8, 5, 2))[0]
    expiry = now + rng.randint(-5_000, 600_000) if tif == "GTD" else None  # a few expired
    return {
        "venue": venue,
        "symbol": symbol,
        "side": side,
        "type": kind,
        "action": rng.choices(("new", "amend", "cancel"), weights=(96, 3, 1))[0],
        "qty": size,
        "price": price,
        "time_in_force": tif,
        "expire_at_ms": expiry,
        "reduce_only": reduce_only,
        "client_order_id": f"bench-{index}",
        "strategy": "mm-quoter",
    }


def _size_in_quote(
    rng: random.Random, order: dict[str, Any], market: dict[str, Any], mid: float
) -> None:
    """Now and then size the order in USDT instead, when it has a price to convert at."""
    side_quote = market["ask"] if order["side"] == "buy" else market["bid"]
    price = order["price"] if order["type"] == "limit" else side_quote
    if price is None or rng.random() >= 0.03:
        return
    order["quote_qty"] = _dec(float(order.pop("qty")) * mid, 2)


def _account(rng: random.Random, level: _Level) -> dict[str, Any]:
    equity = rng.uniform(1_500_000, 4_000_000)
    daily = rng.gauss(0, 15_000) if rng.random() < 0.97 else rng.uniform(-70_000, -45_000)
    drawdown = abs(rng.gauss(0, 20_000)) if rng.random() < 0.97 else rng.uniform(70_000, 95_000)
    gross = rng.uniform(0, 1_950_000) if rng.random() < 0.95 else rng.uniform(1_900_000, 2_200_000)
    return {
        "equity": _dec(equity, 2),
        "available_balance": _dec(equity * rng.uniform(0.02, 0.6), 2),
        "balance_age_ms": rng.randint(0, 8_000)
        if rng.random() < 0.97
        else rng.randint(25_000, 60_000),
        "gross_exposure": _dec(gross, 2),
        "daily_pnl": _dec(daily, 2),
        "session_pnl": _dec(daily * rng.uniform(0.5, 1.0), 2),
        "drawdown": _dec(drawdown, 2),
        "open_orders": rng.randint(10, 80) if rng.random() < 0.96 else rng.randint(180, 220),
        "orders_last_second": rng.randint(0, 8) if rng.random() < 0.9 else rng.randint(8, 24),
        "amends_last_second": rng.randint(0, 30) if rng.random() < 0.97 else rng.randint(36, 45),
        **_balances(rng, level, equity),
    }


def _balances(rng: random.Random, level: _Level, equity: float) -> dict[str, Any]:
    """Free USDT and base as the venue reports them, and what in-flight orders hold."""
    found: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.96:
        found["quote_free"] = _dec(equity * rng.uniform(0.1, 0.8), 2)
    elif roll < 0.98:  # nearly spent
        found["quote_free"] = _dec(rng.uniform(0, 20_000), 2)
    roll = rng.random()  # else missing: buys then fail closed
    if roll < 0.96:
        found["base_free"] = _dec(rng.uniform(0, level.max_position * 1.2), level.step)
    elif roll < 0.98:
        found["base_free"] = _dec(rng.uniform(0, level.typical_qty * 0.2), level.step)
    if rng.random() < 0.3:  # else missing: spot sells then fail closed
        found["quote_reserved"] = _dec(rng.uniform(0, 50_000), 2)
    if rng.random() < 0.2:
        found["base_reserved"] = _dec(rng.uniform(0, level.typical_qty), level.step)
    return found


def _state(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    trading = "ACTIVE" if roll < 0.96 else "REDUCING" if roll < 0.985 else "HALTED"
    return {"trading_state": trading, "kill_switch": rng.random() < 0.005}


# -- generated rules ---------------------------------------------------------------------

# Templates mark fields as {order.qty} and decimal literals as {0.05}; everything else is
# the same text in both languages (int literals, operators, strings, abs/min/max/round).
_MARK = re.compile(r"\{([^{}]+)\}")
_PY_ROOTS = {"order": "o", "market": "m", "position": "p", "account": "a", "state": "s"}


@dataclass(frozen=True, slots=True)
class GeneratedRule:
    """One generated pre_trade rule, in the policy's terms."""

    rule_id: str
    template: str
    venue: str | None
    symbol: str | None
    action: str
    severity: str
    mode: str
    applies_to_exits: bool

    @property
    def when(self) -> str:
        """The policy expression: marks dropped."""
        return _MARK.sub(lambda m: m.group(1), self.template)

    def matches(self, venue: str, symbol: str) -> bool:
        return (self.venue is None or self.venue == venue) and (
            self.symbol is None or self.symbol == symbol
        )


@dataclass(frozen=True, slots=True)
class RuleSetSource:
    """Generated rules plus the Python spelling of all of them as one function."""

    rules: tuple[GeneratedRule, ...]
    python: str
    constants: dict[str, Decimal]


def generate_rules(count: int, seed: int, *, function: str, base: str) -> RuleSetSource:
    """``count`` varied rules and the source of ``function(c) -> list[str]`` checking them.

    The function starts from ``base(c)`` (the hand-written typed limits, bound by the
    caller) and appends the id of every generated rule that fires, honouring scope and
    the exit exemption exactly as the engine does; a cancel runs no rules.
    """
    rng = random.Random(seed)
    rules = tuple(_rule(rng, i) for i in range(count))
    constants: dict[str, Decimal] = {}
    lines = [
        f"def {function}(c):",
        "    if c.order.action == 'cancel':",
        "        return []",
        f"    fired = {base}(c)",
        "    o, m, p, a, s = c.order, c.market, c.position, c.account, c.state",
        "    venue, symbol, is_exit = o.venue, o.symbol, o.is_exit",
    ]
    for rule in rules:
        guards = []
        if rule.venue is not None:
            guards.append(f"venue == {rule.venue!r}")
        if rule.symbol is not None:
            guards.append(f"symbol == {rule.symbol!r}")
        if not rule.applies_to_exits:
            guards.append("not is_exit")
        condition = " and ".join([*guards, f"({_to_python(rule.template, constants)})"])
        lines += [f"    if {condition}:", f"        fired.append({rule.rule_id!r})"]
    lines.append("    return fired")
    return RuleSetSource(rules, "\n".join(lines) + "\n", constants)


def _to_python(template: str, constants: dict[str, Decimal]) -> str:
    def render(match: re.Match[str]) -> str:
        token = match.group(1)
        if token[0].isdigit():
            name = "K_" + token.replace(".", "_")
            constants[name] = Decimal(token)
            return name
        root, _, rest = token.partition(".")
        return f"{_PY_ROOTS[root]}.{rest}" if rest else f"c.{root}"

    return _MARK.sub(render, template)


def _lit(value: Decimal) -> str:
    """An int literal when whole (same text in both languages), else a decimal mark."""
    if value == value.to_integral_value():
        return str(int(value))
    return "{" + format(value.normalize(), "f") + "}"


def _around(rng: random.Random, base: float, low: float, high: float, places: int = 0) -> str:
    return _lit(_dec(base * rng.uniform(low, high), places))


def _per_symbol(symbol: str | None, make: Callable[[_Level], str]) -> str:
    """A symbol-dependent condition: as is under a symbol scope, else branched on the symbol."""
    if symbol is not None:
        return make(LEVELS[symbol])
    return " or ".join(f"({{order.symbol}} == {s!r} and ({make(LEVELS[s])}))" for s in SYMBOLS)


Shape = Callable[[random.Random, str | None], str]


def _either_side(q: str) -> str:
    return (
        f"({{order.side}} == 'sell' and {{position.qty_after}} < -{q})"
        f" or ({{order.side}} == 'buy' and {{position.qty_after}} > {q})"
    )


def _shapes() -> Sequence[Shape]:
    """Rule shapes over pre_trade fields; each returns a template with drawn thresholds.

    Thresholds sit in the tails of the generated data, so each rule fires on roughly 0-2%
    of contexts, like a real guard: most decisions take the engine's no-hit path.
    """
    return (
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: r.choice(("{order.qty} > {q}", "not ({order.qty} <= {q})")).replace(
                "{q}", _around(r, lv.big_qty, 0.75, 0.98, lv.step)
            ),
        ),
        lambda r, _: (
            "{order.notional} is not None and {order.notional} > " + _around(r, 100_000, 2.5, 4.5)
        ),
        lambda r, _: (
            "{market.spread_bps} is not None and {market.spread_bps} > "
            + _around(r, 40, 0.75, 1.4, 1)
        ),
        lambda r, _: f"{{account.open_orders}} + 1 > {r.randint(175, 215)}",
        lambda r, _: r.choice(
            (
                f"-{{account.daily_pnl}} > {_around(r, 45_000, 0.9, 1.4)}",
                f"{{account.drawdown}} > {_around(r, 70_000, 0.9, 1.3)}",
                f"{{account.session_pnl}} < -{_around(r, 40_000, 0.9, 1.4)}",
            )
        ),
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: (
                "abs({position.qty_after}) > " + _around(r, lv.max_position, 0.8, 1.0, lv.step)
            ),
        ),
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: (
                "{order.side} == 'buy' and {position.qty_after} > "
                + _around(r, lv.max_position, 0.6, 0.95)
            ),
        ),
        lambda r, _: (
            f"{{order.symbol}} in {r.choice(((SYMBOLS[0],), SYMBOLS))!r} and "
            f"{{market.age_ms}} > {r.randint(1_000, 3_000)}"
        ),
        lambda r, _: (
            "max({account.open_orders}, {account.orders_last_second} * 10) > "
            + str(r.randint(200, 235))
        ),
        lambda r, _: (
            "{account.available_balance} < " + _around(r, 0.04, 0.6, 1.2, 3) + " * {account.equity}"
        ),
        lambda r, _: (
            "{account.gross_exposure} / {account.equity} > " + _around(r, 1.3, 0.95, 1.15, 2)
        ),
        lambda r, _: (
            "not ({order.type} == 'limit') and {market.spread_bps} is not None"
            f" and {{market.spread_bps}} > {r.randint(5, 25)}"
        ),
        lambda r, sym: _per_symbol(
            sym, lambda lv: _either_side(_around(r, lv.max_position, 0.7, 0.95))
        ),
        lambda r, _: (
            "{account.gross_exposure} + ({order.notional} if {order.notional}"
            " is not None else 0) > " + _around(r, 2_000_000, 1.0, 1.06)
        ),
        lambda r, _: (
            "{market.spread_bps} is not None and round({market.spread_bps}, 1) >= "
            + _around(r, 40, 0.6, 1.2, 1)
        ),
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: (
                "{state.trading_state} != 'ACTIVE' and {order.qty} > "
                + _around(r, lv.typical_qty, 0.3, 0.8, lv.step)
            ),
        ),
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: (
                "{order.type} == 'market' and {order.qty} * 2 > "
                + _around(r, lv.big_qty, 0.5, 1.5, lv.step)
            ),
        ),
        lambda r, _: (
            "{position.notional} is not None and {position.notional} > "
            + _around(r, 1_000_000, 1.0, 1.5)
        ),
        lambda r, _: (
            "{order.valuation_price} is not None and {market.mid} is not None and"
            " abs({order.valuation_price} - {market.mid}) * 10000 > "
            f"{r.randint(45, 110)} * {{market.mid}}"
        ),
        lambda r, _: (
            "min({account.available_balance}, {account.equity} - "
            "{account.gross_exposure}) < " + _around(r, 30_000, 0.3, 1.7)
        ),
        lambda r, _: (
            f"{{market.age_ms}} > {r.randint(500, 1_500)} and ({{order.type}} == "
            f"'market' or {{account.balance_age_ms}} > {r.randint(5_000, 25_000)})"
        ),
        lambda r, _: f"{r.randint(14, 20)} <= {{account.orders_last_second}} < {r.randint(22, 30)}",
        lambda r, _: "{order.reduce_only} and not {order.reduces_position}",
        lambda r, sym: _per_symbol(
            sym,
            lambda lv: (
                "{order.signed_qty} * {position.qty} > 0 and abs({position.qty_after})"
                " > " + _around(r, lv.max_position, 0.8, 1.0, lv.step)
            ),
        ),
        lambda r, _: f"{{now_ms}} % 1000 < {r.randint(5, 40)} and {{order.type}} == 'market'",
    )


_SCOPES: tuple[tuple[str | None, str | None], ...] = (
    ("okx", None),
    (None, "ETH/USDT"),
    ("binance", "BTC/USDT"),
    (None, "BTC/USDT"),
    ("okx", "ETH/USDT"),
)


def _rule(rng: random.Random, index: int) -> GeneratedRule:
    shapes = _shapes()
    venue, symbol = _SCOPES[index % len(_SCOPES)] if rng.random() < 0.3 else (None, None)
    template = shapes[index % len(shapes)](rng, symbol)
    return GeneratedRule(
        rule_id=f"gen-{index:03d}",
        template=template,
        venue=venue,
        symbol=symbol,
        action=rng.choices(("reject", "alert", "reduce_only", "halt"), weights=(70, 15, 10, 5))[0],
        severity=rng.choice(("info", "warning", "error", "critical")),
        mode="audit" if rng.random() < 0.1 else "enforce",
        applies_to_exits=rng.random() < 0.15,
    )


def write_rules_yaml(rules: Sequence[GeneratedRule], path: Path) -> None:
    """Write a Rules document; JSON-quoted scalars are valid YAML and need no escaping rules."""
    lines = [
        "apiVersion: riskctl/v1",
        "kind: Rules",
        "metadata:",
        "  name: bench-generated",
        "  version: 1",
        "  owner: bench",
        "spec:",
        "  rules:",
    ]
    for rule in rules:
        lines += [
            f"    - id: {rule.rule_id}",
            "      stage: pre_trade",
            f"      when: {json.dumps(rule.when)}",
            f"      action: {rule.action}",
            f"      severity: {rule.severity}",
            f"      mode: {rule.mode}",
            f"      applies_to_exits: {'true' if rule.applies_to_exits else 'false'}",
            f"      message: {json.dumps(f'generated rule {rule.rule_id}')}",
        ]
        if rule.venue is not None or rule.symbol is not None:
            scope = {k: v for k, v in (("venue", rule.venue), ("symbol", rule.symbol)) if v}
            lines.append(f"      scope: {json.dumps(scope)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
