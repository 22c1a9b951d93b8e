"""Rule expressions: every refusal code, sandbox escapes refused at load, helpful hints."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from riskctl.errors import PolicyLoadError
from riskctl.expr import MAX_NODES, check_expression
from riskctl.gate import Gate
from riskctl.symbols import Type

# -- helpers ---------------------------------------------------------------------------

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: test-limits, version: 1, owner: tests}
spec:
  environment: paper
  venues:
    - {venue: binance, account: mm-binance-1, symbols: [BTC/USDT, ETH/USDT]}
  defaults: {max_order_qty: 5}
"""


def write_rules(directory: Path, rules: list[dict[str, object]]) -> Path:
    """A Rules document; each rule is written as a JSON flow mapping (valid YAML)."""
    lines = [
        "apiVersion: riskctl/v1",
        "kind: Rules",
        "metadata: {name: test-rules, version: 1, owner: tests}",
        "spec:",
        "  rules:",
        *(f"    - {json.dumps(rule)}" for rule in rules),
    ]
    path = directory / "rules.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load_gate(directory: Path, when: str, stage: str = "pre_trade") -> Gate:
    (directory / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    write_rules(directory, [{"id": "r1", "stage": stage, "when": when, "message": "m"}])
    return Gate.from_path(directory)


def refused(text: str, stage: str = "pre_trade", expect: Type = Type.BOOL):
    checked, problem = check_expression(text, stage, expect=expect)
    assert checked is None, f"{text!r} was accepted at {stage}"
    assert problem is not None
    return problem


# -- accepted expressions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage", "fields"),
    [
        ("order.qty > 5", "pre_trade", ("order.qty",)),
        (
            "order.type == 'market' and market.spread_bps is not None and market.spread_bps > 20",
            "pre_trade",
            ("order.type", "market.spread_bps"),
        ),
        ("account.available_balance < 0.05 * account.equity", "pre_trade", None),
        ("event.seq_gap is not None and event.seq_gap != 0", "ingest", ("event.seq_gap",)),
        ("event.crossed == True", "ingest", ("event.crossed",)),
        ("order.symbol in ('BTC/USDT', 'ETH/USDT')", "pre_trade", ("order.symbol",)),
        ("1 < order.qty <= 10", "pre_trade", ("order.qty",)),
        ("abs(min(order.qty, 2) - max(1, round(order.qty, 2))) >= 0", "pre_trade", None),
        ("(order.qty if order.side == 'buy' else -order.qty) > 0", "pre_trade", None),
        ("not state.kill_switch", "pre_trade", ("state.kill_switch",)),
        ("order.qty ** 2 > 4", "pre_trade", ("order.qty",)),
    ],
)
def test_when_expression_is_in_the_language_then_it_checks(text, stage, fields) -> None:
    checked, problem = check_expression(text, stage, expect=Type.BOOL)
    assert problem is None, problem
    assert checked is not None
    assert checked.type is Type.BOOL
    assert checked.stage == stage
    if fields is not None:
        assert checked.fields == fields


def test_when_number_is_expected_then_a_metric_checks_and_a_condition_does_not() -> None:
    checked, problem = check_expression(
        "abs(inventory.position_notional)", "monitor", expect=Type.NUMBER
    )
    assert problem is None
    assert checked is not None
    assert checked.type is Type.NUMBER
    assert refused("order.qty > 1", expect=Type.NUMBER).code == "expr.wrong-type"


