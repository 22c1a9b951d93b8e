"""A reduce_only order that is not an exit is refused (order.reduce_only_would_open).

NautilusTrader refuses such orders (85 of its 2,100 parity scenarios); so do venues. On by
default; ``check_reduce_only: false`` turns it off. Exits (opposite the position, no larger
than it) pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gatekit import make_gate, pre_trade

from riskctl import Gate
from riskctl.decision import Outcome

CODE = "order.reduce_only_would_open"


@pytest.mark.parametrize(
    ("position", "side", "qty"),
    [
        ("0", "buy", "1"),  # opens from flat
        ("0", "sell", "1"),
        ("5", "buy", "1"),  # grows a long
        ("-5", "sell", "1"),  # grows a short
        ("5", "sell", "5.00000001"),  # crosses through zero beyond the position
        ("-5", "buy", "6"),
    ],
)
def test_reduce_only_when_the_order_would_open_grow_or_flip_then_rejected_with_its_code(
    tmp_path: Path, position: str, side: str, qty: str
) -> None:
    gate = make_gate(tmp_path)
    ctx = pre_trade(
        order={"side": side, "qty": qty, "reduce_only": True}, position={"qty": position}
    )

    decision = gate.evaluate("pre_trade", ctx)

    assert decision.outcome is Outcome.REJECT
    assert [h.code for h in decision.hits] == [CODE]


@pytest.mark.parametrize(("position", "side", "qty"), [("5", "sell", "5"), ("-5", "buy", "2")])
def test_reduce_only_when_the_order_is_an_exit_then_allowed(
    tmp_path: Path, position: str, side: str, qty: str
) -> None:
    gate = make_gate(tmp_path)
    ctx = pre_trade(
        order={"side": side, "qty": qty, "reduce_only": True}, position={"qty": position}
    )

    assert gate.evaluate("pre_trade", ctx).outcome is Outcome.ALLOW


def test_reduce_only_when_the_flag_is_off_then_the_order_is_an_ordinary_opening(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path)

    assert gate.evaluate("pre_trade", pre_trade(order={"reduce_only": False})).allowed


def test_reduce_only_check_when_turned_off_by_policy_then_an_opening_reduce_only_passes(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path, {"check_reduce_only": False})

    decision = gate.evaluate("pre_trade", pre_trade(order={"reduce_only": True}))

    assert decision.outcome is Outcome.ALLOW


def test_reduce_only_check_when_turned_off_for_one_venue_then_still_on_elsewhere(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path, scoped=(({"venue": "okx"}, {"check_reduce_only": False}),))
    okx = pre_trade(order={"venue": "okx", "reduce_only": True})
    binance = pre_trade(order={"venue": "binance", "reduce_only": True})

    assert gate.evaluate("pre_trade", okx).allowed
    assert not gate.evaluate("pre_trade", binance).allowed


def test_always_on_checks_when_two_documents_cover_a_symbol_then_each_is_reported_once(
    tmp_path: Path,
) -> None:
    make_gate(tmp_path)
    text = (tmp_path / "limits.yaml").read_text()
    (tmp_path / "more.yaml").write_text(text.replace("name: test-limits", "name: more-limits"))
    gate = Gate.from_path(tmp_path)

    decision = gate.evaluate("pre_trade", pre_trade(order={"reduce_only": True}))
    skewed = gate.evaluate("pre_trade", pre_trade(market={"age_ms": -51}))

    assert [h.code for h in decision.hits].count(CODE) == 1
    assert [h.code for h in skewed.hits] == ["market.clock_skew"]
