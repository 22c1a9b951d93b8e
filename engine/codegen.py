"""Turn checked expressions into one Python function per (stage, venue, symbol).

The generated function reads every field its rules use once, into locals, then tests
each rule in order inside its own ``try`` (zero-cost in CPython 3.11 until something
raises). A rule that fires appends its index to ``fired``; a rule that raises appends
``(index, exception)``, which the caller turns into a fail-closed reject. Decimal
literals are bound as default arguments, so the hot path does no global lookups.

A program is generated for one scope, so what the scope decides is folded away before
code is written: ``order.symbol == 'ETH/USDT'`` is a constant in the BTC/USDT program, and
a rule that can never fire there emits no code at all. Integer literals meeting a Decimal
are bound as Decimals (comparing Decimal with int costs twice Decimal with Decimal), and
a division whose left side is already a Decimal is not converted again. Every rewrite
keeps the value and the exceptions of the original exactly (operands are booleans where
``and``/``or`` are simplified, and an operand that might raise is never dropped).

Only trees that passed :mod:`riskctl.expr` reach this module, and the only names the
generated code can see are the field locals, the literals and ``Decimal``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from riskctl.expr import CheckedExpression, dotted_name
from riskctl.symbols import symbol_table

__all__ = ["Compiled", "ProgramPlan", "RuleCode", "generate", "plan"]

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


@dataclass(frozen=True, slots=True)
class ProgramPlan:
    """Rules rewritten for one scope, before compilation.

    ``signature`` is everything the generated code depends on: two scopes whose plans
    have equal signatures share one compiled function.
    """

    rules: tuple[RuleCode, ...]
    tests: tuple[str | None, ...]  # None: the rule can never fire in this scope
    fields: tuple[tuple[str, str], ...]  # (path, local)
    constants: tuple[tuple[str, Decimal], ...]
    temps: int = 0  # shared subexpressions t0..t(n-1), computed at first use

    @property
    def signature(self) -> tuple[object, ...]:
        exempt = tuple(rule.exits_exempt for rule in self.rules)
        shown = tuple((name, str(value)) for name, value in self.constants)
        return (
            self.tests,
            exempt,
            self.fields,
            shown,
            self.rules[0].expr.stage if self.rules else "",
        )

    def compile(self, name: str = "program", *, values: bool = False) -> Compiled:
        return _compile(self, name, values=values)


def plan(rules: Sequence[RuleCode], *, known: Mapping[str, str] | None = None) -> ProgramPlan:
    """Rewrite ``rules`` for a scope whose ``known`` field paths hold fixed values."""
    fields: dict[str, str] = {}
    constants: dict[str, Decimal] = {}
    trees = [_test_tree(rule.expr, fields, constants, known or {}) for rule in rules]
    temps = _share_subexpressions([t for t in trees if t is not None])
    tests = tuple(None if tree is None else ast.unparse(tree) for tree in trees)
    return ProgramPlan(tuple(rules), tests, tuple(fields.items()), tuple(constants.items()), temps)


def generate(
    rules: Sequence[RuleCode],
    *,
    name: str = "program",
    known: Mapping[str, str] | None = None,
    values: bool = False,
) -> Compiled:
    """Compile ``rules`` (indexes are positions in this sequence) into one function.

    The function appends to ``fired`` the index of each rule whose condition holds, or
    ``(index, exception)`` for one that raised. With ``values`` it evaluates expressions
    instead (alert metrics): it appends ``(index, value)`` for every one, or
    ``(index, exception)``.
    """
    return plan(rules, known=known).compile(name, values=values)


def _compile(program: ProgramPlan, name: str, *, values: bool = False) -> Compiled:
    fields = dict(program.fields)
    constants = dict(program.constants)
    live = [
        (index, rule, test)
        for index, (rule, test) in enumerate(zip(program.rules, program.tests, strict=True))
        if test is not None
    ]
    exit_field = "order.is_exit"
    if any(rule.exits_exempt for _, rule, _ in live):
        fields.setdefault(exit_field, f"v{len(fields)}")
    used = {var for _, _, test in live for var in _NAMES.findall(test)}
    reads = {path: var for path, var in fields.items() if var in used or path == exit_field}

    params = ", ".join(
        [
            "c",
            "fired",
            *(f"{k}={k}" for k in constants),
            "D=D",
            "FLOORDIV=FLOORDIV",
            "MOD=MOD",
            "U=U",
        ]
    )
    lines = [f"def {name}({params}):"]
    lines += _prologue(reads, _optional_objects(program.rules))
    if program.temps:
        lines.append("    " + " = ".join(f"t{i}" for i in range(program.temps)) + " = U")
    in_exit_block = False
    for index, rule, test in live:
        # Consecutive rules that exits skip share one `if not is_exit:` test.
        if rule.exits_exempt and not in_exit_block:
            lines.append(f"    if not {fields[exit_field]}:")
        in_exit_block = rule.exits_exempt
        indent = "        " if rule.exits_exempt else "    "
        if values:
            lines += [
                f"{indent}try:",
                f"{indent}    fired.append(({index}, {test}))",
                f"{indent}except Exception as exc:",
                f"{indent}    fired.append(({index}, exc))",
            ]
            continue
        if test == "True":  # decided by the scope: it fires, and nothing in it can raise
            lines.append(f"{indent}fired.append({index})")
            continue
        lines += [
            f"{indent}try:",
            f"{indent}    if {test}:",
            f"{indent}        fired.append({index})",
            f"{indent}except Exception as exc:",
            f"{indent}    fired.append(({index}, exc))",
        ]
    if not live:
        lines.append("    return None")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {
        "D": Decimal,
        "FLOORDIV": floor_div,
        "MOD": floor_mod,
        "U": _UNSET,
        **constants,
        "__builtins__": _BUILTINS,
    }
    exec(compile(source, f"<riskctl {name}>", "exec"), namespace)  # noqa: S102  # source built from checked trees only
    return Compiled(namespace[name], source)


_UNSET = object()  # a shared subexpression not computed yet in this evaluation
_NAMES = re.compile(r"\bv\d+\b")


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


def _test_tree(
    expr: CheckedExpression,
    fields: dict[str, str],
    constants: dict[str, Decimal],
    known: Mapping[str, str],
) -> ast.expr | None:
    """The rule's rewritten condition; None when the scope decides it is false."""
    tree = _Rewrite(expr, fields, constants, known).visit(ast.parse(expr.text, mode="eval"))
    body: ast.expr = ast.fix_missing_locations(tree).body
    if isinstance(body, ast.Constant) and not body.value:
        return None
    return body


