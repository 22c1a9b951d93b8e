"""A seeded stream of 100,000 contexts and the decisions the gate made on them (issue 15).

The speed work rewrites how decisions are built, the generated rule code and the raw-dict
validation; this stream is what proves those rewrites decide exactly what the gate
decided before them. tests/golden/test_golden_decisions.py evaluates the whole stream on
a fresh Gate over policies/ and compares every decision with the recorded one.

Run ``.venv/bin/python tools/golden_stream.py --record`` to rewrite the recording
(tests/data/golden/decisions.jsonl.gz): only for an intended change of decisions, with
the reason in the commit message. ``--check`` compares without the test runner.

What the stream covers, all six stages, most of it pre_trade: ordinary quotes; values at,
one grid step and one smallest decimal unit either side of every threshold in
policies/risk-limits.yaml (and of the instruments' filters, the custom rules, the
inventory bands and the circuit breakers); modifications (off-grid sizes, quote-sized
orders, float-noise prices); cancels; exits and reduce-only orders; stop orders; dust
positions; stale and future-dated market data; unknown venues and symbols; invalid and
hostile contexts, so every validation message is pinned too. Numbers arrive as str,
Decimal, int and float, as bots send them; about a fifth of the valid contexts are
prebuilt models (``model_validate`` of the same dict) so both input paths are compared.

Everything comes from ``random.Random(seed)`` and fixed tables, never from the engine, so
the stream is the same in every Python run; its digest is recorded with the decisions,
so a changed generator is reported as such rather than as changed decisions.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import json
import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.bundle import load_bundle
from riskctl.context import CONTEXTS, StageContext
from riskctl.decision import Decision
from riskctl.gate import Gate

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
RECORDING = ROOT / "tests" / "data" / "golden" / "decisions.jsonl.gz"
SEED = 15_000_015
COUNT = 100_000
FORMAT = 1

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
UNIT = Decimal("1e-32")  # the smallest decimal unit a context number may carry
VENUES = ("binance", "okx")
SYMBOLS = ("BTC/USDT", "ETH/USDT")
Scope = tuple[str, str]

# Mids chosen so that every limit of risk-limits.yaml lands exactly on the grids: the
# 50 / 75 bps collar, 250,000 (120,000 on okx BTC) notional, the position notionals.
MID = {"BTC/USDT": Decimal("62500"), "ETH/USDT": Decimal("3200")}
TICK = {
    ("binance", "BTC/USDT"): Decimal("0.01"),
    ("binance", "ETH/USDT"): Decimal("0.01"),
    ("okx", "BTC/USDT"): Decimal("0.1"),
    ("okx", "ETH/USDT"): Decimal("0.01"),
}
STEP = {
    ("binance", "BTC/USDT"): Decimal("0.00001"),
    ("binance", "ETH/USDT"): Decimal("0.0001"),
    ("okx", "BTC/USDT"): Decimal("0.00000001"),
    ("okx", "ETH/USDT"): Decimal("0.000001"),
}
# The resolved limits of policies/risk-limits.yaml per scope (only what placement needs).
MAX_ORDER_QTY = {
    ("binance", "BTC/USDT"): Decimal(5),
    ("binance", "ETH/USDT"): Decimal(80),
    ("okx", "BTC/USDT"): Decimal(2),
    ("okx", "ETH/USDT"): Decimal(80),
}
MAX_ORDER_NOTIONAL = {
    ("binance", "BTC/USDT"): Decimal(250_000),
    ("binance", "ETH/USDT"): Decimal(250_000),
    ("okx", "BTC/USDT"): Decimal(120_000),
    ("okx", "ETH/USDT"): Decimal(250_000),
}
COLLAR_BPS = {"BTC/USDT": Decimal(50), "ETH/USDT": Decimal(75)}
MAX_POSITION_QTY = {"BTC/USDT": Decimal(25), "ETH/USDT": Decimal(400)}
MAX_POSITION_NOTIONAL = {"BTC/USDT": Decimal(1_500_000), "ETH/USDT": Decimal(1_200_000)}
ORDERS_PER_SECOND = {"binance": 20, "okx": 10}
BAND_EDGES = {"BTC/USDT": ("0.5", "0.75", "0.9", "1"), "ETH/USDT": ("0.5", "0.8", "1")}
MIN_QTY = {
    ("binance", "BTC/USDT"): Decimal("0.00001"),
    ("binance", "ETH/USDT"): Decimal("0.0001"),
    ("okx", "BTC/USDT"): Decimal("0.00001"),
    ("okx", "ETH/USDT"): Decimal("0.0001"),
}
MAX_QTY = {
    ("binance", "BTC/USDT"): Decimal(9000),
    ("binance", "ETH/USDT"): Decimal(100_000),
    ("okx", "BTC/USDT"): Decimal(1000),
    ("okx", "ETH/USDT"): Decimal(10_000),
}
FEE_FACTOR = Decimal("1.001")


@dataclass(frozen=True, slots=True)
class Case:
    """One context of the stream: its stage, the raw data, whether it goes in as a model."""

    index: int
    stage: str
    kind: str  # what the generator aimed at, e.g. "limit max_order_qty at+step"
    data: Any  # the raw context (a dict, or something hostile that is not one)
    model: StageContext | None  # the stage's model built from ``data``, when it goes in so

    @property
    def prebuilt(self) -> bool:
        return self.model is not None

    def context(self) -> Any:
        """What is passed to ``Gate.evaluate``: the data, or the stage's model built from it."""
        return self.data if self.model is None else self.model

    def shown(self) -> str:
        return json.dumps(self.data, default=repr, sort_keys=True)


