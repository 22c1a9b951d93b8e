"""Venue conformance through the gate: grids, size and notional bounds, order types, instrument.

Also the always-on order sanity rules (market order without a quote, expired GTD), the amend
rate, and how market and quote-sized orders are valued. Bounds follow the equality rule: a
value exactly at a limit passes; one step of the grid beyond it fails.

Instruments (tests/data/conformance/instruments.yaml):

================  ==========  ======  =======  ===========  =====  =======
symbol            tick        step    min_qty  max_qty      min_n  max_n
================  ==========  ======  =======  ===========  =====  =======
TICK1/USDT        0.01        0.001   0.01     50           10     100000
TICK5/USDT        0.05        1       2        5000         20     20000
HALF/USDT         0.5         0.001   0.001    100          5      1000000
MICRO/USDT        0.00000001  1       100000   50000000000  1      100000
SIG/USD           5 sig dig.  4 sig   0.001    1000         -      -
LIMITONLY/USDT    0.01        0.001   limit orders only
BTC/USDT          0.01        0.00001 0.00001  9000         5      9000000
================  ==========  ======  =======  ===========  =====  =======
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riskctl.context import PreTradeContext
from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "conformance"
INSTRUMENTS = DATA / "instruments.yaml"
D = Decimal
NOW = 1_700_000_000_000
_UNSET: Any = object()


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate.from_path(INSTRUMENTS, DATA / "limits-reject.yaml")


def context(
    symbol: str,
    *,
    side: str = "buy",
    qty: Any = "1",
    price: Any = "100",
    kind: str = "limit",
    bid: Any = _UNSET,
    ask: Any = _UNSET,
    position: str = "0",
    reduce_only: bool = False,
    account: dict[str, Any] | None = None,
    **order: Any,
) -> dict[str, Any]:
    """A pre_trade context for one order; the gate fills the instrument in from the bundle."""
    venue = "bitfinex" if symbol == "SIG/USD" else "binance"
    size = {"quote_qty": order.pop("quote_qty")} if "quote_qty" in order else {"qty": qty}
    body: dict[str, Any] = {
        "venue": venue,
        "symbol": symbol,
        "side": side,
        "type": kind,
        **size,
        "reduce_only": reduce_only,
        "client_order_id": "cid-1",
        "strategy": "mm",
        **order,
    }
    if kind == "limit":
        body["price"] = price
    market_price = price if price is not None else "100"
    return {
        "now_ms": NOW,
        "order": body,
        "market": {
            "bid": market_price if bid is _UNSET else bid,
            "ask": market_price if ask is _UNSET else ask,
            "age_ms": 0,
        },
        "position": {"qty": position},
        "account": {
            "equity": "1000000",
            "available_balance": "1000000",
            "balance_age_ms": 0,
            **(account or {}),
        },
    }


def codes(decision: Decision) -> set[str]:
    return {hit.code for hit in decision.hits}


def hit(decision: Decision, code: str) -> Any:
    found = [h for h in decision.hits if h.code == code]
    assert len(found) == 1, [h.code for h in decision.hits]
    return found[0]


PRICE = "instrument.price_off_grid"
QTY = "instrument.qty_off_grid"
QMIN = "instrument.qty_below_min"
QMAX = "instrument.qty_above_max"
NMIN = "instrument.notional_below_min"
NMAX = "instrument.notional_above_max"

# (symbol, price, qty, expected hit codes): at, just below and just above every bound.
BOUNDS = [
    # TICK1/USDT: tick 0.01, step 0.001
    ("TICK1/USDT", "172.06", "0.300", set()),
    ("TICK1/USDT", "172.0600", "0.3000", set()),
    ("TICK1/USDT", "172.061", "0.300", {PRICE}),
    ("TICK1/USDT", "172.059", "0.300", {PRICE}),
    ("TICK1/USDT", "172.0600001", "0.300", {PRICE}),
    ("TICK1/USDT", "172.06", "0.3001", {QTY}),
    ("TICK1/USDT", "172.06", "0.2999", {QTY}),
    ("TICK1/USDT", "2000.00", "0.010", set()),  # qty at min_qty
    ("TICK1/USDT", "2000.00", "0.009", {QMIN}),
    ("TICK1/USDT", "2000.00", "0.011", set()),
    ("TICK1/USDT", "100.00", "50", set()),  # qty at max_qty
    ("TICK1/USDT", "100.00", "49.999", set()),
    ("TICK1/USDT", "100.00", "50.001", {QMAX}),
    ("TICK1/USDT", "10.00", "1.000", set()),  # notional exactly min_notional 10
    ("TICK1/USDT", "9.99", "1.000", {NMIN}),
    ("TICK1/USDT", "10.01", "0.999", {NMIN}),  # 9.99999
    ("TICK1/USDT", "10.01", "1.000", set()),
    ("TICK1/USDT", "2500.00", "40", set()),  # notional exactly max_notional 100000
    ("TICK1/USDT", "2500.01", "40", {NMAX}),
    ("TICK1/USDT", "2500.00", "40.001", {NMAX}),
    ("TICK1/USDT", "2499.99", "40", set()),
    # TICK5/USDT: tick 0.05, step 1
    ("TICK5/USDT", "100.05", "3", set()),
    ("TICK5/USDT", "100.0500", "3.000", set()),
    ("TICK5/USDT", "100.06", "3", {PRICE}),
    ("TICK5/USDT", "100.04", "3", {PRICE}),
    ("TICK5/USDT", "100.051", "3", {PRICE}),
    ("TICK5/USDT", "100.05", "3.5", {QTY}),
    ("TICK5/USDT", "100.05", "2.999", {QTY}),
    ("TICK5/USDT", "100.00", "2", set()),
    ("TICK5/USDT", "100.00", "1", {QMIN}),
    ("TICK5/USDT", "4.00", "5000", set()),  # at max_qty and at max_notional together
    ("TICK5/USDT", "3.00", "5001", {QMAX}),
    ("TICK5/USDT", "10.00", "2", set()),  # notional 20
    ("TICK5/USDT", "9.95", "2", {NMIN}),
    ("TICK5/USDT", "100.00", "200", set()),  # notional 20000
    ("TICK5/USDT", "100.05", "200", {NMAX}),
    ("TICK5/USDT", "99.95", "200", set()),
    # HALF/USDT: tick 0.5, step 0.001
    ("HALF/USDT", "100.5", "0.5", set()),
    ("HALF/USDT", "100.50", "0.500", set()),
    ("HALF/USDT", "101", "0.5", set()),
    ("HALF/USDT", "100.3", "0.5", {PRICE}),
    ("HALF/USDT", "100.49", "0.5", {PRICE}),
    ("HALF/USDT", "100.51", "0.5", {PRICE}),
    ("HALF/USDT", "5000.0", "0.001", set()),  # qty at min_qty, notional at min_notional
    ("HALF/USDT", "6000.0", "0.0009", {QTY, QMIN}),  # below a min equal to the step
    ("HALF/USDT", "100.0", "100", set()),
    ("HALF/USDT", "100.0", "100.001", {QMAX}),
    ("HALF/USDT", "500.0", "0.01", set()),  # notional 5
    ("HALF/USDT", "499.5", "0.01", {NMIN}),
    ("HALF/USDT", "10000.0", "100", set()),  # notional 1000000
    ("HALF/USDT", "10000.5", "100", {NMAX}),
    # MICRO/USDT: tick 1e-8, step 1
    ("MICRO/USDT", "0.00001234", "1000000", set()),
    ("MICRO/USDT", "0.000012340", "1000000.0", set()),
    ("MICRO/USDT", "0.000012345", "1000000", {PRICE}),
    ("MICRO/USDT", "0.000012339", "1000000", {PRICE}),
    ("MICRO/USDT", "0.00001234", "1000000.5", {QTY}),
    ("MICRO/USDT", "0.00001000", "100000", set()),  # at min_qty and min_notional 1
    ("MICRO/USDT", "0.00002000", "99999", {QMIN}),
    ("MICRO/USDT", "0.00000999", "100000", {NMIN}),
    ("MICRO/USDT", "0.00000001", "50000000000", set()),  # at max_qty
    ("MICRO/USDT", "0.00000001", "50000000001", {QMAX}),
    ("MICRO/USDT", "0.00001", "10000000000", set()),  # notional 100000
    ("MICRO/USDT", "0.00001001", "10000000000", {NMAX}),
    ("MICRO/USDT", "0.00001", "10000000001", {NMAX}),
    # SIG/USD: prices of at most 5 significant digits, quantities of at most 4
    ("SIG/USD", "12345", "1.234", set()),
    ("SIG/USD", "12345.0", "1.2340", set()),
    ("SIG/USD", "0.00012345", "100", set()),
    ("SIG/USD", "123450000", "0.01", set()),
    ("SIG/USD", "12345.6", "1.234", {PRICE}),
    ("SIG/USD", "0.000123456", "100", {PRICE}),
    ("SIG/USD", "12345", "1.2345", {QTY}),
    ("SIG/USD", "12345", "0.001", set()),
    ("SIG/USD", "12345", "0.0009999", {QMIN}),
    ("SIG/USD", "12345", "1000", set()),
    ("SIG/USD", "12345", "1001", {QMAX}),
]


@pytest.mark.parametrize(
    ("symbol", "price", "qty", "expected"),
    BOUNDS,
    ids=[f"{s}-{p}x{q}" for s, p, q, _ in BOUNDS],
)
def test_conformance_when_order_is_at_or_beyond_a_bound_then_exactly_that_check_fires(
    gate: Gate, symbol: str, price: str, qty: str, expected: set[str]
) -> None:
    for side in ("buy", "sell"):
        decision = gate.evaluate("pre_trade", context(symbol, side=side, price=price, qty=qty))

        assert codes(decision) == expected, (side, [h.message for h in decision.hits])
        assert decision.outcome is (Outcome.REJECT if expected else Outcome.ALLOW)
        assert decision.modifications == {}


def test_conformance_when_bounds_fire_then_hit_values_show_what_was_compared(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="9.99", qty="1.000"))

    values = hit(decision, NMIN).values
    assert values["order.notional"] == D("9.99")
    assert values["instrument.min_notional"] == D("10")
    decision = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.00", qty="50.001"))
    assert hit(decision, QMAX).values["instrument.max_qty"] == D("50")


# -- 0.1 + 0.2: exact decimals never reject an on-grid order ---------------------------


def custom_instrument(**fields: Any) -> dict[str, Any]:
    return {"venue": "binance", "symbol": "TICK1/USDT", **fields}


@pytest.mark.parametrize(
    ("price", "qty"),
    [
        (172.06, 0.3),  # floats, as a bot's json.loads() would produce them
        ("172.06", "0.3"),
        ("172.0600", "0.30"),
        (D("172.0600"), D("0.1") + D("0.2")),
        (D("172.06"), D("0.3000000")),
    ],
)
def test_grid_when_on_grid_value_is_written_with_drift_prone_forms_then_allowed(
    gate: Gate, price: Any, qty: Any
) -> None:
    ctx = context("TICK1/USDT", price=price, qty=qty)
    ctx["instrument"] = custom_instrument(price_increment="0.01", qty_increment="0.1")

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


def test_notional_when_float_product_would_drift_over_a_max_then_exact_value_passes(
    gate: Gate,
) -> None:
    # 0.1 * 3 in float is 0.30000000000000004 > 0.3; in Decimal it is exactly 0.3.
    instrument = custom_instrument(
        price_increment="0.01", qty_increment="0.1", max_notional="0.3", min_notional="0.29"
    )
    at = context("TICK1/USDT", price="3", qty="0.1")
    at["instrument"] = instrument
    over = context("TICK1/USDT", price="3.01", qty="0.1")
    over["instrument"] = instrument

    assert gate.evaluate("pre_trade", at).outcome is Outcome.ALLOW
    assert codes(gate.evaluate("pre_trade", over)) == {NMAX}


def test_notional_when_float_product_would_drift_under_a_min_then_exact_value_passes(
    gate: Gate,
) -> None:
    # 0.29 * 100 in float is 28.999999999999996 < 29; in Decimal it is exactly 29.
    instrument = custom_instrument(price_increment="0.01", qty_increment="0.01", min_notional="29")
    at = context("TICK1/USDT", price=100.0, qty=0.29)
    at["instrument"] = instrument
    under = context("TICK1/USDT", price="99.99", qty="0.29")
    under["instrument"] = instrument

    assert gate.evaluate("pre_trade", at).outcome is Outcome.ALLOW
    assert codes(gate.evaluate("pre_trade", under)) == {NMIN}


def test_instrument_when_context_carries_one_then_it_wins_over_the_bundle(gate: Gate) -> None:
    ctx = context("TICK1/USDT", price="100.05", qty="1")
    ctx["instrument"] = custom_instrument(price_increment="0.1", qty_increment="1")

    assert codes(gate.evaluate("pre_trade", ctx)) == {PRICE}


# -- order types ------------------------------------------------------------------------


def test_order_type_when_venue_accepts_only_limit_then_market_is_rejected(gate: Gate) -> None:
    market = context("LIMITONLY/USDT", kind="market", price=None, qty="1", bid="100", ask="100")
    limit = context("LIMITONLY/USDT", price="100.00", qty="1")

    assert codes(gate.evaluate("pre_trade", market)) == {"instrument.order_type_unsupported"}
    assert gate.evaluate("pre_trade", limit).outcome is Outcome.ALLOW


def test_order_type_when_unsupported_and_exit_then_still_rejected(gate: Gate) -> None:
    exit_order = context(
        "LIMITONLY/USDT",
        kind="market",
        price=None,
        side="sell",
        qty="1",
        position="1",
        reduce_only=True,
        bid="100",
        ask="100",
    )

    assert codes(gate.evaluate("pre_trade", exit_order)) == {"instrument.order_type_unsupported"}


def test_grid_when_exit_is_off_grid_then_still_rejected(gate: Gate) -> None:
    exit_order = context(
        "TICK1/USDT", side="sell", price="100.005", qty="1", position="1", reduce_only=True
    )

    assert codes(gate.evaluate("pre_trade", exit_order)) == {PRICE}


def test_cancel_when_order_is_off_grid_and_over_every_bound_then_never_blocked(gate: Gate) -> None:
    cancel = context("TICK1/USDT", price="100.005", qty="999.9999", action="cancel")

    decision = gate.evaluate("pre_trade", cancel)

    assert decision.outcome is Outcome.ALLOW
    assert decision.hits == ()


# -- missing instrument ------------------------------------------------------------------


def test_instrument_when_unknown_and_required_then_opening_order_rejected(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context("NOINST/USDT", price="100.005", qty="1"))

    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == {"instrument.instrument_unknown"}


def test_instrument_when_unknown_and_required_then_exit_still_passes(gate: Gate) -> None:
    exit_order = context("NOINST/USDT", side="sell", qty="1", position="1", reduce_only=True)

    assert gate.evaluate("pre_trade", exit_order).outcome is Outcome.ALLOW


def test_instrument_when_context_sets_it_null_then_treated_as_unknown(gate: Gate) -> None:
    ctx = context("TICK1/USDT", price="100.00", qty="1")
    ctx["instrument"] = None

    assert codes(gate.evaluate("pre_trade", ctx)) == {"instrument.instrument_unknown"}


def test_instrument_when_model_is_built_without_complete_then_instrument_is_unknown(
    gate: Gate,
) -> None:
    model = PreTradeContext.model_validate(context("TICK1/USDT", price="100.00", qty="1"))
    completed = PreTradeContext.model_validate(
        gate.complete("pre_trade", context("TICK1/USDT", price="100.00", qty="1"))
    )

    assert codes(gate.evaluate("pre_trade", model)) == {"instrument.instrument_unknown"}
    assert gate.evaluate("pre_trade", completed).outcome is Outcome.ALLOW


def _limits_without_required_instrument(tmp_path: Path) -> Path:
    text = (DATA / "limits-reject.yaml").read_text()
    relaxed = text.replace("require_instrument: true", "require_instrument: false")
    assert relaxed != text
    path = tmp_path / "limits.yaml"
    path.write_text(relaxed)
    return path


def test_instrument_when_unknown_and_not_required_then_checks_are_skipped(tmp_path: Path) -> None:
    gate = Gate.from_path(INSTRUMENTS, _limits_without_required_instrument(tmp_path))

    decision = gate.evaluate("pre_trade", context("NOINST/USDT", price="100.005", qty="0.0001"))

    assert decision.outcome is Outcome.ALLOW, [h.code for h in decision.hits]
    # instruments that are known are still checked
    known = gate.evaluate("pre_trade", context("TICK1/USDT", price="100.005", qty="1"))
    assert codes(known) == {PRICE}


def test_instrument_when_symbol_outside_universe_then_rejected_as_unknown_instrument(
    gate: Gate,
) -> None:
    decision = gate.evaluate("pre_trade", context("PERP/USDT:USDT", price="100.00", qty="1"))

    assert codes(decision) == {"limit.unknown_instrument"}


# -- order sanity: market orders need a quote; GTD needs a future expiry -------------------


@pytest.mark.parametrize(
    ("side", "bid", "ask"),
    [("buy", "100", None), ("sell", None, "100"), ("buy", None, None), ("sell", None, None)],
)
def test_market_order_when_no_quote_on_its_side_then_rejected(
    gate: Gate, side: str, bid: Any, ask: Any
) -> None:
    ctx = context("TICK1/USDT", side=side, kind="market", price=None, qty="1", bid=bid, ask=ask)

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert "order.market_without_quote" in codes(decision)


def test_market_order_when_exit_has_no_quote_on_its_side_then_still_rejected(gate: Gate) -> None:
    exit_order = context(
        "TICK1/USDT",
        side="sell",
        kind="market",
        price=None,
        qty="1",
        position="1",
        reduce_only=True,
        bid=None,
        ask="100",
    )

    decision = gate.evaluate("pre_trade", exit_order)

    assert decision.outcome is Outcome.REJECT
    assert "order.market_without_quote" in codes(decision)


@pytest.mark.parametrize(("side", "bid", "ask"), [("buy", None, "100"), ("sell", "100", None)])
def test_market_order_when_quote_only_on_its_own_side_then_allowed(
    gate: Gate, side: str, bid: Any, ask: Any
) -> None:
    ctx = context("TICK1/USDT", side=side, kind="market", price=None, qty="1", bid=bid, ask=ask)

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


def test_market_order_when_no_quote_and_no_conformance_configured_then_still_rejected(
    tmp_path: Path,
) -> None:
    text = (DATA / "limits-reject.yaml").read_text()
    bare = text[: text.index("  defaults:")]
    (tmp_path / "limits.yaml").write_text(bare)
    gate = Gate.from_path(tmp_path / "limits.yaml")
    ctx = context("TICK1/USDT", kind="market", price=None, qty="1", bid="100", ask=None)

    assert codes(gate.evaluate("pre_trade", ctx)) == {"order.market_without_quote"}


@pytest.mark.parametrize(
    ("expire_at_ms", "allowed"),
    [(NOW - 1, False), (NOW, False), (NOW + 1, True), (None, False)],
)
def test_gtd_when_expiry_is_not_after_now_then_rejected(
    gate: Gate, expire_at_ms: int | None, allowed: bool
) -> None:
    ctx = context(
        "TICK1/USDT", price="100.00", qty="1", time_in_force="GTD", expire_at_ms=expire_at_ms
    )

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.allowed is allowed
    assert ("order.gtd_expired" in codes(decision)) is not allowed


def test_gtd_when_exit_has_expired_then_still_rejected(gate: Gate) -> None:
    exit_order = context(
        "TICK1/USDT",
        side="sell",
        price="100.00",
        qty="1",
        position="1",
        reduce_only=True,
        time_in_force="GTD",
        expire_at_ms=NOW,
    )

    assert codes(gate.evaluate("pre_trade", exit_order)) == {"order.gtd_expired"}


def test_gtd_when_time_in_force_is_not_gtd_then_a_past_expiry_is_ignored(gate: Gate) -> None:
    ctx = context("TICK1/USDT", price="100.00", qty="1", time_in_force="GTC", expire_at_ms=1)

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


# -- order and amend rates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "orders", "amends", "expected"),
    [
        ("amend", 0, 2, set()),  # the third amend in the second: at max_amends_per_second 3
        ("amend", 0, 3, {"limit.max_amends_per_second"}),
        ("amend", 5, 0, set()),  # max_orders_per_second counts new orders only
        ("new", 4, 0, set()),  # the fifth new order: at max_orders_per_second 5
        ("new", 5, 0, {"limit.max_orders_per_second"}),
        ("new", 0, 100, set()),  # max_amends_per_second counts amends only
        ("cancel", 100, 100, set()),
    ],
)
def test_rates_when_counting_orders_and_amends_then_each_limit_counts_its_own_action(
    gate: Gate, action: str, orders: int, amends: int, expected: set[str]
) -> None:
    ctx = context(
        "TICK1/USDT",
        price="100.00",
        qty="1",
        action=action,
        account={"orders_last_second": orders, "amends_last_second": amends},
    )

    decision = gate.evaluate("pre_trade", ctx)

    assert codes(decision) == expected
    assert decision.allowed is (not expected)


# -- market-order valuation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("side", "bid", "ask", "allowed"),
    [
        ("buy", "9.00", "10.00", True),  # 1 x ask 10.00 = min_notional
        ("buy", "10.50", "9.99", False),  # valued at the ask, not the bid
        ("sell", "10.00", "11.00", True),  # 1 x bid 10.00
        ("sell", "9.99", "10.50", False),  # valued at the bid, not the ask
    ],
)
def test_market_order_when_valued_then_buys_use_ask_and_sells_use_bid(
    gate: Gate, side: str, bid: str, ask: str, allowed: bool
) -> None:
    ctx = context("TICK1/USDT", side=side, kind="market", price=None, qty="1.000", bid=bid, ask=ask)

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.allowed is allowed
    if not allowed:
        values = hit(decision, NMIN).values
        assert values["order.notional"] == D(ask if side == "buy" else bid)


def test_quote_qty_when_market_buy_then_converted_at_ask_and_rounded_down_to_step(
    gate: Gate,
) -> None:
    ctx = context("BTC/USDT", kind="market", price=None, quote_qty="500", bid="50001", ask="50002")

    model = PreTradeContext.model_validate(gate.complete("pre_trade", ctx))

    # 500 / 50002 = 0.0099996000..., floored to the 0.00001 step
    assert model.order.qty == D("0.00999")
    assert model.order.notional == D("0.00999") * D("50002") == D("499.51998")
    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


def test_quote_qty_when_market_sell_then_converted_at_bid(gate: Gate) -> None:
    ctx = context(
        "BTC/USDT", side="sell", kind="market", price=None, quote_qty="500", bid="49999", ask="1"
    )

    model = PreTradeContext.model_validate(gate.complete("pre_trade", ctx))

    assert model.order.qty == D("0.01")  # 500 / 49999 = 0.0100002..., floored


def test_quote_qty_when_limit_order_then_converted_at_the_limit_price(gate: Gate) -> None:
    ctx = context("TICK1/USDT", price="300.00", quote_qty="1000")

    model = PreTradeContext.model_validate(gate.complete("pre_trade", ctx))

    assert model.order.qty == D("3.333")


@pytest.mark.parametrize(("min_notional", "allowed"), [("499.51998", True), ("499.51999", False)])
def test_quote_qty_when_checked_then_the_converted_quantity_is_what_is_checked(
    gate: Gate, min_notional: str, allowed: bool
) -> None:
    ctx = context("BTC/USDT", kind="market", price=None, quote_qty="500", bid="50001", ask="50002")
    ctx["instrument"] = {
        "venue": "binance",
        "symbol": "BTC/USDT",
        "price_increment": "0.01",
        "qty_increment": "0.00001",
        "min_notional": min_notional,
    }

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.allowed is allowed
    if not allowed:
        values = hit(decision, NMIN).values
        assert values["order.notional"] == D("499.51998")  # 0.00999 x 50002


def test_quote_qty_when_it_buys_less_than_one_step_then_context_invalid(
    gate: Gate,
) -> None:
    # 0.4 / 50002 = 0.0000079..., which floors to 0 on the 0.00001 step: no order at all
    ctx = context("BTC/USDT", kind="market", price=None, quote_qty="0.4", bid="50001", ask="50002")

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == {"context.invalid"}


@pytest.mark.parametrize(
    "ctx",
    [
        context("BTC/USDT", kind="market", price=None, quote_qty="500", bid="1", ask=None),
        context(
            "BTC/USDT", side="sell", kind="market", price=None, quote_qty="500", bid=None, ask="1"
        ),
        context("BTC/USDT", price=None, quote_qty="500"),  # a limit order without a price
    ],
    ids=["buy-no-ask", "sell-no-bid", "limit-no-price"],
)
def test_quote_qty_when_no_price_to_convert_at_then_context_invalid_and_gate_does_not_raise(
    gate: Gate, ctx: dict[str, Any]
) -> None:
    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == {"context.invalid"}
    assert "quote_qty" in decision.hits[0].message


def test_quote_qty_when_given_with_qty_then_context_invalid(gate: Gate) -> None:
    ctx = context("BTC/USDT", price="100.00", qty="1")
    ctx["order"]["quote_qty"] = "100"

    assert codes(gate.evaluate("pre_trade", ctx)) == {"context.invalid"}


def test_quote_qty_when_no_instrument_then_rounded_down_to_eight_decimals() -> None:
    ctx = context("NOINST/USDT", kind="market", price=None, quote_qty="1", bid="3", ask="3")

    model = PreTradeContext.model_validate(ctx)

    assert model.order.qty == D("0.33333333")
