"""Policy expressions the runtime evaluates itself (breaker conditions, alert metrics),
compiled once per stage with the rules' code generator: one call per stage and context."""

from __future__ import annotations

from collections.abc import Sequence

from riskctl.codegen import Compiled, RuleCode, generate
from riskctl.expr import check_expression
from riskctl.symbols import Type

__all__ = ["compile_stage"]


def compile_stage(
    stage: str, named: Sequence[tuple[str, str]], *, expect: Type, values: bool = False
) -> Compiled:
    """One program for ``(name, expression)`` pairs of one stage; indexes follow ``named``.

    Conditions (``values=False``) append the index of each that holds, or (index, error);
    metrics (``values=True``) append (index, value) or (index, error).
    """
    rules = []
    for name, text in named:
        checked, problem = check_expression(text, stage, expect=expect)
        if checked is None:  # the bundle was checked at load; this would be a bug
            raise ValueError(f"{name}: {problem}")
        rules.append(RuleCode(checked))
    return generate(rules, name=f"runtime_{stage}", values=values)
