"""Expression checking behaviours a mutation run found unpinned (issue 14, item 21).

The size limits are exact (an expression of MAX_NODES parts and MAX_DEPTH levels loads, one
more is refused), a syntax error points at its own line and column, even when Python gives
no position, and an unknown field's message names the object it was looked up in.
"""

from __future__ import annotations

import ast

import pytest

from riskctl.expr import MAX_DEPTH, MAX_NODES, check_expression, nesting_depth
from riskctl.symbols import Type


def parts(text: str) -> int:
    """The parts the size limit counts: every node of the parsed expression."""
    return sum(1 for _ in ast.walk(ast.parse(text, mode="eval")))


def sized(total: int) -> str:
    """A flat, valid boolean expression of exactly ``total`` parts (one per tuple element)."""
    fixed = parts("order.qty in (1,)") - 1
    names = ", ".join(str(n) for n in range(1, total - fixed + 1))
    text = f"order.qty in ({names},)"
    assert parts(text) == total
    return text


def nested(depth: int) -> str:
    """A valid boolean expression nested exactly ``depth`` levels deep."""
    text = "order.qty"
    while nesting_depth(ast.parse(f"({text}) > 0", mode="eval")) < depth:
        text = f"({text} + 1)"
    return f"{text} > 0"


def check(text: str) -> tuple[object, object]:
    return check_expression(text, "pre_trade", expect=Type.BOOL)


@pytest.mark.parametrize("size", [MAX_NODES - 1, MAX_NODES])
def test_when_an_expression_has_at_most_max_nodes_parts_then_it_loads(size: int) -> None:
    checked, problem = check(sized(size))
    assert problem is None
    assert checked is not None


def test_when_an_expression_has_one_part_over_max_nodes_then_it_is_refused_as_too_large() -> None:
    checked, problem = check(sized(MAX_NODES + 1))
    assert checked is None
    assert problem is not None
    assert problem.code == "expr.too-large"
    assert f"has {MAX_NODES + 1} parts" in problem.message


def test_when_an_expression_is_nested_max_depth_levels_then_it_loads() -> None:
    text = nested(MAX_DEPTH)
    assert nesting_depth(ast.parse(text, mode="eval")) == MAX_DEPTH
    checked, problem = check(text)
    assert problem is None
    assert checked is not None


def test_when_an_expression_is_nested_one_level_over_max_depth_then_it_is_refused() -> None:
    text = nested(MAX_DEPTH + 1)
    assert parts(text) <= MAX_NODES  # refused for its depth, not its size
    checked, problem = check(text)
    assert checked is None
    assert problem is not None
    assert problem.code == "expr.too-large"
    assert f"nested {MAX_DEPTH + 1} deep" in problem.message


# -- where a syntax error points (0-based line and column within the expression) ----------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("order.qty +* 2 > 1", 0, 11),
        ("(order.qty > 1 and\norder.qty +* 2 > 1)", 1, 11),  # a YAML block, two lines
    ],
)
def test_when_an_expression_does_not_parse_then_the_problem_points_at_the_error(
    text: str, line: int, column: int
) -> None:
    checked, problem = check(text)
    assert checked is None
    assert problem is not None
    assert problem.code == "expr.syntax"
    assert (problem.line, problem.column) == (line, column)


def test_when_python_gives_no_position_for_a_syntax_error_then_it_points_at_the_start() -> None:
    # A NUL byte (a YAML "\0" escape) is refused by the parser without a line or offset.
    checked, problem = check("order.qty > 1\x00")
    assert checked is None
    assert problem is not None
    assert problem.code == "expr.syntax"
    assert (problem.line, problem.column) == (0, 0)


# -- an unknown field's message ------------------------------------------------------------


def test_when_a_field_of_an_object_is_unknown_then_the_message_names_that_object() -> None:
    _, problem = check("order.qtyy > 1")
    assert problem is not None
    assert problem.code == "expr.unknown-name"
    assert problem.message == "order has no field 'qtyy'"
    assert problem.hint == "did you mean order.qty?"


def test_when_a_top_level_name_is_unknown_then_the_message_names_the_stage_context() -> None:
    _, problem = check("zzzz_nothing.qty > 1")
    assert problem is not None
    assert problem.code == "expr.unknown-name"
    assert "the pre_trade context" in problem.message
