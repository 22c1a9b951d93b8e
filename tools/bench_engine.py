"""Benchmark the gate's pre_trade path against straight Python and simpleeval.

Run: ``.venv/bin/python tools/bench_engine.py`` (``--quick`` for a smoke run,
``--profile`` to add a cProfile of ``gate.evaluate`` on the example set).

What it measures, and why each number is comparable:

* The example policy set (``policies/``): ``Gate.evaluate("pre_trade", ctx)`` on prebuilt
  context models, against a hand-written function doing the same checks with the same
  semantics (Decimal comparisons, the limits resolved for each (venue, symbol) and the
  venue's instrument numbers written in as Decimal constants, the same exit exemptions,
  the balance checks with the fee reserve, and the same fix: a size off the step grid is
  rounded down and the rounded order must pass every check itself).
* A generated 100-rule set (plus the typed limits): the engine, the same conditions as
  straight Python (rendered from the same templates, so the logic is identical), and
  simpleeval walking trees of the same expressions parsed once.
* Path by path (allow with no hit, reject with one hit, modify, and every decision), for
  both sets: riskctl on a prebuilt context against the hand-written function on the same
  context, and riskctl on the raw dict a bot sends (numbers as strings, as in JSON)
  against a hand-written function that takes the same raw dict and parses it to Decimal
  itself (the same check functions, on values it parsed and derived by hand). The
  plainest honest baselines: same checks, same answer, exact decimals.
* The one-time cost of loading and compiling the example policies and the 100-rule bundle.

The run ends with a markdown table of the path figures and the load times, to paste into
an issue note.

A ratio is only meaningful when both sides decide the same thing, so every baseline is
checked against the engine on every context first: the set of rules each one fires must
equal the rule ids of the engine's hits. Any disagreement exits 1; a hand-written limit
or instrument table that no longer matches policies/risk-limits.yaml or
policies/instruments.yaml exits 2. When the engine gains a
built-in rule, this is where the benchmark says so instead of printing a wrong ratio.

Contexts are built before any timing; each timed loop runs with the garbage collector
collected and disabled, and the median of the repeats is reported. Two figures per loop:
streamed (one pass over all contexts; 10,000 contexts do not fit in a CPU cache, so part
of it is memory latency) and in-cache (each small chunk run once untimed, then timed:
what a context validated just before evaluation costs). The engine is also timed
separately on the decisions where no rule fired and where some did, because those take
different paths through the gate.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import gc
import io
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, cast

from bench_data import (
    INSTRUMENTS,
    SYMBOLS,
    VENUES,
    GeneratedRule,
    generate_rules,
    make_contexts,
    write_rules_yaml,
)
from pydantic import BaseModel
from simpleeval import SimpleEval

from riskctl.builtins import (
    BALANCE_RULES,
    BUILTIN_STATE_RULES,
    CLOCK_SKEW,
    CONFORMANCE_RULES,
    LIMIT_RULES,
    ORDER_SANITY_RULES,
    REDUCE_ONLY_OPENING,
)
from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.context import PreTradeContext
from riskctl.context.pre_trade import DEFAULT_STEP
from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate
from riskctl.grid import grid_value
from riskctl.kinds import Instruments, RiskLimits
from riskctl.limits import resolve_limits
from riskctl.ruleset import compile_bundle

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
STAGE = "pre_trade"
GATE_POLICY = "riskctl/gate"  # hits the gate adds itself (invalid context, internal error)
DEFAULT_SEED = 20_260_101
GENERATED_RULES = 100
LOAD_REPEATS = 5
CHUNK = 64  # contexts per in-cache chunk: well inside a 1 MiB L2

Check = Callable[[PreTradeContext], list[str]]
Passes = Callable[[str, PreTradeContext], bool]  # a rule that fired, yet lets the order go
RawCheck = Callable[[dict[str, Any]], list[str]]
Scope = tuple[str, str]


# -- hand-written baseline: the example policy set ----------------------------------------


@dataclass(frozen=True, slots=True)
class ScopeLimits:
    """The typed limits of policies/risk-limits.yaml as resolved for one (venue, symbol).

    Written out by hand, as someone coding the checks directly would; ``limits_problems``
    proves the table still matches the policy file before any number is reported.
    """

    max_order_qty: Decimal
    max_position_qty: Decimal
    max_position_notional: Decimal
    max_order_notional: Decimal = Decimal("250000")
    price_collar_bps: Decimal = Decimal("50")
    max_gross_exposure: Decimal = Decimal("2000000")
    max_open_orders: int = 200
    max_orders_per_second: int = 20
    max_daily_loss: Decimal = Decimal("50000")
    max_drawdown: Decimal = Decimal("80000")
    stale_market_data_ms: int = 2000
    stale_balance_ms: int = 30000  # on_stale_balance: reduce, so exits pass
    max_amends_per_second: int = 40


@dataclass(frozen=True, slots=True)
class ScopeInstrument:
    """The venue's filters for one (venue, symbol), from policies/instruments.yaml.

    Spot instruments that take limit and market orders, as the file's defaults say;
    ``limits_problems`` proves the table still matches the file.
    """

    price_increment: Decimal
    qty_increment: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_notional: Decimal
    min_notional: Decimal | None = None
    order_types: tuple[str, ...] = ("limit", "market")


EXAMPLE_LIMITS: dict[Scope, ScopeLimits] = {
    ("binance", "BTC/USDT"): ScopeLimits(
        max_order_qty=Decimal("5"),
        max_position_qty=Decimal("25"),
        max_position_notional=Decimal("1500000"),
    ),
    ("binance", "ETH/USDT"): ScopeLimits(
        max_order_qty=Decimal("80"),
        max_position_qty=Decimal("400"),
        max_position_notional=Decimal("1200000"),
        price_collar_bps=Decimal("75"),
    ),
    ("okx", "BTC/USDT"): ScopeLimits(
        max_order_qty=Decimal("2"),
        max_position_qty=Decimal("25"),
        max_position_notional=Decimal("1500000"),
        max_order_notional=Decimal("120000"),
        max_orders_per_second=10,
    ),
    ("okx", "ETH/USDT"): ScopeLimits(
        max_order_qty=Decimal("80"),
        max_position_qty=Decimal("400"),
        max_position_notional=Decimal("1200000"),
        price_collar_bps=Decimal("75"),
        max_orders_per_second=10,
    ),
}

EXAMPLE_INSTRUMENTS: dict[Scope, ScopeInstrument] = {
    ("binance", "BTC/USDT"): ScopeInstrument(
        price_increment=Decimal("0.01"),
        qty_increment=Decimal("0.00001"),
        min_qty=Decimal("0.00001"),
        max_qty=Decimal("9000"),
        min_notional=Decimal("5"),
        max_notional=Decimal("9000000"),
        order_types=("limit", "market", "stop_market", "stop_limit"),
    ),
    ("binance", "ETH/USDT"): ScopeInstrument(
        price_increment=Decimal("0.01"),
        qty_increment=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("100000"),
        min_notional=Decimal("5"),
        max_notional=Decimal("9000000"),
    ),
    ("okx", "BTC/USDT"): ScopeInstrument(
        price_increment=Decimal("0.1"),
        qty_increment=Decimal("0.00000001"),
        min_qty=Decimal("0.00001"),
        max_qty=Decimal("1000"),
        max_notional=Decimal("1000000"),
    ),
    ("okx", "ETH/USDT"): ScopeInstrument(
        price_increment=Decimal("0.01"),
        qty_increment=Decimal("0.000001"),
        min_qty=Decimal("0.0001"),
        max_qty=Decimal("10000"),
        max_notional=Decimal("1000000"),
    ),
}

THIN_BALANCE = Decimal("0.05")
FEE_RESERVE_BPS = Decimal("10")
FEE_FACTOR = Decimal("1.001")  # a buy must fit its notional plus the 10 bps fee reserve
MAX_CLOCK_SKEW_MS = 50  # a quote further ahead of our clock than this is refused (not exits)
PRICED_TYPES = frozenset({"limit", "stop_limit"})  # the types that carry a limit price
# Settings the hand-written checks bake in: a stale balance stops new risk but not exits;
# balances are checked; of the venue's rules only an off-grid size is fixed (rounded down
# to the step), float noise is always fixed (to the grid point), everything else it would
# refuse is rejected; no limit clips an order; reduce_only orders that would open are refused.
ASSUMED_SETTINGS: dict[str, Any] = {
    "max_clock_skew_ms": MAX_CLOCK_SKEW_MS,
    "on_stale_balance": "reduce",
    "check_balance": True,
    "fee_reserve_bps": FEE_RESERVE_BPS,
    "conformance": {
        "price_off_grid": "reject",
        "qty_off_grid": "modify",
        "qty_above_max": "reject",
        "notional_above_max": "reject",
        "require_instrument": True,
    },
}


def limits_problems(bundle: PolicyBundle) -> list[str]:
    """Where the hand-written table differs from what the engine resolves from the bundle."""
    documents = bundle.of_kind(RiskLimits)
    if len(documents) != 1:
        return [f"expected one RiskLimits document, found {len(documents)}"]
    problems = []
    for (venue, symbol), limits in EXAMPLE_LIMITS.items():
        resolved = {
            name: value for name, (value, _) in resolve_limits(documents[0], venue, symbol).items()
        }
        wanted = {f.name: getattr(limits, f.name) for f in fields(ScopeLimits)}
        enforced = {name: value for name, value in resolved.items() if name in LIMIT_RULES}
        for name in sorted(enforced.keys() | wanted.keys()):
            if enforced.get(name) != wanted.get(name):
                problems.append(
                    f"{venue} {symbol} {name}: policy {enforced.get(name)},"
                    f" table {wanted.get(name)}"
                )
        settings = {
            k: v.model_dump() if isinstance(v, BaseModel) else v
            for k, v in resolved.items()
            if k not in LIMIT_RULES and v
        }
        if settings != ASSUMED_SETTINGS:
            problems.append(
                f"{venue} {symbol}: settings {settings}, baseline assumes {ASSUMED_SETTINGS}"
            )
    if 1 + FEE_RESERVE_BPS / 10_000 != FEE_FACTOR:
        problems.append(f"fee factor {FEE_FACTOR} is not 1 + {FEE_RESERVE_BPS} bps")
    return problems + instruments_problems(bundle)


def instruments_problems(bundle: PolicyBundle) -> list[str]:
    """Where the hand-written instrument table, or the contexts' instruments, differ from
    policies/instruments.yaml."""
    found = {
        (i.venue, i.symbol): i for d in bundle.of_kind(Instruments) for i in d.spec.instruments
    }
    if set(found) != set(EXAMPLE_INSTRUMENTS):
        return [f"instruments for {sorted(found)}, table for {sorted(EXAMPLE_INSTRUMENTS)}"]
    problems = []
    for scope, spec in found.items():
        table = EXAMPLE_INSTRUMENTS[scope]
        wanted = {f.name: getattr(table, f.name) for f in fields(ScopeInstrument)}
        wanted |= {
            "type": "spot",
            "price_sig_digits": None,
            "qty_sig_digits": None,
        }
        for name, value in wanted.items():
            if getattr(spec, name) != value:
                problems.append(f"{scope} {name}: file {getattr(spec, name)}, table {value}")
        sent = {"venue": scope[0], "symbol": scope[1], **INSTRUMENTS[scope]}
        if type(spec).model_validate(sent) != spec:
            problems.append(f"{scope}: the contexts' instrument {sent} is not the file's")
    return problems


def make_typed_check(limits: ScopeLimits, venue: ScopeInstrument) -> Check:  # noqa: PLR0915
    """The built-in rules and typed limits for one scope, as plain Python, one pass.

    Semantics follow engine/builtins.py: a value at a limit passes, an order that cannot be
    valued fails, a balance that is missing fails, limits on opening risk (and the balance
    checks, the clock skew) skip exits, and the price collar (market orders at the touch
    they take, stops at their trigger too), kill switch, halt, order counts and rates,
    order-type, market-quote, GTD and reduce_only checks and what the venue would refuse
    apply to exits too; a context without an instrument fails instrument_unknown and skips
    the venue's rules. A value off its grid that is binary-float noise of a grid point is
    float_noise (fixed), not off the grid. Cancels never get here (the callers return
    first), and every context is inside the universe. The fixes are :func:`with_fix`'s.
    """
    max_order_qty = limits.max_order_qty
    max_order_notional = limits.max_order_notional
    collar_bps = limits.price_collar_bps
    max_position_qty = limits.max_position_qty
    max_position_notional = limits.max_position_notional
    max_gross_exposure = limits.max_gross_exposure
    max_open_orders = limits.max_open_orders
    max_orders_per_second = limits.max_orders_per_second
    max_daily_loss = limits.max_daily_loss
    max_drawdown = limits.max_drawdown
    stale_market_data_ms = limits.stale_market_data_ms
    stale_balance_ms = limits.stale_balance_ms
    max_amends_per_second = limits.max_amends_per_second
    tick, step = venue.price_increment, venue.qty_increment
    min_qty, max_qty = venue.min_qty, venue.max_qty
    min_notional, max_notional = venue.min_notional, venue.max_notional
    order_types = venue.order_types

    def check(c: PreTradeContext) -> list[str]:  # noqa: PLR0912, PLR0915  # straight-line
        fired: list[str] = []
        o, s = c.order, c.state
        is_exit = o.is_exit
        if s.kill_switch:
            fired.append("kill_switch")
        if s.trading_state == "HALTED":
            fired.append("halted")
        elif s.trading_state == "REDUCING" and not is_exit:
            fired.append("reducing")
        price, trigger, kind = o.price, o.trigger_price, o.type
        is_priced = kind in PRICED_TYPES
        if is_priced == (price is None):
            fired.append("order_type_price")
        valuation = o.valuation_price
        if kind == "market" and valuation is None:
            fired.append("market_without_quote")
        if o.time_in_force == "GTD" and (o.expire_at_ms is None or o.expire_at_ms <= c.now_ms):
            fired.append("gtd_expired")
        if o.reduce_only and not o.reduces_position:
            fired.append("reduce_only_would_open")
        # The collar: a limit price, or the touch a market order takes, and a stop's
        # trigger; no price or no mid to check it against fails closed.
        mid = c.market.mid
        if (
            valuation is None
            or mid is None
            or abs(valuation - mid) * 10000 > collar_bps * mid
            or (trigger is not None and abs(trigger - mid) * 10000 > collar_bps * mid)
        ):
            fired.append("price_collar_bps")
        # Order counts and rates protect the venue relationship, so exits count too.
        a = c.account
        if a.open_orders + 1 > max_open_orders:
            fired.append("max_open_orders")
        if o.action == "new" and a.orders_last_second + 1 > max_orders_per_second:
            fired.append("max_orders_per_second")
        if o.action == "amend" and a.amends_last_second + 1 > max_amends_per_second:
            fired.append("max_amends_per_second")
        qty: Decimal = o.qty  # type: ignore[assignment]  # always set once validated
        notional = o.notional
        known = c.instrument is not None
        if known:  # what the venue would refuse, exits included
            noise = False
            if is_priced and price is not None and price % tick:
                noise = off_grid(price, tick, "price_off_grid", fired) or noise
            if trigger is not None and trigger % tick:
                noise = off_grid(trigger, tick, "trigger_off_grid", fired) or noise
            if qty % step:
                noise = off_grid(qty, step, "qty_off_grid", fired) or noise
            if noise:
                fired.append("float_noise")
            if qty > max_qty:
                fired.append("qty_above_max")
            if notional is None or notional > max_notional:
                fired.append("notional_above_max")
            if kind not in order_types:
                fired.append("order_type_unsupported")
            if is_exit and (
                qty < min_qty
                or (min_notional is not None and notional is not None and notional < min_notional)
            ):
                fired.append("dust")
        # Free balances; a missing one cannot be checked and fails closed. Every instrument
        # here is spot (a spot exit is paid from the balance too), and a sell without one
        # counts as spot.
        if o.side == "buy":
            free = a.quote_free
            if notional is None or free is None or notional * FEE_FACTOR > free - a.quote_reserved:
                fired.append("insufficient_quote")
        else:
            free = a.base_free
            if free is None or qty > free - a.base_reserved:
                fired.append("insufficient_base")
        if is_exit:
            return fired
        if notional is None or notional > max_order_notional:
            fired.append("max_order_notional")
        if qty > max_order_qty:
            fired.append("max_order_qty")
        if not o.reduces_position:
            after = abs(c.position.qty_after)  # type: ignore[arg-type]  # always set
            if after > max_position_qty:
                fired.append("max_position_qty")
            if valuation is None or after * valuation > max_position_notional:
                fired.append("max_position_notional")
            if notional is None or a.gross_exposure + notional > max_gross_exposure:
                fired.append("max_gross_exposure")
        if -a.daily_pnl > max_daily_loss:
            fired.append("max_daily_loss")
        if a.drawdown > max_drawdown:
            fired.append("max_drawdown")
        age = c.market.age_ms
        if age > stale_market_data_ms:
            fired.append("stale_market_data_ms")
        if age < -MAX_CLOCK_SKEW_MS:
            fired.append("clock_skew")
        if a.balance_age_ms > stale_balance_ms:
            fired.append("stale_balance_ms")
        if not known:
            fired.append("instrument_unknown")
        else:
            if qty < min_qty:
                fired.append("qty_below_min")
            if min_notional is not None and (notional is None or notional < min_notional):
                fired.append("notional_below_min")
        return fired

    return check


def off_grid(value: Decimal, increment: Decimal, rule: str, fired: list[str]) -> bool:
    """For a value not a multiple of ``increment``: True when it is float noise of a grid
    point (the gate fixes it), else ``rule`` fires. Rare, so the library's exact test."""
    if grid_value(value, increment=increment, significant=None) is not None:
        return True
    fired.append(rule)
    return False


