"""The engine agrees with a second, independent reading of the example policies at pre_trade.

``Reference`` below is written from the policy documents and the limit descriptions alone:
it reads the numbers from policies/risk-limits.yaml with ruamel.yaml, resolves scopes by
hand, and checks each limit and the two pre_trade rules of policies/rules.yaml in plain
Python with Decimal. It never imports engine.limits, engine.ruleset or engine.codegen.
Both must agree on every generated context: allowed or not, and which rules fired.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine import Gate

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"

# Which built-in checks exits skip (limits on opening risk) and which bind every order.
APPLY_TO_EXITS = {
    "price_collar_bps",
    "kill_switch",
    "halted",
    "order_type_price",
    "market_without_quote",
    "gtd_expired",
    "unknown_instrument",
}


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return Decimal(str(value))


@dataclass(frozen=True)
class Reference:
    """The example RiskLimits and pre_trade Rules, evaluated the obvious way."""

    defaults: dict[str, Any]
    scoped: list[tuple[str | None, str | None, dict[str, Any]]]
    universe: set[tuple[str, str]]
    rules: dict[str, dict[str, Any]]

    @classmethod
    def load(cls) -> Reference:
        yaml = YAML(typ="safe", pure=True)
        limits = yaml.load((POLICIES / "risk-limits.yaml").read_text(encoding="utf-8"))["spec"]
        rules = yaml.load((POLICIES / "rules.yaml").read_text(encoding="utf-8"))["spec"]["rules"]
        scoped = []
        for raw in limits.get("scoped", []):
            entry = dict(raw)
            scope = entry.pop("scope")
            scoped.append(
                (scope.get("venue"), scope.get("symbol"), {k: _number(v) for k, v in entry.items()})
            )
        universe = {(v["venue"], s) for v in limits["venues"] for s in v["symbols"]}
        pre_trade = {r["id"]: r for r in rules if r["stage"] == "pre_trade"}
        # The two pre_trade rules are re-implemented by hand below; fail loudly if they change.
        assert pre_trade["wide-spread-no-market-orders"]["when"] == (
            "order.type == 'market' and market.spread_bps is not None and market.spread_bps > 20"
        )
        assert (
            pre_trade["thin-balance"]["when"] == "account.available_balance < 0.05 * account.equity"
        )
        assert set(pre_trade) == {"wide-spread-no-market-orders", "thin-balance"}
        defaults = {k: _number(v) for k, v in limits["defaults"].items()}
        return cls(defaults, scoped, universe, pre_trade)

    def limits_for(self, venue: str, symbol: str) -> dict[str, Any]:
        """Per limit, the value of the most specific scope that sets it."""
        chosen = dict(self.defaults)
        tiers = [
            [lim for v, s, lim in self.scoped if v == venue and s is None],  # venue only
            [lim for v, s, lim in self.scoped if v is None and s == symbol],  # symbol only
            [lim for v, s, lim in self.scoped if v == venue and s == symbol],  # both
        ]
        for tier in tiers:  # later tiers are more specific and override earlier ones
            for limits in tier:
                chosen.update(limits)
        return chosen

    def decide(self, ctx: dict[str, Any]) -> tuple[bool, set[str]]:
        order, market, account = ctx["order"], ctx["market"], ctx["account"]
        state = ctx.get("state", {})
        action = order.get("action", "new")
        if action == "cancel":
            return True, set()

        def num(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        qty, price = num(order["qty"]), num(order.get("price"))
        kind = order.get("type", "limit")
        bid, ask = num(market.get("bid")), num(market.get("ask"))
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        buy = order["side"] == "buy"
        signed = qty if buy else -qty
        valuation = price if kind == "limit" else (ask if buy else bid)
        notional = None if valuation is None else qty * valuation
        position = num(ctx.get("position", {}).get("qty", "0"))
        after = position + signed
        reduces = position != 0 and (signed > 0) != (position > 0) and qty <= abs(position)
        is_exit = reduces and bool(order.get("reduce_only", False))
        gross = num(account.get("gross_exposure", "0"))

        fired: set[str] = set()

        def check(name: str, condition: Any) -> None:
            if is_exit and name not in APPLY_TO_EXITS:
                return
            try:
                if condition():
                    fired.add(name)
            except TypeError:  # a null where a number was needed: the check fails closed
                fired.add(name)

        check("kill_switch", lambda: state.get("kill_switch", False))
        check("halted", lambda: state.get("trading_state") == "HALTED")
        check("reducing", lambda: state.get("trading_state") == "REDUCING")
        check("order_type_price", lambda: (kind == "limit") == (price is None))
        # Order sanity, always on: a market order must be valued; a GTD order must expire later.
        check("market_without_quote", lambda: kind == "market" and valuation is None)
        check(
            "gtd_expired",
            lambda: (
                order.get("time_in_force", "GTC") == "GTD"
                and (order.get("expire_at_ms") is None or order["expire_at_ms"] <= ctx["now_ms"])
            ),
        )

        venue, symbol = order["venue"], order["symbol"]
        if (venue, symbol) not in self.universe:
            check("unknown_instrument", lambda: True)
        else:
            lim = self.limits_for(venue, symbol)
            tests = {
                "max_order_qty": lambda v: qty > v,
                "max_order_notional": lambda v: notional is None or notional > v,
                # bps distance from mid, cross-multiplied so no division rounds
                "price_collar_bps": lambda v: (
                    kind == "limit" and (mid is None or abs(price - mid) * 10000 > v * mid)
                ),
                "max_position_qty": lambda v: not reduces and abs(after) > v,
                "max_position_notional": lambda v: (
                    not reduces and (valuation is None or abs(after) * valuation > v)
                ),
                "max_gross_exposure": lambda v: (
                    not reduces and (notional is None or gross + notional > v)
                ),
                "max_open_orders": lambda v: account.get("open_orders", 0) + 1 > v,
                # counts new orders only; amends have their own limit (not set in the example)
                "max_orders_per_second": lambda v: (
                    action == "new" and account.get("orders_last_second", 0) + 1 > v
                ),
                "max_daily_loss": lambda v: -num(account.get("daily_pnl", "0")) > v,
                "max_drawdown": lambda v: num(account.get("drawdown", "0")) > v,
                "stale_market_data_ms": lambda v: market["age_ms"] > v,
                "stale_balance_ms": lambda v: account["balance_age_ms"] > v,
            }
            for name, test in tests.items():
                if name in lim:
                    check(name, lambda test=test, v=lim[name]: test(v))

        # Custom pre_trade rules (neither applies to exits).
        check(
            "wide-spread-no-market-orders",
            lambda: kind == "market" and mid is not None and (ask - bid) * 10000 > 20 * mid,
        )
        check(
            "thin-balance",
            lambda: num(account["available_balance"]) < Decimal("0.05") * num(account["equity"]),
        )
        allowed = not (fired - {"thin-balance"})  # thin-balance is in audit mode
        return allowed, fired


REFERENCE = Reference.load()
GATE = Gate.from_path(POLICIES)
VENUES = ["binance", "okx", "binance", "okx", "kraken"]
SYMBOLS = ["BTC/USDT", "ETH/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT"]
NOW = 1_700_000_000_000
MIDS = {"BTC/USDT": Decimal("65000"), "ETH/USDT": Decimal("3200"), "SOL/USDT": Decimal("150")}


def random_context(rng: random.Random) -> dict[str, Any]:
    """A valid pre_trade context, biased toward every limit's edge and to exits."""
    symbol = rng.choice(SYMBOLS)
    mid = MIDS[symbol] * Decimal(rng.choice([1, 1, 1, "0.999", "1.0003"]))
    half_spread = mid * Decimal(rng.choice(["0.00001", "0.0005", "0.001", "0.00099", "0.0015"]))
    bid, ask = mid - half_spread, mid + half_spread
    if rng.random() < 0.05:
        bid = None
    if rng.random() < 0.05:
        ask = None
    kind = rng.choice(["limit", "limit", "limit", "market"])
    side = rng.choice(["buy", "sell"])
    sign = 1 if side == "buy" else -1
    bps = Decimal(rng.choice([0, 10, 49, 50, 51, 74, 75, 76, 200]))
    away = rng.choice([1, -1])
    price: Decimal | None = (mid * (1 + away * bps / 10000)).quantize(Decimal("0.00000001"))
    if rng.random() < 0.1:
        price = mid * (1 + away * bps / 10000)  # exactly on the collar edge
    if kind == "market":
        price = None if rng.random() < 0.95 else price
    elif rng.random() < 0.03:
        price = None
    qty = Decimal(
        rng.choice(
            ["0.001", "0.5", "1", "2", "2.00000001", "5", "5.00000001", "10", "79", "80", "81"]
        )
    )
    if rng.random() < 0.3:
        qty = Decimal(rng.randint(1, 10**6)) / 10**4
    position = Decimal(rng.choice([0, 0, 1, 5, 10, 20, 25, 30, 300, 400])) * rng.choice([1, -1])
    if rng.random() < 0.3:
        position = -sign * (qty + Decimal(rng.choice([0, 0, 1, 3])))  # an opposite position
    gtd: dict[str, Any] = {}
    if rng.random() < 0.05:
        gtd = {"time_in_force": "GTD", "expire_at_ms": rng.choice([None, NOW - 1, NOW, NOW + 1])}
    elif rng.random() < 0.1:
        gtd = {"time_in_force": rng.choice(["GTC", "IOC", "FOK", "PO"])}
    ctx: dict[str, Any] = {
        "now_ms": NOW,
        "order": {
            "venue": rng.choice(VENUES),
            "symbol": symbol,
            "side": side,
            "type": kind,
            "action": rng.choice(["new"] * 8 + ["amend", "cancel"]),
            "qty": str(qty),
            "price": None if price is None else str(price),
            "reduce_only": rng.random() < 0.4,
            **gtd,
            "client_order_id": f"c-{rng.randint(0, 10**9)}",
            "strategy": "mm",
        },
        "market": {
            "bid": None if bid is None else str(bid),
            "ask": None if ask is None else str(ask),
            "age_ms": rng.choice([0, 100, 1999, 2000, 2001, 5000]),
        },
        "position": {"qty": str(position)},
        "account": {
            "equity": str(rng.choice([1_000_000, 2_000_000])),
            "available_balance": str(rng.choice([10_000, 49_999, 50_000, 100_000, 900_000])),
            "balance_age_ms": rng.choice([0, 5000, 30000, 30001]),
            "gross_exposure": str(rng.choice([0, 500_000, 1_900_000, 1_999_999, 2_000_000])),
            "daily_pnl": str(rng.choice([0, 1000, -49_999, -50_000, "-50000.01", -60_000])),
            "drawdown": str(rng.choice([0, 79_999, 80_000, "80000.01"])),
            "open_orders": rng.choice([0, 40, 199, 200]),
            "orders_last_second": rng.choice([0, 9, 10, 19, 20]),
        },
        "state": {
            "trading_state": rng.choice(["ACTIVE"] * 8 + ["REDUCING", "HALTED"]),
            "kill_switch": rng.random() < 0.05,
        },
    }
    if rng.random() < 0.35:  # calm account and state: one order edge at a time decides
        ctx["account"].update(
            available_balance="900000",
            balance_age_ms=0,
            gross_exposure="0",
            daily_pnl="0",
            drawdown="0",
            open_orders=0,
            orders_last_second=0,
        )
        ctx["market"]["age_ms"] = 0
        ctx["state"] = {"trading_state": "ACTIVE", "kill_switch": False}
    return ctx


