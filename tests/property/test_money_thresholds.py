"""Money at a threshold: exactly at a limit passes, one step under passes, one step over fails.

Values are built like real quantities and prices (up to 8 decimal places), including the
``0.3 x 0.1`` kind whose float product drifts above ``0.03``. Every limit goes through a
real YAML policy and a real Gate, so parsing, templating and evaluation are all covered.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from riskctl import Gate, Outcome

STEP = Decimal("1e-8")


@st.composite
def amounts(draw: st.DrawFn, *, digits: int = 7, places: int = 8) -> Decimal:
    """A positive decimal with up to ``digits`` significant digits and ``places`` decimals."""
    number = draw(st.integers(1, 10**digits - 1))
    return Decimal(number).scaleb(-draw(st.integers(0, places)))


def _limits_yaml(name: str, value: Decimal) -> str:
    return (
        "apiVersion: riskctl/v1\n"
        "kind: RiskLimits\n"
        "metadata: {name: money, version: 1, owner: tests}\n"
        "spec:\n"
        "  environment: paper\n"
        "  venues:\n"
        "    - {venue: binance, account: mm-binance-1, symbols: [BTC/USDT]}\n"
        f"  defaults: {{{name}: {format(value, 'f')}}}\n"
    )


@pytest.fixture(scope="module")
def gate_for(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Decimal], Gate]:
    """A Gate with one limit set in its defaults, written as plain YAML and cached by value."""
    root: Path = tmp_path_factory.mktemp("money")
    cache: dict[tuple[str, Decimal], Gate] = {}

    def build(name: str, value: Decimal) -> Gate:
        key = (name, value)
        if key not in cache:
            directory = root / f"g{len(cache)}"
            directory.mkdir()
            (directory / "limits.yaml").write_text(_limits_yaml(name, value), encoding="utf-8")
            gate = Gate.from_path(directory)
            assert gate.bundle.documents[0].spec.defaults.model_dump()[name] == value  # type: ignore[attr-defined]
            cache[key] = gate
        return cache[key]

    return build


def context(
    *,
    side: str = "buy",
    qty: Decimal,
    price: Decimal,
    position: Decimal = Decimal(0),
    mid: Decimal | None = None,
) -> dict[str, Any]:
    mid = price if mid is None else mid
    spread = min(mid / 4, Decimal("0.01"))
    return {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": side,
            "type": "limit",
            "qty": qty,
            "price": price,
            "client_order_id": "c-1",
            "strategy": "mm",
        },
        "market": {"bid": mid - spread, "ask": mid + spread, "age_ms": 0},
        "position": {"qty": position},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
    }


def decide(gate: Gate, data: dict[str, Any]) -> tuple[bool, list[str]]:
    decision = gate.evaluate("pre_trade", data)
    codes = [hit.code for hit in decision.hits]
    assert decision.outcome in (Outcome.ALLOW, Outcome.REJECT), codes
    return decision.allowed, codes


def assert_threshold(
    gate: Gate, code: str, at: dict[str, Any], under: dict[str, Any] | None, over: dict[str, Any]
) -> None:
    allowed, codes = decide(gate, at)
    assert allowed, f"exactly at the limit was refused: {codes}"
    if under is not None:
        allowed, codes = decide(gate, under)
        assert allowed, f"one step under the limit was refused: {codes}"
    allowed, codes = decide(gate, over)
    assert not allowed, "one step over the limit passed"
    assert codes == [code]


# -- max_order_notional ------------------------------------------------------------------------


@given(qty=amounts(digits=6), price=amounts(digits=6), bump=st.sampled_from(["qty", "price"]))
@example(qty=Decimal("0.3"), price=Decimal("0.1"), bump="qty")
@example(qty=Decimal("3"), price=Decimal("0.1"), bump="price")
@example(qty=Decimal("0.1"), price=Decimal("0.7"), bump="qty")
@example(qty=Decimal("1.1"), price=Decimal("1.1"), bump="price")
def test_when_notional_is_at_under_or_over_max_order_notional_then_only_over_rejects(
    gate_for, qty: Decimal, price: Decimal, bump: str
) -> None:
    limit = qty * price
    assume(limit <= Decimal("1e10"))
    gate = gate_for("max_order_notional", limit)
    at = context(qty=qty, price=price)
    if bump == "qty":
        under = context(qty=qty - STEP, price=price) if qty > STEP else None
        over = context(qty=qty + STEP, price=price)
    else:
        under = context(qty=qty, price=price - STEP) if price > STEP else None
        over = context(qty=qty, price=price + STEP)
    assert_threshold(gate, "limit.max_order_notional", at, under, over)


# -- max_order_qty -----------------------------------------------------------------------------


@given(limit=amounts(digits=10), price=amounts(digits=5))
@example(limit=Decimal("0.3"), price=Decimal("0.1"))
@example(limit=Decimal("0.00000001"), price=Decimal("1"))
def test_when_qty_is_at_under_or_over_max_order_qty_then_only_over_rejects(
    gate_for, limit: Decimal, price: Decimal
) -> None:
    gate = gate_for("max_order_qty", limit)
    assert_threshold(
        gate,
        "limit.max_order_qty",
        context(qty=limit, price=price),
        context(qty=limit - STEP, price=price) if limit > STEP else None,
        context(qty=limit + STEP, price=price),
    )


# -- max_position_qty --------------------------------------------------------------------------


@given(
    limit=amounts(digits=9),
    fraction=st.integers(-99, 99),
    side=st.sampled_from(["buy", "sell"]),
    price=amounts(digits=5),
)
@example(limit=Decimal("0.3"), fraction=33, side="buy", price=Decimal("0.1"))
@example(limit=Decimal("0.3"), fraction=-33, side="sell", price=Decimal("0.1"))
def test_when_position_after_is_at_under_or_over_max_position_qty_then_only_over_rejects(
    gate_for, limit: Decimal, fraction: int, side: str, price: Decimal
) -> None:
    position = (limit * fraction / 100).quantize(STEP)
    assume(abs(position) < limit)
    gate = gate_for("max_position_qty", limit)
    # the order that takes |position| exactly to the limit on its side
    qty = limit - position if side == "buy" else limit + position
    assert qty > 0

    def ctx(q: Decimal) -> dict[str, Any]:
        return context(side=side, qty=q, price=price, position=position)

    assert_threshold(
        gate,
        "limit.max_position_qty",
        ctx(qty),
        ctx(qty - STEP) if qty > STEP else None,
        ctx(qty + STEP),
    )


# -- price_collar_bps --------------------------------------------------------------------------


@given(
    mid=amounts(digits=8, places=6),
    bps=amounts(digits=4, places=2),
    above=st.booleans(),
    side=st.sampled_from(["buy", "sell"]),
)
@example(mid=Decimal("0.3"), bps=Decimal("50"), above=True, side="buy")
@example(mid=Decimal("100"), bps=Decimal("50"), above=False, side="sell")
@example(mid=Decimal("65000.1"), bps=Decimal("0.01"), above=True, side="sell")
def test_when_price_is_at_under_or_over_the_collar_then_only_over_rejects(
    gate_for, mid: Decimal, bps: Decimal, above: bool, side: str
) -> None:
    assume(bps <= 10_000)
    distance = mid * bps / 10_000
    edge = mid + distance if above else mid - distance
    assume(edge - STEP > 0)
    assume(2 * distance >= STEP)  # else one step inward already crosses mid to the far edge
    outward = STEP if above else -STEP
    gate = gate_for("price_collar_bps", bps)

    def ctx(price: Decimal) -> dict[str, Any]:
        return context(side=side, qty=Decimal(1), price=price, mid=mid)

    assert_threshold(
        gate, "limit.price_collar_bps", ctx(edge), ctx(edge - outward), ctx(edge + outward)
    )