# -- shared subexpressions -------------------------------------------------------------------

_COMPUTATIONS = (ast.BinOp, ast.Call, ast.UnaryOp)
_MIN_SHARED_OPS = 2  # sharing one cheap operation costs about what it saves
_SHARED_CALLS = frozenset({"abs", "min", "max", "round", "FLOORDIV", "MOD"})


def _share_subexpressions(trees: list[ast.expr]) -> int:
    """Compute each computation that occurs more than once at most once per evaluation.

    An occurrence becomes ``(tN if tN is not U else (tN := <expr>))``: the first rule that
    reaches it computes it, inside its own ``try``, exactly where the original would have;
    if that raises, tN stays unset and the next rule computes (and raises) itself. Nothing
    runs that the rules would not have run, and every rule fails as it did. Largest first,
    so ``abs(a - b) * 10000`` is shared whole rather than ``a - b`` alone. Returns the
    number of temporaries; the trees are rewritten in place.
    """
    temps = 0
    while True:
        counts, sizes = _occurrences(trees)
        shared = [k for k, n in counts.items() if n > 1 and sizes[k] >= _MIN_SHARED_OPS]
        if not shared:
            return temps
        target = max(shared, key=lambda k: (sizes[k], k))
        name = f"t{temps}"
        temps += 1
        for tree in trees:
            _Replace(target, name).visit(tree)


