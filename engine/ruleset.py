"""A bundle compiled for evaluation: every rule checked once, programs built per scope.

``compile_bundle`` checks every expression in the bundle (custom rules, breaker triggers,
alert metrics) against its stage's context and returns all problems as located
diagnostics. ``RuleSet.program(stage, venue, symbol)`` returns the generated function
for one scope: custom rules whose scope matches plus the built-in rules resolved for that
(venue, symbol). Programs for the universe are built when the gate starts and cached;
scopes with the same rules share one generated function, so a symbol outside the
universe reuses compiled code and is never cached itself.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from riskctl.bundle import PolicyBundle
from riskctl.codegen import Compiled, RuleCode, plan
from riskctl.context import CONTEXTS, STAGES
from riskctl.context.pre_trade import Instrument
from riskctl.decision import BundleRef
from riskctl.errors import Diagnostic, Location, PolicyLoadError
from riskctl.expr import CheckedExpression, ExprProblem, check_expression
from riskctl.kinds import Instruments, RiskLimits, Rules
from riskctl.limits import builtin_specs, send_specs
from riskctl.loader import LoadedPolicy
from riskctl.money import under_engine_decimal
from riskctl.policy_expressions import expressions
from riskctl.rulespec import RuleSpec

__all__ = ["RuleSet", "RuleSpec", "ScopeProgram", "check_bundle", "compile_bundle"]


@dataclass(frozen=True, slots=True)
class ScopeProgram:
    """The rules that apply at one (stage, venue, symbol) and their generated code."""

    specs: tuple[RuleSpec, ...]
    compiled: Compiled
    run: Callable[[Any, list[Any]], None] = field(init=False, repr=False)  # compiled.run

    def __post_init__(self) -> None:
        object.__setattr__(self, "run", self.compiled.run)  # one load on the hot path


@under_engine_decimal  # building specs computes (fee factors); never in the caller's context
def compile_bundle(bundle: PolicyBundle) -> RuleSet:
    """Check every expression and build the rule set; raise PolicyLoadError on any problem."""
    custom, problems = _custom_rules(bundle.policies)
    problems += _semantic_checks(bundle.policies)
    if problems:
        raise PolicyLoadError(f"{len(problems)} problem(s) in policy rules", problems)
    return RuleSet(bundle, tuple(custom))


def check_bundle(policies: tuple[LoadedPolicy, ...]) -> list[Diagnostic]:
    """Every problem compile_bundle would refuse, for documents that loaded (the lint view)."""
    _, problems = _custom_rules(policies)
    return problems + _semantic_checks(policies)


class RuleSet:
    """Custom rules by stage plus typed limits, with per-scope programs cached."""

    def __init__(self, bundle: PolicyBundle, custom: tuple[RuleSpec, ...]) -> None:
        self.bundle = bundle
        self.ref = BundleRef(bundle.hash, bundle.versions)  # what every decision cites
        self.custom = custom
        self.limit_documents = bundle.of_kind(RiskLimits)
        self._instruments = {
            (spec.venue, spec.symbol): Instrument.model_validate(spec.model_dump())
            for document in bundle.of_kind(Instruments)
            for spec in document.spec.instruments
        }
        self.universe = frozenset(p for d in self.limit_documents for p in d.spec.pairs())
        # (stage, venue, symbol) -> program; read directly by the gate's hot path
        self.programs: dict[tuple[str, str, str], ScopeProgram] = {}
        # Generated code by what it tests: scopes with the same rules share one function,
        # so an order for a symbol outside the universe never compiles anything new.
        self._compiled: dict[tuple[object, ...], Compiled] = {}
        self._lock = threading.Lock()
        # Generated functions are named by a counter, never by user text: a symbol such as
        # ``BTC²/USDT`` is alphanumeric to str.isalnum() but no Python identifier.
        self._names = itertools.count()

    def program(self, stage: str, venue: str, symbol: str) -> ScopeProgram:
        """The program for one scope: cached for the universe, rebuilt (not recompiled) else."""
        key = (stage, venue, symbol)
        found = self.programs.get(key)
        if found is not None:
            return found
        with self._lock:
            built = self._build(stage, venue, symbol)
            if (venue, symbol) in self.universe:  # a bounded set: unknown pairs are not kept
                self.programs[key] = built
            return built

    def instrument(self, venue: str, symbol: str) -> Instrument | None:
        """The bundle's instrument record for (venue, symbol), if it has one."""
        return self._instruments.get((venue, symbol))

    def warm(self) -> None:
        """Build the programs of every stage for every (venue, symbol) in the universe."""
        for venue, symbol in sorted(self.universe):
            for stage in STAGES:
                self.program(stage, venue, symbol)

    @under_engine_decimal  # warm() and reload build programs outside evaluate()
    def _build(self, stage: str, venue: str, symbol: str) -> ScopeProgram:
        specs = [
            s
            for s in self.custom
            if s.stage == stage and (s.scope is None or s.scope.matches(venue, symbol))
        ]
        if stage == "pre_trade":
            specs = builtin_specs(self.limit_documents, venue, symbol) + specs
        elif stage == "order_send":
            specs = send_specs(self.limit_documents, venue, symbol) + specs
        # Written for this scope (what its venue and symbol decide is folded away), keyed by
        # the code that results, so scopes that differ only in such facts share a function.
        known = dict(zip(CONTEXTS[stage].SCOPE_FIELDS, (venue, symbol), strict=True))
        program = plan([RuleCode(s.expr, s.exits_exempt) for s in specs], known=known)
        signature = program.signature
        compiled = self._compiled.get(signature)
        if compiled is None:
            compiled = program.compile(f"{stage}_{next(self._names)}")
            self._compiled[signature] = compiled
        return ScopeProgram(tuple(specs), compiled)