# -- numbers as bots send them ----------------------------------------------------------


def spelled(rng: random.Random, value: Decimal) -> Any:
    """``value`` as str, Decimal, int or float; a float only where it is the same number."""
    roll = rng.random()
    if not value.is_finite():
        return value
    if roll < 0.5:
        return str(value)
    if roll < 0.8:
        return value
    if roll < 0.9 and value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else str(value)


def respell(rng: random.Random, data: Any) -> Any:
    """Every Decimal inside ``data`` spelled by :func:`spelled` (bools and ints untouched)."""
    kind = type(data)
    if kind is dict:
        return {k: v if type(v) not in _NESTED else respell(rng, v) for k, v in data.items()}
    if kind is list:
        return [respell(rng, v) for v in data]
    return spelled(rng, data) if kind is Decimal else data


_NESTED = frozenset({dict, list, Decimal})


def around(limit: Decimal, grid: Decimal) -> list[tuple[str, Decimal]]:
    """A limit, one grid step and one smallest decimal unit either side of it."""
    return [
        ("at", limit),
        ("at+step", limit + grid),
        ("at-step", limit - grid),
        ("at+unit", limit + UNIT),
        ("at-unit", limit - UNIT),
    ]


def around_int(limit: int) -> list[tuple[str, int]]:
    return [("at", limit), ("at+1", limit + 1), ("at-1", limit - 1)]


# -- pre_trade ---------------------------------------------------------------------------


def base_pre_trade(scope: Scope, index: int) -> dict[str, Any]:
    """A context every check passes: a one-tick spread around MID, a small buy at the mid."""
    venue, symbol = scope
    mid, tick = MID[symbol], TICK[scope]
    return {
        "now_ms": EPOCH_MS + index * 37,
        "state": {"trading_state": "ACTIVE", "kill_switch": False},
        "order": {
            "venue": venue,
            "symbol": symbol,
            "side": "buy",
            "type": "limit",
            "qty": Decimal("0.5") if symbol == "BTC/USDT" else Decimal("5"),
            "price": mid,
            "time_in_force": "GTC",
            "client_order_id": f"golden-{index}",
            "strategy": "mm-quoter",
        },
        "market": {"bid": mid - tick, "ask": mid + tick, "age_ms": 120},
        "position": {"qty": Decimal(0)},
        "account": {
            "equity": Decimal(3_000_000),
            "available_balance": Decimal(1_500_000),
            "balance_age_ms": 1_000,
            "gross_exposure": Decimal(0),
            "daily_pnl": Decimal(0),
            "drawdown": Decimal(0),
            "open_orders": 40,
            "orders_last_second": 2,
            "amends_last_second": 5,
            "quote_free": Decimal(2_000_000),
            "base_free": Decimal(500),
        },
    }


