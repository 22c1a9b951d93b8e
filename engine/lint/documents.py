"""What the checks share: documents of a kind, their expressions, and locations inside them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from engine.errors import Location
from engine.expr import CheckedExpression, check_expression
from engine.kinds import AlertThresholds, CircuitBreakers, Rules
from engine.loader import LoadedPolicy
from engine.policy import PolicyDocument
from engine.symbols import Type

__all__ = ["Expression", "checked", "expressions", "locate_node", "of_kind"]

D = TypeVar("D", bound=PolicyDocument)
Path = tuple[str | int, ...]


def of_kind(policies: tuple[LoadedPolicy, ...], kind: type[D]) -> Iterator[tuple[LoadedPolicy, D]]:
    """(loaded file, document) for every document of one kind, in file order."""
    for policy in policies:
        if isinstance(policy.document, kind):
            yield policy, policy.document


@dataclass(frozen=True, slots=True)
class Expression:
    """One expression in a document: where it is, its text, stage, type and what it drives."""

    path: Path
    text: str
    stage: str
    expect: Type
    owner: str  # "rule", "breaker" or "alert metric", for messages


def expressions(policy: LoadedPolicy) -> Iterator[Expression]:
    """Every expression of a document (rule and breaker conditions, alert metrics)."""
    document = policy.document
    if isinstance(document, Rules):
        for i, rule in enumerate(document.spec.rules):
            yield Expression(("spec", "rules", i, "when"), rule.when, rule.stage, Type.BOOL, "rule")
    elif isinstance(document, CircuitBreakers):
        for i, breaker in enumerate(document.spec.breakers):
            path = ("spec", "breakers", i, "when")
            yield Expression(path, breaker.when, breaker.stage, Type.BOOL, "breaker")
    elif isinstance(document, AlertThresholds):
        for i, alert in enumerate(document.spec.alerts):
            path = ("spec", "alerts", i, "metric")
            yield Expression(path, alert.metric, alert.stage, Type.NUMBER, "alert metric")


@lru_cache(maxsize=4096)
def checked(text: str, stage: str, expect: Type) -> CheckedExpression | None:
    """The checked expression, or None when it does not check (check_bundle reports why)."""
    result, _ = check_expression(text, stage, expect=expect)
    return result


def locate_node(policy: LoadedPolicy, expression: Expression, node: ast.AST) -> Location:
    """Where ``node`` of an expression is in the file.

    When the YAML scalar is on one line, the column points into it; otherwise the line
    moves by the node's line in the expression and the column stays at the scalar's start.
    """
    base = policy.source.location(expression.path)
    line, column = base.line, base.column
    node_line = getattr(node, "lineno", 1) - 1
    node_column = getattr(node, "col_offset", 0)
    lines = policy.source.text.splitlines()
    if node_line == 0 and 0 < line <= len(lines):
        raw = lines[line - 1][column - 1 :]
        offset = 1 if raw[:1] in ("'", '"') else 0
        if raw[offset:].startswith(expression.text.strip()):
            column += offset + node_column
    else:
        line += node_line
    return Location(base.path, line, column, base.pointer)