# -- one case per code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage", "expect", "code"),
    [
        ("order.qty >", "pre_trade", Type.BOOL, "expr.syntax"),
        ("order.qty > > 1", "pre_trade", Type.BOOL, "expr.syntax"),
        ("import os", "pre_trade", Type.BOOL, "expr.syntax"),
        ("order.qty > 1; order.qty", "pre_trade", Type.BOOL, "expr.syntax"),
        ("order.qtty > 1", "pre_trade", Type.BOOL, "expr.unknown-name"),
        ("x > 1", "pre_trade", Type.BOOL, "expr.unknown-name"),
        ("event.age_ms > 1", "pre_trade", Type.BOOL, "expr.wrong-stage"),
        ("order.__class__", "pre_trade", Type.BOOL, "expr.forbidden"),
        ("order.qty == 'a'", "pre_trade", Type.BOOL, "expr.type-mismatch"),
        ("order.side > 'a'", "pre_trade", Type.BOOL, "expr.type-mismatch"),
        ("not order.qty", "pre_trade", Type.BOOL, "expr.type-mismatch"),
        ("order.side + 1 > 0", "pre_trade", Type.BOOL, "expr.type-mismatch"),
        ("(1 if order.qty > 1 else 'a') == 1", "pre_trade", Type.BOOL, "expr.type-mismatch"),
        ("order.side == 'bye'", "pre_trade", Type.BOOL, "expr.invalid-choice"),
        ("event.crossed", "ingest", Type.BOOL, "expr.nullable"),
        ("order.qty is None", "pre_trade", Type.BOOL, "expr.always-same"),
        ("order", "pre_trade", Type.BOOL, "expr.not-a-value"),
        ("order.qty", "pre_trade", Type.BOOL, "expr.wrong-type"),
        ("order.side", "pre_trade", Type.BOOL, "expr.wrong-type"),
        (" or ".join(["order.qty > 1"] * 80), "pre_trade", Type.BOOL, "expr.too-large"),
    ],
)
def test_when_expression_is_wrong_then_its_code_says_why(text, stage, expect, code) -> None:
    assert refused(text, stage, expect).code == code


def test_when_name_is_misspelt_then_hint_suggests_the_field() -> None:
    problem = refused("order.qtty > 1")
    assert problem.code == "expr.unknown-name"
    assert "qtty" in problem.message
    assert problem.hint == "did you mean order.qty?"

    problem = refused("orderr.qty > 1")
    assert problem.code == "expr.unknown-name"
    assert problem.hint is not None
    assert "order.qty" in problem.hint

    problem = refused("market.sprad_bps > 20")
    assert problem.hint is not None
    assert "market.spread_bps" in problem.hint


def test_when_root_name_is_unknown_then_hint_lists_the_roots() -> None:
    problem = refused("x > 1")
    assert problem.hint is not None
    for root in ("account", "market", "order", "position", "state"):
        assert root in problem.hint


@pytest.mark.parametrize(
    ("text", "stage", "where"),
    [
        ("event.age_ms > 1", "pre_trade", ["ingest"]),
        ("request.kind == 'create'", "pre_trade", ["order_send"]),
        ("order.qty > 1", "ingest", ["pre_trade"]),
        ("account.equity > 1", "signal", ["pre_trade", "monitor"]),
        ("fill.slippage_bps > 25", "monitor", ["fill"]),
    ],
)
def test_when_field_belongs_to_another_stage_then_message_names_that_stage(
    text, stage, where
) -> None:
    problem = refused(text, stage)
    assert problem.code == "expr.wrong-stage"
    assert stage in problem.message
    for other in where:
        assert other in problem.message


@pytest.mark.parametrize(
    ("text", "literal", "hint"),
    [
        ("order.side == 'bye'", "bye", "did you mean 'buy'?"),
        ("'bye' == order.side", "bye", "did you mean 'buy'?"),
        ("order.side in ('buy', 'sel')", "sel", "did you mean 'sell'?"),
        ("state.trading_state == 'HALTD'", "HALTD", "did you mean 'HALTED'?"),
        ("order.type != 'limt'", "limt", "did you mean 'limit'?"),
    ],
)
def test_when_literal_is_not_a_choice_then_refused_with_hint(text, literal, hint) -> None:
    problem = refused(text)
    assert problem.code == "expr.invalid-choice"
    assert repr(literal) in problem.message
    assert problem.hint == hint
    assert problem.column == text.index(repr(literal))


def test_when_group_is_used_as_value_then_hint_lists_its_fields() -> None:
    problem = refused("market == 1")
    assert problem.code == "expr.not-a-value"
    assert problem.hint is not None
    for name in ("ask", "bid", "mid", "spread_bps"):
        assert name in problem.hint


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("event.crossed", Type.BOOL),
        ("not event.crossed", Type.BOOL),
        ("event.crossed or True", Type.BOOL),
        ("1 if event.crossed else 2", Type.NUMBER),
    ],
)
def test_when_nullable_bool_is_used_as_condition_then_refused(text, expect) -> None:
    assert refused(text, "ingest", expect).code == "expr.nullable"


def test_when_never_null_field_is_tested_for_null_then_always_same() -> None:
    assert refused("order.side is not None").code == "expr.always-same"
    assert refused("order.reduces_position is None").code == "expr.always-same"