def engine_view(ctx: dict[str, Any]) -> tuple[bool, set[str]]:
    decision = GATE.evaluate("pre_trade", ctx)
    return decision.allowed, {hit.rule_id for hit in decision.hits}


def disagreements(contexts: list[dict[str, Any]]) -> str:
    """Empty when all agree; else each kind of disagreement with a count and one example."""
    kinds: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for ctx in contexts:
        expected, actual = REFERENCE.decide(ctx), engine_view(ctx)
        if expected != actual:
            kind = (expected[0], actual[0], tuple(sorted(expected[1] ^ actual[1])))
            kinds.setdefault(kind, []).append(ctx)
    return "\n".join(
        f"{len(found)} x reference allowed={ref} engine allowed={eng} differ on {rules};"
        f" e.g. order={found[0]['order']} position={found[0]['position']}"
        for (ref, eng, rules), found in kinds.items()
    )


def test_reference_reads_the_example_numbers() -> None:
    btc_okx = REFERENCE.limits_for("okx", "BTC/USDT")
    assert btc_okx["max_order_qty"] == 2
    assert btc_okx["max_order_notional"] == 120_000
    assert btc_okx["max_orders_per_second"] == 10
    assert btc_okx["max_position_qty"] == 25
    eth_binance = REFERENCE.limits_for("binance", "ETH/USDT")
    assert eth_binance["price_collar_bps"] == 75
    assert eth_binance["max_orders_per_second"] == 20
    assert ("kraken", "BTC/USDT") not in REFERENCE.universe