_TYPED_BY_SCOPE: dict[Scope, Check] = {
    scope: make_typed_check(limits, EXAMPLE_INSTRUMENTS[scope])
    for scope, limits in EXAMPLE_LIMITS.items()
}


def typed_checks(c: PreTradeContext) -> list[str]:
    """Built-in rules and typed limits for the context's scope; the generated set builds on it."""
    o = c.order
    return _TYPED_BY_SCOPE[(o.venue, o.symbol)](c)


FIXED_BY_GATE = frozenset({"qty_off_grid", "float_noise"})  # fixed, when nothing else refuses


def with_fix(once: Check, passes: Passes, *, validated: bool = False) -> Check:
    """``once`` as the gate decides it: a cancel runs nothing, and when all that stops the
    order is a size off the step grid (rounded down to the step) or binary-float noise
    (each noisy value to the grid point it means), the fixed order must then pass every
    rule itself, or the rules it fails are added and the order is refused.

    ``passes`` names the hits that let an order through (audit mode, alerts, reduce_only on
    an exit); every other hit refuses it. ``validated``: the fixed order is a validated
    model (for checks that read fields the hand-parsed view lacks, such as simpleeval's).
    """

    def check(c: PreTradeContext) -> list[str]:
        if c.order.action == "cancel":  # a cancel is never blocked: no rule runs
            return []
        fired = once(c)
        if FIXED_BY_GATE.isdisjoint(fired):
            return fired
        if any(rule not in FIXED_BY_GATE and not passes(rule, c) for rule in fired):
            return fired  # refused as it is: nothing to fix
        fixes = fixed_fields(c, "qty_off_grid" in fired)
        if fixes is None:
            return fired  # under one step: no size to send
        fixed = (rebuild_validated if validated else rebuild)(c, fixes)
        again = once(fixed)
        if any(not passes(rule, fixed) for rule in again):
            return fired + again
        return fired

    return check


