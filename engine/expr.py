"""Rule expressions: parse once, allow-list the syntax, type-check names against the stage.

The language is the safe subset of what simpleeval evaluates: comparisons (chained too),
``and``/``or``/``not``, arithmetic, ``x if c else y``, ``in`` a literal tuple, the calls
``abs``, ``min``, ``max`` and ``round``, and dotted names into the stage's context. There
are no loops, comprehensions, lambdas, subscripts, dunders or other calls, so every
expression runs in bounded time; exponents are small literal integers; strings are only
compared, so no expression can build a huge value.

Checking happens when a bundle loads. The checked tree is what :mod:`riskctl.codegen`
turns into Python code; evaluation never walks it.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from riskctl.context import STAGES
from riskctl.symbols import SymbolTable, Type, symbol_table
from riskctl.validation import suggest

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "CheckedExpression",
    "ExprProblem",
    "check_expression",
    "nesting_depth",
]

FUNCTIONS = {"abs": (1, 1), "min": (2, 8), "max": (2, 8), "round": (1, 2)}
MAX_POWER = 4
MAX_STRING = 200
MAX_NODES = 500
MAX_DEPTH = 40  # checking recurses per level; this keeps it far from Python's stack limit

_COMPARE_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


@dataclass(frozen=True, slots=True)
class ExprProblem:
    """Why an expression was refused, and where in its text (0-based line and column)."""

    code: str
    message: str
    line: int = 0
    column: int = 0
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedExpression:
    """An expression that passed every check: its tree, the fields it reads, its type."""

    text: str
    stage: str
    tree: ast.Expression
    type: Type
    fields: tuple[str, ...]
    decimals: dict[str, Decimal] = field(default_factory=dict)


@dataclass(slots=True)
class _Typed:
    type: Type
    nullable: bool = False
    choices: tuple[str, ...] = ()


class _Refused(Exception):  # noqa: N818  # internal control flow, never escapes this module
    def __init__(self, problem: ExprProblem) -> None:
        self.problem = problem


def check_expression(
    text: str, stage: str, *, expect: Type
) -> tuple[CheckedExpression | None, ExprProblem | None]:
    """Parse and check ``text`` for ``stage``; return the checked expression or the problem."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (RecursionError, MemoryError):  # the parser's own nesting limit
        return None, ExprProblem("expr.too-large", "the expression nests too deeply to parse")
    except SyntaxError as exc:
        return None, ExprProblem(
            "expr.syntax",
            f"the expression does not parse: {exc.msg}",
            (exc.lineno or 1) - 1,
            max((exc.offset or 1) - 1, 0),
        )
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES or nesting_depth(tree) > MAX_DEPTH:
        return None, ExprProblem(
            "expr.too-large",
            f"the expression has {nodes} parts nested {nesting_depth(tree)} deep; "
            f"the limits are {MAX_NODES} parts and {MAX_DEPTH} levels",
        )
    checker = _Checker(text.strip(), symbol_table(stage))
    try:
        typed = checker.visit(tree.body)
        if typed.type is not expect:
            raise _Refused(
                _problem(
                    tree.body,
                    "expr.wrong-type",
                    f"the expression is a {typed.type.value}; it must be a {expect.value}",
                )
            )
        if expect is Type.BOOL and typed.nullable:
            raise _Refused(_nullable_bool(tree.body))
    except _Refused as refused:
        return None, refused.problem
    checked = CheckedExpression(
        text=text.strip(),
        stage=stage,
        tree=tree,
        type=typed.type,
        fields=tuple(dict.fromkeys(checker.fields)),
        decimals=checker.decimals,
    )
    return checked, None


