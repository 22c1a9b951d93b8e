"""Programs written for one scope: folded scope facts, Decimal-bound literals, same answers.

A program is generated per (venue, symbol). What that scope decides (``order.symbol ==
'ETH/USDT'`` in the BTC/USDT program) is folded to a constant; a rule that can never fire
there emits no code. Folding must never change a rule's value or drop an operand that
could raise. Integer literals meeting a Decimal are bound as Decimals, with the same value.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from test_codegen import checked, pre_trade

from riskctl import Gate
from riskctl.codegen import RuleCode, generate, plan

BTC = {"order.venue": "binance", "order.symbol": "BTC/USDT"}
ETH = {"order.venue": "binance", "order.symbol": "ETH/USDT"}


def run(text: str, ctx: Any, known: dict[str, str]) -> list[Any]:
    fired: list[Any] = []
    generate([RuleCode(checked(text))], known=known).run(ctx, fired)
    return fired


def test_when_the_scope_decides_a_rule_is_false_then_it_emits_no_code() -> None:
    text = "order.symbol == 'ETH/USDT' and order.qty > 1"

    assert plan([RuleCode(checked(text))], known=BTC).tests == (None,)
    assert run(text, pre_trade(order={"qty": "5"}), BTC) == []


def test_when_the_scope_decides_a_test_is_true_then_only_the_rest_is_checked() -> None:
    text = "order.symbol == 'BTC/USDT' and order.qty > 1"

    (test,) = plan([RuleCode(checked(text))], known=BTC).tests
    assert test is not None
    assert "BTC/USDT" not in test
    assert run(text, pre_trade(order={"qty": "5"}), BTC) == [0]
    assert run(text, pre_trade(order={"qty": "1"}), BTC) == []


@pytest.mark.parametrize(
    "text",
    [
        "order.symbol in ('BTC/USDT', 'ETH/USDT') or order.qty > 100",
        "not order.symbol != 'BTC/USDT'",
        "order.venue == 'binance'",
    ],
)
def test_when_the_scope_makes_a_rule_always_true_then_it_fires_without_a_test(text: str) -> None:
    compiled = generate([RuleCode(checked(text))], known=BTC)
    fired: list[Any] = []
    compiled.run(pre_trade(), fired)

    assert fired == [0]
    assert "try:" not in compiled.source


def test_when_an_operand_before_a_folded_false_raises_then_the_error_is_still_reported() -> None:
    # The symbol test is False in this program, but the division before it runs first,
    # exactly as in the unfolded rule, and fails: the rule must report the error.
    text = "order.qty / (order.qty - order.qty) > 1 and order.symbol == 'ETH/USDT'"
    ctx = pre_trade(order={"qty": "3"})

    folded, unfolded = run(text, ctx, BTC), run(text, ctx, {})

    assert [type(item) for item in folded] == [tuple]
    assert [type(item) for item in unfolded] == [tuple]
    assert type(folded[0][1]) is type(unfolded[0][1])


def test_when_a_scope_fact_appears_under_or_and_if_then_each_folds_consistently() -> None:
    text = "(order.qty > 10 if order.symbol == 'BTC/USDT' else order.qty > 1) or not True"
    for qty, expected in (("5", []), ("11", [0])):
        ctx = pre_trade(order={"qty": qty})
        assert run(text, ctx, BTC) == expected
        assert run(text, ctx, {}) == expected


# -- literals bound as Decimals --------------------------------------------------------------


def test_when_an_int_literal_meets_a_decimal_then_it_is_bound_as_an_exact_decimal() -> None:
    program = plan(
        [
            RuleCode(checked("order.qty > 5")),
            RuleCode(checked("position.qty < -22")),
            RuleCode(
                checked(
                    "account.gross_exposure"
                    " + (order.notional if order.notional is not None else 0) > 7"
                )
            ),
        ]
    )

    assert program.tests == ("v0 > k0", "v1 < k1", "v2 + (v3 if v3 is not None else k2) > k3")
    assert dict(program.constants) == {
        "k0": Decimal(5),
        "k1": Decimal(-22),
        "k2": Decimal(0),
        "k3": Decimal(7),
    }


def test_when_an_int_literal_meets_an_int_field_then_it_stays_an_int() -> None:
    program = plan(
        [
            RuleCode(checked("account.open_orders + 1 > 200")),
            RuleCode(checked("15 <= account.orders_last_second < 30")),
            RuleCode(checked("round(order.qty) > 2")),
            RuleCode(checked("order.qty ** 2 > 4")),
        ]
    )

    assert program.tests[0] == "v0 + 1 > 200"
    assert program.tests[1] == "15 <= v1 < 30"
    assert program.tests[2] == "round(v2) > 2"  # round(x) is an int
    assert program.tests[3] == "v2 ** 2 > k0"  # the exponent stays an int


def test_when_a_decimal_is_divided_then_it_is_not_converted_again() -> None:
    program = plan(
        [
            RuleCode(checked("account.gross_exposure / account.equity > 0.5")),
            RuleCode(checked("account.open_orders / 10 > 0.5")),
        ]
    )

    assert program.tests[0] == "v0 / v1 > k0"
    assert program.tests[1] == "D(v2) / k1 > k0"


@pytest.mark.parametrize(
    ("text", "qty"),
    [
        ("order.qty > 5", "5"),
        ("order.qty > 5", "5.000000000000000000000000000001"),
        ("order.qty >= 5", "4.99999999999999999999999999999"),
        ("order.qty * 3 == 1", "0.3333333333333333333333333333333"),
        ("position.qty - order.qty < -6", "3"),
        ("abs(position.qty) + 1 > 4", "1"),
    ],
)
def test_when_literals_are_bound_then_every_answer_equals_the_int_version(
    text: str, qty: str
) -> None:
    ctx = pre_trade(order={"qty": qty}, position={"qty": "-3"})

    assert run(text, ctx, {}) == _reference(text, ctx)


def _reference(text: str, ctx: Any) -> list[Any]:
    """The rule evaluated by Python itself on the context's values (ints left as ints)."""
    names = {"order": ctx.order, "position": ctx.position, "abs": abs}
    return [0] if eval(text, {"__builtins__": {}}, names) else []  # noqa: S307  # test-only, fixed texts


