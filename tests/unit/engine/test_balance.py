"""Balance checks (``check_balance``): buys must fit free quote plus a fee reserve, spot sells
must fit free base, in-flight reservations count, derivatives exits are exempt (spot exits
are not: the venue needs the balance for them), a missing balance fails
closed, and a stale balance is still handled by ``stale_balance_ms``.

Bundle: tests/data/conformance/instruments.yaml + limits-balance.yaml (fee_reserve_bps 10),
or variants of it written to tmp_path.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riskctl.decision import Decision, Outcome
from riskctl.gate import Gate

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "conformance"
INSTRUMENTS = DATA / "instruments.yaml"
BALANCE = DATA / "limits-balance.yaml"
D = Decimal
HAIR = D("0.00000001")
QUOTE = "balance.insufficient_quote"
BASE = "balance.insufficient_base"


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate.from_path(INSTRUMENTS, BALANCE)


def variant(tmp_path: Path, old: str, new: str) -> Gate:
    text = BALANCE.read_text()
    assert old in text
    (tmp_path / "limits.yaml").write_text(text.replace(old, new))
    return Gate.from_path(INSTRUMENTS, tmp_path / "limits.yaml")


def context(
    *,
    symbol: str = "TICK1/USDT",
    side: str = "buy",
    qty: str = "1.000",
    price: str | None = "1000.00",
    kind: str = "limit",
    bid: str | None = "999.00",
    ask: str | None = "1001.00",
    position: str = "0",
    reduce_only: bool = False,
    **account: Any,
) -> dict[str, Any]:
    order: dict[str, Any] = {
        "venue": "binance",
        "symbol": symbol,
        "side": side,
        "type": kind,
        "qty": qty,
        "reduce_only": reduce_only,
        "client_order_id": "cid-1",
        "strategy": "mm",
    }
    if kind == "limit":
        order["price"] = price
    return {
        "now_ms": 1_700_000_000_000,
        "order": order,
        "market": {"bid": bid, "ask": ask, "age_ms": 0},
        "position": {"qty": position},
        "account": {
            "equity": "1000000",
            "available_balance": "1000000",
            "balance_age_ms": 0,
            **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in account.items()},
        },
    }


def codes(decision: Decision) -> set[str]:
    return {hit.code for hit in decision.hits}


# -- buys: notional x (1 + fee_reserve_bps / 10000) <= quote_free - quote_reserved -----------


def test_buy_when_notional_plus_fee_reserve_equals_free_quote_then_allowed(gate: Gate) -> None:
    # 1.000 x 1000.00 = 1000; with a 10 bps reserve the buy needs exactly 1001
    decision = gate.evaluate("pre_trade", context(quote_free=D("1001")))

    assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


def test_buy_when_free_quote_is_a_hair_short_then_rejected_insufficient_quote(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context(quote_free=D("1001") - HAIR))

    assert decision.outcome is Outcome.REJECT
    assert codes(decision) == {QUOTE}
    values = decision.hits[0].values
    assert values["order.notional"] == D("1000")
    assert values["account.quote_free"] == D("1001") - HAIR


def test_buy_when_free_quote_would_fit_without_the_fee_reserve_then_still_rejected(
    gate: Gate,
) -> None:
    assert codes(gate.evaluate("pre_trade", context(quote_free=D("1000")))) == {QUOTE}


@pytest.mark.parametrize(
    ("reserved", "allowed"),
    [
        (D("300") + D("200"), True),  # two in-flight buys hold 300 and 200: 1001 left, enough
        (D("300") + D("200") + HAIR, False),
        (D("0"), True),
    ],
)
def test_buy_when_in_flight_orders_reserve_quote_then_they_reduce_the_free_amount(
    gate: Gate, reserved: Decimal, allowed: bool
) -> None:
    ctx = context(quote_free=D("1501"), quote_reserved=reserved)

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.allowed is allowed
    assert codes(decision) == (set() if allowed else {QUOTE})


def test_buy_when_orders_go_out_one_after_another_then_the_third_no_longer_fits(
    gate: Gate,
) -> None:
    # Each buy needs 1001. The bot adds each sent order's need to quote_reserved until the
    # venue's balance shows it; two in flight leave 3002.5 - 2002 = 1000.5 for the third.
    free, reserved = D("3002.5"), D("0")
    outcomes = []
    for _ in range(3):
        decision = gate.evaluate("pre_trade", context(quote_free=free, quote_reserved=reserved))
        outcomes.append(decision.allowed)
        if decision.allowed:
            reserved += D("1001")
    assert outcomes == [True, True, False]


@pytest.mark.parametrize(
    ("fee_line", "factor"),
    [
        ("", D("1")),
        ("fee_reserve_bps: 7.5", D("1.00075")),
        ("fee_reserve_bps: 100", D("1.01")),
    ],
)
def test_buy_when_fee_reserve_varies_then_boundary_moves_with_it(
    tmp_path: Path, fee_line: str, factor: Decimal
) -> None:
    gate = variant(tmp_path, "fee_reserve_bps: 10", fee_line)
    need = D("1000") * factor

    assert gate.evaluate("pre_trade", context(quote_free=need)).outcome is Outcome.ALLOW
    assert codes(gate.evaluate("pre_trade", context(quote_free=need - HAIR))) == {QUOTE}


def test_market_buy_when_checked_then_valued_at_the_ask(gate: Gate) -> None:
    # 1.000 x ask 1001.00 = 1001; x 1.001 = 1002.001
    ctx = context(kind="market", price=None, bid="1.00", ask="1001.00", quote_free=D("1002.001"))
    short = context(
        kind="market", price=None, bid="1.00", ask="1001.00", quote_free=D("1002.001") - HAIR
    )

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW
    assert codes(gate.evaluate("pre_trade", short)) == {QUOTE}


def test_market_buy_when_it_cannot_be_valued_then_balance_check_also_refuses(
    gate: Gate,
) -> None:
    ctx = context(kind="market", price=None, ask=None, quote_free=D("1000000"))

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert {"order.market_without_quote", QUOTE} <= codes(decision)


def test_quote_sized_buy_when_checked_then_converted_qty_and_fee_reserve_count() -> None:
    gate = Gate.from_path(INSTRUMENTS, BALANCE)
    ctx = context(symbol="BTC/USDT", kind="market", price=None, bid="50001", ask="50002")
    del ctx["order"]["qty"]
    ctx["order"]["quote_qty"] = "500"
    # 500 / 50002 floors to 0.00999 on the step; 0.00999 x 50002 = 499.51998; x 1.001:
    need = D("499.51998") * D("1.001")
    ctx["account"]["quote_free"] = str(need)
    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW
    ctx["account"]["quote_free"] = str(need - HAIR)
    assert codes(gate.evaluate("pre_trade", ctx)) == {QUOTE}


# -- spot sells: qty <= base_free - base_reserved ----------------------------------------


@pytest.mark.parametrize(
    ("qty", "allowed"),
    [("1.000", True), ("1.001", False), ("0.999", True)],
)
def test_spot_sell_when_base_is_reserved_then_only_the_rest_can_be_sold(
    gate: Gate, qty: str, allowed: bool
) -> None:
    ctx = context(side="sell", qty=qty, base_free=D("2.000"), base_reserved=D("1.000"))

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.allowed is allowed
    assert codes(decision) == (set() if allowed else {BASE})


def test_spot_sell_when_it_is_not_a_buy_then_quote_balance_is_not_needed(gate: Gate) -> None:
    ctx = context(side="sell", qty="1.000", base_free=D("1"), quote_free=None)

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


def test_swap_sell_when_no_base_is_held_then_base_balance_is_not_checked(gate: Gate) -> None:
    ctx = context(symbol="PERP/USDT:USDT", side="sell", qty="5.000", price="100.00", base_free=0)

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


# -- exits are exempt only where the venue needs no balance ---------------------------------


@pytest.mark.parametrize(
    ("side", "position", "account"),
    [
        ("sell", "1.000", {"base_free": 0, "quote_free": 0}),
        ("buy", "-1.000", {"base_free": 0, "quote_free": 0}),
        ("sell", "1.000", {}),  # balances not even reported
        ("buy", "-1.000", {}),
    ],
)
def test_balance_when_a_derivatives_exit_has_no_balance_then_exempt(
    gate: Gate, side: str, position: str, account: dict[str, Any]
) -> None:
    ctx = context(
        symbol="PERP/USDT:USDT",
        side=side,
        qty="1.000",
        price="1000.00",
        position=position,
        reduce_only=True,
        **account,
    )

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


def test_balance_when_a_spot_reduce_only_buy_cannot_be_paid_then_rejected(gate: Gate) -> None:
    # NautilusTrader N2067: a spot venue refuses a buy back it cannot be paid for
    ctx = context(side="buy", qty="1.000", position="-1.000", reduce_only=True, quote_free=0)

    assert codes(gate.evaluate("pre_trade", ctx)) == {QUOTE}


def test_balance_when_a_spot_exit_sell_has_no_free_base_then_rejected(gate: Gate) -> None:
    ctx = context(side="sell", qty="1.000", position="1.000", reduce_only=True, base_free=0)

    assert codes(gate.evaluate("pre_trade", ctx)) == {BASE}


def test_balance_when_a_spot_exit_has_no_balance_reported_then_it_fails_closed(gate: Gate) -> None:
    ctx = context(side="buy", qty="1.000", position="-1.000", reduce_only=True)

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.REJECT


@pytest.mark.parametrize(
    ("side", "position", "account"),
    [
        ("sell", "1.000", {"base_free": 1}),
        ("buy", "-1.000", {"quote_free": D("1001")}),  # 1000 + the 10 bps fee reserve
    ],
)
def test_balance_when_a_spot_exit_fits_the_balance_then_allowed(
    gate: Gate, side: str, position: str, account: dict[str, Any]
) -> None:
    ctx = context(side=side, qty="1.000", position=position, reduce_only=True, **account)

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.ALLOW, [h.message for h in decision.hits]


def test_balance_when_order_reduces_but_is_not_flagged_reduce_only_then_checked(
    gate: Gate,
) -> None:
    ctx = context(side="sell", qty="1.000", position="1.000", base_free=0, quote_free=0)

    assert codes(gate.evaluate("pre_trade", ctx)) == {BASE}


# -- a missing balance fails closed --------------------------------------------------------


def test_buy_when_quote_free_is_null_then_rejected_naming_the_field(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context(quote_free=None))

    assert decision.outcome is Outcome.REJECT
    assert any(h.rule_id == "insufficient_quote" for h in decision.hits)
    assert any("account.quote_free" in h.message for h in decision.hits), [
        h.message for h in decision.hits
    ]


def test_buy_when_quote_free_is_omitted_then_rejected_naming_the_field(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context())

    assert decision.outcome is Outcome.REJECT
    assert any("account.quote_free" in h.message for h in decision.hits)


def test_spot_sell_when_base_free_is_null_then_rejected_naming_the_field(gate: Gate) -> None:
    decision = gate.evaluate("pre_trade", context(side="sell", base_free=None, quote_free=0))

    assert decision.outcome is Outcome.REJECT
    assert any("account.base_free" in h.message for h in decision.hits)


def test_balance_when_check_balance_is_off_then_missing_and_short_balances_pass() -> None:
    gate = Gate.from_path(INSTRUMENTS, DATA / "limits-reject.yaml")

    assert gate.evaluate("pre_trade", context()).outcome is Outcome.ALLOW
    assert gate.evaluate("pre_trade", context(quote_free=0)).outcome is Outcome.ALLOW
    assert gate.evaluate("pre_trade", context(side="sell", base_free=0)).outcome is Outcome.ALLOW


# -- stale balances: stale_balance_ms still applies with check_balance ---------------------


@pytest.mark.parametrize(
    ("age_ms", "expected"),
    [
        (5000, set()),
        (5001, {"limit.stale_balance_ms"}),
    ],
)
def test_balance_when_snapshot_is_stale_then_stale_balance_rule_applies_with_check_balance(
    tmp_path: Path, age_ms: int, expected: set[str]
) -> None:
    gate = variant(
        tmp_path, "check_balance: true", "check_balance: true\n    stale_balance_ms: 5000"
    )
    ctx = context(quote_free=D("1000000"), balance_age_ms=age_ms)

    decision = gate.evaluate("pre_trade", ctx)

    assert codes(decision) == expected
    assert decision.allowed is (not expected)


def test_balance_when_stale_and_short_then_both_are_reported(tmp_path: Path) -> None:
    gate = variant(
        tmp_path, "check_balance: true", "check_balance: true\n    stale_balance_ms: 5000"
    )

    decision = gate.evaluate("pre_trade", context(quote_free=D("1"), balance_age_ms=9000))

    assert codes(decision) == {"limit.stale_balance_ms", QUOTE}


def test_balance_when_stale_and_order_is_an_exit_then_the_exit_passes(tmp_path: Path) -> None:
    gate = variant(
        tmp_path, "check_balance: true", "check_balance: true\n    stale_balance_ms: 5000"
    )
    ctx = context(side="sell", position="1.000", reduce_only=True, balance_age_ms=9000, base_free=1)

    assert gate.evaluate("pre_trade", ctx).allowed
