"""Turn the rules a program fired into a Decision: hits with values, outcome, actions.

This is the cold path: it runs only when at least one rule fired or failed. A rule that
raised becomes a reject that names the rule and the reason (a null field, a division by
zero); a clipped order is evaluated again, and must pass every rule itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from riskctl.context import PreTradeContext, StageContext
from riskctl.decision import Decision, Outcome, RuleHit, combine, combine_all, sorted_actions
from riskctl.errors import redact
from riskctl.modify import ACTION_OF, modification
from riskctl.ruleset import ScopeProgram
from riskctl.rulespec import RuleSpec

__all__ = ["cancel_passed", "decide", "failure"]

_ALLOWING = frozenset({"alert"})
MAX_FIX_ROUNDS = 4  # price onto the grid, then notional, then step: three is the most seen


def failure(stage: str, code: str, message: str, values: dict[str, Any] | None = None) -> Decision:
    hit = RuleHit(
        rule_id=code,
        policy="riskctl/gate",
        code=code,
        severity="critical",
        action="reject",
        message=redact(message) + "; the gate fails closed",
        values=values or {},
    )
    return Decision(stage, Outcome.REJECT, ("reject",), (hit,))


def cancel_passed(stage: str, problem: str, values: dict[str, Any] | None = None) -> Decision:
    """An allow for a cancel whose context is invalid: recorded, never blocked."""
    hit = RuleHit(
        rule_id="context.invalid",
        policy="riskctl/gate",
        code="context.invalid",
        severity="warning",
        action="alert",
        message=redact(problem) + "; the cancel passed, since no check may block a cancel",
        values=values or {},
        mode="audit",
    )
    return Decision(stage, Outcome.ALLOW, (), (hit,))


def decide(stage: str, program: ScopeProgram, ctx: StageContext, fired: list[Any]) -> Decision:
    """The decision for the rules ``program`` fired on ``ctx`` (indexes or (index, error))."""
    decision = _combined(stage, program, ctx, fired)
    for _ in range(MAX_FIX_ROUNDS):
        if decision.outcome is not Outcome.MODIFY:
            return decision
        again = _evaluate_fixed(stage, program, ctx, decision.modifications)
        if again.outcome is Outcome.ALLOW:
            return decision
        # A reject absorbs; a further fix (say, a notional clip after a price moved up)
        # narrows the order again, and that order is checked in the next round.
        decision = combine(decision, again)
    return combine(
        decision,
        failure(stage, "order.fix-not-converging", "the order's fixes did not settle"),
    )


def _combined(stage: str, program: ScopeProgram, ctx: StageContext, fired: list[Any]) -> Decision:
    if not fired:
        return Decision(stage, Outcome.ALLOW)
    specs = program.specs
    return combine_all(
        [
            _error_decision(stage, specs[item[0]], ctx, item[1])
            if isinstance(item, tuple)
            else _hit_decision(stage, specs[item], ctx)
            for item in fired
        ]
    )


def _hit_decision(stage: str, spec: RuleSpec, ctx: StageContext) -> Decision:
    values = _values(spec, ctx)
    hit = RuleHit(
        rule_id=spec.rule_id,
        policy=spec.policy,
        code=spec.code,
        severity=spec.severity,
        action=ACTION_OF[spec.modify] if spec.modify else spec.action,
        message=spec.message,
        values=values,
        mode=_mode(spec),
    )
    if not spec.enforced:
        return Decision(stage, Outcome.ALLOW, (), (hit,))
    if spec.action in _ALLOWING or _exit_passes(spec, ctx):
        return Decision(stage, Outcome.ALLOW, (spec.action,), (hit,))
    if spec.modify and isinstance(ctx, PreTradeContext):
        fixed = modification(spec, ctx)
        if fixed is not None:
            return Decision(stage, Outcome.MODIFY, (ACTION_OF[spec.modify],), (hit,), fixed)
    return Decision(stage, Outcome.REJECT, sorted_actions(("reject", spec.action)), (hit,))


def _exit_passes(spec: RuleSpec, ctx: StageContext) -> bool:
    """A reduce_only rule restricts trading to exits; the exit in hand passes."""
    return (
        spec.action == "reduce_only"
        and isinstance(ctx, PreTradeContext)
        and bool(ctx.order.is_exit)
    )


def _evaluate_fixed(
    stage: str, program: ScopeProgram, ctx: StageContext, modifications: Mapping[str, Decimal]
) -> Decision:
    """Evaluate the order with ``modifications`` applied: it must pass every rule itself."""
    assert isinstance(ctx, PreTradeContext)
    data = ctx.model_dump(mode="python")
    order = data["order"]
    # Exactly {**order, **modifications} as the caller sends it: a quote-sized order is
    # converted again (at a moved price too), never checked with the qty derived before.
    order.pop("qty" if order.get("quote_qty") is not None else "quote_qty", None)
    order.update(modifications)
    fixed = PreTradeContext.model_validate(data)
    fired: list[Any] = []
    program.run(fixed, fired)
    return _combined(stage, program, fixed, fired)


def _error_decision(stage: str, spec: RuleSpec, ctx: StageContext, exc: BaseException) -> Decision:
    """An enforced rule that raised rejects (fail closed); an audit rule records that it would."""
    values = _values(spec, ctx)
    reason = _explain_error(exc, values)
    consequence = "the gate fails closed" if spec.enforced else "in enforce mode it would reject"
    hit = RuleHit(
        rule_id=spec.rule_id,
        policy=spec.policy,
        code="rule.error",
        severity="critical",
        action="reject",
        message=f"rule {spec.rule_id} could not be evaluated ({reason}); {consequence}",
        values=values,
        mode=_mode(spec),
    )
    if not spec.enforced:
        return Decision(stage, Outcome.ALLOW, (), (hit,))
    return Decision(stage, Outcome.REJECT, ("reject",), (hit,))


def _explain_error(exc: BaseException, values: dict[str, Any]) -> str:
    nulls = [path for path, value in values.items() if value is None]
    if nulls and isinstance(exc, TypeError) and "NoneType" in str(exc):
        return f"{', '.join(nulls)} {'is' if len(nulls) == 1 else 'are'} null"
    name = type(exc).__name__
    if "DivisionByZero" in name or isinstance(exc, ZeroDivisionError):
        return "division by zero"
    return redact(f"{name}: {exc}")


def _values(spec: RuleSpec, ctx: StageContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path, read in spec.readers:
        try:
            value = read(ctx)
        except AttributeError:  # a field of an optional group that is absent
            value = None
        # a group tested for presence (`instrument is None`) reports that, not its repr
        values[path] = "present" if isinstance(value, BaseModel) else value
    if spec.limit is not None:
        values["limit"] = spec.limit
        values["scope"] = spec.scope_label
    return values


def _mode(spec: RuleSpec) -> str:
    return "enforce" if spec.enforced else "audit"
