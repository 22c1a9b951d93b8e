"""The gate: ``evaluate(stage, context) -> Decision``, failing closed, and atomic reloads.

Nothing that goes wrong inside evaluation escapes to the caller or allows an order: a
context that does not validate, a rule that raises, a missing program, all become a
``reject`` with a hit that says what failed and why. Cancels are never blocked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal, setcontext
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.context import CONTEXTS, StageContext
from riskctl.decide import cancel_passed, decide, failure
from riskctl.decision import Decision, Outcome
from riskctl.dust import DustLedger
from riskctl.errors import Diagnostic, Location, PolicyLoadError, redact
from riskctl.kinds import RiskLimits
from riskctl.money import enter_engine_decimal, under_engine_decimal
from riskctl.ruleset import compile_bundle
from riskctl.serving import serving_problems
from riskctl.validation import diagnostics_from
from riskctl.yamlio import pointer

__all__ = ["Gate"]

_ALLOW = Outcome.ALLOW
_NONE: Mapping[str, Decimal] = MappingProxyType({})


class Gate:
    """Evaluates contexts against a compiled bundle; swap bundles with :meth:`reload`."""

    @under_engine_decimal
    def __init__(self, bundle: PolicyBundle, *, warm: bool = True) -> None:
        rules = compile_bundle(bundle)
        if warm:
            rules.warm()
        self._rules = rules
        self._dust = DustLedger()

    @under_engine_decimal
    def context(self, stage: str, data: Mapping[str, Any]) -> StageContext:
        """Validate raw context data for ``stage`` with the bundle's defaults filled in.

        Raises pydantic's ValidationError (for callers that locate errors in their input);
        ``evaluate`` does the same and turns a failure into a reject instead.
        """
        return CONTEXTS[stage].model_validate(self.complete(stage, data))

    def complete(
        self, stage: str, context: StageContext | Mapping[str, Any]
    ) -> StageContext | Mapping[str, Any]:
        """Raw context data with the bundle's defaults filled in (the instrument, if omitted)."""
        model = CONTEXTS.get(stage)
        if model is None or not isinstance(context, Mapping):
            return context
        return model.with_defaults(context, self._rules.instrument)

    def unclosable(self) -> dict[tuple[str, str], Decimal]:
        """(venue, symbol) -> position size whose exit is dust the venue will not accept."""
        return self._dust.snapshot()

    def fresh(self) -> Gate:
        """A gate on the same compiled bundle with fresh state (tests, replays, what-ifs)."""
        twin = Gate.__new__(Gate)
        twin._rules = self._rules
        twin._dust = DustLedger()
        return twin

    @classmethod
    def from_path(cls, *paths: str | Path) -> Gate:
        return cls(load_bundle(*paths))

    @property
    def bundle(self) -> PolicyBundle:
        return self._rules.bundle

    # -- evaluation ----------------------------------------------------------------

    def evaluate(self, stage: str, context: StageContext | Mapping[str, Any]) -> Decision:
        """Decide one context at ``stage``. Never raises; any failure is a reject."""
        saved = enter_engine_decimal()  # inlined under_engine_decimal: this is the hot path
        try:
            return self._evaluate(stage, context)
        finally:
            if saved is not None:
                setcontext(saved)

    def _evaluate(self, stage: str, context: StageContext | Mapping[str, Any]) -> Decision:
        start = time.perf_counter_ns()
        rules = self._rules  # one read: a concurrent reload cannot mix two bundles
        try:
            ctx = (
                context
                if type(context) is CONTEXTS.get(stage)
                else _validated(stage, self.complete(stage, context))
            )
            fired: list[Any] = []
            # A cancel is never blocked: it runs no rules, so it is decided before any
            # program is looked up or built (nothing about its symbol can make it fail).
            if ctx.is_cancel():
                program = None
            else:
                venue, symbol = ctx.scope_key()
                program = rules.programs.get((stage, venue, symbol)) or rules.program(
                    stage, venue, symbol
                )
                program.run(ctx, fired)
            if not fired:
                if self._dust.sizes:  # only while some position is known to be dust
                    self._dust.note(ctx, Decision(stage, _ALLOW))
                elapsed_us = (time.perf_counter_ns() - start) / 1000
                return Decision(stage, _ALLOW, (), (), _NONE, rules.ref, elapsed_us)
            assert program is not None  # only a program fires rules
            decision = self._dust.note(ctx, decide(stage, program, ctx, fired))
        except _ContextInvalid as invalid:
            model = CONTEXTS.get(stage)
            if model is not None and isinstance(context, Mapping) and model.cancel_in(context):
                # A cancel is never blocked, not even by a malformed context: record, allow.
                decision = cancel_passed(stage, invalid.message, invalid.values)
            else:
                decision = failure(stage, "context.invalid", invalid.message, invalid.values)
        except Exception as exc:  # noqa: BLE001  # fail closed: report, never raise, never allow
            decision = failure(
                stage, "gate.error", f"evaluation failed: {type(exc).__name__}: {exc}"
            )
        # Each decision above is fresh, built for this call alone: stamp it, do not copy it.
        decision.bundle = rules.ref
        decision.eval_us = (time.perf_counter_ns() - start) / 1000
        return decision

    # -- reload --------------------------------------------------------------------

    @under_engine_decimal
    def reload(self, *paths: str | Path) -> tuple[Diagnostic, ...]:
        """Swap in the bundle at ``paths`` if it is fit to serve and keeps immutable keys.

        Refused: a bundle that does not load or compile, has lint errors (a file truncated
        mid-write still loads, with fewer limits), changes a document without bumping its
        ``metadata.version``, or changes the environment or venue accounts. Returns the
        problems; empty means the new bundle is live. On any problem the old bundle stays
        in force, untouched.
        """
        in_force = self._rules.bundle
        try:
            bundle = load_bundle(*paths)
            rules = compile_bundle(bundle)
            problems = _immutable_changes(in_force, bundle)
            problems += serving_problems(bundle, in_force=in_force)
        except PolicyLoadError as exc:
            return exc.diagnostics
        except Exception as exc:  # noqa: BLE001  # a reload never takes the process down
            where = Location(", ".join(str(p) for p in paths))
            message = f"the new bundle could not be built: {type(exc).__name__}: {exc}"
            return (Diagnostic("reload.failed", redact(message), where),)
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
        problems = diagnostics_from(
            exc, locate=lambda p, _k: Location("context", pointer=pointer(p)), namespace="context"
        )
        details = {d.location.pointer or "/": d.message for d in problems}
        raise _ContextInvalid(
            f"the {stage} context is invalid: {problems[0].message}", details
        ) from None


