"""Code generation: exact Decimal arithmetic, shared literals, no attribute access but reads."""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Any

import pytest

from riskctl.codegen import RuleCode, floor_div, floor_mod, generate
from riskctl.context import MonitorContext, PreTradeContext
from riskctl.expr import CheckedExpression, check_expression
from riskctl.symbols import Type


def checked(text: str, stage: str = "pre_trade") -> CheckedExpression:
    expr, problem = check_expression(text, stage, expect=Type.BOOL)
    assert problem is None, problem
    assert expr is not None
    return expr


def pre_trade(**parts: dict[str, Any]) -> PreTradeContext:
    data: dict[str, Any] = {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy",
            "qty": "3",
            "price": "100",
            "client_order_id": "c-1",
            "strategy": "mm",
        },
        "market": {"bid": "99.9", "ask": "100.1", "age_ms": 0},
        "position": {"qty": "0"},
        "account": {"equity": "1000", "available_balance": "1000", "balance_age_ms": 0},
    }
    for part, values in parts.items():
        data[part].update(values)
    return PreTradeContext.model_validate(data)


def fires(text: str, ctx: Any, stage: str = "pre_trade") -> bool:
    fired: list[Any] = []
    generate([RuleCode(checked(text, stage))]).run(ctx, fired)
    errors = [item for item in fired if isinstance(item, tuple)]
    assert not errors, errors
    return fired == [0]


# -- exact arithmetic ----------------------------------------------------------------------


def test_when_qty_is_3_then_qty_times_point_1_is_exactly_point_3_and_rule_does_not_fire() -> None:
    ctx = pre_trade(order={"qty": "3"})
    assert 3 * 0.1 > 0.3  # the float drift the generated code must not have
    assert not fires("order.qty * 0.1 > 0.3", ctx)
    assert fires("order.qty * 0.1 == 0.3", ctx)
    assert fires("order.qty * 0.1 >= 0.3", ctx)


def test_when_floats_would_drift_then_decimal_literals_compare_exactly() -> None:
    ctx = pre_trade()
    assert 0.1 + 0.2 != 0.3
    assert fires("0.1 + 0.2 == 0.3 and order.qty > 0", ctx)
    assert fires("order.qty * 0.1 + 0.2 == 0.5", ctx)
    assert not fires("1.1 * 1.1 > 1.21 and order.qty > 0", ctx)


def test_when_ints_are_divided_then_the_result_is_decimal_not_float() -> None:
    ctx = pre_trade(account={"open_orders": 1, "orders_last_second": 10})
    assert 1 / 10 + 2 / 10 != 3 / 10  # float
    assert fires("1 / 10 + 2 / 10 == 3 / 10 and order.qty > 0", ctx)
    assert fires("account.open_orders / account.orders_last_second == 0.1", ctx)
    assert fires("account.open_orders / 10 + 0.2 == 0.3", ctx)
    source = generate([RuleCode(checked("account.open_orders / 10 > 0.05"))]).source
    assert "D(" in source


def test_when_literals_are_generated_then_no_float_reaches_the_source() -> None:
    texts = [
        "order.qty * 0.1 > 0.3",
        "order.price > 1_000.5 or order.qty < 1e-8",
        "abs(order.price - market.mid) * 10000 > 12.5 * market.mid",
        "order.qty in (0.5, 1.5, 2)",
    ]
    compiled = generate([RuleCode(checked(t)) for t in texts])
    tree = ast.parse(compiled.source)
    floats = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, float)
    ]
    assert floats == []
    defaults = compiled.run.__defaults__ or ()
    unset = compiled.run.__globals__["U"]  # the marker of a shared value not computed yet
    helpers = (Decimal, floor_div, floor_mod, unset)
    assert all(isinstance(d, Decimal) or d in helpers for d in defaults)
    assert Decimal("1000.5") in defaults
    assert Decimal("1e-8") in defaults


