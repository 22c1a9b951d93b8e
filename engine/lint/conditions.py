"""Reasoning about conditions: which are always true or false, and what a guard proves.

A comparison of a term with a literal (``order.qty > 0``, ``order.side == 'buy'``) is an
:class:`Atom`: the values of the term that make it true, those that make it false, and
every value the term can take at all (from the context model). From atoms:

* a comparison is always true when no value the term can take makes it false;
* ``a and b`` can never hold when the atoms it implies leave some term no value, and
  ``a or b`` always holds when the atoms implied by its being false do;
* inside ``x != 0 and y / x > 1`` the division only runs when ``x != 0`` holds.

Every conclusion is sound: when in doubt the answer is "unknown" (``None``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskctl.expr import dotted_name
from riskctl.lint.bounds import interval_of, number_literal
from riskctl.lint.sets import Interval, NumberSet, StringSet, ValueSet
from riskctl.symbols import symbol_table

__all__ = ["Atom", "Conditions", "meet"]


@dataclass(frozen=True, slots=True)
class Atom:
    """A comparison of one term with literals: the term's values making it true or false."""

    key: str
    when_true: ValueSet
    when_false: ValueSet
    domain: ValueSet


def meet(left: ValueSet, right: ValueSet) -> ValueSet | None:
    """The intersection of two sets of the same kind; None when the kinds differ."""
    if isinstance(left, NumberSet) and isinstance(right, NumberSet):
        return left.intersect(right)
    if isinstance(left, StringSet) and isinstance(right, StringSet):
        return left.intersect(right)
    return None


def _empty(found: ValueSet | None) -> bool:
    return found is not None and found.is_empty()


_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}

_PYTHON_OPS: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.Gt: operator.gt,
    ast.LtE: operator.le,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}


def _number_sets(op: ast.cmpop, value: Decimal) -> tuple[NumberSet, NumberSet] | None:
    """(values making ``term op value`` true, values making it false)."""
    below = NumberSet(Interval(None, value, hi_open=True))
    up_to = NumberSet(Interval(None, value, hi_open=False))
    above = NumberSet(Interval(value, None, lo_open=True))
    from_ = NumberSet(Interval(value, None, lo_open=False))
    point, other = NumberSet(Interval.point(value)), NumberSet(excluded=frozenset({value}))
    table: dict[type[ast.cmpop], tuple[NumberSet, NumberSet]] = {
        ast.Lt: (below, from_),
        ast.LtE: (up_to, above),
        ast.Gt: (above, up_to),
        ast.GtE: (from_, below),
        ast.Eq: (point, other),
        ast.NotEq: (other, point),
    }
    return table.get(type(op))