# -- programs shared by what they test --------------------------------------------------------


def test_when_orders_come_for_many_unknown_symbols_then_no_new_code_is_compiled(
    tmp_path: Path,
) -> None:
    repo = Path(__file__).resolve().parents[3]
    gate = Gate.from_path(repo / "policies")
    compiled = dict(gate._rules._compiled)

    for index in range(50):
        ctx = {
            "now_ms": 1763600000000,
            "order": {
                "venue": "binance",
                "symbol": f"X{index}/USDT",
                "side": "buy",
                "qty": "1",
                "price": "10",
                "client_order_id": f"c-{index}",
                "strategy": "mm",
            },
            "market": {"bid": "9.9", "ask": "10.1", "age_ms": 10},
            "account": {"equity": "1000", "available_balance": "1000", "balance_age_ms": 0},
        }
        assert not gate.evaluate("pre_trade", ctx).allowed  # outside the universe

    assert len(gate._rules._compiled) <= len(compiled) + 1  # one shared unknown-pair program


# -- shared subexpressions ---------------------------------------------------------------------

COLLAR = "abs(order.price - market.mid) * 10000"


def test_when_rules_share_a_computation_then_it_is_written_lazily_once_per_use() -> None:
    texts = [f"{COLLAR} > 50 * market.mid", f"{COLLAR} > 20 * market.mid and order.qty > 1"]
    program = plan([RuleCode(checked(t)) for t in texts])

    assert program.temps == 1
    assert all("(t0 if t0 is not U else (t0 := " in (test or "") for test in program.tests)
    for price, expected in (("100", []), ("100.25", [1]), ("100.6", [0, 1])):
        ctx = pre_trade(order={"price": price, "qty": "3"})
        fired: list[Any] = []
        program.compile().run(ctx, fired)
        assert fired == expected
        assert fired == [i for i, t in enumerate(texts) if run(t, ctx, {})]


def test_when_a_shared_computation_raises_then_every_rule_using_it_reports_the_error() -> None:
    shared = "order.qty / (order.qty - order.qty) * 2"
    texts = [f"{shared} > 1", f"{shared} < 1", "order.qty > 1"]
    program = plan([RuleCode(checked(t)) for t in texts])
    fired: list[Any] = []

    program.compile().run(pre_trade(order={"qty": "3"}), fired)

    assert program.temps == 1
    assert [item[0] if isinstance(item, tuple) else item for item in fired] == [0, 1, 2]
    assert [type(item) for item in fired] == [tuple, tuple, int]


def test_when_the_first_rule_to_share_a_computation_is_skipped_then_the_next_computes_it() -> None:
    rules = [
        RuleCode(checked(f"{COLLAR} > 20 * market.mid"), exits_exempt=True),
        RuleCode(checked(f"{COLLAR} > 30 * market.mid")),
    ]
    exit_order = pre_trade(
        order={"price": "100.6", "side": "sell", "qty": "3", "reduce_only": True},
        position={"qty": "5"},
    )
    assert exit_order.order.is_exit
    compiled = plan(rules).compile()

    for ctx, expected in ((exit_order, [1]), (pre_trade(order={"price": "100.6"}), [0, 1])):
        fired: list[Any] = []
        compiled.run(ctx, fired)
        assert fired == expected


def test_when_a_computation_is_cheap_then_it_is_not_shared() -> None:
    program = plan(
        [RuleCode(checked("abs(position.qty) > 1")), RuleCode(checked("abs(position.qty) < 5"))]
    )

    assert program.temps == 0
