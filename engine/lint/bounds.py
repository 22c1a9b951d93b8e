"""What values a numeric expression can take, from the bounds of the context models.

``order.qty`` is declared ``> 0`` and ``market.age_ms`` ``>= 0`` in the stage contexts, so
``order.qty > 0`` is always true and ``x / market.age_ms`` can divide by zero. Bounds are
read from the models (pydantic ``gt``/``ge``/``lt``/``le``), never restated here, except
for derived fields, which carry no declared bounds: :data:`DERIVED_BOUNDS` says what
their derivation guarantees.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel

from riskctl.context import CONTEXTS
from riskctl.expr import dotted_name
from riskctl.lint.sets import ZERO, Interval
from riskctl.symbols import Type, symbol_table

EXACT = "riskctl_exact"  # a float literal's node attribute: the Decimal the gate computes with

__all__ = ["DERIVED_BOUNDS", "EXACT", "field_interval", "interval_of", "number_literal"]

_POSITIVE = Interval(ZERO, None, lo_open=True)
_NOT_NEGATIVE = Interval(ZERO, None, lo_open=False)

DERIVED_BOUNDS: dict[str, Interval] = {
    "market.mid": _POSITIVE,  # (bid + ask) / 2 with bid, ask > 0
    "order.valuation_price": _POSITIVE,  # a price, or the bid or ask, all > 0
    "order.notional": _POSITIVE,  # qty > 0 times valuation_price > 0
    "position.notional": _NOT_NEGATIVE,  # |qty| times a positive mark
    "strategy.loss_budget_used_pct": _NOT_NEGATIVE,  # max(0, loss) / budget x 100
}


@cache
def field_interval(stage: str, path: str) -> Interval:
    """Values a context field may hold (null aside); unbounded when nothing is declared."""
    if path in DERIVED_BOUNDS:
        return DERIVED_BOUNDS[path]
    info = _field_info(CONTEXTS[stage], path.split("."))
    if info is None:
        return Interval()
    interval = Interval()
    for constraint in _constraints(info.metadata, info.annotation):
        interval = interval.intersect(_as_interval(constraint))
    return interval


def _field_info(model: type[BaseModel], parts: list[str]) -> Any:
    info = model.model_fields.get(parts[0])
    if info is None or len(parts) == 1:
        return info
    inner = _optional_member(info.annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return _field_info(inner, parts[1:])
    return None


def _optional_member(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _constraints(metadata: Iterable[Any], annotation: Any) -> Iterable[Any]:
    """annotated-types constraints on a field, including those nested in ``X | None``."""
    for item in metadata:
        inner = getattr(item, "metadata", None)
        yield from inner if isinstance(inner, list) else (item,)
    annotation = _optional_member(annotation)
    if hasattr(annotation, "__metadata__"):
        yield from _constraints(annotation.__metadata__, get_args(annotation)[0])


def _as_interval(constraint: Any) -> Interval:
    if isinstance(constraint, annotated_types.Gt):
        return Interval(Decimal(str(constraint.gt)), None, lo_open=True)
    if isinstance(constraint, annotated_types.Ge):
        return Interval(Decimal(str(constraint.ge)), None, lo_open=False)
    if isinstance(constraint, annotated_types.Lt):
        return Interval(None, Decimal(str(constraint.lt)), hi_open=True)
    if isinstance(constraint, annotated_types.Le):
        return Interval(None, Decimal(str(constraint.le)), hi_open=False)
    return Interval()


def number_literal(node: ast.AST) -> Decimal | None:
    """The value of a numeric literal (``5``, ``0.1``, ``-3``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = number_literal(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Decimal(node.value)
    if isinstance(node, ast.Constant) and type(node.value) is float:
        exact = getattr(node, EXACT, None)  # set by documents.checked from the gate's decimals
        return exact if isinstance(exact, Decimal) else Decimal(repr(node.value))
    return None


def interval_of(node: ast.AST, stage: str) -> Interval | None:
    """Values a numeric expression can take (over-approximated); None if it is not a number."""
    literal = number_literal(node)
    if literal is not None:
        return Interval.point(literal)
    path = dotted_name(node)
    if path is not None:
        found = symbol_table(stage).fields.get(path)
        return field_interval(stage, path) if found and found.type is Type.NUMBER else None
    handler = _HANDLERS.get(type(node))
    return handler(node, stage) if handler else None


def _unary(node: ast.AST, stage: str) -> Interval | None:
    assert isinstance(node, ast.UnaryOp)
    inner = interval_of(node.operand, stage)
    if inner is None or isinstance(node.op, ast.Not):
        return None
    return inner.negate() if isinstance(node.op, ast.USub) else inner


def _binary(node: ast.AST, stage: str) -> Interval | None:
    assert isinstance(node, ast.BinOp)
    left, right = interval_of(node.left, stage), interval_of(node.right, stage)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Add):
        return left.add(right)
    if isinstance(node.op, ast.Sub):
        return left.add(right.negate())
    if isinstance(node.op, ast.Mult):
        factor, other = (
            (left.single(), right) if left.single() is not None else (right.single(), left)
        )
        return other.scale(factor) if factor is not None else Interval()
    return Interval()  # division, modulo and powers: any number, to stay sound


def _call(node: ast.AST, stage: str) -> Interval | None:
    assert isinstance(node, ast.Call)
    name = node.func.id if isinstance(node.func, ast.Name) else ""
    args = [interval_of(a, stage) for a in node.args]
    known = [a for a in args if a is not None]
    if not known or len(known) != len(args):
        return None
    if name == "abs":
        return known[0].absolute()
    if name in ("min", "max"):
        result = known[0]
        for other in known[1:]:
            result = result.minimum(other) if name == "min" else result.maximum(other)
        return result
    return Interval()  # round() may move a value across any bound we know


def _if(node: ast.AST, stage: str) -> Interval | None:
    assert isinstance(node, ast.IfExp)
    body, orelse = interval_of(node.body, stage), interval_of(node.orelse, stage)
    return body.hull(orelse) if body is not None and orelse is not None else None


_HANDLERS: dict[type[ast.AST], Callable[[ast.AST, str], Interval | None]] = {
    ast.UnaryOp: _unary,
    ast.BinOp: _binary,
    ast.Call: _call,
    ast.IfExp: _if,
}