def fixed_fields(c: PreTradeContext, qty_off_grid: bool) -> dict[str, Decimal] | None:
    """The order fields the gate's fixes set: a rounded-down size, noisy values on the grid."""
    o = c.order
    table = EXAMPLE_INSTRUMENTS[(o.venue, o.symbol)]
    tick, step = table.price_increment, table.qty_increment
    found: dict[str, Decimal] = {}
    qty: Decimal = o.qty  # type: ignore[assignment]  # always set once validated
    if qty_off_grid:
        found["qty"] = (qty / step).to_integral_value(rounding=ROUND_FLOOR) * step
        if found["qty"] <= 0:
            return None
    elif o.quote_qty is None and qty % step:
        found["qty"] = grid_value(qty, increment=step, significant=None) or qty
    for name in ("price", "trigger_price"):
        value = getattr(o, name)
        if value is not None and (name != "price" or o.type in PRICED_TYPES) and value % tick:
            found[name] = grid_value(value, increment=tick, significant=None) or value
    return found


def example_once(c: PreTradeContext) -> list[str]:
    """Everything policies/ checks at pre_trade, one pass: typed limits plus mm-guards."""
    o = c.order
    fired = typed_checks(c)
    if not o.is_exit:
        spread = c.market.spread_bps
        if o.type == "market" and spread is not None and spread > 20:
            fired.append("wide-spread-no-market-orders")
        a = c.account
        if a.available_balance < THIN_BALANCE * a.equity:  # audit mode: a hit, not a reject
            fired.append("thin-balance")
    return fired