def test_when_problem_is_inside_the_text_then_column_points_at_it() -> None:
    text = "order.qty > 1 and order.qtty > 2"
    problem = refused(text)
    assert (problem.line, problem.column) == (0, text.index("order.qtty"))


# -- sandbox: refused when checked, and refused when a bundle loads --------------------------

ESCAPES = [
    pytest.param("order.__class__ == 1", "expr.forbidden", id="dunder-on-field"),
    pytest.param("order.qty.__class__ == 1", "expr.forbidden", id="dunder-on-leaf"),
    pytest.param("().__class__ == 1", "expr.forbidden", id="dunder-on-tuple"),
    pytest.param("''.__class__.__mro__ == 1", "expr.forbidden", id="dunder-on-string"),
    pytest.param("__builtins__ == 1", "expr.forbidden", id="builtins"),
    pytest.param("__import__('os') == 1", "expr.forbidden", id="dunder-import"),
    pytest.param("order._private == 1", "expr.forbidden", id="underscore-name"),
    pytest.param("open('/etc/passwd') == 1", "expr.forbidden", id="call-open"),
    pytest.param("eval('1') == 1", "expr.forbidden", id="call-eval"),
    pytest.param("exec('x=1') == 1", "expr.forbidden", id="call-exec"),
    pytest.param("getattr(order, 'qty') > 1", "expr.forbidden", id="call-getattr"),
    pytest.param("len('x') > 1", "expr.forbidden", id="call-len"),
    pytest.param("order.qty.as_integer_ratio() == 1", "expr.forbidden", id="method-call"),
    pytest.param("abs(x=1) > 1", "expr.forbidden", id="keyword-argument"),
    pytest.param("max(*(1, 2)) > 1", "expr.forbidden", id="starred-argument"),
    pytest.param("(lambda: 1)() == 1", "expr.forbidden", id="lambda-call"),
    pytest.param("(lambda x: x) == 1", "expr.forbidden", id="lambda"),
    pytest.param("[x for x in (1, 2)] == 1", "expr.forbidden", id="list-comprehension"),
    pytest.param("{x for x in (1, 2)} == 1", "expr.forbidden", id="set-comprehension"),
    pytest.param("{x: 1 for x in (1, 2)} == 1", "expr.forbidden", id="dict-comprehension"),
    pytest.param("max(x for x in (1, 2)) > 1", "expr.forbidden", id="generator"),
    pytest.param("order.symbol[0] == 'B'", "expr.forbidden", id="subscript"),
    pytest.param("(1, 2)[0] == 1", "expr.forbidden", id="tuple-subscript"),
    pytest.param("f'{order.qty}' == '1'", "expr.forbidden", id="f-string"),
    pytest.param("(x := 1) == 1", "expr.forbidden", id="walrus"),
    pytest.param("2 ** 99999 > 1", "expr.forbidden", id="huge-power"),
    pytest.param("order.qty ** order.qty > 1", "expr.forbidden", id="field-power"),
    pytest.param("order.qty ** 0.5 > 1", "expr.forbidden", id="float-power"),
    pytest.param("order.qty ** -1 > 1", "expr.forbidden", id="negative-power"),
    pytest.param("10 ** 4 ** 4 > 1", "expr.forbidden", id="power-tower"),
    pytest.param("'a' * 10**9 == 'a'", "expr.forbidden", id="string-times-power"),
    pytest.param("'a' * 1000000000 == 'a'", "expr.type-mismatch", id="string-multiplication"),
    pytest.param("order.side * 1000000000 == 'a'", "expr.type-mismatch", id="field-string-mult"),
    pytest.param("'a' + 'b' == 'ab'", "expr.type-mismatch", id="string-concat"),
    pytest.param("order.side == '" + "x" * 300 + "'", "expr.forbidden", id="long-string"),
    pytest.param("1 << 100000 > 1", "expr.forbidden", id="shift"),
    pytest.param("~account.open_orders == 1", "expr.forbidden", id="invert"),
    pytest.param("{'a': 1} == 1", "expr.forbidden", id="dict-literal"),
    pytest.param("b'x' == b'x'", "expr.forbidden", id="bytes"),
    pytest.param("1j == 1", "expr.forbidden", id="complex"),
    pytest.param("order.qty is 1", "expr.forbidden", id="is-literal"),
    pytest.param("order.qty in order.qty", "expr.forbidden", id="in-non-literal"),
    pytest.param("order.qty in (order.qty, 1)", "expr.forbidden", id="in-with-name"),
    pytest.param("round(order.qty, 99) > 1", "expr.forbidden", id="round-digits"),
    pytest.param("min(order.qty) > 1", "expr.forbidden", id="min-arity"),
    pytest.param(" or ".join(["order.qty > 1"] * 100), "expr.too-large", id="too-many-parts"),
]