def _occurrences(trees: list[ast.expr]) -> tuple[dict[str, int], dict[str, int]]:
    """How often each shareable computation is written, and how many operations it has."""
    counts: dict[str, int] = {}
    sizes: dict[str, int] = {}
    seen: set[str] = set()

    def count(node: ast.AST) -> None:
        if isinstance(node, ast.NamedExpr):
            # A temporary's definition is written at each of its uses but runs once: count
            # what is inside it once, and never the shared value itself again.
            assert isinstance(node.target, ast.Name)
            if node.target.id not in seen:
                seen.add(node.target.id)
                for child in ast.iter_child_nodes(node.value):
                    count(child)
            return
        if _shareable(node):
            key = ast.dump(node)
            counts[key] = counts.get(key, 0) + 1
            sizes[key] = sizes.get(key) or _operations(node)
        for child in ast.iter_child_nodes(node):
            count(child)

    for tree in trees:
        count(tree)
    return counts, sizes


def _shareable(node: ast.AST) -> bool:
    if not isinstance(node, _COMPUTATIONS):
        return False
    # calls of the allowed functions and the floor helpers; D() only wraps a value
    return not isinstance(node, ast.Call) or (
        isinstance(node.func, ast.Name) and node.func.id in _SHARED_CALLS
    )


def _operations(node: ast.AST) -> int:
    return sum(isinstance(n, _COMPUTATIONS) for n in ast.walk(node))


class _Replace(ast.NodeTransformer):
    """Every occurrence of one computation -> its lazily computed temporary."""

    def __init__(self, target: str, name: str) -> None:
        self.target = target
        self.name = name

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.AST:
        node.value = self.generic_visit(node.value)  # type: ignore[assignment]  # inside only
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, _COMPUTATIONS) and ast.dump(node) == self.target:
            load = ast.Name(self.name, ast.Load())
            unset = ast.Compare(load, [ast.IsNot()], [ast.Name("U", ast.Load())])
            compute = ast.NamedExpr(ast.Name(self.name, ast.Store()), node)
            return ast.IfExp(unset, ast.Name(self.name, ast.Load()), compute)
        return super().generic_visit(node)


_FOLDABLE = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
_BINDS = (ast.Add, ast.Sub, ast.Mult, ast.Div)  # operators whose int operand may become Decimal