def example_passes(rule: str, _: PreTradeContext) -> bool:
    return rule == "thin-balance"  # audit mode: a hit, not a reject


example_check = with_fix(example_once, example_passes)


# -- hand-written baseline from the raw dict ----------------------------------------------
#
# What a bot would write to run the same checks on the dict it already has: numbers come
# as strings, so every field a check reads is parsed to Decimal, and the derived values
# (mid, spread, valuation price, notional, position after) are computed by hand. The
# parsed views below carry the attribute names of the context models, so the very same
# check functions run on them: the two baselines differ only in where the numbers come from.


@dataclass(slots=True)
class RawOrder:
    venue: str
    symbol: str
    side: str
    type: str
    action: str
    qty: Decimal
    quote_qty: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None
    time_in_force: str
    expire_at_ms: int | None
    reduce_only: bool
    valuation_price: Decimal | None
    notional: Decimal | None
    signed_qty: Decimal
    reduces_position: bool
    is_exit: bool


@dataclass(slots=True)
class RawMarket:
    mid: Decimal | None
    spread_bps: Decimal | None
    age_ms: int


@dataclass(slots=True)
class RawPosition:
    qty: Decimal
    notional: Decimal | None
    qty_after: Decimal


@dataclass(slots=True)
class RawAccount:
    equity: Decimal
    available_balance: Decimal
    balance_age_ms: int
    gross_exposure: Decimal
    daily_pnl: Decimal
    session_pnl: Decimal
    drawdown: Decimal
    open_orders: int
    orders_last_second: int
    amends_last_second: int
    base_free: Decimal | None
    quote_free: Decimal | None
    base_reserved: Decimal
    quote_reserved: Decimal


@dataclass(slots=True)
class RawState:
    trading_state: str
    kill_switch: bool


@dataclass(slots=True)
class RawContext:
    now_ms: int
    order: RawOrder
    market: RawMarket
    position: RawPosition
    account: RawAccount
    state: RawState
    instrument: dict[str, Any] | None
    raw: dict[str, Any]  # what it was parsed from, for a fix to change and parse again