def ordinary(rng: random.Random, index: int) -> dict[str, Any]:  # noqa: PLR0912, PLR0915  # one table of tails
    """A realistic quote: random mid, size, side, type and book, with tails past limits."""
    scope = (rng.choice(VENUES), rng.choice(SYMBOLS))
    c = base_pre_trade(scope, index)
    symbol = scope[1]
    tick, step = TICK[scope], STEP[scope]
    mid = _on(MID[symbol] * Decimal(1 + rng.gauss(0, 0.004)), tick)
    half = _on(mid * Decimal(rng.choice((0.5, 1, 2, 6, 14, 30))) / 20_000, tick) or tick
    c["market"] = {"bid": mid - half, "ask": mid + half, "age_ms": rng.randint(0, 900)}
    o, a = c["order"], c["account"]
    o["side"] = rng.choice(("buy", "sell"))
    big = MAX_ORDER_QTY[scope] * Decimal(rng.choice((0.01, 0.1, 0.3, 0.6, 0.9, 1.1)))
    o["qty"] = max(step, _on(big * Decimal(rng.random()), step))
    bps = rng.uniform(-20, 20) if rng.random() < 0.92 else rng.uniform(-90, 90)
    o["price"] = _on(mid * (1 + Decimal(bps) / 10_000), tick)
    if rng.random() < 0.15:
        o["type"], o["price"] = "market", None
    position = _on(MAX_POSITION_QTY[symbol] * Decimal(max(-1.1, min(1.1, rng.gauss(0, 0.3)))), step)
    c["position"] = {"qty": position, "avg_price": mid} if position else {"qty": Decimal(0)}
    if position and rng.random() < 0.15:  # an exit
        o["side"] = "sell" if position > 0 else "buy"
        o["qty"] = max(step, _on(abs(position) * Decimal(rng.random()), step))
        o["reduce_only"] = True
    elif rng.random() < 0.03:
        o["reduce_only"] = True
    o["time_in_force"] = rng.choices(("GTC", "IOC", "FOK", "PO", "GTD"), (80, 8, 2, 6, 4))[0]
    if o["time_in_force"] == "GTD":
        o["expire_at_ms"] = c["now_ms"] + rng.randint(-2_000, 600_000)
    a["equity"] = _on(Decimal(rng.uniform(1e6, 4e6)), Decimal("0.01"))
    a["available_balance"] = _on(a["equity"] * Decimal(rng.uniform(0.02, 0.6)), Decimal("0.01"))
    a["gross_exposure"] = _on(
        Decimal(rng.uniform(0, 1.9e6 if rng.random() < 0.95 else 2.2e6)), Decimal("0.01")
    )
    a["daily_pnl"] = _on(Decimal(rng.gauss(0, 20_000)), Decimal("0.01"))
    a["drawdown"] = _on(Decimal(abs(rng.gauss(0, 30_000))), Decimal("0.01"))
    a["open_orders"] = rng.choices((10, 50, 120, 199, 205), (30, 40, 24, 3, 3))[0]
    a["orders_last_second"] = rng.randint(0, 6) if rng.random() < 0.95 else rng.randint(8, 24)
    a["quote_free"] = _on(Decimal(rng.uniform(0, 2e6)), Decimal("0.01"))
    a["base_free"] = _on(MAX_POSITION_QTY[symbol] * Decimal(rng.uniform(0, 1.2)), step)
    if rng.random() < 0.2:
        a["quote_reserved"] = _on(Decimal(rng.uniform(0, 60_000)), Decimal("0.01"))
    if rng.random() < 0.03:
        del a[rng.choice(("quote_free", "base_free"))]
    roll = rng.random()
    if roll < 0.03:
        c["state"]["trading_state"] = rng.choice(("REDUCING", "HALTED"))
    elif roll < 0.035:
        c["state"]["kill_switch"] = True
    if rng.random() < 0.03:
        c["market"][rng.choice(("bid", "ask"))] = None
    if rng.random() < 0.03:
        c["market"]["age_ms"] = rng.choice((1_999, 2_000, 2_500, -49, -50, -51, -400))
    if rng.random() < 0.04:
        o["qty"] += Decimal("0.000000004")  # off the step grid: rounded down
    if rng.random() < 0.02 and o["price"] is not None:
        o["price"] += Decimal("0.005")  # off the tick grid: rejected
    if rng.random() < 0.04:
        o["action"] = "amend"
        a["amends_last_second"] = rng.choice((39, 40, 41))
    if rng.random() < 0.05:  # sized in quote currency
        o["quote_qty"] = _on(o.pop("qty") * mid, Decimal("0.01")) or Decimal(1)
    if rng.random() < 0.05:  # the bot sends the venue's filters itself
        c["instrument"] = instrument_of(scope)
    return c


def instrument_of(scope: Scope) -> dict[str, Any]:
    """The instrument of policies/instruments.yaml for a scope, as an adapter sends it."""
    venue, symbol = scope
    spec: dict[str, Any] = {
        "venue": venue,
        "symbol": symbol,
        "price_increment": TICK[scope],
        "qty_increment": STEP[scope],
        "min_qty": MIN_QTY[scope],
        "max_qty": MAX_QTY[scope],
        "max_notional": Decimal(9_000_000 if venue == "binance" else 1_000_000),
    }
    if venue == "binance":
        spec["min_notional"] = Decimal(5)
    if scope == ("binance", "BTC/USDT"):
        spec["order_types"] = ["limit", "market", "stop_market", "stop_limit"]
    return spec


def _on(value: Decimal, grid: Decimal) -> Decimal:
    """``value`` rounded to the grid (to nearest), a plain Decimal of the grid's exponent."""
    return (value / grid).quantize(Decimal(1)) * grid