class Conditions:
    """Decides conditions over one stage's context."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.table = symbol_table(stage)
        self._decided: dict[int, bool | None] = {}  # by id() of nodes of live trees
        self._atoms: dict[tuple[int, type[ast.cmpop], int], Atom | None] = {}

    # -- decisions ---------------------------------------------------------------------

    def decide(self, node: ast.AST) -> bool | None:
        """True or False when ``node`` always has that value, else None."""
        key = id(node)
        if key not in self._decided:
            self._decided[key] = self._decide(node)
        return self._decided[key]

    def _decide(self, node: ast.AST) -> bool | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.decide(node.operand)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            return self._decide_boolop(node)
        if isinstance(node, ast.Compare):
            return self._decide_compare(node)
        return None

    def _decide_boolop(self, node: ast.BoolOp) -> bool | None:
        decided = [self.decide(v) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        if (not is_and) in decided:  # a false operand of `and`, a true one of `or`
            return not is_and
        if all(d is is_and for d in decided):
            return is_and
        if self.contradicts(self.implied(node, truth=is_and)):
            return not is_and
        return None

    def _decide_compare(self, node: ast.Compare) -> bool | None:
        lefts = [node.left, *node.comparators[:-1]]
        decided = [
            self._decide_pair(left, op, right)
            for left, op, right in zip(lefts, node.ops, node.comparators, strict=True)
        ]
        if False in decided:
            return False
        if all(d is True for d in decided):
            return True
        return False if self.contradicts(self.implied(node, truth=True)) else None

    def _decide_pair(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> bool | None:
        atom = self.atom(left, op, right)
        if atom is not None:
            if _empty(meet(atom.domain, atom.when_true)):
                return False
            if _empty(meet(atom.domain, atom.when_false)):
                return True
            return None
        if isinstance(left, ast.Constant) and isinstance(right, ast.Constant):
            compare = _PYTHON_OPS.get(type(op))
            return bool(compare(left.value, right.value)) if compare else None
        return self._decide_intervals(left, op, right)

    def _decide_intervals(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> bool | None:
        a, b = interval_of(left, self.stage), interval_of(right, self.stage)
        if a is None or b is None or type(op) not in _FLIP:
            return None
        if isinstance(op, ast.Gt | ast.GtE):
            a, b, op = b, a, _FLIP[type(op)]()
        if isinstance(op, ast.Lt):
            return True if _always_below(a, b) else (False if _always_at_most(b, a) else None)
        if isinstance(op, ast.LtE):
            return True if _always_at_most(a, b) else (False if _always_below(b, a) else None)
        if a.intersect(b).is_empty():
            return isinstance(op, ast.NotEq)
        return None

    # -- facts -------------------------------------------------------------------------

    def implied(self, node: ast.AST, *, truth: bool) -> list[Atom]:
        """Atoms that hold whenever ``node`` evaluates to ``truth`` (possibly not all of them)."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.implied(node.operand, truth=not truth)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And) != truth:
                return []  # a false `and` or a true `or` is a disjunction: nothing certain
            return [a for v in node.values for a in self.implied(v, truth=truth)]
        if isinstance(node, ast.Compare):
            atoms = self._compare_atoms(node)
            if truth:
                return atoms
            if len(node.ops) == 1 and len(atoms) == 1:
                atom = atoms[0]
                return [Atom(atom.key, atom.when_false, atom.when_true, atom.domain)]
        return []

    def contradicts(self, atoms: Iterable[Atom]) -> bool:
        """True when some term has no value satisfying every atom about it."""
        sets: dict[str, ValueSet | None] = {}
        for atom in atoms:
            current = sets.get(atom.key, atom.domain)
            sets[atom.key] = None if current is None else meet(current, atom.when_true)
        return any(_empty(found) for found in sets.values())

    def _compare_atoms(self, node: ast.Compare) -> list[Atom]:
        lefts = [node.left, *node.comparators[:-1]]
        found = (
            self.atom(left, op, right)
            for left, op, right in zip(lefts, node.ops, node.comparators, strict=True)
        )
        return [a for a in found if a is not None]

    # -- atoms -------------------------------------------------------------------------

    def atom(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Atom | None:
        """The comparison as an atom, when one side is a literal and the other is not."""
        key = (id(left), type(op), id(right))
        if key not in self._atoms:
            self._atoms[key] = self._atom(left, op, right)
        return self._atoms[key]

    def _atom(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Atom | None:
        if isinstance(op, ast.In | ast.NotIn):
            return self._membership(left, op, right)
        if _is_literal(left) and not _is_literal(right):
            flipped = _FLIP.get(type(op))
            return self.atom(right, flipped(), left) if flipped else None
        if _is_literal(left) or not _is_literal(right):
            return None
        value = number_literal(right)
        if value is not None:
            return self._number_atom(left, op, value)
        if (
            isinstance(right, ast.Constant)
            and isinstance(right.value, str)
            and isinstance(op, ast.Eq | ast.NotEq)
        ):
            return self._string_atom(left, [right.value], inside=isinstance(op, ast.Eq))
        return None

    def _number_atom(self, term: ast.AST, op: ast.cmpop, value: Decimal) -> Atom | None:
        sets = _number_sets(op, value)
        interval = interval_of(term, self.stage)
        if sets is None or interval is None:
            return None
        return Atom(ast.dump(term), sets[0], sets[1], NumberSet(interval))

    def _membership(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Atom | None:
        if not isinstance(right, ast.Tuple | ast.List | ast.Set) or _is_literal(left):
            return None
        values = [e.value for e in right.elts if isinstance(e, ast.Constant)]
        strings = [v for v in values if isinstance(v, str)]
        if len(strings) != len(right.elts):
            return None
        return self._string_atom(left, strings, inside=isinstance(op, ast.In))

    def _string_atom(self, term: ast.AST, values: Sequence[str], *, inside: bool) -> Atom:
        chosen = frozenset(values)
        yes, no = StringSet(chosen), StringSet(excluded=chosen)
        path = dotted_name(term)
        found = self.table.fields.get(path) if path else None
        domain = StringSet(frozenset(found.choices)) if found and found.choices else StringSet()
        return Atom(ast.dump(term), yes if inside else no, no if inside else yes, domain)


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or number_literal(node) is not None


def _always_below(a: Interval, b: Interval) -> bool:
    """Every value of ``a`` is below every value of ``b``."""
    if a.hi is None or b.lo is None:
        return False
    return a.hi < b.lo or (a.hi == b.lo and (a.hi_open or b.lo_open))


def _always_at_most(a: Interval, b: Interval) -> bool:
    """Every value of ``a`` is at most every value of ``b``."""
    return a.hi is not None and b.lo is not None and a.hi <= b.lo