def _immutable_changes(old: PolicyBundle, new: PolicyBundle) -> list[Diagnostic]:
    """Environment, venue ids and account ids are fixed for a gate's life."""
    problems = []
    for label, field, values in (
        ("environment", "environment", _environments),
        ("venue accounts", "venues", _accounts),
    ):
        before, after = _union(old, values), _union(new, values)
        if before != after:
            problems.append(
                Diagnostic(
                    "reload.immutable-changed",
                    f"{label} changed from {sorted(before)} to {sorted(after)}; "
                    "restart the process to change them",
                    _where(old, new, field, values),
                )
            )
    return problems


def _environments(document: RiskLimits) -> set[str]:
    return {document.spec.environment}


def _accounts(document: RiskLimits) -> set[str]:
    return {f"{a.venue}/{a.account}" for a in document.spec.venues}


def _union(bundle: PolicyBundle, values: Callable[[RiskLimits], set[str]]) -> set[str]:
    return set().union(*(values(d) for d in bundle.of_kind(RiskLimits)))


def _where(
    old: PolicyBundle, new: PolicyBundle, field: str, values: Callable[[RiskLimits], set[str]]
) -> Location:
    """The changed field of the first document whose values differ from the in-force one.

    Documents are matched by ``Kind/name``; a document new to the bundle counts as changed.
    When none differs, a document was deleted; its file is gone, so point at the first.
    """
    documents = new.of_kind(RiskLimits)
    if not documents:
        return Location("<bundle>")
    in_force = {d.ref: values(d) for d in old.of_kind(RiskLimits)}
    changed = next((d for d in documents if in_force.get(d.ref) != values(d)), documents[0])
    return new.source_of(changed.ref).source.location(("spec", field))