def _limit_cases(scope: Scope) -> list[tuple[str, Callable[[dict[str, Any]], None]]]:  # noqa: PLR0912  # one loop per threshold
    """(name, edit) pairs placing one quantity at and around one threshold, for a scope."""
    venue, symbol = scope
    mid, tick, step = MID[symbol], TICK[scope], STEP[scope]
    cases: list[tuple[str, Callable[[dict[str, Any]], None]]] = []

    def add(name: str, edit: Callable[[dict[str, Any]], None]) -> None:
        cases.append((name, edit))

    def set_in(section: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        def edit(c: dict[str, Any]) -> None:
            c[section][key] = value

        return edit

    for label, q in around(MAX_ORDER_QTY[scope], step):
        add(f"max_order_qty {label}", set_in("order", "qty", q))
        add(f"max_order_qty sell {label}", _both(set_in("order", "qty", q), _sell))
    notional_qty = MAX_ORDER_NOTIONAL[scope] / mid
    for label, q in around(notional_qty, step):
        add(f"max_order_notional qty {label}", set_in("order", "qty", q))
    for label, p in around(mid, tick):
        add(
            f"max_order_notional price {label}",
            _both(set_in("order", "qty", notional_qty), set_in("order", "price", p)),
        )
    collar = mid * COLLAR_BPS[symbol] / 10_000
    for side in (1, -1):
        for label, p in around(mid + side * collar, tick):
            add(f"price_collar_bps {side:+d} {label}", set_in("order", "price", p))
            add(f"trigger collar {side:+d} {label}", _stop("stop_market", p))
    for label, p in around(MAX_POSITION_QTY[symbol], step):
        add(f"max_position_qty {label}", _position(p - Decimal(1), mid))
        add(f"max_position_qty short {label}", _both(_position(-(p - Decimal(1)), mid), _sell))
    for label, n in around(MAX_POSITION_NOTIONAL[symbol], step * mid):
        add(f"max_position_notional {label}", _position(n / mid - Decimal(1), mid))
    for edge in BAND_EDGES[symbol]:
        for label, p in around(MAX_POSITION_QTY[symbol] * Decimal(edge), step):
            add(f"inventory band {edge} {label}", _position(p - Decimal(1), mid))
            add(f"inventory band {edge} exit {label}", _both(_position(p, mid), _exit(p)))
    order_notional = mid * (Decimal("0.5") if symbol == "BTC/USDT" else Decimal(5))
    for label, g in around(Decimal(2_000_000) - order_notional, Decimal("0.01")):
        add(f"max_gross_exposure {label}", set_in("account", "gross_exposure", g))
    for label, n in around_int(200):
        add(f"max_open_orders {label}", set_in("account", "open_orders", n))
    for label, n in around_int(ORDERS_PER_SECOND[venue]):
        add(f"max_orders_per_second {label}", set_in("account", "orders_last_second", n))
    for label, n in around_int(40):
        add(
            f"max_amends_per_second {label}",
            _both(set_in("account", "amends_last_second", n), set_in("order", "action", "amend")),
        )
    for label, d in around(Decimal(-50_000), Decimal("0.01")):
        add(f"max_daily_loss {label}", set_in("account", "daily_pnl", d))
        add(
            f"max_daily_loss exit {label}",
            _both(set_in("account", "daily_pnl", d), _position(Decimal(2), mid), _exit(Decimal(1))),
        )
    for label, d in around(Decimal(80_000), Decimal("0.01")):
        add(f"max_drawdown {label}", set_in("account", "drawdown", d))
    for label, n in around_int(2_000):
        add(f"stale_market_data_ms {label}", set_in("market", "age_ms", n))
    for label, n in around_int(-50):
        add(f"max_clock_skew_ms {label}", set_in("market", "age_ms", n))
    for label, n in around_int(30_000):
        add(f"stale_balance_ms {label}", set_in("account", "balance_age_ms", n))
        add(
            f"stale_balance_ms exit {label}",
            _both(
                set_in("account", "balance_age_ms", n),
                _position(Decimal(2), mid),
                _exit(Decimal(1)),
            ),
        )
    buy_cost = mid * (Decimal("0.5") if symbol == "BTC/USDT" else Decimal(5)) * FEE_FACTOR
    for label, f in around(buy_cost, Decimal("0.01")):
        add(f"quote balance {label}", set_in("account", "quote_free", f))
        add(
            f"quote balance reserved {label}",
            _both(
                set_in("account", "quote_free", f + 700),
                set_in("account", "quote_reserved", Decimal(700)),
            ),
        )
    for label, f in around(Decimal("0.5") if symbol == "BTC/USDT" else Decimal(5), step):
        add(f"base balance {label}", _both(set_in("account", "base_free", f), _sell))
    for label, x in around(Decimal(150_000), Decimal("0.01")):  # thin-balance: 5% of equity
        add(f"thin-balance {label}", set_in("account", "available_balance", x))
    for label, q in around(MIN_QTY[scope], step):
        add(f"instrument min_qty {label}", set_in("order", "qty", q))
    if venue == "binance":
        for label, q in around(Decimal(5) / mid, step):
            add(f"instrument min_notional {label}", set_in("order", "qty", q))
    for label, w in around(mid * 20 / 10_000, tick):  # wide-spread rule: spread 20 bps
        add(f"wide-spread {label}", _spread(mid, w, tick))
    for label, t in around_int(0):
        add(f"gtd expiry {label}", _gtd(t))
    return cases


def _both(*edits: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        for one in edits:
            one(c)

    return edit


def _sell(c: dict[str, Any]) -> None:
    c["order"]["side"] = "sell"


def _position(qty: Decimal, mid: Decimal) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c["position"] = {"qty": qty, "avg_price": mid}

    return edit


def _exit(qty: Decimal) -> Callable[[dict[str, Any]], None]:
    """Sell ``qty`` of a long position, reduce-only."""

    def edit(c: dict[str, Any]) -> None:
        c["order"].update(side="sell", qty=qty, reduce_only=True)

    return edit


def _stop(kind: str, trigger: Decimal) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        o = c["order"]
        o.update(type=kind, trigger_price=trigger)
        if kind == "stop_market":
            o["price"] = None

    return edit


def _spread(mid: Decimal, width: Decimal, tick: Decimal) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        half = _on(width / 2, tick / 2)
        c["market"].update(bid=mid - half, ask=mid + half)
        c["order"].update(type="market", price=None)

    return edit


def _gtd(offset_ms: int) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c["order"].update(time_in_force="GTD", expire_at_ms=c["now_ms"] + offset_ms)

    return edit


LIMIT_CASES = {scope: _limit_cases(scope) for scope in ((v, s) for v in VENUES for s in SYMBOLS)}


def at_threshold(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:
    scope = (rng.choice(VENUES), rng.choice(SYMBOLS))
    name, edit = rng.choice(LIMIT_CASES[scope])
    c = base_pre_trade(scope, index)
    edit(c)
    return f"limit {name}", c


def special(rng: random.Random, index: int) -> tuple[str, dict[str, Any]]:  # noqa: PLR0912, PLR0915  # one branch per path
    """Cancels, stops, modifications, float noise, dust, unknown scopes, several hits."""
    scope = (rng.choice(VENUES), rng.choice(SYMBOLS))
    venue, symbol = scope
    c = base_pre_trade(scope, index)
    o, mid, tick, step = c["order"], MID[symbol], TICK[scope], STEP[scope]
    name = rng.choice(SPECIALS)
    if name == "cancel":
        o["action"] = "cancel"
        c["account"]["open_orders"] = rng.choice((40, 250))
        c["state"]["kill_switch"] = rng.random() < 0.5
    elif name == "stop":
        kind = rng.choice(("stop_market", "stop_limit"))
        _stop(kind, mid + rng.choice((-1, 1)) * tick * rng.randint(1, 400))(c)
        if rng.random() < 0.2:
            o["trigger_price"] += tick / 2
    elif name == "qty off grid":
        o["qty"] += rng.choice((step / 3, step / 2, UNIT, step - UNIT))
        if rng.random() < 0.3:
            o["qty"] = MAX_ORDER_QTY[scope] + step / 2
    elif name == "quote sized":
        del o["qty"]
        o["quote_qty"] = rng.choice(
            (
                Decimal(1000),
                Decimal("777.77"),
                Decimal("0.01"),
                MAX_ORDER_NOTIONAL[scope],
                MAX_ORDER_NOTIONAL[scope] + 1,
            )
        )
        if rng.random() < 0.3:
            o.update(type="market", price=None)
    elif name == "float noise":
        noisy = math.nextafter(float(mid + tick * 3), rng.choice((math.inf, -math.inf)))
        o["price"] = noisy
        if rng.random() < 0.5:
            o["qty"] = math.nextafter(float(o["qty"]), math.inf)
    elif name == "dust":
        dust = _on(Decimal(3) / mid, step) or step
        c["position"] = {"qty": dust, "avg_price": mid}
        o.update(side="sell", qty=dust, reduce_only=True)
        if rng.random() < 0.3:
            o["action"] = "cancel"
    elif name == "exit":
        held = rng.choice((Decimal(1), MAX_POSITION_QTY[symbol] + 1))
        c["position"] = {"qty": held * rng.choice((1, -1)), "avg_price": mid}
        o.update(
            side="sell" if c["position"]["qty"] > 0 else "buy",
            qty=rng.choice((held, held + step, held / 2)),
            reduce_only=rng.random() < 0.8,
        )
        c["state"]["trading_state"] = rng.choice(("ACTIVE", "REDUCING", "HALTED"))
        c["account"]["daily_pnl"] = rng.choice((Decimal(0), Decimal(-60_000)))
    elif name == "several hits":
        c["state"]["kill_switch"] = True
        o["qty"] = MAX_ORDER_QTY[scope] * 3
        o["price"] = mid * Decimal("1.02")
        c["market"]["age_ms"] = 9_000
        c["account"]["daily_pnl"] = Decimal(-90_000)
        c["account"]["open_orders"] = 500
    elif name == "unknown scope":
        o["venue"] = rng.choice((venue, "kraken"))
        o["symbol"] = rng.choice(("SOL/USDT", symbol if o["venue"] == "kraken" else "DOGE/USDT"))
        if rng.random() < 0.3:
            c["instrument"] = {**instrument_of(scope), "venue": o["venue"], "symbol": o["symbol"]}
    elif name == "no quote":
        o.update(type="market", price=None)
        c["market"][rng.choice(("bid", "ask"))] = None
    elif name == "unsupported type":
        _stop("stop_limit", mid - tick)(c)
        c["instrument"] = {**instrument_of(scope), "order_types": ["limit"]}
    elif name == "instrument stale":
        c["instrument"] = {**instrument_of(scope), "market_age_ms": rng.choice((0, 86_400_000))}
    return f"special {name}", c


SPECIALS = (
    "cancel", "stop", "qty off grid", "quote sized", "float noise", "dust", "exit",
    "several hits", "unknown scope", "no quote", "unsupported type", "instrument stale",
)  # fmt: skip


# -- invalid and hostile contexts ---------------------------------------------------------

HOSTILE: tuple[Any, ...] = (
    None, True, "", "abc", "NaN", "-Infinity", "1e999", float("nan"), float("inf"), -1, 0,
    10**100, "1e-33", Decimal("1e-33"), Decimal("1e16"), [], {}, "x" * 300, "\x00",
    "'; DROP TABLE orders; --", "{{7*7}}", "\u202e", 1.5, "120", Decimal("sNaN"),
)  # fmt: skip


def invalid(rng: random.Random, stage: str, c: dict[str, Any]) -> tuple[str, Any]:
    """``c`` broken one way: a field removed, replaced by a hostile value, or added."""
    roll = rng.random()
    if roll < 0.05:
        return "invalid whole", rng.choice(HOSTILE)
    path = _random_path(rng, c)
    *parents, key = path
    holder: Any = c
    for part in parents:
        holder = holder[part]
    where = "/".join(map(str, path))
    if roll < 0.3:
        del holder[key]
        return f"invalid missing {where}", c
    if roll < 0.4:
        extra = rng.choice(("notional", "mid", "is_exit", "__class__", "api_key", "age_ms"))
        holder[extra] = rng.choice((Decimal(1), "secret-value-123", True))
        return f"invalid extra {where}/../{extra}", c
    holder[key] = rng.choice(HOSTILE)
    return f"invalid value {where}", c


def _random_path(rng: random.Random, data: dict[str, Any]) -> list[str]:
    path: list[str] = []
    node: Any = data
    while isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        path.append(key)
        node = node[key]
        if rng.random() < 0.25:
            break
    return path


# -- the other stages ---------------------------------------------------------------------


def ingest(rng: random.Random, index: int) -> dict[str, Any]:
    now = EPOCH_MS + index * 37
    venue, symbol = rng.choice(VENUES), rng.choice((*SYMBOLS, "SOL/USDT"))
    mid = MID.get(symbol, Decimal(150))
    kind = rng.choice(("trade", "book", "ticker", "balance", "order_update"))
    event: dict[str, Any] = {
        "type": kind,
        "venue": venue,
        "symbol": symbol,
        "ts_ms": now - rng.choice((0, 40, 2_999, 3_000, 3_001, 9_000, -20, -60)),
    }
    if rng.random() < 0.7:
        event["seq"] = rng.randint(0, 10**6)
    if kind in ("book", "ticker"):
        spread = rng.choice((Decimal(2), Decimal("0.01"), Decimal(0), Decimal(-1)))
        event.update(bid=mid, ask=mid + spread)
    if kind == "trade":
        event.update(price=mid, size=Decimal(rng.randint(1, 10**6)) / 1000)
    if rng.random() < 0.3:
        event["idempotency_key"] = f"ev-{rng.randint(0, 99)}"
    feed: dict[str, Any] = {}
    if "seq" in event and rng.random() < 0.8:
        feed["last_seq"] = max(0, event["seq"] - rng.choice((1, 1, 1, 2, 0, 5)))
    if rng.random() < 0.05:
        feed["duplicate"] = True
    if rng.random() < 0.05:
        feed["known_symbol"] = False
    return {"now_ms": now, "event": event, "feed": feed}


def signal(rng: random.Random, index: int) -> dict[str, Any]:
    budget = Decimal(rng.choice((10_000, 25_000)))
    pnl = rng.choice((Decimal(0), -budget, -budget + UNIT, -budget - UNIT, -budget + 1,
                      Decimal(5_000)))  # fmt: skip
    strategy: dict[str, Any] = {"enabled": rng.random() > 0.05, "pnl_today": pnl}
    if rng.random() < 0.8:
        strategy["loss_budget"] = budget
    return {
        "now_ms": EPOCH_MS + index * 37,
        "signal": {
            "strategy": "mm-quoter",
            "venue": rng.choice(VENUES),
            "symbol": rng.choice(SYMBOLS),
            "side": rng.choice(("buy", "sell")),
            "qty": Decimal(rng.randint(1, 5000)) / 1000,
            "price": rng.choice((None, Decimal("62500.5"))),
        },
        "strategy": strategy,
        "data": {"degraded": rng.random() < 0.05, "age_ms": rng.choice((0, 1_499, 1_500, 1_501))},
    }


def order_send(rng: random.Random, index: int) -> dict[str, Any]:
    venue, symbol = rng.choice(VENUES), rng.choice(SYMBOLS)
    c: dict[str, Any] = {
        "now_ms": EPOCH_MS + index * 37,
        "request": {
            "venue": venue,
            "symbol": symbol,
            "kind": rng.choices(("create", "cancel", "amend", "cancel_all", "fetch"),
                                (70, 10, 10, 5, 5))[0],
            "client_order_id": f"golden-{index}",
            "duplicate_client_order_id": rng.random() < 0.05,
        },
        "venue": {
            "connected": rng.random() > 0.05,
            "error_rate_pct": rng.choice((Decimal(0), Decimal(20), Decimal(20) + UNIT,
                                          Decimal(30), Decimal("30.01"), Decimal(100))),
            "latency_p99_ms": rng.choice((80, 1_499, 1_500, 1_501)),
            "oldest_pending_ms": rng.choice((0, 5_000)),
            "rate_limit_headroom_pct": rng.choice((Decimal(100), Decimal(10), Decimal("9.99"),
                                                   Decimal(10) - UNIT)),
        },
    }  # fmt: skip
    if rng.random() < 0.1:
        c["instrument"] = instrument_of((venue, symbol))
    return c


def fill(rng: random.Random, index: int) -> dict[str, Any]:
    symbol = rng.choice(SYMBOLS)
    expected = MID[symbol]
    slip = rng.choice((Decimal(0), Decimal(25), Decimal(-25), Decimal("25.01"), Decimal(60)))
    price = expected * (1 + slip / 10_000)
    position = Decimal(rng.randint(-5000, 5000)) / 1000
    books: dict[str, Any] = {"position_qty": position}
    if rng.random() < 0.8:
        books["venue_position_qty"] = position + rng.choice(
            (Decimal(0), Decimal("0.0001"), Decimal("-0.0001"), Decimal("0.0001") + UNIT,
             Decimal("0.00011"), Decimal(1))
        )  # fmt: skip
    return {
        "now_ms": EPOCH_MS + index * 37,
        "fill": {
            "venue": rng.choice(VENUES),
            "symbol": symbol,
            "client_order_id": f"golden-{index}",
            "trade_id": f"t-{index}",
            "side": rng.choice(("buy", "sell")),
            "qty": Decimal(rng.randint(1, 5000)) / 1000,
            "price": price,
            "fee": Decimal("0.5"),
            "ts_ms": EPOCH_MS + index * 37 - 30,
        },
        "order": {
            "known": rng.random() > 0.05,
            "already_applied": rng.random() < 0.05,
            "expected_price": rng.choice((expected, expected, None)),
        },
        "books": books,
    }


def monitor(rng: random.Random, index: int) -> dict[str, Any]:
    daily = rng.choice(
        (
            Decimal(0),
            Decimal(-25_000),
            Decimal(-40_000),
            Decimal(-45_000),
            Decimal("-45000.01"),
            Decimal(-45_000) - UNIT,
            Decimal(-60_000),
        )
    )
    drawdown = rng.choice((Decimal(0), Decimal(70_000), Decimal("70000.01"), Decimal(90_000)))
    notional = rng.choice((Decimal(0), Decimal(900_000), Decimal(1_300_000), Decimal(-1_300_001)))
    return {
        "now_ms": EPOCH_MS + index * 37,
        "venue": rng.choice(VENUES),
        "symbol": rng.choice(SYMBOLS),
        "pnl": {"daily": daily, "session": daily},
        "account": {
            "equity": Decimal(3_000_000),
            "available_balance": rng.choice((Decimal(200_000), Decimal(100_000),
                                             Decimal(40_000), Decimal("39999.99"))),
            "balance_age_ms": 1_000,
            "drawdown": drawdown,
        },
        "inventory": {"position_qty": notional / 62_500, "position_notional": notional},
        "health": {
            "heartbeat_age_ms": rng.choice((0, 4_999, 5_000, 5_001)),
            "feed_connected": rng.random() > 0.05,
            "feed_age_ms": rng.choice((0, 1_000, 3_000, 3_001)),
            "venue_connected": rng.random() > 0.05,
        },
    }  # fmt: skip


OTHER_STAGES: dict[str, Callable[[random.Random, int], dict[str, Any]]] = {
    "ingest": ingest,
    "signal": signal,
    "order_send": order_send,
    "fill": fill,
    "monitor": monitor,
}
# Of every 100 contexts: pre_trade ordinary, at a threshold, special, invalid; other stages.
MIX = (("ordinary", 38), ("threshold", 26), ("special", 12), ("invalid", 9), ("other", 15))


def stream(seed: int = SEED, count: int = COUNT) -> Iterator[Case]:
    """The golden stream: ``count`` cases, the same for a seed in every run."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    for index in range(count):
        kind = rng.choices(kinds, weights)[0]
        stage = "pre_trade"
        if kind == "ordinary":
            name, data = "ordinary", ordinary(rng, index)
        elif kind == "threshold":
            name, data = at_threshold(rng, index)
        elif kind == "special":
            name, data = special(rng, index)
        elif kind == "other" or rng.random() < 0.3:
            stage = rng.choice(sorted(OTHER_STAGES))
            name, data = stage, OTHER_STAGES[stage](rng, index)
        else:
            name, data = "invalid", ordinary(rng, index)
        if kind == "invalid":
            name, data = invalid(rng, stage, data)
            if rng.random() < 0.1:  # a malformed cancel is still never blocked
                order = data.get("order") if isinstance(data, dict) else None
                if isinstance(order, dict):
                    order["action"] = "cancel"
        data = respell(rng, data)
        yield Case(index, stage, name, data, _prebuilt(rng, stage, data, kind))
        if rng.random() < 0.0005:  # an unknown stage, now and then
            yield Case(index, "post_trade", "invalid stage", copy.deepcopy(data), None)


def _prebuilt(rng: random.Random, stage: str, data: Any, kind: str) -> StageContext | None:
    """A fifth of the valid contexts go in as models; pre_trade ones mostly with the venue's
    instrument added first, as ``Gate.context`` would (without it, instrument_unknown)."""
    if kind == "invalid" or rng.random() >= 0.22:
        return None
    if stage == "pre_trade" and "instrument" not in data and rng.random() < 0.9:
        order = data["order"]
        if (order["venue"], order["symbol"]) in TICK:
            data["instrument"] = instrument_of((order["venue"], order["symbol"]))
    try:
        return CONTEXTS[stage].model_validate(data)
    except ValidationError:
        return None


# -- decisions and the recording -------------------------------------------------------


def decision_line(decision: Decision) -> str:
    """A decision as recorded: its JSON without eval_us and bundle, keys sorted, one line.

    The bundle (hash and versions) is the same for every decision, so it is recorded once
    in the header and compared once: an edited policy then reads as "the policies
    changed" plus the decisions that changed, not as 100,000 differing hashes.
    """
    found = decision.to_json()
    del found["eval_us"], found["bundle"]
    return _canonical(found)


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def stream_digest(cases: Sequence[Case]) -> str:
    """Digest of the stream's inputs: what a changed generator changes."""
    digest = hashlib.sha256()
    for case in cases:
        digest.update(f"{case.stage}\x1f{case.prebuilt}\x1f{case.data!r}\x1e".encode())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Recording:
    header: dict[str, Any]
    lines: list[str]


@dataclass(frozen=True, slots=True)
class Decided:
    """The stream's decisions as recorded lines, and every bundle reference they carried."""

    lines: list[str]
    bundles: set[str]


def evaluate(cases: Sequence[Case], policies: Path = POLICIES) -> Decided:
    """Every case decided, in order, on one fresh gate (the dust ledger carries over)."""
    gate = Gate(load_bundle(policies))
    lines, bundles = [], set()
    for case in cases:
        decision = gate.evaluate(case.stage, case.context())
        lines.append(decision_line(decision))
        bundles.add(_canonical(decision.bundle.to_json()))
    return Decided(lines, bundles)


def bundle_problems(recording: Recording, decided: Decided) -> list[str]:
    """A message when the decisions came from other policies than the recorded ones."""
    recorded = _canonical(recording.header["bundle"])
    if decided.bundles == {recorded}:
        return []
    return [f"decided by bundle {sorted(decided.bundles)}, recorded {recorded}: policies/ changed"]


def record(path: Path = RECORDING) -> Recording:
    cases = list(stream())
    decided = evaluate(cases)
    if len(decided.bundles) != 1:
        raise SystemExit(f"one bundle expected, the gate reported {sorted(decided.bundles)}")
    lines = decided.lines
    header = {
        "format": FORMAT,
        "seed": SEED,
        "cases": len(cases),
        "stream": stream_digest(cases),
        "bundle": json.loads(next(iter(decided.bundles))),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join([json.dumps(header, sort_keys=True), *lines]) + "\n"
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as out:  # mtime 0: same bytes
        out.write(text.encode())
    return Recording(header, lines)


def load_recording(path: Path = RECORDING) -> Recording:
    with gzip.open(path, "rt", encoding="utf-8") as found:
        header_line, *lines = found.read().splitlines()
    return Recording(json.loads(header_line), lines)


def differences(
    cases: Sequence[Case], expected: Sequence[str], actual: Sequence[str], limit: int = 5
) -> list[str]:
    """The first ``limit`` differing decisions, each with its context, expected and actual."""
    shown = []
    differing = [i for i, (e, a) in enumerate(zip(expected, actual, strict=True)) if e != a]
    for i in differing[:limit]:
        case = cases[i]
        shown.append(
            f"case {i} (stream index {case.index}, {case.stage}, {case.kind},"
            f" {'prebuilt model' if case.prebuilt else 'raw dict'}):\n"
            f"  context:  {case.shown()}\n  expected: {expected[i]}\n  actual:   {actual[i]}"
        )
    if differing:
        shown.insert(0, f"{len(differing):,} of {len(expected):,} decisions differ; the first:")
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", action="store_true", help=f"rewrite {RECORDING.name}")
    group.add_argument("--check", action="store_true", help="compare with the recording")
    args = parser.parse_args(argv)
    if args.record:
        found = record()
        print(f"recorded {len(found.lines):,} decisions to {RECORDING.relative_to(ROOT)}")
        return 0
    recording = load_recording()
    cases = list(stream())
    if stream_digest(cases) != recording.header["stream"]:
        print("the stream is not the recorded one: the generator changed; re-record")
        return 1
    decided = evaluate(cases)
    problems = bundle_problems(recording, decided)
    problems += differences(cases, recording.lines, decided.lines)
    print("\n".join(problems) if problems else f"all {len(cases):,} decisions as recorded")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
