"""Properties of price and quantity grids, in riskctl.grid and through the gate.

* A value generated on the grid (k x increment, written with any number of trailing zeros)
  is always accepted.
* A value off the grid (k x increment + a smaller non-zero offset) is always refused, or,
  with ``modify``, moved onto the grid toward the passive side (buy price down, sell price
  up, quantity down), landing on the grid within one increment, and the fixed order passes.
* The same for significant-digit venues, where "one increment" is one unit in the last
  allowed digit of the value.

Gate-level examples carry their own instrument (grid only, no size bounds), so nothing but
the grid checks can fire.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate
from riskctl.grid import on_grid, sig_digits, snap

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "conformance"
D = Decimal

INCREMENTS = ["0.01", "0.05", "0.5", "0.00000001", "0.001", "1", "0.25", "10", "0.0001"]
PRICE_OFF = "instrument.price_off_grid"
QTY_OFF = "instrument.qty_off_grid"


@cache
def reject_gate() -> Gate:
    return Gate.from_path(DATA / "instruments.yaml", DATA / "limits-reject.yaml")


@cache
def modify_gate() -> Gate:
    return Gate.from_path(DATA / "instruments.yaml", DATA / "limits-modify.yaml")


def with_zeros(value: Decimal, zeros: int) -> Decimal:
    """The same number written with ``zeros`` more trailing zeros (172.06 -> 172.0600)."""
    exponent = min(value.as_tuple().exponent, 0)  # type: ignore[type-var]
    return value.quantize(D(1).scaleb(exponent - zeros))


increments = st.sampled_from(INCREMENTS).map(D)
multiples = st.integers(min_value=1, max_value=10**10)
zeros = st.integers(min_value=0, max_value=6)


@st.composite
def fractions(draw: st.DrawFn) -> Decimal:
    """A fraction strictly between 0 and 1 with up to 6 decimals."""
    places = draw(st.integers(min_value=1, max_value=6))
    numerator = draw(st.integers(min_value=1, max_value=10**places - 1))
    return D(numerator).scaleb(-places)


@st.composite
def sig_values(draw: st.DrawFn, *, digits: int, extra: int) -> Decimal:
    """A positive value with exactly ``digits + extra`` significant digits (extra >= 0)."""
    total = digits + extra
    mantissa = draw(st.integers(min_value=10 ** (total - 1), max_value=10**total - 1))
    if extra and mantissa % 10 == 0:
        mantissa += 1  # the last digit must count
    # below 1e12: contexts refuse prices and sizes above 1e15 (a located input error)
    exponent = draw(st.integers(min_value=-12, max_value=12 - total))
    return D(mantissa).scaleb(exponent)


def unit_of_last_digit(value: Decimal, digits: int) -> Decimal:
    return D(1).scaleb(value.adjusted() - digits + 1)


# -- riskctl.grid -----------------------------------------------------------------------------


@given(increments, multiples, zeros)
@example(D("0.01"), 17206, 2)  # 172.0600
@example(D("0.1"), 3, 0)  # 0.3: where float 0.1 + 0.2 drifts
def test_on_grid_when_value_is_a_multiple_written_with_trailing_zeros_then_true(
    increment: Decimal, k: int, extra_zeros: int
) -> None:
    value = with_zeros(k * increment, extra_zeros)

    assert value == k * increment
    assert on_grid(value, increment=increment, significant=None)
    assert snap(value, increment=increment, significant=None, up=False) == value
    assert snap(value, increment=increment, significant=None, up=True) == value


@given(increments, multiples, fractions())
@example(D("0.01"), 10001, D("0.7"))  # 100.017
def test_on_grid_when_value_is_off_by_less_than_one_increment_then_false_and_snaps_around_it(
    increment: Decimal, k: int, fraction: Decimal
) -> None:
    value = k * increment + fraction * increment

    down = snap(value, increment=increment, significant=None, up=False)
    up = snap(value, increment=increment, significant=None, up=True)

    assert not on_grid(value, increment=increment, significant=None)
    assert down == k * increment
    assert up == (k + 1) * increment
    assert down < value < up
    assert on_grid(down, increment=increment, significant=None)
    assert on_grid(up, increment=increment, significant=None)


@given(st.integers(min_value=1, max_value=10), st.data())
def test_sig_digits_when_value_has_at_most_n_digits_then_on_grid(n: int, data: Any) -> None:
    fewer = data.draw(st.integers(min_value=1, max_value=n))
    value = with_zeros(data.draw(sig_values(digits=fewer, extra=0)), data.draw(zeros))

    assert sig_digits(value) <= fewer
    assert on_grid(value, increment=None, significant=n)
    assert snap(value, increment=None, significant=n, up=False) == value
    assert snap(value, increment=None, significant=n, up=True) == value


@given(st.integers(min_value=1, max_value=10), st.integers(min_value=1, max_value=4), st.data())
def test_sig_digits_when_value_has_more_than_n_digits_then_off_grid_and_snaps_within_one_unit(
    n: int, extra: int, data: Any
) -> None:
    value = data.draw(sig_values(digits=n, extra=extra))
    unit = unit_of_last_digit(value, n)

    down = snap(value, increment=None, significant=n, up=False)
    up = snap(value, increment=None, significant=n, up=True)

    assert not on_grid(value, increment=None, significant=n)
    assert down < value < up
    assert value - down < unit
    assert up - value < unit
    assert sig_digits(down) <= n
    assert sig_digits(up) <= n


# -- through the gate ------------------------------------------------------------------------


def context(
    *, side: str, price: Decimal, qty: Decimal, instrument: dict[str, Any]
) -> dict[str, Any]:
    return {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "TICK1/USDT",
            "side": side,
            "qty": str(qty),
            "price": str(price),
            "client_order_id": "cid-prop",
            "strategy": "mm",
        },
        "market": {"bid": str(price), "ask": str(price), "age_ms": 0},
        "account": {"equity": "1", "available_balance": "1", "balance_age_ms": 0},
        "instrument": {"venue": "binance", "symbol": "TICK1/USDT", **instrument},
    }


def grid(tick: Decimal | None = None, step: Decimal | None = None, **digits: int) -> dict:
    fields: dict[str, Any] = dict(digits)
    if tick is not None:
        fields["price_increment"] = str(tick)
    if step is not None:
        fields["qty_increment"] = str(step)
    return fields


def codes(decision: Decision) -> set[str]:
    return {hit.code for hit in decision.hits}


def reevaluated(ctx: dict[str, Any], decision: Decision) -> Decision:
    order = {**ctx["order"], **{k: str(v) for k, v in decision.modifications.items()}}
    return modify_gate().evaluate("pre_trade", {**ctx, "order": order})


sides = st.sampled_from(["buy", "sell"])
small_multiples = st.integers(min_value=1, max_value=10**8)


on_grid_values = st.tuples(increments, small_multiples, zeros)


@given(on_grid_values, on_grid_values, sides)
def test_gate_when_price_and_qty_are_on_the_grid_then_always_allowed(
    price_grid: tuple[Decimal, int, int], qty_grid: tuple[Decimal, int, int], side: str
) -> None:
    (tick, k_price, price_zeros), (step, k_qty, qty_zeros) = price_grid, qty_grid
    price = with_zeros(k_price * tick, price_zeros)
    qty = with_zeros(k_qty * step, qty_zeros)
    ctx = context(side=side, price=price, qty=qty, instrument=grid(tick, step))

    for gate in (reject_gate(), modify_gate()):
        decision = gate.evaluate("pre_trade", ctx)
        assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


@given(increments, small_multiples, fractions(), sides)
@example(D("0.01"), 10001, D("0.7"), "buy")
@example(D("0.01"), 10001, D("0.7"), "sell")
def test_gate_when_price_is_off_the_tick_grid_then_refused_or_moved_to_the_passive_side(
    tick: Decimal, k: int, fraction: Decimal, side: str
) -> None:
    price = k * tick + fraction * tick
    ctx = context(side=side, price=price, qty=D(1), instrument=grid(tick, D("0.001")))

    refused = reject_gate().evaluate("pre_trade", ctx)
    fixed = modify_gate().evaluate("pre_trade", ctx)

    assert refused.outcome is Outcome.REJECT
    assert codes(refused) == {PRICE_OFF}
    assert fixed.outcome is Outcome.MODIFY
    moved = fixed.modifications["price"]
    assert set(fixed.modifications) == {"price"}
    assert on_grid(moved, increment=tick, significant=None)
    if side == "buy":
        assert price - tick < moved < price
    else:
        assert price < moved < price + tick
    assert reevaluated(ctx, fixed).outcome is Outcome.ALLOW


@given(increments, small_multiples, fractions(), sides)
def test_gate_when_qty_is_off_the_step_grid_then_refused_or_rounded_down(
    step: Decimal, k: int, fraction: Decimal, side: str
) -> None:
    qty = k * step + fraction * step
    ctx = context(side=side, price=D("100"), qty=qty, instrument=grid(D("0.01"), step))

    refused = reject_gate().evaluate("pre_trade", ctx)
    fixed = modify_gate().evaluate("pre_trade", ctx)

    assert codes(refused) == {QTY_OFF}
    assert fixed.outcome is Outcome.MODIFY
    assert dict(fixed.modifications) == {"qty": k * step}
    assert qty - step < fixed.modifications["qty"] < qty
    assert reevaluated(ctx, fixed).outcome is Outcome.ALLOW


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=8), st.data())
def test_gate_when_values_have_allowed_significant_digits_then_always_allowed(
    price_digits: int, qty_digits: int, data: Any
) -> None:
    price = with_zeros(data.draw(sig_values(digits=price_digits, extra=0)), data.draw(zeros))
    qty = with_zeros(data.draw(sig_values(digits=qty_digits, extra=0)), data.draw(zeros))
    instrument = grid(price_sig_digits=price_digits, qty_sig_digits=qty_digits)
    ctx = context(side=data.draw(sides), price=price, qty=qty, instrument=instrument)

    for gate in (reject_gate(), modify_gate()):
        assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=4), st.data())
def test_gate_when_price_has_too_many_significant_digits_then_refused_or_moved_passively(
    digits: int, extra: int, data: Any
) -> None:
    price = data.draw(sig_values(digits=digits, extra=extra))
    side = data.draw(sides)
    ctx = context(side=side, price=price, qty=D(1), instrument=grid(price_sig_digits=digits))

    refused = reject_gate().evaluate("pre_trade", ctx)
    fixed = modify_gate().evaluate("pre_trade", ctx)

    assert codes(refused) == {PRICE_OFF}
    assert fixed.outcome is Outcome.MODIFY
    moved = fixed.modifications["price"]
    unit = unit_of_last_digit(price, digits)
    assert sig_digits(moved) <= digits
    if side == "buy":
        assert price - unit < moved < price
    else:
        assert price < moved < price + unit
    assert reevaluated(ctx, fixed).outcome is Outcome.ALLOW


@given(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=4), st.data())
def test_gate_when_qty_has_too_many_significant_digits_then_refused_or_rounded_down(
    digits: int, extra: int, data: Any
) -> None:
    qty = data.draw(sig_values(digits=digits, extra=extra))
    ctx = context(
        side=data.draw(sides), price=D("100"), qty=qty, instrument=grid(qty_sig_digits=digits)
    )

    refused = reject_gate().evaluate("pre_trade", ctx)
    fixed = modify_gate().evaluate("pre_trade", ctx)

    assert codes(refused) == {QTY_OFF}
    moved = fixed.modifications["qty"]
    assert qty - unit_of_last_digit(qty, digits) < moved < qty
    assert sig_digits(moved) <= digits
    assert reevaluated(ctx, fixed).outcome is Outcome.ALLOW