def _opt(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def parse_raw(data: dict[str, Any]) -> PreTradeContext:
    """The raw dict parsed to exact Decimals, derived values computed by hand.

    Typed as the model it stands in for: the checks read only attributes both have.
    """
    o, m, a, s = data["order"], data["market"], data["account"], data["state"]
    p = data.get("position") or {}
    bid, ask = _opt(m.get("bid")), _opt(m.get("ask"))
    mid = spread = None
    if bid is not None and ask is not None:
        mid = (bid + ask) / 2
        spread = (ask - bid) / mid * 10000
    kind, side, instrument = o.get("type", "limit"), o["side"], data.get("instrument")
    price, trigger = _opt(o.get("price")), _opt(o.get("trigger_price"))
    if kind in PRICED_TYPES:
        valuation = price
    elif kind == "stop_market":
        valuation = trigger
    else:
        valuation = ask if side == "buy" else bid
    quote_qty = _opt(o.get("quote_qty"))
    if quote_qty is None:
        qty = Decimal(o["qty"])
    else:  # converted at the valuation price, rounded down onto the step
        step = quote_step(o["venue"], o["symbol"], instrument)
        qty = (quote_qty / valuation / step).to_integral_value(rounding=ROUND_FLOOR) * step  # type: ignore[operator]  # a validated context has a price to convert at
    signed = qty if side == "buy" else -qty
    held = Decimal(p.get("qty", 0))
    reduces = held != 0 and (signed > 0) != (held > 0) and qty <= abs(held)
    reduce_only = bool(o.get("reduce_only", False))
    mark = mid if mid is not None else _opt(p.get("avg_price"))
    view = RawContext(
        now_ms=int(data["now_ms"]),
        order=RawOrder(
            o["venue"],
            o["symbol"],
            side,
            kind,
            o.get("action", "new"),
            qty,
            quote_qty,
            price,
            trigger,
            o.get("time_in_force", "GTC"),
            o.get("expire_at_ms"),
            reduce_only,
            valuation,
            None if valuation is None else qty * valuation,
            signed,
            reduces,
            reduces and reduce_only,
        ),
        market=RawMarket(mid, spread, int(m["age_ms"])),
        position=RawPosition(held, None if mark is None else abs(held) * mark, held + signed),
        account=RawAccount(
            Decimal(a["equity"]),
            Decimal(a["available_balance"]),
            int(a["balance_age_ms"]),
            Decimal(a.get("gross_exposure", 0)),
            Decimal(a.get("daily_pnl", 0)),
            Decimal(a.get("session_pnl", 0)),
            Decimal(a.get("drawdown", 0)),
            int(a.get("open_orders", 0)),
            int(a.get("orders_last_second", 0)),
            int(a.get("amends_last_second", 0)),
            _opt(a.get("base_free")),
            _opt(a.get("quote_free")),
            Decimal(a.get("base_reserved", 0)),
            Decimal(a.get("quote_reserved", 0)),
        ),
        state=RawState(s.get("trading_state", "ACTIVE"), bool(s.get("kill_switch", False))),
        instrument=instrument,
        raw=data,
    )
    return cast(PreTradeContext, view)


def quote_step(venue: str, symbol: str, instrument: dict[str, Any] | None) -> Decimal:
    """The step a quote-sized order converts onto: the instrument's, else 8 decimals."""
    if instrument is None:
        return DEFAULT_STEP
    return EXAMPLE_INSTRUMENTS[(venue, symbol)].qty_increment


def rebuild(c: PreTradeContext, fixes: dict[str, Decimal]) -> PreTradeContext:
    """The fixed order as the caller sends it again: its data with the fields changed,
    parsed by hand (a prebuilt context is dumped; a parsed raw dict keeps its dict)."""
    data = c.raw if isinstance(c, RawContext) else c.model_dump(mode="python")
    order = dict(data["order"])
    order.pop("qty" if order.get("quote_qty") is not None else "quote_qty", None)
    order.update(fixes)
    return parse_raw({**data, "order": order})


def rebuild_validated(c: PreTradeContext, fixes: dict[str, Decimal]) -> PreTradeContext:
    """The fixed order as a validated context, every derived field set."""
    data = c.model_dump(mode="python")
    data["order"].pop("qty" if data["order"].get("quote_qty") is not None else "quote_qty")
    data["order"].update(fixes)
    return PreTradeContext.model_validate(data)


def from_raw(check: Check) -> RawCheck:
    """``check`` on raw dicts: the same checks, on the values parsed from the dict."""

    def run(data: dict[str, Any]) -> list[str]:
        return check(parse_raw(data))

    return run


raw_example_check = from_raw(example_check)


def generated_passes(rules: Sequence[GeneratedRule]) -> Passes:
    """Hits of the generated set that let an order through: audit mode and alerts always,
    reduce_only on an exit (the typed limits that reduce skip exits, so never do)."""
    soft = {r.rule_id for r in rules if r.mode == "audit" or r.action == "alert"}
    reducing = {r.rule_id for r in rules if r.action == "reduce_only"}

    def passes(rule: str, c: PreTradeContext) -> bool:
        return rule in soft or (rule in reducing and bool(c.order.is_exit))

    return passes


# -- simpleeval baseline -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeRule:
    """One expression parsed once for simpleeval, with the engine's exit exemption."""

    rule_id: str
    tree: ast.expr
    exits_exempt: bool


class _ExactLiterals(ast.NodeTransformer):
    """Float literals become exact Decimals (as the engine reads them); literal tuples one
    constant, because plain SimpleEval has no tuple node."""

    def __init__(self, text: str) -> None:
        self.text = text

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, float):
            source = ast.get_source_segment(self.text, node) or repr(node.value)
            return _constant(Decimal(source.replace("_", "")), node)
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        if all(isinstance(e, ast.Constant) for e in node.elts):
            values = tuple(e.value for e in node.elts if isinstance(e, ast.Constant))
            return _constant(values, node)
        return self.generic_visit(node)


def _constant(value: object, where: ast.AST) -> ast.Constant:
    """A constant node holding any value: simpleeval returns ``node.value`` as it is."""
    return ast.copy_location(ast.Constant(cast(Any, value)), where)


def parse_tree(text: str) -> ast.expr:
    """The expression's tree, ready for ``SimpleEval._eval`` (what ``eval`` does per call)."""
    tree = ast.parse(text, mode="eval").body
    result = _ExactLiterals(text).visit(tree)
    assert isinstance(result, ast.expr)
    return result


def simpleeval_programs(rules: Sequence[GeneratedRule]) -> dict[Scope, tuple[TreeRule, ...]]:
    """Per scope: the engine's built-in rule and limit expressions (limits from the
    hand-written table), then the generated rules whose scope matches, each parsed once."""
    always = [
        (r.name, r.when, r.exits_exempt)
        for r in (
            *BUILTIN_STATE_RULES,
            *ORDER_SANITY_RULES,
            REDUCE_ONLY_OPENING,
            *CONFORMANCE_RULES,
        )
    ]
    skew = CLOCK_SKEW.when.format(v=MAX_CLOCK_SKEW_MS)
    always.append((CLOCK_SKEW.name, skew, CLOCK_SKEW.exits_exempt))
    fee = format(FEE_FACTOR, "f")
    always += [(r.name, r.when.format(fee_factor=fee), r.exits_exempt) for r in BALANCE_RULES]
    programs = {}
    for (venue, symbol), limits in EXAMPLE_LIMITS.items():
        texts = list(always)
        for field in fields(ScopeLimits):
            rule, value = LIMIT_RULES[field.name], getattr(limits, field.name)
            limit = str(value) if isinstance(value, int) else format(value, "f")
            texts.append((rule.name, rule.when.format(v=limit), rule.exits_exempt))
        texts += [
            (r.rule_id, r.when, not r.applies_to_exits) for r in rules if r.matches(venue, symbol)
        ]
        programs[(venue, symbol)] = tuple(TreeRule(i, parse_tree(t), e) for i, t, e in texts)
    return programs


class SimpleEvalChecker:
    """Evaluates pre-parsed trees with one SimpleEval whose names are the context's parts."""

    def __init__(self, programs: dict[Scope, tuple[TreeRule, ...]], passes: Passes) -> None:
        self.programs = programs
        functions = {"abs": abs, "min": min, "max": max, "round": round}
        self.evaluator = SimpleEval(functions=functions, names={})
        self.check = with_fix(self.once, passes, validated=True)

    def once(self, c: PreTradeContext) -> list[str]:
        evaluator = self.evaluator
        evaluator.names = {
            "order": c.order,
            "market": c.market,
            "position": c.position,
            "account": c.account,
            "state": c.state,
            "instrument": c.instrument,
            "now_ms": c.now_ms,
        }
        evaluate = evaluator._eval
        is_exit = c.order.is_exit
        fired = []
        for rule in self.programs[(c.order.venue, c.order.symbol)]:
            if rule.exits_exempt and is_exit:
                continue
            try:
                if evaluate(rule.tree):
                    fired.append(rule.rule_id)
            except Exception:  # noqa: BLE001  # fails closed, as the engine does
                fired.append(rule.rule_id)
        return fired


# -- timing and agreement ------------------------------------------------------------------