def nesting_depth(tree: ast.AST) -> int:
    """Nesting depth, measured without recursion (the tree may be hostile)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _problem(node: ast.AST, code: str, message: str, hint: str | None = None) -> ExprProblem:
    return ExprProblem(
        code, message, getattr(node, "lineno", 1) - 1, getattr(node, "col_offset", 0), hint
    )


def _nullable_bool(node: ast.AST) -> ExprProblem:
    return _problem(
        node,
        "expr.nullable",
        f"{ast.unparse(node)} may be null, and null is neither true nor false",
        "compare it explicitly, e.g. `x == True`, or guard with `x is not None and ...`",
    )


def dotted_name(node: ast.AST) -> str | None:
    """``order.qty`` for an Attribute chain over a Name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Checker:
    """Type-checks a parsed expression against a symbol table; stops at the first problem."""

    def __init__(self, text: str, table: SymbolTable) -> None:
        self.text = text
        self.table = table
        self.fields: list[str] = []
        self.decimals: dict[str, Decimal] = {}

    def visit(self, node: ast.AST) -> _Typed:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise _Refused(
                _problem(
                    node, "expr.forbidden", f"{_describe(node)} is not allowed in a rule expression"
                )
            )
        result: _Typed = method(node)
        return result

    # -- leaves ----------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> _Typed:  # noqa: N802
        value = node.value
        if isinstance(value, bool):
            return _Typed(Type.BOOL)
        if value is None:
            return _Typed(Type.NONE, nullable=True)
        if isinstance(value, int):
            return _Typed(Type.NUMBER)
        if isinstance(value, float):
            self._decimal_literal(node)
            return _Typed(Type.NUMBER)
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise _Refused(
                    _problem(
                        node,
                        "expr.forbidden",
                        f"string literals are limited to {MAX_STRING} characters",
                    )
                )
            return _Typed(Type.STR, choices=(value,))
        raise _Refused(_problem(node, "expr.forbidden", f"the literal {value!r} is not allowed"))

    def _decimal_literal(self, node: ast.Constant) -> None:
        source = ast.get_source_segment(self.text, node) or repr(node.value)
        try:
            exact = Decimal(source.replace("_", ""))
        except InvalidOperation:
            exact = Decimal(repr(node.value))
        if not exact.is_finite():
            raise _Refused(_problem(node, "expr.forbidden", "a number must be finite"))
        self.decimals[f"{node.lineno}:{node.col_offset}"] = exact

    def visit_Name(self, node: ast.Name) -> _Typed:  # noqa: N802
        return self._field(node, node.id)

    def visit_Attribute(self, node: ast.Attribute) -> _Typed:  # noqa: N802
        path = dotted_name(node)
        if path is None:
            raise _Refused(
                _problem(node, "expr.forbidden", "attributes may only follow context names")
            )
        return self._field(node, path)

    def _field(self, node: ast.AST, path: str) -> _Typed:
        if any(part.startswith("_") for part in path.split(".")):
            raise _Refused(
                _problem(
                    node, "expr.forbidden", f"{path!r}: names starting with '_' are not allowed"
                )
            )
        found = self.table.fields.get(path)
        if found is not None:
            self.fields.append(path)
            return _Typed(found.type, found.nullable, found.choices)
        if path in self.table.objects:
            children = ", ".join(self.table.children(path))
            raise _Refused(
                _problem(
                    node,
                    "expr.not-a-value",
                    f"{path} is a group of fields, not a value",
                    f"use one of its fields: {children}",
                )
            )
        raise _Refused(self._unknown(node, path))

    def _unknown(self, node: ast.AST, path: str) -> ExprProblem:
        elsewhere = [s for s in STAGES if s != self.table.stage and path in symbol_table(s).fields]
        if elsewhere:
            return _problem(
                node,
                "expr.wrong-stage",
                f"{path} is not in the {self.table.stage} context; "
                f"it exists at {', '.join(elsewhere)}",
                "a rule can only read its own stage's context",
            )
        parent, _, leaf = path.rpartition(".")
        if parent and parent not in self.table.objects:
            return _problem(
                node,
                "expr.unknown-name",
                f"{path} is not a field of the {self.table.stage} context",
                suggest(path, list(self.table.fields)),
            )
        options = self.table.children(parent)
        close = difflib.get_close_matches(leaf, options, n=1, cutoff=0.6)
        prefix = f"{parent}." if parent else ""
        where = parent or f"the {self.table.stage} context"
        hint = f"did you mean {prefix}{close[0]}?" if close else f"{where} has {', '.join(options)}"
        return _problem(node, "expr.unknown-name", f"{where} has no field {leaf!r}", hint)

    # -- operators -------------------------------------------------------------------

    def visit_BoolOp(self, node: ast.BoolOp) -> _Typed:  # noqa: N802
        for value in node.values:
            self._expect_bool(value)
        return _Typed(Type.BOOL)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> _Typed:  # noqa: N802
        if isinstance(node.op, ast.Not):
            self._expect_bool(node.operand)
            return _Typed(Type.BOOL)
        if isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.visit(node.operand)
            self._expect(node.operand, operand, Type.NUMBER, "a sign")
            return _Typed(Type.NUMBER, operand.nullable)
        raise _Refused(_problem(node, "expr.forbidden", "bitwise operators are not allowed"))

    def visit_BinOp(self, node: ast.BinOp) -> _Typed:  # noqa: N802
        if not isinstance(node.op, _ARITH):
            raise _Refused(_problem(node, "expr.forbidden", "bitwise operators are not allowed"))
        if isinstance(node.op, ast.Pow):
            if any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.left)
            ):
                raise _Refused(_problem(node, "expr.forbidden", "powers may not be nested"))
            exponent = node.right
            if not (
                isinstance(exponent, ast.Constant)
                and type(exponent.value) is int
                and 0 <= exponent.value <= MAX_POWER
            ):
                raise _Refused(
                    _problem(
                        node,
                        "expr.forbidden",
                        f"an exponent must be a whole number from 0 to {MAX_POWER}",
                    )
                )
        left, right = self.visit(node.left), self.visit(node.right)
        symbol = _OP_SYMBOLS.get(type(node.op), "arithmetic")
        self._expect(node.left, left, Type.NUMBER, symbol)
        self._expect(node.right, right, Type.NUMBER, symbol)
        return _Typed(Type.NUMBER, left.nullable or right.nullable)

    def visit_Compare(self, node: ast.Compare) -> _Typed:  # noqa: N802
        if self._object_null_test(node):
            return _Typed(Type.BOOL)
        left_node, left = node.left, self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.Is | ast.IsNot):
                self._check_is(node, left, right_node)
                left_node, left = right_node, _Typed(Type.NONE, nullable=True)
                continue
            if isinstance(op, ast.In | ast.NotIn):
                self._check_in(left_node, left, right_node)
                left_node, left = right_node, _Typed(Type.NONE)
                continue
            right = self.visit(right_node)
            self._check_pair(node, op, (left_node, left), (right_node, right))
            left_node, left = right_node, right
        return _Typed(Type.BOOL)

    def _object_null_test(self, node: ast.Compare) -> bool:
        """``instrument is None``: an optional group of fields may be tested for presence."""
        path = dotted_name(node.left)
        if path is None or path not in self.table.objects or len(node.ops) != 1:
            return False
        if not isinstance(node.ops[0], ast.Is | ast.IsNot):
            return False
        self._check_is(node, _Typed(Type.NONE, self.table.objects[path]), node.comparators[0])
        self.fields.append(path)
        return True

    def _check_is(self, node: ast.Compare, left: _Typed, right_node: ast.AST) -> None:
        if not (isinstance(right_node, ast.Constant) and right_node.value is None):
            raise _Refused(
                _problem(node, "expr.forbidden", "`is` and `is not` only compare with None")
            )
        if not left.nullable:
            raise _Refused(
                _problem(
                    node,
                    "expr.always-same",
                    f"{ast.unparse(node.left)} is never null, so this test is always the same",
                )
            )

    def _check_in(self, left_node: ast.AST, left: _Typed, right_node: ast.AST) -> None:
        if not isinstance(right_node, ast.Tuple | ast.List | ast.Set) or not right_node.elts:
            raise _Refused(
                _problem(
                    right_node,
                    "expr.forbidden",
                    "`in` takes a literal list like ('BTC/USDT', 'ETH/USDT')",
                )
            )
        for element in right_node.elts:
            if not isinstance(element, ast.Constant):
                raise _Refused(
                    _problem(element, "expr.forbidden", "`in` lists may only hold literals")
                )
            self._check_pair(left_node, ast.Eq(), (left_node, left), (element, self.visit(element)))

    def _check_pair(
        self,
        node: ast.AST,
        op: ast.cmpop,
        left: tuple[ast.AST, _Typed],
        right: tuple[ast.AST, _Typed],
    ) -> None:
        (left_node, lt), (right_node, rt) = left, right
        if Type.NONE in (lt.type, rt.type):
            raise _Refused(
                _problem(
                    node, "expr.forbidden", "compare with None using `is None` or `is not None`"
                )
            )
        if lt.type is not rt.type:
            raise _Refused(
                _problem(
                    node,
                    "expr.type-mismatch",
                    f"{ast.unparse(left_node)} is a {lt.type.value} and "
                    f"{ast.unparse(right_node)} is a {rt.type.value}; they cannot be compared",
                )
            )
        if isinstance(op, _COMPARE_ORDER) and lt.type is not Type.NUMBER:
            raise _Refused(
                _problem(
                    node,
                    "expr.type-mismatch",
                    f"only numbers can be ordered; {lt.type.value}s cannot",
                )
            )
        for fixed, other_node, other in ((lt, right_node, rt), (rt, left_node, lt)):
            self._check_choice(fixed, other_node, other)

    def _check_choice(self, fixed: _Typed, literal_node: ast.AST, literal: _Typed) -> None:
        """``order.side == 'bye'`` can never be true: refuse values outside a field's choices."""
        if not (isinstance(literal_node, ast.Constant) and isinstance(literal_node.value, str)):
            return
        if len(fixed.choices) > 1 and literal_node.value not in fixed.choices:
            allowed = ", ".join(repr(c) for c in fixed.choices)
            raise _Refused(
                _problem(
                    literal_node,
                    "expr.invalid-choice",
                    f"{literal_node.value!r} is never a value here; it is one of {allowed}",
                    suggest(literal_node.value, list(fixed.choices)),
                )
            )

    def visit_IfExp(self, node: ast.IfExp) -> _Typed:  # noqa: N802
        self._expect_bool(node.test)
        body, orelse = self.visit(node.body), self.visit(node.orelse)
        if body.type is not orelse.type:
            raise _Refused(
                _problem(
                    node,
                    "expr.type-mismatch",
                    "both branches of `if ... else` must have the same type",
                )
            )
        return _Typed(body.type, body.nullable or orelse.nullable)

    def visit_Call(self, node: ast.Call) -> _Typed:  # noqa: N802
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS or node.keywords:
            shown = ast.unparse(node.func)
            raise _Refused(
                _problem(
                    node,
                    "expr.forbidden",
                    f"calling {shown} is not allowed",
                    f"the functions are {', '.join(FUNCTIONS)}",
                )
            )
        low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high or any(isinstance(a, ast.Starred) for a in node.args):
            raise _Refused(
                _problem(node, "expr.forbidden", f"{name} takes {low} to {high} arguments")
            )
        args = [self.visit(a) for a in node.args]
        for arg_node, arg in zip(node.args, args, strict=True):
            self._expect(arg_node, arg, Type.NUMBER, f"{name}()")
        if (
            name == "round"
            and len(node.args) == 2
            and not (
                isinstance(node.args[1], ast.Constant)
                and type(node.args[1].value) is int
                and 0 <= node.args[1].value <= 18
            )
        ):
            raise _Refused(
                _problem(
                    node, "expr.forbidden", "round's digits must be a whole number from 0 to 18"
                )
            )
        return _Typed(Type.NUMBER, any(a.nullable for a in args))

    # -- helpers ---------------------------------------------------------------------

    def _expect_bool(self, node: ast.AST) -> None:
        typed = self.visit(node)
        self._expect(node, typed, Type.BOOL, "a condition")
        if typed.nullable:
            raise _Refused(_nullable_bool(node))

    def _expect(self, node: ast.AST, typed: _Typed, want: Type, where: str) -> None:
        if typed.type is not want:
            raise _Refused(
                _problem(
                    node,
                    "expr.type-mismatch",
                    f"{ast.unparse(node)} is a {typed.type.value}; {where} needs a {want.value}",
                )
            )


_OP_SYMBOLS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}


def _describe(node: ast.AST) -> str:
    names = {
        "Lambda": "a lambda",
        "ListComp": "a comprehension",
        "SetComp": "a comprehension",
        "DictComp": "a comprehension",
        "GeneratorExp": "a generator",
        "Subscript": "indexing",
        "NamedExpr": "an assignment",
        "JoinedStr": "an f-string",
        "Await": "await",
        "Yield": "yield",
        "Starred": "unpacking",
        "Dict": "a dict literal",
    }
    return names.get(type(node).__name__, f"`{type(node).__name__}`")