class _Rewrite(ast.NodeTransformer):
    """Field paths -> locals, number literals -> exact Decimals, scope facts -> constants."""

    def __init__(
        self,
        expr: CheckedExpression,
        fields: dict[str, str],
        constants: dict[str, Decimal],
        known: Mapping[str, str],
    ):
        self.expr = expr
        self.fields = fields
        self.constants = constants
        self.known = known
        table = symbol_table(expr.stage).fields
        self.decimal_paths = {path for path in expr.fields if path in table and table[path].decimal}
        self.decimal_locals: set[str] = set()

    def _local(self, path: str) -> ast.Name:
        var = self.fields.setdefault(path, f"v{len(self.fields)}")
        if path in self.decimal_paths:
            self.decimal_locals.add(var)
        return ast.Name(var, ast.Load())

    def _constant(self, exact: Decimal) -> ast.Name:
        for name, value in self.constants.items():
            if value == exact and str(value) == str(exact):
                return ast.Name(name, ast.Load())
        name = f"k{len(self.constants)}"
        self.constants[name] = exact
        return ast.Name(name, ast.Load())

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
            return self._constant(self.expr.decimals[f"{node.lineno}:{node.col_offset}"])
        return node

    # -- folding what the scope decides ----------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        folded = self._scope_fact(node)
        if folded is not None:
            return ast.Constant(folded)
        node = self.generic_visit(node)  # type: ignore[assignment]
        operands = [node.left, *node.comparators]
        for i, operand in enumerate(operands):
            if not _is_int(operand):
                continue
            ops = [*node.ops[i - 1 : i], *node.ops[i : i + 1]] if i else node.ops[:1]
            neighbours = [operands[j] for j in (i - 1, i + 1) if 0 <= j < len(operands)]
            ordered = all(not isinstance(op, ast.In | ast.NotIn | ast.Is | ast.IsNot) for op in ops)
            if ordered and any(self._is_decimal(n) for n in neighbours):
                operands[i] = self._as_decimal(operand)
        node.left, node.comparators = operands[0], operands[1:]
        return node

    def _scope_fact(self, node: ast.Compare) -> bool | None:
        """``order.symbol == 'X'`` (or ``in (...)``) where the scope fixes order.symbol."""
        if len(node.ops) != 1 or not isinstance(node.ops[0], _FOLDABLE):
            return None
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, ast.Eq | ast.NotEq) and isinstance(left, ast.Constant):
            left, right = right, left
        path = dotted_name(left)
        if path is None or path not in self.known or path not in self.expr.fields:
            return None
        value = self.known[path]
        if isinstance(op, ast.Eq | ast.NotEq):
            if not (isinstance(right, ast.Constant) and isinstance(right.value, str)):
                return None
            equal = value == right.value
            return equal if isinstance(op, ast.Eq) else not equal
        if not (
            isinstance(right, ast.Tuple | ast.List | ast.Set)
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in right.elts)
        ):
            return None
        inside = value in {e.value for e in right.elts}  # type: ignore[attr-defined]
        return inside if isinstance(op, ast.In) else not inside

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        # Operands are booleans (the checker insists), so a constant operand can go:
        # True in an `and` (False in an `or`) changes nothing, and the first False in an
        # `and` (True in an `or`) ends it; operands before it still run, and may raise.
        node = self.generic_visit(node)  # type: ignore[assignment]
        absorbing = isinstance(node.op, ast.Or)
        kept: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                if bool(value.value) is absorbing:
                    kept.append(value)
                    break
                continue
            kept.append(value)
        if not kept:
            return ast.Constant(not absorbing)
        if len(kept) == 1:
            return kept[0]
        return ast.BoolOp(node.op, kept)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.op, ast.Not) and isinstance(node.operand, ast.Constant):
            return ast.Constant(not node.operand.value)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        # `x if x is not None else 0` with x a Decimal: the 0 becomes a Decimal too
        if _is_int(node.orelse) and self._is_decimal(node.body):
            node.orelse = self._as_decimal(node.orelse)
        elif _is_int(node.body) and self._is_decimal(node.orelse):
            node.body = self._as_decimal(node.body)
        return node

    # -- arithmetic ------------------------------------------------------------------

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if isinstance(node.op, ast.Div) and not self._is_decimal(node.left):
            # int / int would give a float; Decimal division keeps the result exact.
            node.left = ast.Call(ast.Name("D", ast.Load()), [node.left], [])
        if isinstance(node.op, _BINDS):
            if _is_int(node.left) and self._is_decimal(node.right):
                node.left = self._as_decimal(node.left)
            elif _is_int(node.right) and self._is_decimal(node.left):
                node.right = self._as_decimal(node.right)
        elif isinstance(node.op, ast.FloorDiv | ast.Mod):
            # Decimal // and % truncate toward zero, ints floor: one rule (floor) for both.
            helper = "FLOORDIV" if isinstance(node.op, ast.FloorDiv) else "MOD"
            return ast.Call(ast.Name(helper, ast.Load()), [node.left, node.right], [])
        return node

    def _as_decimal(self, node: ast.expr) -> ast.expr:
        value = _int_value(node)
        assert value is not None  # only called on what _is_int accepted
        return self._constant(Decimal(value))

    def _is_decimal(self, node: ast.AST) -> bool:
        """True when ``node`` evaluates to a Decimal (or raises); False when unsure."""
        if isinstance(node, ast.Name):
            return node.id in self.decimal_locals or node.id in self.constants
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("D", "FLOORDIV", "MOD"):
                return True
            if node.func.id == "abs":
                return self._is_decimal(node.args[0])
            if node.func.id in ("min", "max"):
                return all(self._is_decimal(a) for a in node.args)
            return False  # round(x) is an int
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self._is_decimal(node.left)
            return self._is_decimal(node.left) or self._is_decimal(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return self._is_decimal(node.operand)
        if isinstance(node, ast.IfExp):
            return self._is_decimal(node.body) and self._is_decimal(node.orelse)
        return False


def _is_int(node: ast.AST) -> bool:
    return _int_value(node) is not None


def _int_value(node: ast.AST) -> int | None:
    """The value of an int literal, signed (``-22`` parses as a minus applied to 22)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _int_value(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None
