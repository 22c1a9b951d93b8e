"""What the checks share: documents of a kind, their expressions, and locations inside them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from typing import TypeVar

from riskctl.errors import Location
from riskctl.expr import CheckedExpression, check_expression
from riskctl.lint.bounds import EXACT
from riskctl.loader import LoadedPolicy
from riskctl.policy import PolicyDocument
from riskctl.policy_expressions import Expression, expressions
from riskctl.symbols import Type

__all__ = ["Expression", "checked", "expressions", "locate_node", "of_kind"]

D = TypeVar("D", bound=PolicyDocument)
Path = tuple[str | int, ...]


def of_kind(policies: tuple[LoadedPolicy, ...], kind: type[D]) -> Iterator[tuple[LoadedPolicy, D]]:
    """(loaded file, document) for every document of one kind, in file order."""
    for policy in policies:
        if isinstance(policy.document, kind):
            yield policy, policy.document


@lru_cache(maxsize=4096)
def checked(text: str, stage: str, expect: Type) -> CheckedExpression | None:
    """The checked expression, or None when it does not check (check_bundle reports why)."""
    result, _ = check_expression(text, stage, expect=expect)
    if result is not None:
        _attach_exact_literals(result)
    return result


def _attach_exact_literals(expr: CheckedExpression) -> None:
    """Give each float literal the exact Decimal the gate computes with (``1e-400`` is not 0.0).

    Lint reasons about literals through :func:`riskctl.lint.bounds.number_literal`, which
    reads this; a float would round ``1e-400`` to 0 and overflow ``1e999`` to infinity.
    """
    for node in ast.walk(expr.tree):
        if isinstance(node, ast.Constant) and type(node.value) is float:
            exact = expr.decimals.get(f"{node.lineno}:{node.col_offset}")
            if exact is not None:
                setattr(node, EXACT, exact)


def locate_node(policy: LoadedPolicy, expression: Expression, node: ast.AST) -> Location:
    """Where ``node`` of an expression is in the file, through the scalar's layout."""
    line = getattr(node, "lineno", 1) - 1
    column = getattr(node, "col_offset", 0)
    return policy.source.location_in_scalar(expression.path, line, column)