Loop = Callable[[Sequence[Any]], object]


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-item time of a loop: the median over repeats, and every sample."""

    samples_ns: tuple[float, ...]

    @property
    def us(self) -> float:
        return statistics.median(self.samples_ns) / 1_000

    @property
    def per_second(self) -> float:
        return 1e6 / self.us

    @property
    def spread(self) -> float:
        """Slowest over fastest repeat: how much the machine disturbed this loop."""
        return max(self.samples_ns) / min(self.samples_ns)


def timed_pass(loop: Loop, items: Sequence[Any], *, in_cache: bool) -> float:
    """Nanoseconds per item of one pass of ``loop`` over ``items``, collector off.

    Streamed is one pass over every item, so most of each context comes from RAM: 10,000
    contexts do not fit in a CPU cache. ``in_cache`` runs each chunk of ``CHUNK`` items
    once untimed and then times it, which is what a context validated just before
    evaluation costs.
    """
    gc.collect()
    gc.disable()
    try:
        if not in_cache:
            start = time.perf_counter_ns()
            loop(items)
            return (time.perf_counter_ns() - start) / len(items)
        elapsed = 0
        for i in range(0, len(items), CHUNK):
            chunk = items[i : i + CHUNK]
            loop(chunk)
            start = time.perf_counter_ns()
            loop(chunk)
            elapsed += time.perf_counter_ns() - start
        return elapsed / len(items)
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class Task:
    """One loop over some items, to time streamed and, when affordable, in cache."""

    loop: Loop
    items: Sequence[Any]
    in_cache: bool = True


@dataclass(frozen=True, slots=True)
class Measured:
    """A task's timings: streamed, and in cache when it was affordable."""

    streamed: Timing
    in_cache: Timing | None


def run_rounds(tasks: Sequence[Task], repeats: int) -> list[Measured]:
    """Time every task once per round, for ``repeats`` rounds.

    Interleaving means a burst of load from another process lands on one sample of every
    loop rather than on every sample of one loop, so medians and ratios stay comparable.
    """
    streamed: list[list[float]] = [[] for _ in tasks]
    cached: list[list[float]] = [[] for _ in tasks]
    for _ in range(repeats):
        for task, fast, warm in zip(tasks, streamed, cached, strict=True):
            fast.append(timed_pass(task.loop, task.items, in_cache=False))
            if task.in_cache:
                warm.append(timed_pass(task.loop, task.items, in_cache=True))
    return [
        Measured(Timing(tuple(fast)), Timing(tuple(warm)) if warm else None)
        for fast, warm in zip(streamed, cached, strict=True)
    ]


def engine_loop(gate: Gate) -> Loop:
    evaluate = gate.evaluate

    def run(items: Sequence[Any]) -> None:
        for item in items:
            evaluate(STAGE, item)

    return run


def check_loop(check: Check) -> Loop:
    def run(contexts: Sequence[PreTradeContext]) -> None:
        for c in contexts:
            check(c)

    return run


def checks_per_scope(bundle: PolicyBundle) -> list[int]:
    """How many pre_trade rules the engine runs for each (venue, symbol), for the report."""
    rules = compile_bundle(bundle)
    return [len(rules.program(STAGE, v, s).specs) for v in VENUES for s in SYMBOLS]


def fired_by_engine(decision: Decision) -> frozenset[str]:
    return frozenset(h.rule_id for h in decision.hits if h.policy != GATE_POLICY)


def gate_failures(decisions: Sequence[Decision]) -> int:
    """Decisions the gate failed closed on; a benchmark of the failure path would be wrong."""
    return sum(any(h.policy == GATE_POLICY for h in d.hits) for d in decisions)


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often a baseline fired a different set of rules than the engine."""

    label: str
    disagreements: int
    examples: tuple[str, ...]


def agreement(
    label: str, engine: Sequence[frozenset[str]], other: Sequence[frozenset[str]]
) -> Agreement:
    differing = [i for i, (e, o) in enumerate(zip(engine, other, strict=True)) if e != o]
    examples = tuple(
        f"context {i}: engine only {sorted(engine[i] - other[i])}, "
        f"{label} only {sorted(other[i] - engine[i])}"
        for i in differing[:3]
    )
    return Agreement(label, len(differing), examples)


# -- the benchmark -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    """Command-line choices, after --quick is applied."""

    contexts: int
    repeats: int
    seed: int
    profile: bool


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contexts", type=int, default=10_000, help="contexts (default 10000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    parser.add_argument("--quick", action="store_true", help="500 contexts, 2 repeats (smoke)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data and rule seed")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile gate.evaluate on the example set"
    )
    args = parser.parse_args(argv)
    contexts, repeats = (500, 2) if args.quick else (args.contexts, args.repeats)
    if contexts < 1 or repeats < 1:
        parser.error("--contexts and --repeats must be positive")
    return Options(contexts, repeats, args.seed, args.profile)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Something that decides like the engine; ``in_cache`` False when too slow to run twice."""

    label: str
    check: Check
    in_cache: bool = True


@dataclass(slots=True)
class SetResult:
    """What one policy set contributed to the verdict."""

    agreements: list[Agreement]
    failures: int


