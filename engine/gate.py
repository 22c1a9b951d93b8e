"""The gate: ``evaluate(stage, context) -> Decision``, failing closed, and atomic reloads.

Nothing that goes wrong inside evaluation escapes to the caller or allows an order: a
context that does not validate, a rule that raises, a missing program, all become a
``reject`` with a hit that says what failed and why. Cancels are never blocked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.bundle import PolicyBundle, load_bundle
from engine.context import CONTEXTS, PreTradeContext, StageContext
from engine.decision import Decision, Outcome, RuleHit, combine, sorted_actions
from engine.errors import Diagnostic, Location, PolicyLoadError, redact
from engine.kinds import RiskLimits
from engine.ruleset import RuleSet, RuleSpec, ScopeProgram, compile_bundle
from engine.validation import diagnostics_from

__all__ = ["Gate"]

_ALLOWING = frozenset({"alert"})


class Gate:
    """Evaluates contexts against a compiled bundle; swap bundles with :meth:`reload`."""

    def __init__(self, bundle: PolicyBundle, *, warm: bool = True) -> None:
        rules = compile_bundle(bundle)
        if warm:
            rules.warm()
        self._rules = rules

    @classmethod
    def from_path(cls, *paths: str | Path) -> Gate:
        return cls(load_bundle(*paths))

    @property
    def bundle(self) -> PolicyBundle:
        return self._rules.bundle

    # -- evaluation ----------------------------------------------------------------

    def evaluate(self, stage: str, context: StageContext | Mapping[str, Any]) -> Decision:
        """Decide one context at ``stage``. Never raises; any failure is a reject."""
        start = time.perf_counter_ns()
        rules = self._rules  # one read: a concurrent reload cannot mix two bundles
        try:
            ctx = _validated(stage, context)
            if isinstance(ctx, PreTradeContext) and ctx.order.action == "cancel":
                return self._finish(rules, stage, start)  # a cancel is never blocked
            program = rules.program(stage, *ctx.scope_key())
            fired: list[Any] = []
            program.run(ctx, fired)
            if not fired:
                return self._finish(rules, stage, start)
            decision = _decide(stage, program, ctx, fired)
            if decision.outcome is Outcome.MODIFY:
                decision = _recheck_modified(stage, program, ctx, decision)
        except _ContextInvalid as invalid:
            decision = _failure(stage, "context.invalid", invalid.message, invalid.values)
        except Exception as exc:  # noqa: BLE001  # fail closed: report, never raise, never allow
            decision = _failure(
                stage, "gate.error", f"evaluation failed: {type(exc).__name__}: {exc}"
            )
        return self._finish(rules, stage, start, decision)

    @staticmethod
    def _finish(
        rules: RuleSet, stage: str, start: int, decision: Decision | None = None
    ) -> Decision:
        bundle = rules.bundle
        base = decision or Decision(stage, Outcome.ALLOW)
        return Decision(
            stage=base.stage,
            outcome=base.outcome,
            actions=base.actions,
            hits=base.hits,
            modifications=base.modifications,
            bundle_hash=bundle.hash,
            versions=bundle.versions,
            eval_ns=time.perf_counter_ns() - start,
        )

    # -- reload --------------------------------------------------------------------

    def reload(self, *paths: str | Path) -> tuple[Diagnostic, ...]:
        """Swap in the bundle at ``paths`` if it loads, compiles and keeps immutable keys.

        Returns the problems; empty means the new bundle is live. On any problem the old
        bundle stays in force, untouched.
        """
        try:
            bundle = load_bundle(*paths)
            rules = compile_bundle(bundle)
        except PolicyLoadError as exc:
            return exc.diagnostics
        problems = _immutable_changes(self._rules.bundle, bundle)
        if problems:
            return tuple(problems)
        rules.warm()
        self._rules = rules  # a single reference swap: readers see old or new, never a mix
        return ()


# -- helpers ---------------------------------------------------------------------------


class _ContextInvalid(Exception):  # noqa: N818  # internal: turned into a decision at once
    def __init__(self, message: str, values: dict[str, Any]) -> None:
        self.message = message
        self.values = values


def _validated(stage: str, context: StageContext | Mapping[str, Any]) -> StageContext:
    model = CONTEXTS.get(stage)
    if model is None:
        raise _ContextInvalid(f"unknown stage {stage!r}; stages are {', '.join(CONTEXTS)}", {})
    if isinstance(context, model):
        return context
    if isinstance(context, StageContext):
        raise _ContextInvalid(f"a {type(context).__name__} cannot be evaluated at {stage}", {})
    try:
        return model.model_validate(context)
    except ValidationError as exc:
        problems = diagnostics_from(exc, locate=lambda p, _k: Location("context", pointer=_ptr(p)))
        details = {d.location.pointer or "/": d.message for d in problems}
        raise _ContextInvalid(
            f"the {stage} context is invalid: {problems[0].message}", details
        ) from None


def _ptr(path: tuple[str | int, ...]) -> str:
    return "/" + "/".join(str(p) for p in path)


def _failure(stage: str, code: str, message: str, values: dict[str, Any] | None = None) -> Decision:
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


def _decide(stage: str, program: ScopeProgram, ctx: StageContext, fired: list[Any]) -> Decision:
    decision = Decision(stage, Outcome.ALLOW)
    for item in fired:
        if isinstance(item, tuple):
            index, exc = item
            decision = combine(decision, _error_decision(stage, program.specs[index], ctx, exc))
        else:
            decision = combine(decision, _hit_decision(stage, program.specs[item], ctx))
    return decision


def _hit_decision(stage: str, spec: RuleSpec, ctx: StageContext) -> Decision:
    values = _values(spec, ctx)
    hit = RuleHit(
        rule_id=spec.rule_id,
        policy=spec.policy,
        code=spec.code,
        severity=spec.severity,
        action="clip" if spec.clip else spec.action,
        message=spec.message,
        values=values,
        enforced=spec.enforced,
    )
    if not spec.enforced:
        return Decision(stage, Outcome.ALLOW, (), (hit,))
    if spec.action in _ALLOWING or _exit_passes(spec, ctx):
        return Decision(stage, Outcome.ALLOW, (spec.action,), (hit,))
    if spec.clip and isinstance(ctx, PreTradeContext):
        qty = _clipped_qty(spec, ctx)
        if qty is not None:
            return Decision(stage, Outcome.MODIFY, ("clip",), (hit,), {"qty": qty})
    return Decision(stage, Outcome.REJECT, sorted_actions(("reject", spec.action)), (hit,))


def _exit_passes(spec: RuleSpec, ctx: StageContext) -> bool:
    """A reduce_only rule restricts trading to exits; the exit in hand passes."""
    return (
        spec.action == "reduce_only"
        and isinstance(ctx, PreTradeContext)
        and bool(ctx.order.is_exit)
    )


def _clipped_qty(spec: RuleSpec, ctx: PreTradeContext) -> Decimal | None:
    """The largest quantity that satisfies the limit, or None when nothing would."""
    limit = Decimal(spec.limit or 0)
    if spec.rule_id == "max_order_qty":
        allowed = limit
    else:  # max_position_qty: |position + side * qty| <= limit
        side = 1 if ctx.order.side == "buy" else -1
        allowed = limit - side * ctx.position.qty
    allowed = min(allowed, ctx.order.qty)
    return allowed if allowed > 0 else None


def _recheck_modified(
    stage: str, program: ScopeProgram, ctx: StageContext, decision: Decision
) -> Decision:
    """Evaluate the clipped order again: the modified order must pass every rule itself."""
    assert isinstance(ctx, PreTradeContext)
    data = ctx.model_dump(mode="python")
    data["order"]["qty"] = decision.modifications["qty"]
    clipped = PreTradeContext.model_validate(data)
    fired: list[Any] = []
    program.run(clipped, fired)
    again = _decide(stage, program, clipped, fired)
    if again.outcome is Outcome.REJECT:
        return combine(decision, again)
    return decision


def _error_decision(stage: str, spec: RuleSpec, ctx: StageContext, exc: BaseException) -> Decision:
    values = _values(spec, ctx)
    reason = _explain_error(exc, values)
    hit = RuleHit(
        rule_id=spec.rule_id,
        policy=spec.policy,
        code="rule.error",
        severity="critical",
        action="reject",
        message=f"rule {spec.rule_id} could not be evaluated ({reason}); the gate fails closed",
        values=values,
    )
    return Decision(stage, Outcome.REJECT, ("reject",), (hit,))


def _explain_error(exc: BaseException, values: dict[str, Any]) -> str:
    nulls = [path for path, value in values.items() if value is None]
    if nulls:
        return f"{', '.join(nulls)} {'is' if len(nulls) == 1 else 'are'} null"
    name = type(exc).__name__
    if "DivisionByZero" in name or isinstance(exc, ZeroDivisionError):
        return "division by zero"
    return redact(f"{name}: {exc}")


def _values(spec: RuleSpec, ctx: StageContext) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in spec.expr.fields:
        node: Any = ctx
        for part in path.split("."):
            node = getattr(node, part)
        values[path] = node
    if spec.limit is not None:
        values["limit"] = spec.limit
        values["scope"] = spec.scope_label
    return values


def _immutable_changes(old: PolicyBundle, new: PolicyBundle) -> list[Diagnostic]:
    """Environment, venue ids and account ids are fixed for a gate's life."""
    problems = []
    for label, before, after in (
        ("environment", _environments(old), _environments(new)),
        ("venue accounts", _accounts(old), _accounts(new)),
    ):
        if before != after:
            problems.append(
                Diagnostic(
                    "reload.immutable-changed",
                    f"{label} changed from {sorted(before)} to {sorted(after)}; "
                    "restart the process to change them",
                    _where(new),
                )
            )
    return problems


def _environments(bundle: PolicyBundle) -> set[str]:
    return {d.spec.environment for d in bundle.of_kind(RiskLimits)}


def _accounts(bundle: PolicyBundle) -> set[str]:
    return {f"{a.venue}/{a.account}" for d in bundle.of_kind(RiskLimits) for a in d.spec.venues}


def _where(bundle: PolicyBundle) -> Location:
    documents = bundle.of_kind(RiskLimits)
    if not documents:
        return Location("<bundle>")
    return bundle.source_of(documents[0].ref).source.location(("spec", "venues"))