@pytest.mark.parametrize(("text", "code"), ESCAPES)
def test_when_expression_escapes_the_sandbox_then_check_refuses(text, code) -> None:
    assert refused(text).code == code


@pytest.mark.parametrize(("text", "code"), ESCAPES)
def test_when_escape_is_in_a_policy_then_bundle_refuses_to_load(tmp_path, text, code) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        load_gate(tmp_path, text)
    codes = {d.code for d in caught.value.diagnostics}
    assert code in codes
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.location.path.endswith("rules.yaml")
        assert diagnostic.location.line == 6


def test_when_expression_is_longer_than_the_field_allows_then_load_refuses(tmp_path) -> None:
    text = "order.qty > 1" + " " * 2000 + "and order.qty > 2"
    with pytest.raises(PolicyLoadError) as caught:
        load_gate(tmp_path, text)
    assert {d.code for d in caught.value.diagnostics} == {"policy.wrong-length"}


def test_when_expression_fits_the_field_but_has_too_many_parts_then_load_refuses(
    tmp_path,
) -> None:
    text = " or ".join(["order.qty > 1"] * 110)
    assert len(text) < 2000
    with pytest.raises(PolicyLoadError) as caught:
        load_gate(tmp_path, text)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "expr.too-large"
    assert str(MAX_NODES) in diagnostic.message


def test_when_escape_is_mid_expression_then_diagnostic_points_at_it(tmp_path) -> None:
    text = "order.qty > 1 and order.__class__ == 1"
    with pytest.raises(PolicyLoadError) as caught:
        load_gate(tmp_path, text)
    (diagnostic,) = caught.value.diagnostics
    line = (tmp_path / "rules.yaml").read_text(encoding="utf-8").splitlines()[5]
    assert diagnostic.code == "expr.forbidden"
    assert diagnostic.location.column == line.index("order.__class__") + 1


def test_when_powers_nest_then_the_expression_is_refused_or_evaluates_quickly(tmp_path) -> None:
    """Every accepted expression must run in bounded time (the module's promise).

    ``((9 ** 4) ** 4) ** 4 ...``: each exponent is a small literal, but nesting multiplies
    them: 12 levels is 9 ** (4 ** 12), an integer with about 16 million digits.
    """
    text = "(" * 12 + "9" + " ** 4)" * 12 + " < order.qty"
    _, problem = check_expression(text, "pre_trade", expect=Type.BOOL)
    if problem is not None:
        assert problem.code in ("expr.forbidden", "expr.too-large")
        return
    script = textwrap.dedent(
        f"""
        from riskctl.codegen import RuleCode, generate
        from riskctl.context import PreTradeContext
        from riskctl.expr import check_expression
        from riskctl.symbols import Type
        checked, _ = check_expression({text!r}, "pre_trade", expect=Type.BOOL)
        ctx = PreTradeContext.model_validate({{
            "now_ms": 1,
            "order": {{"venue": "binance", "symbol": "BTC/USDT", "side": "buy", "qty": "1",
                      "price": "100", "client_order_id": "c", "strategy": "s"}},
            "market": {{"bid": "99", "ask": "101", "age_ms": 0}},
            "account": {{"equity": "1", "available_balance": "1", "balance_age_ms": 0}},
        }})
        generate([RuleCode(checked)]).run(ctx, [])
        """
    )
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=3)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{text!r} was accepted and does not finish evaluating within 3 s")


def test_when_float_literal_is_huge_or_tiny_then_it_is_kept_exact() -> None:
    text = "order.qty < 1e309 and order.qty > 1e-400"
    checked, problem = check_expression(text, "pre_trade", expect=Type.BOOL)
    assert problem is None
    assert checked is not None
    assert sorted(checked.decimals.values()) == [Decimal("1e-400"), Decimal("1e309")]
