"""Turn checked expressions into one Python function per (stage, venue, symbol).

The generated function reads every field its rules use once, into locals, then tests
each rule in order inside its own ``try`` (zero-cost in CPython 3.11 until something
raises). A rule that fires appends its index to ``fired``; a rule that raises appends
``(index, exception)``, which the caller turns into a fail-closed reject. Decimal
literals are bound as default arguments, so the hot path does no global lookups.

Only trees that passed :mod:`riskctl.expr` reach this module, and the only names the
generated code can see are the field locals, the literals and ``Decimal``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from riskctl.expr import CheckedExpression, dotted_name
from riskctl.symbols import symbol_table

__all__ = ["Compiled", "RuleCode", "generate"]

Program = Callable[[Any, list[Any]], None]


@dataclass(frozen=True, slots=True)
class RuleCode:
    """What codegen needs of a rule: its checked condition and whether exits skip it."""

    expr: CheckedExpression
    exits_exempt: bool = False


@dataclass(frozen=True, slots=True)
class Compiled:
    """A generated program and its source, kept for debugging and inspection."""

    run: Program
    source: str


def generate(rules: Sequence[RuleCode], *, name: str = "program") -> Compiled:
    """Compile ``rules`` (indexes are positions in this sequence) into one function."""
    fields: dict[str, str] = {}
    constants: dict[str, Decimal] = {}
    tests = [_test_source(rule.expr, fields, constants) for rule in rules]
    exit_field = "order.is_exit"
    needs_exit_flag = any(rule.exits_exempt for rule in rules)
    if needs_exit_flag:
        fields.setdefault(exit_field, f"v{len(fields)}")

    params = ", ".join(
        ["c", "fired", *(f"{k}={k}" for k in constants), "D=D", "FLOORDIV=FLOORDIV", "MOD=MOD"]
    )
    lines = [f"def {name}({params}):"]
    lines += _prologue(fields, _optional_objects(rules))
    in_exit_block = False
    for index, (rule, test) in enumerate(zip(rules, tests, strict=True)):
        # Consecutive rules that exits skip share one `if not is_exit:` test.
        if rule.exits_exempt and not in_exit_block:
            lines.append(f"    if not {fields[exit_field]}:")
        in_exit_block = rule.exits_exempt
        indent = "        " if rule.exits_exempt else "    "
        lines += [
            f"{indent}try:",
            f"{indent}    if {test}:",
            f"{indent}        fired.append({index})",
            f"{indent}except Exception as exc:",
            f"{indent}    fired.append(({index}, exc))",
        ]
    if not rules:
        lines.append("    return None")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {
        "D": Decimal,
        "FLOORDIV": floor_div,
        "MOD": floor_mod,
        **constants,
        "__builtins__": _BUILTINS,
    }
    exec(compile(source, f"<riskctl {name}>", "exec"), namespace)  # noqa: S102  # source built from checked trees only
    return Compiled(namespace[name], source)


def _optional_objects(rules: Sequence[RuleCode]) -> set[str]:
    stages = {rule.expr.stage for rule in rules}
    return {p for s in stages for p, nullable in symbol_table(s).objects.items() if nullable}


def _prologue(fields: dict[str, str], optional: set[str]) -> list[str]:
    """Read each group once (``g0 = c.order``), then each field from its group's local.

    A field of an optional group that is absent (``instrument`` is None) reads as None.
    """
    groups: dict[str, str] = {"": "c"}
    lines: list[str] = []

    def local(path: str) -> str:
        if path not in groups:
            parent, _, leaf = path.rpartition(".")
            holder = local(parent)
            name = f"g{len(groups) - 1}"
            lines.append(f"    {name} = {_attr(holder, leaf, parent in optional)}")
            groups[path] = name
        return groups[path]

    reads = []
    for path, var in fields.items():
        parent, _, leaf = path.rpartition(".")
        reads.append(f"    {var} = {_attr(local(parent), leaf, parent in optional)}")
    return lines + reads


def _attr(holder: str, leaf: str, optional: bool) -> str:
    return f"{holder}.{leaf} if {holder} is not None else None" if optional else f"{holder}.{leaf}"


def floor_div(a: Decimal | int, b: Decimal | int) -> Decimal:
    """a // b rounded toward minus infinity, as Python does for ints, for every number."""
    return (Decimal(a) / b).to_integral_value(rounding=ROUND_FLOOR)


def floor_mod(a: Decimal | int, b: Decimal | int) -> Decimal:
    """a % b with the sign of b, as Python does for ints: a - b * floor(a / b)."""
    return Decimal(a) - b * floor_div(a, b)


# Only what checked expressions can call; everything else is unreachable from generated code.
_BUILTINS = {"abs": abs, "min": min, "max": max, "round": round, "Exception": Exception}


def _test_source(
    expr: CheckedExpression, fields: dict[str, str], constants: dict[str, Decimal]
) -> str:
    tree = _Rewrite(expr, fields, constants).visit(ast.parse(expr.text, mode="eval"))
    return ast.unparse(ast.fix_missing_locations(tree).body)


class _Rewrite(ast.NodeTransformer):
    """Field paths -> locals, float literals -> exact Decimals, ``/`` -> Decimal division."""

    def __init__(
        self, expr: CheckedExpression, fields: dict[str, str], constants: dict[str, Decimal]
    ):
        self.expr = expr
        self.fields = fields
        self.constants = constants

    def _local(self, path: str) -> ast.Name:
        var = self.fields.setdefault(path, f"v{len(self.fields)}")
        return ast.Name(var, ast.Load())

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.expr.fields:
            return self._local(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        path = dotted_name(node)
        if path is not None and path in self.expr.fields:
            return self._local(path)
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, float):
            exact = self.expr.decimals[f"{node.lineno}:{node.col_offset}"]
            for name, value in self.constants.items():
                if value == exact and str(value) == str(exact):
                    return ast.Name(name, ast.Load())
            name = f"k{len(self.constants)}"
            self.constants[name] = exact
            return ast.Name(name, ast.Load())
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.op, ast.Div):
            # int / int would give a float; Decimal division keeps the result exact.
            node.left = ast.Call(ast.Name("D", ast.Load()), [node.left], [])
        elif isinstance(node.op, ast.FloorDiv | ast.Mod):
            # Decimal // and % truncate toward zero, ints floor: one rule (floor) for both.
            helper = "FLOORDIV" if isinstance(node.op, ast.FloorDiv) else "MOD"
            return ast.Call(ast.Name(helper, ast.Load()), [node.left, node.right], [])
        return node