class Report:
    """Collects lines so the report prints as one block after all the work."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.spreads: list[tuple[float, str]] = []
        self.paths: list[PathRow] = []
        self.loads: list[tuple[str, Timing, Timing]] = []

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def noted(self, label: str, *timings: Timing | None) -> None:
        """Remember the repeat spread of timed loops for the noise line of the verdict."""
        self.spreads += [(t.spread, label) for t in timings if t is not None]

    def header(self) -> None:
        self.add(f"  {'':<30}{'streamed µs':>12}{'decisions/s':>13}{'in-cache µs':>13}")

    def row(self, label: str, measured: Measured) -> None:
        self.noted(label.strip(), measured.streamed, measured.in_cache)
        cached = f"{measured.in_cache.us:>13.2f}" if measured.in_cache else f"{'-':>13}"
        streamed = measured.streamed
        self.add(f"  {label:<30}{streamed.us:>12.2f}{streamed.per_second:>13,.0f}{cached}")

    def ratio(self, label: str, top: Measured, bottom: Measured) -> None:
        line = f"  {label:<30}{top.streamed.us / bottom.streamed.us:>11.1f}x"
        if top.in_cache and bottom.in_cache:
            line += f"{'':>13}{top.in_cache.us / bottom.in_cache.us:>12.1f}x"
        self.add(line)

    def agreement(self, found: Agreement, total: int) -> None:
        self.add(f"  agreement, {found.label}: {found.disagreements} of {total:,} contexts differ")
        for example in found.examples:
            self.add(f"    {example}")


# -- per path: allow, reject with one hit, modify -----------------------------------------

EVERY = "every decision"
PATHS = (EVERY, "allow", "reject, one hit", "modify")


def path_of(decision: Decision) -> str | None:
    """The path a decision took through the gate; None for the others (several hits, ...)."""
    if decision.outcome is Outcome.ALLOW and not decision.hits:
        return "allow"
    if decision.outcome is Outcome.REJECT and len(decision.hits) == 1:
        return "reject, one hit"
    if decision.outcome is Outcome.MODIFY:
        return "modify"
    return None


@dataclass(frozen=True, slots=True)
class PathRow:
    """One path of one workload: the four loops timed on the same contexts."""

    workload: str
    path: str
    count: int
    hand: Timing  # hand-written, exact Decimal, on the prebuilt context
    engine: Timing  # riskctl on the prebuilt context
    raw_hand: Timing  # hand-written, parsing the raw dict itself
    engine_raw: Timing  # riskctl on the raw dict (validation included)


def raw_loop(check: RawCheck) -> Loop:
    def run(items: Sequence[dict[str, Any]]) -> None:
        for item in items:
            check(item)

    return run


def bench_paths(
    workload: str,
    *,
    gate: Gate,
    contexts: list[PreTradeContext],
    baselines: tuple[Check, RawCheck],
    opts: Options,
    report: Report,
) -> SetResult:
    """Both riskctl inputs against both hand-written baselines, path by path, streamed.

    The raw dicts carry numbers as strings, as a bot's JSON does; every baseline and the
    dict input are verified against the engine on every context first.
    """
    check, raw_check = baselines
    decisions = [gate.evaluate(STAGE, c) for c in contexts]
    dicts = [as_input(c) for c in contexts]
    from_dicts = [gate.evaluate(STAGE, d) for d in dicts]
    engine_sets = [fired_by_engine(d) for d in decisions]
    agreements = [
        agreement(
            "riskctl from the raw dict", engine_sets, [fired_by_engine(d) for d in from_dicts]
        ),
        agreement(
            "hand-written from the raw dict", engine_sets, [frozenset(raw_check(d)) for d in dicts]
        ),
    ]
    outcomes = sum(a.outcome is not b.outcome for a, b in zip(decisions, from_dicts, strict=True))
    groups: dict[str, list[int]] = {name: [] for name in PATHS}
    for i, decision in enumerate(decisions):
        groups[EVERY].append(i)
        path = path_of(decision)
        if path is not None:
            groups[path].append(i)
    present = [(name, indexes) for name, indexes in groups.items() if indexes]
    tasks = []
    for _, indexes in present:
        models, raws = [contexts[i] for i in indexes], [dicts[i] for i in indexes]
        tasks += [
            Task(check_loop(check), models, in_cache=False),
            Task(engine_loop(gate), models, in_cache=False),
            Task(raw_loop(raw_check), raws, in_cache=False),
            Task(engine_loop(gate), raws, in_cache=False),
        ]
    measured = [m.streamed for m in run_rounds(tasks, opts.repeats)]
    report.add(f"  {workload}, path by path (streamed µs; x: riskctl over the baseline beside it)")
    report.add(
        f"  {'path':<22}{'n':>7}{'hand':>9}{'riskctl':>9}{'x':>6}"
        f"{'raw hand':>10}{'raw riskctl':>12}{'x':>6}"
    )
    for k, (name, indexes) in enumerate(present):
        row = PathRow(workload, name, len(indexes), *measured[4 * k : 4 * k + 4])
        report.noted(f"{workload} {name}", row.hand, row.engine, row.raw_hand, row.engine_raw)
        report.paths.append(row)
        report.add(
            f"  {name:<22}{row.count:>7,}{row.hand.us:>9.2f}{row.engine.us:>9.2f}"
            f"{row.engine.us / row.hand.us:>5.1f}x{row.raw_hand.us:>10.2f}"
            f"{row.engine_raw.us:>12.2f}{row.engine_raw.us / row.raw_hand.us:>5.1f}x"
        )
    for found in agreements:
        report.agreement(found, len(contexts))
    report.add(
        f"  outcome, riskctl from the raw dict: {outcomes} of {len(contexts):,} contexts differ"
    )
    failures = gate_failures(from_dicts)
    return SetResult([*agreements, Agreement("raw dict outcome", outcomes, ())], failures)


def markdown(report: Report) -> list[str]:
    """The figures as a table to paste into an issue note."""
    lines = [
        "| workload | path | n | hand-written µs | riskctl prebuilt µs | x | hand-written"
        " from raw dict µs | riskctl raw dict µs | x raw hand-written | x hand-written"
        " | dict overhead / prebuilt |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.paths:
        overhead = (r.engine_raw.us - r.engine.us) / r.engine.us
        lines.append(
            f"| {r.workload} | {r.path} | {r.count:,} | {r.hand.us:.2f} | {r.engine.us:.2f}"
            f" | {r.engine.us / r.hand.us:.1f}x | {r.raw_hand.us:.2f} | {r.engine_raw.us:.2f}"
            f" | {r.engine_raw.us / r.raw_hand.us:.1f}x | {r.engine_raw.us / r.hand.us:.1f}x"
            f" | {overhead:.2f}x |"
        )
    lines.append("")
    lines += [
        f"load + compile, {label}: {(load.us + build.us) / 1000:.1f} ms (load_bundle"
        f" {load.us / 1000:.1f} ms + Gate() {build.us / 1000:.1f} ms, median of {LOAD_REPEATS})"
        for label, load, build in report.loads
    ]
    return lines


def compare(
    title: str,
    gate: Gate,
    *,
    contexts: list[PreTradeContext],
    baselines: Sequence[Baseline],
    opts: Options,
    report: Report,
) -> SetResult:
    """Verify every baseline against the engine on every context, then time them all."""
    decisions = [gate.evaluate(STAGE, c) for c in contexts]  # also warms every code path
    engine_sets = [fired_by_engine(d) for d in decisions]
    agreements = [
        agreement(b.label, engine_sets, [frozenset(b.check(c)) for c in contexts])
        for b in baselines
    ]
    quiet = [c for c, fired in zip(contexts, engine_sets, strict=True) if not fired]
    busy = [c for c, fired in zip(contexts, engine_sets, strict=True) if fired]

    parts = [
        (f"  {name} ({len(part):,})", part)
        for name, part in (("no rule fired", quiet), ("some rule fired", busy))
        if part
    ]
    tasks = [Task(engine_loop(gate), contexts)]
    tasks += [Task(engine_loop(gate), part) for _, part in parts]
    tasks += [Task(check_loop(b.check), contexts, in_cache=b.in_cache) for b in baselines]
    engine, *rest = run_rounds(tasks, opts.repeats)
    paths = [(label, measured) for (label, _), measured in zip(parts, rest, strict=False)]
    timings = rest[len(parts) :]

    counts = checks_per_scope(gate.bundle)
    span = str(counts[0]) if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
    fired = sum(map(len, engine_sets)) / len(contexts)
    report.add(
        f"{title}: {span} pre_trade rules per (venue, symbol); no rule fires on"
        f" {len(quiet) / len(contexts):.1%} of decisions, {fired:.2f} fire on average"
    )
    report.header()
    report.row("engine gate.evaluate", engine)
    for label, measured in paths:
        report.row(label, measured)
    for baseline, measured in zip(baselines, timings, strict=True):
        report.row(baseline.label, measured)
    for baseline, measured in zip(baselines, timings, strict=True):
        if baseline.in_cache:
            report.ratio(f"engine / {baseline.label}", engine, measured)
        else:
            report.ratio(f"{baseline.label} / engine", measured, engine)
    for found in agreements:
        report.agreement(found, len(contexts))
    return SetResult(agreements, gate_failures(decisions))


def bench_example(
    contexts: list[PreTradeContext], opts: Options, report: Report
) -> SetResult | None:
    """The example policy set: engine vs hand-written, and dict vs model input."""
    gate, load, build = _load_and_compile(POLICIES, LOAD_REPEATS)
    report.loads.append(("example policies (policies/)", load, build))
    problems = limits_problems(gate.bundle)
    if problems:
        print(
            "the hand-written limits or instruments no longer match policies/risk-limits.yaml"
            " and policies/instruments.yaml:",
            file=sys.stderr,
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return None
    outcome = compare(
        "example policy set (policies/)",
        gate,
        contexts=contexts,
        baselines=[Baseline("hand-written", example_check)],
        opts=opts,
        report=report,
    )

    paths = bench_paths(
        "example policies",
        gate=gate,
        contexts=contexts,
        baselines=(example_check, raw_example_check),
        opts=opts,
        report=report,
    )
    if opts.profile:
        _profile(gate, contexts, report)
    outcome.agreements += paths.agreements
    outcome.failures += paths.failures
    return outcome


def as_input(c: PreTradeContext) -> dict[str, Any]:
    """The context as a bot sends it in JSON: numbers as strings, derived fields not dumped,
    and a quote-sized order carries its quote_qty, not the quantity the gate converted it to."""
    data = c.model_dump(mode="json")
    if data["order"].get("quote_qty") is not None:
        del data["order"]["qty"]
    return data


def _load_and_compile(directory: Path, repeats: int) -> tuple[Gate, Timing, Timing]:
    """Median load and compile time of a bundle; the gate of the last run is kept."""
    load, build = [], []
    gate = None
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter_ns()
            bundle = load_bundle(directory)
            loaded = time.perf_counter_ns()
            gate = Gate(bundle)  # compiles, then warms every stage of every scope
            built = time.perf_counter_ns()
        finally:
            gc.enable()
        load.append(float(loaded - start))
        build.append(float(built - loaded))
    assert gate is not None
    return gate, Timing(tuple(load)), Timing(tuple(build))


def bench_generated(contexts: list[PreTradeContext], opts: Options, report: Report) -> SetResult:
    """The generated rule set: engine vs hand-written vs simpleeval, and load+compile."""
    source = generate_rules(
        GENERATED_RULES, opts.seed + 1, function="generated_check", base="typed_checks"
    )
    namespace: dict[str, Any] = {"typed_checks": typed_checks, **source.constants}
    exec(compile(source.python, "<bench generated_check>", "exec"), namespace)  # noqa: S102  # our own generated source
    passes = generated_passes(source.rules)
    generated_check = with_fix(namespace["generated_check"], passes)
    raw_generated_check = from_raw(generated_check)
    simple = SimpleEvalChecker(simpleeval_programs(source.rules), passes)

    with tempfile.TemporaryDirectory(prefix="riskctl-bench-") as tmp:
        directory = Path(tmp)
        shutil.copy(POLICIES / "risk-limits.yaml", directory / "risk-limits.yaml")
        write_rules_yaml(source.rules, directory / "bench-rules.yaml")
        gate, load, build = _load_and_compile(directory, LOAD_REPEATS)

    outcome = compare(
        f"generated {GENERATED_RULES}-rule set + typed limits",
        gate,
        contexts=contexts,
        baselines=[
            Baseline("hand-written", generated_check),
            Baseline("simpleeval", simple.check, in_cache=False),
        ],
        opts=opts,
        report=report,
    )
    report.loads.append((f"{GENERATED_RULES}-rule bundle", load, build))
    paths = bench_paths(
        f"{GENERATED_RULES} rules",
        gate=gate,
        contexts=contexts,
        baselines=(generated_check, raw_generated_check),
        opts=opts,
        report=report,
    )
    outcome.agreements += paths.agreements
    outcome.failures += paths.failures
    return outcome


def _profile(gate: Gate, contexts: Sequence[PreTradeContext], report: Report) -> None:
    """Where evaluate's time goes: the top functions by own time over one pass."""
    profiler = cProfile.Profile()
    profiler.runcall(engine_loop(gate), contexts)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    body = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(body) if line.strip().startswith("ncalls")), 0)
    report.add(f"  cProfile of gate.evaluate over {len(contexts):,} contexts (top by own time):")
    report.lines += [f"    {line}" for line in body[start:] if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    began = time.perf_counter()
    start = time.perf_counter_ns()
    contexts = make_contexts(opts.contexts, opts.seed)
    built_s = (time.perf_counter_ns() - start) / 1e9

    report = Report()
    report.add(
        f"riskctl gate benchmark: Python {platform.python_version()}, {platform.system()}"
        f" {platform.machine()}, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.2f});"
        f" {len(contexts):,} contexts (seed {opts.seed}), median of {opts.repeats} repeats"
    )
    report.add(
        f"contexts built and validated in {built_s:.2f} s, before any timing. streamed: one"
        " pass over all contexts;"
    )
    report.add(
        f"in-cache: each {CHUNK}-context chunk run once untimed, then timed (a just-validated"
        " context)"
    )
    report.add()
    example = bench_example(contexts, opts, report)
    if example is None:
        return 2
    report.add()
    generated = bench_generated(contexts, opts, report)
    report.add()
    agreements = example.agreements + generated.agreements
    failures = example.failures + generated.failures
    bad = sum(a.disagreements for a in agreements)
    spread, noisiest = max(report.spreads)
    report.add(
        f"verdict: {bad} disagreements, {failures} gate failures; repeats of one loop differ"
        f" by up to {spread - 1:.0%} ({noisiest}); run took {time.perf_counter() - began:.1f} s"
    )
    report.add()
    report.lines += markdown(report)
    print("\n".join(report.lines))
    if bad or failures:
        print("the baselines do not decide what the engine decides; the ratios mean nothing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
