"""A modified order is the exact order that passes, on every modify path.

For any order the gate answers with ``modify``, ``{**order, **decision.modifications}``
evaluated again is allowed as it stands: outcome allow, no further modifications. The
paths: a price moved onto the tick grid, a quantity rounded onto the step, clips to the
instrument's max_qty and max_notional and to max_order_qty, max_position_qty and
max_order_notional (clip_order_qty), float noise replaced by its grid point, for orders
sized in base units or in quote currency (which stay quote-sized), limit or market.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl.decision import Outcome
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[2]
INSTRUMENTS = REPO / "tests" / "data" / "conformance" / "instruments.yaml"
D = Decimal

# symbol: (venue, tick, step, a typical price, max_order_qty, max_order_notional)
SYMBOLS = {
    "TICK1/USDT": ("binance", D("0.01"), D("0.001"), D("2500"), "30", "50000"),
    "TICK5/USDT": ("binance", D("0.05"), D(1), D("80"), "3000", "15000"),
    "HALF/USDT": ("binance", D("0.5"), D("0.001"), D("1000"), "60", "500000"),
    "MICRO/USDT": ("binance", D("1e-8"), D(1), D("0.00001"), "5000000000", "50000"),
    "SIG/USD": ("bitfinex", D(1), D("0.001"), D("12345"), "500", "1000000"),
}

LIMITS = """apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: modify-paths, version: 1, owner: tests}
spec:
  environment: paper
  venues:
    - {venue: binance, account: a-1, symbols: [TICK1/USDT, TICK5/USDT, HALF/USDT, MICRO/USDT]}
    - {venue: bitfinex, account: a-2, symbols: [SIG/USD]}
  defaults:
    clip_order_qty: true
    conformance:
      price_off_grid: modify
      qty_off_grid: modify
      qty_above_max: modify
      notional_above_max: modify
  scoped:
"""


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    lines = [LIMITS]
    for symbol, (_, _, _, _, qty, notional) in SYMBOLS.items():
        position = str(D(qty) * 3 / 2)
        lines.append(
            f"    - {{scope: {{symbol: {symbol}}}, max_order_qty: {qty},"
            f" max_order_notional: {notional}, max_position_qty: {position}}}\n"
        )
    path = tmp_path_factory.mktemp("modify") / "limits.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return Gate.from_path(INSTRUMENTS, path)


def _noisy(value: Decimal) -> str:
    """``value`` as a float sum that should equal it: often float noise of it."""
    return repr(float(value - D("0.1")) + 0.1)


@st.composite
def orders(draw: st.DrawFn) -> dict[str, Any]:
    symbol = draw(st.sampled_from(sorted(SYMBOLS)))
    venue, tick, step, typical, max_qty, _ = SYMBOLS[symbol]
    side = draw(st.sampled_from(["buy", "sell"]))
    kind = draw(st.sampled_from(["limit", "limit", "market"]))
    on_grid = typical * D(draw(st.integers(5, 300))) / 100
    on_grid = (on_grid / tick).to_integral_value() * tick
    price_form = draw(st.sampled_from(["on", "off", "noise"]))
    price = {
        "on": str(on_grid),
        "off": str(on_grid + tick * D(draw(st.sampled_from(["0.3", "0.5", "0.77"])))),
        "noise": _noisy(on_grid),
    }[price_form]
    qty = step * draw(st.integers(1, int(D(max_qty) * 3 / step) if step < 1 else int(max_qty) * 3))
    qty_form = draw(st.sampled_from(["on", "off", "noise", "quote"]))
    size: dict[str, str] = {
        "on": {"qty": str(qty)},
        "off": {"qty": str(qty + step * D("0.4"))},
        "noise": {"qty": _noisy(qty)},
        "quote": {"quote_qty": str((qty * on_grid).quantize(D("0.01")) or D(1))},
    }[qty_form]
    position = draw(st.sampled_from(["0", "0", str(qty), str(-qty), max_qty]))
    order: dict[str, Any] = {
        "venue": venue,
        "symbol": symbol,
        "side": side,
        "type": kind,
        **size,
        "client_order_id": "c-1",
        "strategy": "mm",
    }
    if kind == "limit":
        order["price"] = price
    spread = on_grid * D("0.001")
    return {
        "now_ms": 1_700_000_000_000,
        "order": order,
        "market": {"bid": str(on_grid - spread), "ask": str(on_grid + spread), "age_ms": 0},
        "position": {"qty": position},
        "account": {"equity": "1e9", "available_balance": "1e9", "balance_age_ms": 0},
    }


def applied(ctx: dict[str, Any], modifications: Any) -> dict[str, Any]:
    fixed = {key: str(value) for key, value in modifications.items()}
    return {**ctx, "order": {**ctx["order"], **fixed}}


@given(ctx=orders())
def test_modify_when_the_modified_order_is_sent_as_given_then_it_passes_unchanged(
    gate: Gate, ctx: dict[str, Any]
) -> None:
    decision = gate.evaluate("pre_trade", ctx)
    if decision.outcome is Outcome.REJECT:
        assert decision.modifications == {}
        return
    if decision.outcome is Outcome.ALLOW:
        return
    if "quote_qty" in ctx["order"]:
        assert "qty" not in decision.modifications  # stays quote-sized: never both sizes

    again = gate.evaluate("pre_trade", applied(ctx, decision.modifications))

    assert again.outcome is Outcome.ALLOW, (
        dict(decision.modifications),
        [(h.code, h.message) for h in again.hits],
    )
    assert again.modifications == {}


def test_modify_paths_are_all_reached_by_the_generated_orders(gate: Gate) -> None:
    """The property above is worth having: every fix appears among generated decisions."""
    seen: set[str] = set()
    sizes: set[str] = set()

    @settings(derandomize=True, max_examples=400, database=None)
    @given(ctx=orders())
    def collect(ctx: dict[str, Any]) -> None:
        decision = gate.evaluate("pre_trade", ctx)
        if decision.outcome is Outcome.MODIFY:
            seen.update(hit.rule_id for hit in decision.hits if hit.action in ("clip", "round"))
            sizes.update(decision.modifications)

    collect()
    assert seen >= {
        "price_off_grid",
        "qty_off_grid",
        "qty_above_max",
        "notional_above_max",
        "max_order_qty",
        "max_position_qty",
        "max_order_notional",
        "float_noise",
    }
    assert sizes >= {"price", "qty", "quote_qty"}
