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
from riskctl.decision import Decision, DecisionBuilder, Outcome, PendingHit, RuleHit, combine
from riskctl.errors import redact
from riskctl.modify import modification
from riskctl.ruleset import ScopeProgram
from riskctl.rulespec import RuleSpec

__all__ = ["cancel_passed", "decide", "failure", "fixed_context"]

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
    """Every fired rule's part, combined in one pass into one Decision."""
    builder = DecisionBuilder(stage)
    specs = program.specs
    for item in fired:
        if type(item) is tuple:
            _add_error(builder, specs[item[0]], ctx, item[1])
        else:
            _add_hit(builder, specs[item], ctx)
    return builder.build()


def _add_hit(builder: DecisionBuilder, spec: RuleSpec, ctx: StageContext) -> None:
    hit: PendingHit = (_rule_hit, spec, ctx)  # built only when the hits are read
    if not spec.enforced:
        builder.add(Outcome.ALLOW, (), (hit,))
    elif spec.action in _ALLOWING or _exit_passes(spec, ctx):
        builder.add(Outcome.ALLOW, (spec.action,), (hit,))
    else:
        fixed = (
            modification(spec, ctx) if spec.modify and isinstance(ctx, PreTradeContext) else None
        )
        if fixed is not None:
            builder.add(Outcome.MODIFY, (spec.hit_action,), (hit,), fixed)
        else:
            builder.add(Outcome.REJECT, spec.reject_actions, (hit,))


def _rule_hit(spec: RuleSpec, ctx: StageContext) -> RuleHit:
    return RuleHit(
        spec.rule_id,
        spec.policy,
        spec.code,
        spec.severity,
        spec.hit_action,
        spec.message,
        _values(spec, ctx),
        spec.mode,
    )


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
    fixed = fixed_context(ctx, modifications)
    fired: list[Any] = []
    program.run(fixed, fired)
    return _combined(stage, program, fixed, fired)


def fixed_context(ctx: PreTradeContext, modifications: Mapping[str, Any]) -> PreTradeContext:
    """``ctx`` with its order as ``{**order, **modifications}``, validated and derived
    again: the order a modify decision sends (a quote-sized one converted once more, at
    a moved price too). Raises pydantic's ValidationError when that order is not valid."""
    order = ctx.order.model_dump(mode="python")  # input fields only: derived are excluded
    # Exactly {**order, **modifications} as the caller sends it: a quote-sized order is
    # converted again (at a moved price too), never checked with the qty derived before.
    order.pop("qty" if order.get("quote_qty") is not None else "quote_qty", None)
    order.update(modifications)
    # The order and the position (whose derived fields depend on the order) are built
    # anew; the other groups are unchanged and frozen, so they are passed as they are
    # (pydantic takes an instance of the field's own class without validating it again).
    data = {name: getattr(ctx, name) for name in type(ctx).model_fields}
    data["order"] = order
    data["position"] = ctx.position.model_dump(mode="python")
    return PreTradeContext.model_validate(data)


def _add_error(
    builder: DecisionBuilder, spec: RuleSpec, ctx: StageContext, exc: BaseException
) -> None:
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
        mode=spec.mode,
    )
    if spec.enforced:
        builder.add(Outcome.REJECT, ("reject",), (hit,))
    else:
        builder.add(Outcome.ALLOW, (), (hit,))


def _explain_error(exc: BaseException, values: dict[str, Any]) -> str:
    nulls = [path for path, value in values.items() if value is None]
    if nulls and isinstance(exc, TypeError) and "NoneType" in str(exc):
        return f"{', '.join(nulls)} {'is' if len(nulls) == 1 else 'are'} null"
    name = type(exc).__name__
    # 0/0 raises InvalidOperation([DivisionUndefined]); x/0 raises DivisionByZero
    if isinstance(exc, ZeroDivisionError) or "DivisionUndefined" in str(exc):
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