def test_when_float_literal_is_written_with_many_digits_then_it_stays_exact() -> None:
    expr = checked("order.qty > 0.30000000000000000001")
    assert list(expr.decimals.values()) == [Decimal("0.30000000000000000001")]
    assert fires(
        "order.qty > 0.30000000000000000001", pre_trade(order={"qty": "0.30000000000000000002"})
    )
    assert not fires("order.qty > 0.30000000000000000001", pre_trade(order={"qty": "0.3"}))


def test_when_rules_repeat_a_literal_then_one_constant_is_shared() -> None:
    rules = [
        RuleCode(checked("order.qty * 0.1 > 0.3")),
        RuleCode(checked("order.price * 0.1 > 0.3")),
        RuleCode(checked("market.mid * 0.1 > 0.3 or 0.1 > order.qty")),
    ]
    compiled = generate(rules)
    defaults = compiled.run.__defaults__ or ()
    constants = [d for d in defaults if isinstance(d, Decimal)]
    assert sorted(constants) == [Decimal("0.1"), Decimal("0.3")]
    header = compiled.source.splitlines()[0]
    assert header.count("=k") == 2


def test_when_literals_differ_only_in_trailing_zeros_then_each_keeps_its_own_text() -> None:
    compiled = generate([RuleCode(checked("order.qty > 0.1 and order.price > 0.10"))])
    texts = sorted(str(d) for d in compiled.run.__defaults__ or () if isinstance(d, Decimal))
    assert texts == ["0.1", "0.10"]


# -- what generated code can touch ------------------------------------------------------------


def attribute_reads(source: str) -> tuple[list[str], list[ast.Attribute]]:
    """Context paths read into field locals (``vN = gK.leaf``, guarded or not), and every
    other attribute access in the program.

    Groups are read once into ``gN = c.<group>``; ``fired.append`` is the program's only
    other attribute: how it reports rules.
    """
    tree = ast.parse(source)
    groups: dict[str, str] = {"c": ""}
    reads: list[str] = []
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        value = node.value.body if isinstance(node.value, ast.IfExp) else node.value
        path = _context_path(value, groups)
        if path is None:
            continue
        target = node.targets[0].id
        if target.startswith("g"):
            groups[target] = path
        else:
            reads.append(path)
        for inner in ast.walk(node.value):
            if isinstance(inner, ast.Attribute) and _context_path(inner, groups) is not None:
                allowed.add(id(inner))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "append"
            and isinstance(node.value, ast.Name)
            and node.value.id == "fired"
        ):
            allowed.add(id(node))
    others = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and id(n) not in allowed]
    return reads, others


