"""Expression checks beyond the type checker: constant conditions and unguarded division.

``riskctl.expr`` already refuses what cannot run (syntax, unknown names, wrong stage, type
mismatches); :func:`riskctl.ruleset.check_bundle` reports those. These checks look at
expressions that do check, using the context models' bounds:

* ``expr.constant-condition``: a condition or part of one that is always true or always
  false (``order.qty > 0``, ``x > 5 and x < 3``, ``1 > 2``, a bare ``True``);
* ``expr.division-by-zero-risk``: a division by something whose bounds allow 0
  (``account.equity``, ``market.age_ms``) with no guard such as ``x > 0 and ...``;
* ``expr.null-never-matches``: ``==`` or ``in`` on a field that may be null, with no
  ``is None`` test of it: null is simply not equal, so the rule silently does not fire
  (ordering comparisons on null fail closed instead, and ``!=`` fires).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from riskctl.errors import Diagnostic, Severity
from riskctl.expr import dotted_name
from riskctl.lint.bounds import interval_of
from riskctl.lint.conditions import Atom, Conditions
from riskctl.lint.documents import Expression, checked, expressions, locate_node
from riskctl.lint.sets import ZERO, NumberSet
from riskctl.loader import LoadedPolicy
from riskctl.symbols import Type, symbol_table

__all__ = ["check", "constant_parts", "null_equalities", "risky_divisors"]

_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)
_LEAVES = (ast.Name, ast.Attribute, ast.Constant)  # nothing to find below these


def check(policies: tuple[LoadedPolicy, ...]) -> Iterator[Diagnostic]:
    """Constant conditions and division-by-zero risks in every expression that checks."""
    for policy in policies:
        for expression in expressions(policy):
            found = checked(expression.text, expression.stage, expression.expect)
            if found is None:
                continue
            conditions = Conditions(expression.stage)
            root = found.tree.body
            in_condition = expression.expect is Type.BOOL
            for node, value in constant_parts(conditions, root, in_condition=in_condition):
                yield _constant(policy, expression, node, value=value, whole=node is root)
            for node in risky_divisors(conditions, root, ()):
                yield _division(policy, expression, node)
            for node, path in null_equalities(expression.stage, root):
                yield _null_equality(policy, expression, node, path)


# -- constant conditions ---------------------------------------------------------------


def constant_parts(
    conditions: Conditions, node: ast.AST, *, in_condition: bool
) -> Iterator[tuple[ast.AST, bool]]:
    """The outermost conditions under ``node`` that always have the same value."""
    testable = isinstance(node, ast.Compare | ast.BoolOp) or (
        in_condition and (isinstance(node, ast.Constant) or _is_not(node))
    )
    value = conditions.decide(node) if testable else None
    if value is not None:
        yield node, value
        return
    for child, child_in_condition in _children(node):
        yield from constant_parts(conditions, child, in_condition=child_in_condition)


def _is_not(node: ast.AST) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)


def _children(node: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Child nodes, and whether each sits where a condition is expected."""
    if isinstance(node, ast.BoolOp):
        yield from ((v, True) for v in node.values)
    elif _is_not(node):
        assert isinstance(node, ast.UnaryOp)
        yield node.operand, True
    elif isinstance(node, ast.IfExp):
        yield from ((node.test, True), (node.body, False), (node.orelse, False))
    elif not isinstance(node, _LEAVES):
        yield from ((child, False) for child in ast.iter_child_nodes(node))


def _constant(
    policy: LoadedPolicy, expression: Expression, node: ast.AST, *, value: bool, whole: bool
) -> Diagnostic:
    shown, word = ast.unparse(node), "true" if value else "false"
    if whole and expression.owner != "alert metric":
        effect = "fires on every event" if value else "can never fire"
        consequence = f"so the {expression.owner} {effect}"
    else:
        consequence = "so this part never changes the result"
    return Diagnostic(
        "expr.constant-condition",
        f"`{shown}` is always {word} at the {expression.stage} stage, {consequence}",
        locate_node(policy, expression, node),
        Severity.WARNING,
        hint=(
            "the context model bounds every field (a quantity, for one, is > 0);"
            " fix the comparison or remove it"
        ),
    )


# -- division by zero ----------------------------------------------------------------


def risky_divisors(
    conditions: Conditions, node: ast.AST, facts: tuple[Atom, ...]
) -> Iterator[ast.AST]:
    """Divisors that may be 0 given the facts that hold where the division runs."""
    if isinstance(node, ast.BoolOp):
        truth = isinstance(node.op, ast.And)  # later operands run only after earlier ones
        known = facts
        for value in node.values:
            yield from risky_divisors(conditions, value, known)
            known = known + tuple(conditions.implied(value, truth=truth))
        return
    if isinstance(node, ast.IfExp):
        yield from risky_divisors(conditions, node.test, facts)
        body_facts = facts + tuple(conditions.implied(node.test, truth=True))
        else_facts = facts + tuple(conditions.implied(node.test, truth=False))
        yield from risky_divisors(conditions, node.body, body_facts)
        yield from risky_divisors(conditions, node.orelse, else_facts)
        return
    divides = isinstance(node, ast.BinOp) and isinstance(node.op, _DIVISIONS)
    divisor = node.right if divides and isinstance(node, ast.BinOp) else None
    if divisor is not None and _may_be_zero(conditions, divisor, facts):
        yield divisor
    if not isinstance(node, _LEAVES):
        for child in ast.iter_child_nodes(node):
            yield from risky_divisors(conditions, child, facts)


def _may_be_zero(conditions: Conditions, divisor: ast.AST, facts: tuple[Atom, ...]) -> bool:
    interval = interval_of(divisor, conditions.stage)
    if interval is None:
        return False
    values, key = NumberSet(interval), ast.dump(divisor)
    for atom in facts:
        if atom.key == key and isinstance(atom.when_true, NumberSet):
            values = values.intersect(atom.when_true)
    return values.contains(ZERO)


def null_equalities(stage: str, root: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """``==`` / ``in`` tests of a nullable field that the expression never tests for null."""
    table = symbol_table(stage)
    tested = {
        path
        for node in ast.walk(root)
        if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.Is | ast.IsNot)
        for path in [dotted_name(node.left)]
        if path is not None
    }
    for node in ast.walk(root):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if not isinstance(op, ast.Eq | ast.In):
                continue
            for side in (left, right):
                path = dotted_name(side)
                field = table.fields.get(path) if path else None
                if field is not None and field.nullable and path not in tested:
                    yield side, field.path


def _null_equality(
    policy: LoadedPolicy, expression: Expression, node: ast.AST, path: str
) -> Diagnostic:
    return Diagnostic(
        "expr.null-never-matches",
        f"{path} may be null, and a null is never equal to anything, so the "
        f"{expression.owner} silently does not fire when it is",
        locate_node(policy, expression, node),
        Severity.WARNING,
        hint=f"say what null means: `{path} is not None and ...`, or `{path} is None or ...`",
    )


def _division(policy: LoadedPolicy, expression: Expression, divisor: ast.AST) -> Diagnostic:
    shown = ast.unparse(divisor)
    return Diagnostic(
        "expr.division-by-zero-risk",
        f"this divides by {shown}, which can be 0 at the {expression.stage} stage; a division"
        f" by zero makes the {expression.owner} fail instead of deciding",
        locate_node(policy, expression, divisor),
        Severity.WARNING,
        hint=f"guard it, e.g. `{shown} > 0 and ...`, or multiply the other side instead",
    )