def test_hand_picked_contexts_agree() -> None:
    rng = random.Random(0)
    base = random_context(rng)
    base["order"].update(
        venue="okx",
        symbol="BTC/USDT",
        side="buy",
        type="limit",
        action="new",
        qty="1.8",
        price="65000",
        reduce_only=False,
    )
    base["market"].update(bid="64999", ask="65001", age_ms=0)
    base["position"] = {"qty": "0"}
    base["account"].update(
        balance_age_ms=0,
        gross_exposure="0",
        daily_pnl="0",
        drawdown="0",
        open_orders=0,
        orders_last_second=0,
        available_balance="900000",
    )
    base["state"] = {"trading_state": "ACTIVE", "kill_switch": False}
    assert REFERENCE.decide(base) == engine_view(base) == (True, set())
    over = {**base, "order": {**base["order"], "qty": "2.00000001"}}
    assert (
        REFERENCE.decide(over)
        == engine_view(over)
        == (False, {"max_order_qty", "max_order_notional"})
    )


def test_thousands_of_seeded_contexts_agree() -> None:
    rng = random.Random(20261123)
    contexts = [random_context(rng) for _ in range(5000)]
    assert not (problems := disagreements(contexts)), problems


@given(seed=st.integers(0, 2**32 - 1))
def test_hypothesis_contexts_agree(seed: int) -> None:
    ctx = random_context(random.Random(seed))
    assert REFERENCE.decide(ctx) == engine_view(ctx), ctx