# -- custom rules and other expressions ----------------------------------------------------


def _custom_rules(policies: tuple[LoadedPolicy, ...]) -> tuple[list[RuleSpec], list[Diagnostic]]:
    specs: list[RuleSpec] = []
    problems: list[Diagnostic] = []
    seen: dict[str, Location] = {}
    for policy in policies:
        for expression in expressions(policy):
            path = expression.path
            checked, problem = check_expression(
                expression.text, expression.stage, expect=expression.expect
            )
            if problem is not None:
                problems.append(_located(policy, path, problem))
                continue
            document = policy.document
            if isinstance(document, Rules) and checked is not None:
                rule = document.spec.rules[int(path[2])]
                where = policy.source.location(("spec", "rules", int(path[2]), "id"))
                if rule.id in seen:
                    problems.append(_duplicate_id(rule.id, where, seen[rule.id]))
                seen.setdefault(rule.id, where)
                specs.append(_custom_spec(rule, document.ref, checked))
    return specs, problems


def _custom_spec(rule: Any, ref: str, checked: CheckedExpression) -> RuleSpec:
    return RuleSpec(
        rule_id=rule.id,
        policy=ref,
        code=f"rule.{rule.id}",
        stage=rule.stage,
        expr=checked,
        action=rule.action,
        severity=rule.severity,
        message=rule.message,
        enforced=rule.mode == "enforce",
        exits_exempt=rule.stage == "pre_trade" and not rule.applies_to_exits,
        scope=rule.scope,
    )


def _located(policy: LoadedPolicy, path: tuple[str | int, ...], problem: ExprProblem) -> Diagnostic:
    """Point at the offending part of the expression, wherever the YAML put its text."""
    location = policy.source.location_in_scalar(path, problem.line, problem.column)
    return Diagnostic(problem.code, problem.message, location, hint=problem.hint)


def _duplicate_id(rule_id: str, where: Location, first: Location) -> Diagnostic:
    return Diagnostic(
        "rule.duplicate-id",
        f"rule id {rule_id!r} is used twice; the first is at {first}",
        where,
        hint="decisions and waivers cite rules by id, so ids must be unique in the bundle",
    )


def _semantic_checks(policies: tuple[LoadedPolicy, ...]) -> list[Diagnostic]:
    """Cross-document facts the gate relies on: one environment per bundle."""
    limits = [p for p in policies if isinstance(p.document, RiskLimits)]
    if not limits:
        return []
    first = limits[0].document
    assert isinstance(first, RiskLimits)
    problems = []
    for policy in limits[1:]:
        document = policy.document
        assert isinstance(document, RiskLimits)
        if document.spec.environment != first.spec.environment:
            problems.append(
                Diagnostic(
                    "policy.environment-mismatch",
                    f"environment is {document.spec.environment!r} but "
                    f"{first.ref} says {first.spec.environment!r}",
                    policy.source.location(("spec", "environment")),
                )
            )
    return problems