def _context_path(node: ast.AST, groups: dict[str, str]) -> str | None:
    """``order.qty`` for ``c.order.qty`` or ``g1.qty`` where ``g1 = c.order``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not parts or not isinstance(node, ast.Name) or node.id not in groups:
        return None
    prefix = groups[node.id]
    tail = ".".join(reversed(parts))
    return f"{prefix}.{tail}" if prefix else tail


def test_when_source_is_generated_then_only_context_reads_use_attributes() -> None:
    texts = [
        "order.type == 'market' and market.spread_bps is not None and market.spread_bps > 20",
        "account.available_balance < 0.05 * account.equity",
        "abs(position.qty_after) * order.valuation_price > 1000"
        " if order.valuation_price is not None else True",
        "max(order.qty, 1) / min(account.open_orders, 3) > round(order.price, 2)",
        "order.symbol in ('BTC/USDT', 'ETH/USDT') and not state.kill_switch",
        # an optional group: its fields are read through a None guard, still only from c
        "instrument is not None and instrument.min_qty is not None"
        " and order.qty < instrument.min_qty",
    ]
    rules = [RuleCode(checked(t), exits_exempt=i % 2 == 0) for i, t in enumerate(texts)]
    compiled = generate(rules)
    reads, others = attribute_reads(compiled.source)
    assert others == [], ast.unparse(others[0])
    expected = {f for t in texts for f in checked(t).fields} | {"order.is_exit"}
    assert set(reads) == expected
    assert len(reads) == len(set(reads))  # each field is read once


def test_when_program_runs_then_its_builtins_are_only_the_allowed_functions() -> None:
    compiled = generate([RuleCode(checked("abs(order.qty) > 1"))])
    names = set(compiled.run.__globals__["__builtins__"])
    assert names <= {"abs", "min", "max", "round", "Exception"}
    for forbidden in ("open", "eval", "exec", "getattr", "__import__", "compile", "globals"):
        assert forbidden not in names


def test_when_rule_raises_then_program_reports_index_and_error_and_continues() -> None:
    rules = [
        RuleCode(checked("order.qty / account.open_orders > 1")),
        RuleCode(checked("order.qty > 1")),
        RuleCode(checked("order.price > 5")),
    ]
    ctx = pre_trade(order={"type": "market", "price": None}, account={"open_orders": 0})
    fired: list[Any] = []
    generate(rules).run(ctx, fired)
    assert [f if isinstance(f, int) else f[0] for f in fired] == [0, 1, 2]
    assert isinstance(fired[0], tuple)
    assert isinstance(fired[0][1], ArithmeticError)
    assert isinstance(fired[2], tuple)
    assert isinstance(fired[2][1], TypeError)


def test_when_rules_are_exit_exempt_then_exits_skip_them_and_others_still_run() -> None:
    rules = [
        RuleCode(checked("order.qty > 1"), exits_exempt=True),
        RuleCode(checked("order.qty > 2"), exits_exempt=True),
        RuleCode(checked("order.qty > 0")),
        RuleCode(checked("order.qty > 1.5"), exits_exempt=True),
    ]
    program = generate(rules).run
    opening: list[Any] = []
    program(pre_trade(order={"qty": "3"}), opening)
    assert opening == [0, 1, 2, 3]
    exit_: list[Any] = []
    program(
        pre_trade(order={"qty": "3", "side": "sell", "reduce_only": True}, position={"qty": "5"}),
        exit_,
    )
    assert exit_ == [2]


def test_when_no_rules_then_program_does_nothing() -> None:
    fired: list[Any] = []
    generate([]).run(pre_trade(), fired)
    assert fired == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("account.drawdown > 100", True),
        ("-pnl.daily > 100", True),
        ("health.heartbeat_age_ms > 5000 or not health.feed_connected", False),
        ("pnl.daily / 2 == -75.5", True),
    ],
)
def test_when_stage_is_monitor_then_generated_code_reads_monitor_fields(text, expected) -> None:
    ctx = MonitorContext.model_validate(
        {
            "now_ms": 1,
            "venue": "binance",
            "symbol": "BTC/USDT",
            "pnl": {"daily": "-151"},
            "account": {
                "equity": "1",
                "available_balance": "1",
                "balance_age_ms": 0,
                "drawdown": "101",
            },
        }
    )
    assert fires(text, ctx, "monitor") is expected


@pytest.mark.parametrize(
    "text",
    [
        "-7 // 2 == -7.0 // 2",
        "-7 % 2 == -7.0 % 2",
        "-7.5 // 1 == -8",
        "account.daily_pnl // 2 == -account.open_orders // 2",
        "account.daily_pnl % 2 == -account.open_orders % 2",
    ],
)
def test_when_a_negative_number_is_floor_divided_then_int_and_decimal_agree(text) -> None:
    """A number is a number: ``//`` and ``%`` must not depend on whether a value arrived as an
    int field (open_orders), a Decimal field (daily_pnl) or an int or float literal.
    Python ints floor (-7 // 2 == -4, -7 % 2 == 1); Decimal truncates toward zero."""
    ctx = pre_trade(account={"daily_pnl": "-7", "open_orders": 7})
    assert fires(f"({text}) and order.qty > 0", ctx)
